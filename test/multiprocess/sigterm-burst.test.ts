/**
 * A deploy or a scale-in sends SIGTERM while an identity provider is mid-burst. The bundled bridge must finish what
 * it accepted and lose none of it, answer what arrives meanwhile with a 503 the provider can act on (SCIM body,
 * Retry-After, Connection: close) and write nothing for it, and exit 0. Checked on a fresh bridge afterwards.
 * (On PostgreSQL each lane's next request typically reaches the draining bridge: Fastify's own answer to those, a
 * plain JSON 503 without Retry-After, is what this test first found. On SQLite the writes in flight are queued on
 * its one connection, and their connections close with their answers.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { STORE_KINDS } from '../support/bridge';
import { spawnBridge } from '../support/process';
import { recordFigures } from '../support/figures';
import { freshDatabase } from '../support/postgres';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const { session, token } = createSession();

interface Answer {
  status: number;
  retryAfter?: string;
  connection?: string;
  body: string;
}

/** A POST on a keep-alive connection (as identity providers keep theirs), so some arrive while the bridge drains. */
function post(url: string, agent: Agent, userName: string): Promise<Answer> {
  const { port } = new URL(url);
  const body = JSON.stringify({ schemas: [USER], userName });
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/scim/v2/Users',
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'] as string | undefined,
            connection: res.headers.connection,
            body: text,
          }),
        );
        res.on('error', () => resolve({ status: 0, body: text }));
      },
    );
    req.on('error', () => resolve({ status: 0, body: '' })); // refused or reset: never acknowledged
    req.end(body);
  });
}

describe.each(STORE_KINDS)('SIGTERM during a burst of writes (%s store)', (kind) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-sigterm-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged write, answers the rest 503 with Retry-After in SCIM shape and writes nothing for them, and exits 0', async () => {
    const databaseUrl = kind === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
    const env = { SCIM_SESSION: serializeSession(session), SCIM_DATABASE_URL: databaseUrl };
    const first = await spawnBridge(env);
    const acknowledged: string[] = [];
    const refused: Answer[] = [];
    const refusedNames: string[] = [];
    const others: Answer[] = [];
    let stopped = false;
    let n = 0;
    const lane = async (id: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      // Until the bridge is gone: connection refused twice in a row.
      for (let failures = 0; failures < 2; ) {
        const userName = `sigterm-${id}-${n++}@example.com`;
        const answer = await post(first.url, agent, userName);
        if (answer.status === 0) {
          failures++;
          if (!stopped) throw new Error('a connection failed before SIGTERM');
          continue;
        }
        failures = 0;
        if (answer.status === 201) acknowledged.push(userName);
        else if (answer.status === 503) {
          refused.push(answer);
          refusedNames.push(userName);
        } else others.push(answer);
      }
      agent.destroy();
    };
    const lanes = Array.from({ length: 8 }, (_, id) => lane(id));
    while (acknowledged.length < 200) await new Promise((r) => setTimeout(r, 5));
    stopped = true;
    first.child.kill('SIGTERM');
    await Promise.all(lanes);
    expect(await first.exited).toBe(0);
    expect(others).toEqual([]);
    for (const answer of refused) {
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      expect(answer.connection).toBe('close');
      expect(JSON.parse(answer.body)).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' });
    }

    const second = await spawnBridge(env);
    try {
      const exists = async (userName: string) => {
        const res = await fetch(`${second.url}/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&attributes=userName`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return ((await res.json()) as { totalResults: number }).totalResults === 1;
      };
      const lost: string[] = [];
      for (const userName of acknowledged) if (!(await exists(userName))) lost.push(userName);
      expect(lost).toEqual([]);
      const writtenAnyway: string[] = [];
      for (const userName of refusedNames) if (await exists(userName)) writtenAnyway.push(userName);
      recordFigures(`SIGTERM mid-burst, 8 writers (${kind})`, {
        answers: { '201': acknowledged.length, '503': refused.length, other: others.length },
        acknowledged: acknowledged.length,
        lost: lost.length,
        writtenAnyway: writtenAnyway.length,
        exit: 0,
      });
      expect(writtenAnyway).toEqual([]);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
