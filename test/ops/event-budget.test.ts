/**
 * Events with a budget: refused requests write at most a few rows a minute, however many there are, the metrics
 * count every one, and a search of the events reads a bounded number of rows; on both stores.
 */
import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { MAX_REFUSAL_KINDS, RefusalBudget } from '../../bridge/src/ops/event-budget';
import { BridgeMetrics, instrumentStore } from '../../bridge/src/ops/metrics';
import { EVENT_SEARCH_WINDOW } from '../../bridge/src/store/sql-store';
import { openStore } from '../../bridge/src/store/open';
import type { ProvisioningEvent, Store } from '../../bridge/src/store/types';
import { STORE_KINDS, startBridge } from '../support/bridge';
import { freshDatabase } from '../support/postgres';

const refusal = (actor: string, i: number): ProvisioningEvent => ({
  at: new Date().toISOString(),
  actor,
  action: 'user.create',
  resourceType: 'User',
  outcome: 'refused',
  status: 400,
  requestId: `r${i}`,
  detail: `refused ${i}`,
});

async function eventsTotal(metrics: BridgeMetrics, action: string): Promise<number> {
  const values = (await metrics.events.get()).values.filter((v) => v.labels.action === action);
  return values.reduce((n, v) => n + v.value, 0);
}

describe.each(STORE_KINDS)('events with a budget (%s)', (kind) => {
  let store: Store;
  let url: string;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scim-events-'));
    url = kind === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
    store = await openStore(url, {});
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the first refusal of a kind, then one row with the count; the metrics count every refusal', async () => {
    const metrics = new BridgeMetrics();
    const budget = new RefusalBudget((event) => store.recordEvent(event), 60_000);
    const instrumented = instrumentStore(
      new Proxy(store, { get: (t, p) => (p === 'recordEvent' ? (e: ProvisioningEvent) => budget.record(e) : Reflect.get(t, p)) }),
      metrics,
    );
    // 1,000 refusals from one client, and 3 from each of 20 others: more kinds than get rows of their own.
    for (let i = 0; i < 1000; i++) await instrumented.recordEvent(refusal('flood/1.0', i));
    for (let c = 0; c < 20; c++) for (let i = 0; i < 3; i++) await instrumented.recordEvent(refusal(`client-${c}`, i));
    await budget.flush();
    const rows = await store.listEvents({ limit: 1000 });
    expect(rows.length).toBeLessThanOrEqual(2 * MAX_REFUSAL_KINDS + 1);
    // Every refusal is in a row: the firsts count one each, the summaries say how many more.
    const counted = rows.reduce((n, row) => n + (/^(\d+) (more )?refused requests/.exec(row.detail ?? '') ? Number(/^(\d+)/.exec(row.detail!)![1]) : 1), 0);
    expect(counted).toBe(1060);
    expect(
      rows.find((row) => row.actor === 'flood/1.0' && /^999 more refused requests like this from flood\/1.0 in the last minute/.test(row.detail ?? '')),
    ).toBeDefined();
    expect(await eventsTotal(metrics, 'user.create')).toBe(1060);
  });

  it('searches only the newest events, so a search over a large table stays bounded', async () => {
    const total = EVENT_SEARCH_WINDOW + 100;
    const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${total})`;
    const sql = `INSERT INTO events (at, actor, action, outcome, status, detail) ${series}
      SELECT '2026-01-01T00:00:00.000Z', 'bulk', 'user.create', 'success', 201, CASE WHEN i = 1 THEN 'needle-oldest' WHEN i = ${total} THEN 'needle-newest' ELSE 'hay' END FROM n`;
    if (kind === 'sqlite') {
      const db = new DatabaseSync(url.slice('sqlite:'.length));
      db.exec(sql);
      db.close();
    } else {
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query(sql);
      await client.end();
    }
    const found = await store.listEvents({ limit: 10, search: 'needle' });
    expect(found.map((e) => e.detail)).toEqual(['needle-newest']);
    // Without a search, paging still reaches every event.
    expect((await store.listEvents({ limit: 1, before: (await store.listEvents({ limit: total + 10 })).at(-1)!.id! + 1 }))[0].detail).toBeDefined();
  }, 60_000);
});

describe('refused authentications over HTTP', () => {
  it('write a bounded number of rows while the metrics count each one', async () => {
    const bridge = await startBridge();
    try {
      let rejected = 0;
      for (let i = 0; i < 60; i++) {
        const res = await fetch(`${bridge.scim}/Users`, { headers: { authorization: `Bearer scimb_guess${i}`, 'user-agent': 'guesser/1.0' } });
        if (res.status === 401) rejected++;
        await res.arrayBuffer();
      }
      expect(rejected).toBeGreaterThan(1);
      const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
      expect(Number(/^scim_bridge_provisioning_events_total\{action="auth.rejected",outcome="refused"\} (\d+)/m.exec(metrics)?.[1])).toBe(rejected);
      const events = await bridge.request('GET', `${bridge.url}/api/events?q=auth.rejected&limit=50`);
      expect(events.status).toBe(200);
      const rows = events.body.events as { action: string }[];
      expect(rows.filter((e) => e.action === 'auth.rejected')).toHaveLength(1); // the first; the count comes at the minute's end
    } finally {
      await bridge.stop();
    }
  });

  it('writes the count of the last window when the bridge stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scim-events-stop-'));
    const databaseUrl = `sqlite:${join(dir, 'bridge.db')}`;
    const bridge = await startBridge({ env: { SCIM_DATABASE_URL: databaseUrl } });
    for (let i = 0; i < 5; i++) await (await fetch(`${bridge.scim}/Users`, { headers: { 'user-agent': 'guesser/2.0' } })).arrayBuffer();
    await bridge.stop();
    const store = await openStore(databaseUrl, {});
    try {
      const rows = await store.listEvents({ limit: 10, search: 'auth.rejected' });
      expect(rows.map((r) => r.detail)).toEqual([
        expect.stringMatching(/^4 more refused requests like this from guesser\/2.0/),
        expect.stringMatching(/no bearer token/),
      ]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
