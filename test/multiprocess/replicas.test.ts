/**
 * Several bridge processes on one PostgreSQL database, racing the way identity providers make replicas race.
 * Correctness must come from the database (constraints, row locks), since the processes share nothing else.
 */
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { type BridgeProcess, spawnBridge } from '../support/process';
import { describePostgres, freshDatabase } from '../support/postgres';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describePostgres('bridge replicas sharing PostgreSQL', () => {
  const { session, token } = createSession();
  let replicas: BridgeProcess[];

  beforeAll(async () => {
    const env = { SCIM_SESSION: serializeSession(session), SCIM_DATABASE_URL: await freshDatabase() };
    // Started together: the migration advisory lock must let exactly one of them create the schema.
    replicas = await Promise.all([spawnBridge(env), spawnBridge(env), spawnBridge(env)]);
  });
  afterAll(async () => {
    for (const replica of replicas) {
      replica.child.kill('SIGTERM');
      await replica.exited;
    }
  });

  const call = async (i: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${replicas[i % replicas.length].url}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, etag: res.headers.get('etag'), body: text ? JSON.parse(text) : undefined };
  };

  it('lets exactly one of many racing creates of a userName win; the rest get 409', async () => {
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => call(i, 'POST', '/Users', { schemas: [USER], userName: i % 2 ? 'Race@Example.com' : 'race@example.com' })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(23);
    const list = await call(0, 'GET', `/Users?filter=${encodeURIComponent('userName eq "race@example.com"')}`);
    expect(list.body.totalResults).toBe(1);
  });

  it('keeps every acknowledged membership change from racing PATCHes, without duplicates', async () => {
    const users: string[] = [];
    for (let i = 0; i < 30; i++) users.push((await call(i, 'POST', '/Users', { schemas: [USER], userName: `member${i}@example.com` })).body.id);
    const group = await call(0, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Racing' });
    const gid = group.body.id;
    const patch = (i: number, op: string, ids: string[]) =>
      call(i, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op, path: 'members', value: ids.map((value) => ({ value })) }] });

    // Every user is added by two replicas at once (duplicates must collapse)...
    const adds = await Promise.all(users.flatMap((id, i) => [patch(i, 'add', [id]), patch(i + 1, 'add', [id])]));
    expect(adds.every((r) => r.status === 204)).toBe(true);
    // ...then the even ones are removed while the odd ones are added again, all at once.
    const mixed = await Promise.all(users.map((id, i) => patch(i, i % 2 ? 'add' : 'remove', [id])));
    expect(mixed.every((r) => r.status === 204)).toBe(true);

    const members = (await call(2, 'GET', `/Groups/${gid}`)).body.members.map((m: { value: string }) => m.value).sort();
    expect(members).toEqual(users.filter((_, i) => i % 2).sort());
    expect(new Set(members).size).toBe(members.length);
  });

  it('gives the loser of racing If-Match writes a 412', async () => {
    const created = await call(0, 'POST', '/Users', { schemas: [USER], userName: 'etag@example.com', title: 'start' });
    const { id } = created.body;
    for (let round = 0; round < 5; round++) {
      const current = await call(0, 'GET', `/Users/${id}`);
      const results = await Promise.all([
        call(
          0,
          'PATCH',
          `/Users/${id}`,
          { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `a${round}` }] },
          { 'if-match': current.etag! },
        ),
        call(1, 'PUT', `/Users/${id}`, { schemas: [USER], userName: 'etag@example.com', title: `b${round}` }, { 'if-match': current.etag! }),
        call(
          2,
          'PATCH',
          `/Users/${id}`,
          { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: `c${round}` }] },
          { 'if-match': current.etag! },
        ),
      ]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 412, 412]);
      const winner = results.find((r) => r.status === 200)!;
      expect((await call(1, 'GET', `/Users/${id}`)).body.title).toBe(winner.body.title);
    }
  });
});
