/**
 * Scoped credentials at the HTTP edge: a token can never do more than its scope. A read token reads SCIM but
 * writes nothing; an operate token neither writes nor reads SCIM; a valid token of the wrong scope gets 403
 * naming the scope needed, and is not a failed authentication. Each scope rotates on its own.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { runCli } from '../../bridge/src/cli/main';
import type { Scope } from '../../bridge/src/feed/types';
import { ROUTE_SCOPES, bearerAuth } from '../../bridge/src/http/plugins/bearer-auth';
import type { ProvisioningEvent } from '../../bridge/src/store/types';
import { addToken, createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { SessionHolder, inlineSource } from '../../bridge/src/session/source';
import { type TestBridge, startBridge } from '../support/bridge';
import { type TestEdge, startEdge } from '../support/edge';
import { call } from '../support/call';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

describe('SCIM routes by scope', () => {
  let edge: TestEdge;
  let userId: string;
  let groupId: string;
  beforeAll(async () => {
    edge = await startEdge({ scopedTokens: true, logLevel: false, authFailuresPerMinute: 3 });
    userId = (await call(`${edge.scim}/Users`, 'POST', edge.token, { userName: 'ada@example.com' })).body.id;
    groupId = (await call(`${edge.scim}/Groups`, 'POST', edge.token, { displayName: 'Engineering', members: [{ value: userId }] })).body.id;
  });
  afterAll(() => edge.stop());

  /** Every SCIM write, under each base path the bridge serves. */
  const writes = (): [string, string, unknown][] =>
    ['/scim/v2', '/scim', ''].flatMap(
      (base) =>
        [
          ['POST', `${base}/Users`, { userName: 'eve@example.com' }],
          ['PUT', `${base}/Users/${userId}`, { userName: 'eve@example.com' }],
          [
            'PATCH',
            `${base}/Users/${userId}`,
            { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] },
          ],
          ['DELETE', `${base}/Users/${userId}`, undefined],
          ['POST', `${base}/Groups`, { displayName: 'Eve' }],
          ['PUT', `${base}/Groups/${groupId}`, { displayName: 'Eve' }],
          [
            'PATCH',
            `${base}/Groups/${groupId}`,
            { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: 'members' }] },
          ],
          ['DELETE', `${base}/Groups/${groupId}`, undefined],
          ['POST', `${base}/Bulk`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] }],
        ] as [string, string, unknown][],
    );

  it.each(['read', 'operate'] as const)(
    'a %s token cannot write: every write route answers 403 naming the provision scope, and nothing changes',
    async (scope) => {
      for (const [method, path, body] of writes()) {
        const res = await call(`${edge.url}${path}`, method, edge.tokens[scope], body);
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
        expect(res.body.schemas).toEqual([ERROR]);
        expect(res.body.detail).toContain(`This ${scope} token may not ${method}`);
        expect(res.body.detail).toContain('it needs a provision token');
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="scim-bridge", error="insufficient_scope", scope="provision"');
      }
      const user = await call(`${edge.scim}/Users/${userId}`, 'GET', edge.token);
      expect(user.body).toMatchObject({ userName: 'ada@example.com', active: true, meta: { version: 'W/"1"' } });
      const group = await call(`${edge.scim}/Groups/${groupId}`, 'GET', edge.token);
      expect(group.body).toMatchObject({ displayName: 'Engineering', members: [{ value: userId }] });
      expect((await call(`${edge.scim}/Users`, 'GET', edge.token)).body.totalResults).toBe(1);
    },
  );

  it('a read token reads SCIM (lists and resources); an operate token does not', async () => {
    for (const path of ['/Users', `/Users/${userId}`, '/Groups', `/Groups/${groupId}`, `/Users?filter=userName%20eq%20%22ada@example.com%22`]) {
      expect((await call(`${edge.scim}${path}`, 'GET', edge.tokens.read)).status).toBe(200);
      const refused = await call(`${edge.scim}${path}`, 'GET', edge.tokens.operate);
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toContain('it needs a token of scope provision or read');
    }
  });

  it('the status page API accepts a token of any scope', async () => {
    for (const scope of ['provision', 'read', 'operate'] as const) {
      const status = await call(`${edge.url}/api/status`, 'GET', edge.tokens[scope]);
      expect(status.status).toBe(200);
      expect(status.body.session).toEqual({ loaded: true, tokens: 3, scopes: { provision: 1, read: 1, operate: 1 } });
      expect((await call(`${edge.url}/api/events`, 'GET', edge.tokens[scope])).status).toBe(200);
    }
  });

  it('a wrong scope is not a failed authentication: no 429 for its address and no auth.rejected event', async () => {
    const before = (await edge.store.listEvents({ limit: 100 })).filter((e) => e.action === 'auth.rejected').length;
    for (let i = 0; i < 10; i++) expect((await call(`${edge.scim}/Users`, 'POST', edge.tokens.read, { userName: `x${i}@example.com` })).status).toBe(403);
    // Three failures a minute are allowed here: a wrong token is still answered 401, not 429.
    expect((await call(`${edge.scim}/Users`, 'GET', 'scimb_wrong')).status).toBe(401);
    const after = (await edge.store.listEvents({ limit: 100 })).filter((e) => e.action === 'auth.rejected').length;
    expect(after - before).toBe(1);
  });
});

describe('each kind of route accepts exactly its scopes', () => {
  const kinds = Object.keys(ROUTE_SCOPES) as (keyof typeof ROUTE_SCOPES)[];
  let app: FastifyInstance;
  let url: string;
  const tokens: Partial<Record<Scope, string>> = {};
  const events: ProvisioningEvent[] = [];
  beforeAll(async () => {
    let { session, token } = createSession();
    tokens.provision = token;
    for (const scope of ['read', 'operate'] as const) ({ session, token: tokens[scope] } = addToken(session, { scope }));
    const holder = new SessionHolder(inlineSource(serializeSession(session)));
    await holder.start();
    app = Fastify();
    await app.register(bearerAuth, { session: holder, failuresPerMinute: 100, recordEvent: async (event) => void events.push(event) });
    await app.register(async (routes) => {
      for (const kind of kinds) routes.post(`/${kind}`, { config: { bearer: ROUTE_SCOPES[kind] } }, async (request) => ({ scope: request.bridgeScope }));
      routes.post('/legacy', { config: { bearer: true } }, async () => ({}));
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it.each(['provision', 'read', 'operate'] as const)('a %s token', async (scope) => {
    const answered: Record<string, number> = {};
    for (const kind of [...kinds, 'legacy']) {
      answered[kind] = (await call(`${url}/${kind}`, 'POST', tokens[scope])).status;
    }
    const expected: Record<Scope, Record<string, number>> = {
      provision: { write: 200, read: 200, feed: 403, operate: 403, any: 200, legacy: 200 },
      read: { write: 403, read: 200, feed: 200, operate: 403, any: 200, legacy: 403 },
      operate: { write: 403, read: 403, feed: 403, operate: 200, any: 200, legacy: 403 },
    };
    expect(answered).toEqual(expected[scope]);
    expect(events).toEqual([]);
  });

  it('the route sees the scope of the token that passed', async () => {
    expect((await call(`${url}/any`, 'POST', tokens.operate)).body).toEqual({ scope: 'operate' });
  });
});

describe('each scope rotates on its own, on a running bridge (session rotate --scope)', () => {
  let dir: string;
  let file: string;
  let bridge: TestBridge;
  let provision: string;
  const cli = async (...args: string[]) => {
    const lines: string[] = [];
    await runCli(args, (line) => lines.push(line));
    return lines;
  };
  const status = async (method: string, path: string, token: string) =>
    (await call(`${bridge.scim}${path}`, method, token, method === 'POST' ? { userName: `${Math.random()}@example.com` } : undefined)).status;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scim-scopes-'));
    file = join(dir, 'scimsession');
    provision = (await cli('session', 'create', '--out', file)).at(-1)!;
    bridge = await startBridge({ env: { SCIM_SESSION: '', SCIM_SESSION_FILE: file } });
  });
  afterAll(async () => {
    await bridge.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds, rotates and retires read tokens while the identity provider token keeps working', async () => {
    let reloaded = once(bridge.session, 'reload');
    const lines = await cli('session', 'rotate', '--session-file', file, '--scope', 'read');
    const firstRead = lines.at(-1)!;
    expect(lines.join('\n')).toContain('give it to your application');
    await reloaded;
    expect([await status('GET', '/Users', firstRead), await status('POST', '/Users', firstRead)]).toEqual([200, 403]);

    reloaded = once(bridge.session, 'reload');
    const secondRead = (await cli('session', 'rotate', '--session-file', file, '--scope', 'read')).at(-1)!;
    await reloaded;
    reloaded = once(bridge.session, 'reload');
    expect((await cli('session', 'retire', '--session-file', file, '--scope', 'read')).at(-1)).toContain(
      'only its newest read token (and its 1 tokens of other scopes)',
    );
    await reloaded;
    expect([await status('GET', '/Users', firstRead), await status('GET', '/Users', secondRead)]).toEqual([401, 200]);
    expect(await status('POST', '/Users', provision)).toBe(201);

    // Retiring provision tokens leaves the read token alone.
    reloaded = once(bridge.session, 'reload');
    const newProvision = (await cli('session', 'rotate', '--session-file', file, '--retire-others')).at(-1)!;
    await reloaded;
    expect([await status('GET', '/Users', provision), await status('POST', '/Users', newProvision), await status('GET', '/Users', secondRead)]).toEqual([
      401, 201, 200,
    ]);
  });
});
