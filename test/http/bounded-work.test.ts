/**
 * Bounded work per request, over HTTP on both stores: a filter is refused by its cost before it runs, and while
 * the costliest filter the bridge accepts runs, /ping still answers at once (SQLite runs it on its reader thread,
 * PostgreSQL on the server).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILTER_COST_BUDGET, filterCost } from '../../bridge/src/scim/filter-cost';
import { parseFilter } from '../../bridge/src/scim/filter';
import { STORE_KINDS, type TestBridge, startBridge } from '../support/bridge';
import { freshDatabase } from '../support/postgres';
import { seedDirectory } from '../support/seed';

const USERS = 50_000;
const repeat = (term: string, times: number) => Array.from({ length: times }, () => term).join(' or ');
/** Among the costliest shapes within the budget (BENCHMARKS.md): substring searches of a document attribute, as many as fit. */
const WORST = repeat('displayName co "zz"', Math.floor(FILTER_COST_BUDGET / filterCost('User', parseFilter('displayName co "zz"'))));

describe.each(STORE_KINDS)('bounded work per request (%s)', (store) => {
  let bridge: TestBridge;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scim-bounded-'));
    const databaseUrl = store === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
    await seedDirectory(databaseUrl, { users: USERS, groups: 20 });
    bridge = await startBridge({ store, env: { SCIM_DATABASE_URL: databaseUrl } });
  }, 120_000);

  afterAll(async () => {
    await bridge?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const list = (filter: string) => bridge.request('GET', `/Users?count=100&filter=${encodeURIComponent(filter)}`);

  it('refuses filters over the cost budget with 400 tooMany, before they run', async () => {
    // From the report: about 350 `groups pr` terms held an SQLite replica for 222 s; 170 `displayName co` took 500 MB.
    for (const filter of [repeat('groups pr', 300), repeat('displayName co "z"', 150), repeat('emails[value co "a"]', 3)]) {
      expect(filter.length).toBeLessThanOrEqual(4096);
      const res = await list(filter);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ scimType: 'tooMany', detail: expect.stringMatching(/units of work/) });
    }
  });

  it('accepts what identity providers send, and the worst filter within the budget', async () => {
    expect((await list('userName eq "user7@seed.example.com"')).body).toMatchObject({ totalResults: 1 });
    expect((await list('emails[type eq "work" and value eq "user7@seed.example.com"]')).body).toMatchObject({ totalResults: 1 });
    expect((await list(repeat('externalId eq "ext7"', 100))).body).toMatchObject({ totalResults: 1 });
    const worst = await list(WORST);
    expect(worst.status).toBe(200);
    expect(worst.body.totalResults).toBe(0);
  });

  it('refuses a PATCH whose value filters would compare too much, without holding the user', async () => {
    const emails = Array.from({ length: 2000 }, (_, i) => ({ value: `e${i}@example.com` }));
    const user = await bridge.request('POST', '/Users', { userName: 'many-emails@example.com', emails });
    expect(user.status).toBe(201);
    const filter = Array.from({ length: 95 }, (_, i) => `value eq "q${i}"`).join(' or ');
    const body = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: Array.from({ length: 480 }, () => ({ op: 'remove', path: `emails[${filter}]` })),
    };
    const started = performance.now();
    const res = await bridge.request('PATCH', `/Users/${user.body.id}`, body);
    expect(res).toMatchObject({ status: 400, body: { scimType: 'tooMany' } });
    expect(performance.now() - started).toBeLessThan(2000);
    // The user was not held: a write to it goes through at once.
    expect((await bridge.request('PATCH', `/Users/${user.body.id}`, { Operations: [{ op: 'replace', path: 'displayName', value: 'Many' }] })).status).toBe(200);
  });

  it('answers /ping within 100 ms while the worst accepted filter runs', async () => {
    const latencies: number[] = [];
    let done = false;
    const running = list(WORST).finally(() => (done = true));
    // Bounded: at most 2,000 pings, and the list itself is bounded by the list deadline.
    for (let i = 0; i < 2000 && !done; i++) {
      const started = performance.now();
      const res = await fetch(`${bridge.url}/ping`);
      await res.arrayBuffer();
      latencies.push(performance.now() - started);
    }
    expect((await running).status).toBe(200);
    // Pings completed while the list ran: on a blocked event loop the first ping would wait for the whole list and
    // no second one would start before it ended.
    expect(latencies.length).toBeGreaterThanOrEqual(3);
    // The median, not a tail: on a shared two-core machine a lone ping may wait for a core (the benchmark,
    // bench/worst.ts, reports the tail on a quiet machine).
    const sorted = [...latencies].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(100);
  });
});
