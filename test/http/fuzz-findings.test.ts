/**
 * What `npm run fuzz` (bench/fuzz) found, each as a regression test that failed before its fix:
 * - a case-insensitive filter on a document attribute did not find a value with a non-ASCII capital even when given
 *   exactly (SQLite's lower() folds ASCII only; PostgreSQL's differs from JavaScript's for İ), nor did the status
 *   page's event search on SQLite;
 * - an HTTP/1.1 request without Host got Node's bare 400 (no SCIM body, no X-Request-Id, no log line or metric);
 * - an HTTP/1.0 request without Host got `meta.location` with an empty host;
 * - the 501 answers for /Me and /Bulk were logged as failed requests, with a stack, at error level.
 */
import { Client } from 'pg';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';
import { rawRequest, startEdge } from '../support/edge';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** Whether the PostgreSQL database lower-cases beyond ASCII (not under the C or POSIX locale). */
async function postgresFoldsUnicode(databaseUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query("SELECT lower('Ä') = 'ä' AS folds")).rows[0].folds === true;
  } finally {
    await client.end();
  }
}

describe.each(STORE_KINDS)('case-insensitive filters on document attributes (%s store)', (store) => {
  let bridge: TestBridge;
  let id: string;
  let unicodeCase: boolean;
  const attributes = { title: 'Ärztin', displayName: 'ÉLODIE Ω', nickName: 'İpek', name: { givenName: 'Øystein', familyName: 'Straße' } };
  beforeAll(async () => {
    bridge = await startBridge({ store });
    const created = await bridge.request('POST', '/Users', { schemas: [USER], userName: 'elodie@example.com', ...attributes });
    expect(created.status).toBe(201);
    id = created.body.id;
    unicodeCase = store === 'sqlite' || (await postgresFoldsUnicode(bridge.databaseUrl));
  });
  afterAll(() => bridge.stop());

  const found = async (filter: string) => {
    const res = await bridge.request('GET', `/Users?filter=${encodeURIComponent(filter)}`);
    expect(res.status).toBe(200);
    return (res.body.Resources as { id: string }[]).map((r) => r.id);
  };

  it.each([
    'title eq "Ärztin"',
    'displayName eq "ÉLODIE Ω"',
    'nickName eq "İpek"',
    'name.givenName eq "Øystein"',
    'name.familyName eq "Straße"',
    'title sw "Är"',
    'displayName co "LODIE"',
    'displayName ew "E Ω"',
    'nickName sw "İ"',
    'title eq "ÄRZTIN"',
  ])('a stored value matches itself: %s', async (filter) => {
    expect(await found(filter)).toEqual([id]);
  });

  it('folds non-ASCII letters when the store can (always on SQLite; on PostgreSQL by its locale)', async () => {
    if (!unicodeCase) return;
    expect(await found('title eq "ärztin"')).toEqual([id]);
    expect(await found('displayName eq "élodie ω"')).toEqual([id]);
    expect(await found('name.givenName co "øy"')).toEqual([id]);
  });

  it('sorts by a document attribute without losing anyone', async () => {
    const res = await bridge.request('GET', '/Users?sortBy=title&count=10');
    expect(res.body.Resources.map((r: { id: string }) => r.id)).toContain(id);
  });

  it('finds events by a non-ASCII name as written', async () => {
    await bridge.request('POST', '/Users', { schemas: [USER], userName: 'Ørjan.Ærø@example.com' });
    const res = await bridge.request('GET', `${bridge.url}/api/events?q=${encodeURIComponent('Ørjan.Ærø')}`);
    expect(res.status).toBe(200);
    expect(res.body.events.map((e: { resourceName?: string }) => e.resourceName)).toContain('Ørjan.Ærø@example.com');
  });
});

describe('requests without Host', () => {
  it('an HTTP/1.1 request without Host gets 400 in SCIM shape, with the usual headers', async () => {
    const edge = await startEdge();
    try {
      const res = await rawRequest(edge.url, 'GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nConnection: close\r\n\r\n', { waitMs: 5000 });
      expect(res.status).toBe(400);
      expect(res.headers['x-request-id']).toBeTruthy();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(JSON.parse(res.body)).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidSyntax' });
      expect(edge.logs.some((l) => l.msg === 'request' && l.status === 400)).toBe(true);
    } finally {
      await edge.stop();
    }
  });

  it('an HTTP/1.0 request without Host gets meta.location with the address it reached', async () => {
    const edge = await startEdge();
    try {
      const body = JSON.stringify({ schemas: [USER], userName: 'http10@example.com' });
      const res = await rawRequest(
        edge.url,
        `POST /scim/v2/Users HTTP/1.0\r\nAuthorization: Bearer ${edge.token}\r\nContent-Type: application/scim+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
        { body, waitMs: 5000 },
      );
      expect(res.status).toBe(201);
      const { port } = new URL(edge.url);
      expect(JSON.parse(res.body).meta.location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/scim/v2/Users/`));
    } finally {
      await edge.stop();
    }
  });
});

describe('answers that are not implemented by design', () => {
  it('answers /Me and /Bulk with 501 without logging a failure', async () => {
    const edge = await startEdge();
    try {
      for (const [method, path] of [
        ['GET', '/Me'],
        ['POST', '/Bulk'],
      ]) {
        const res = await fetch(`${edge.scim}${path}`, {
          method,
          headers: { authorization: `Bearer ${edge.token}`, 'content-type': 'application/scim+json' },
          body: method === 'POST' ? '{}' : undefined,
        });
        expect(res.status).toBe(501);
      }
      expect(edge.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
    } finally {
      await edge.stop();
    }
  });
});
