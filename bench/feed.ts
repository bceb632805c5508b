/**
 * `npm run bench:feed`: what the change feed costs and whether its webhooks keep up.
 *
 * 1. Delivery: the bundled bridge in its own process, one declared webhook endpoint (a receiver in this process that
 *    verifies every delivery with `standardwebhooks`), while an identity provider creates users and then groups with
 *    members at a fixed request rate. Measured: the requests' rate and latency, the changes delivered per second, the
 *    lag of each delivery from the change's `timestamp` (taken when the write began: it includes the write's own
 *    wait for the store), the lag from the identity provider's 2xx for a create to that change's webhook (what an
 *    application waits after the provider was told "done"), and how long the last deliveries take after the load.
 * 2. The cost the feed adds to a SCIM write: the Directory creating users in this process, on each store, with the
 *    change log on, and with it off (the store's `appendChanges` made a no-op: the rest of the write, the change's
 *    rendering included, is the same), in alternating rounds so both see the same machine.
 *
 * Sizes and rate from the environment (the issue asks 50,000 users, 2,000 groups at 400 requests/s):
 *   FEED_BENCH_USERS (5000)  FEED_BENCH_GROUPS (200)  FEED_BENCH_MEMBERS (25 per group)  FEED_BENCH_RATE (400)
 *   FEED_BENCH_STORE (sqlite|postgres|both, default both when a PostgreSQL is set)  FEED_BENCH_WRITES (2000 per round)
 * Loopback only; bounded by the counts. Writes bench/results/feed-<store>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { Directory } from '../bridge/src/directory/directory';
import { generateSecret } from '../bridge/src/feed/signing';
import { openStore } from '../bridge/src/store/open';
import type { Store } from '../bridge/src/store/types';
import { startBundle } from './bundle';
import { BENCH_POSTGRES_URL, BUNDLE, ROOT, freshPostgres } from './lib';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const USERS = num('FEED_BENCH_USERS', 5000);
const GROUPS = num('FEED_BENCH_GROUPS', 200);
const MEMBERS = num('FEED_BENCH_MEMBERS', 25);
const RATE = num('FEED_BENCH_RATE', 400);
const WRITES = num('FEED_BENCH_WRITES', 2000);
const STORES = (process.env.FEED_BENCH_STORE ?? (BENCH_POSTGRES_URL ? 'both' : 'sqlite')) === 'both' ? ['sqlite', 'postgres'] : [process.env.FEED_BENCH_STORE!];

const percentile = (values: number[], p: number) => {
  const sorted = Float64Array.from(values).sort();
  return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 10) / 10 : 0;
};

/** Hands out request slots `1/rate` seconds apart. */
class Pacer {
  private readonly start = performance.now();
  private slots = 0;
  constructor(private readonly rate: number) {}
  async next(): Promise<void> {
    const wait = this.start + (this.slots++ * 1000) / this.rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

async function delivery(kind: string, databaseUrl: string): Promise<Record<string, unknown>> {
  const secret = generateSecret();
  const verifier = new Webhook(secret);
  const lags: number[] = [];
  /** From the identity provider's 2xx for a create to the webhook of that change arriving. */
  const afterAck: number[] = [];
  const acknowledgedAt = new Map<string, number>();
  const arrivedAt = new Map<string, number>();
  let unverified = 0;
  let firstAt = 0;
  let lastAt = 0;
  const receiver = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c) => chunks.push(c));
    request.on('end', () => {
      const now = Date.now();
      try {
        const doc = verifier.verify(Buffer.concat(chunks).toString('utf8'), request.headers as Record<string, string>) as {
          type: string;
          timestamp: string;
          data: { resource: { id: string } };
        };
        lags.push(now - Date.parse(doc.timestamp));
        if (doc.type === 'user.created' || doc.type === 'group.created') {
          const acked = acknowledgedAt.get(doc.data.resource.id);
          if (acked !== undefined) afterAck.push(now - acked);
          else arrivedAt.set(doc.data.resource.id, now);
        }
      } catch {
        unverified++;
      }
      firstAt ||= now;
      lastAt = now;
      response.writeHead(204).end();
    });
  });
  receiver.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  const bridge = await startBundle(databaseUrl, BUNDLE, {
    SCIM_WEBHOOKS: JSON.stringify([{ name: 'bench', url }]),
    SCIM_WEBHOOK_SECRETS: JSON.stringify({ bench: secret }),
    SCIM_WEBHOOKS_ALLOW_LOOPBACK: 'true',
    SCIM_MAX_CONCURRENT_REQUESTS: '1024',
  });
  const headers = { authorization: `Bearer ${bridge.token}`, 'content-type': 'application/scim+json' };
  const pacer = new Pacer(RATE);
  const statuses = new Map<number, number>();
  const userIds: string[] = [];
  let requests = 0;
  const latencies: number[] = [];
  const send = async (method: string, path: string, body: unknown) => {
    await pacer.next();
    requests++;
    const t = performance.now();
    const res = await fetch(`${bridge.url}/scim/v2${path}`, { method, headers, body: JSON.stringify(body) });
    const text = await res.text();
    latencies.push(performance.now() - t);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const doc = res.ok && text ? JSON.parse(text) : undefined;
    if (method === 'POST' && doc?.id) {
      const now = Date.now();
      // The webhook may come before the 201 reaches the client: then the difference is negative.
      const arrived = arrivedAt.get(doc.id);
      if (arrived !== undefined) afterAck.push(arrived - now);
      else acknowledgedAt.set(doc.id, now);
    }
    return doc;
  };
  // Enough requests in flight to hold the rate whatever the latency; the pacer sets the rate.
  const inParallel = async (count: number, work: (i: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < count) await work(next++);
      }),
    );
  };
  const started = performance.now();
  await inParallel(USERS, async (i) => {
    const user = await send('POST', '/Users', {
      schemas: [USER],
      userName: `feed${i}@bench.example.com`,
      displayName: `Feed ${i}`,
      emails: [{ value: `feed${i}@bench.example.com`, primary: true }],
    });
    if (user) userIds[i] = user.id;
  });
  await inParallel(GROUPS, async (g) => {
    const group = await send('POST', '/Groups', { schemas: [GROUP], displayName: `feed group ${g}` });
    if (!group) return;
    const members = Array.from({ length: MEMBERS }, (_, k) => userIds[(g * MEMBERS + k) % userIds.length])
      .filter(Boolean)
      .map((value) => ({ value }));
    await send('PATCH', `/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: members }] });
  });
  const loadSeconds = (performance.now() - started) / 1000;
  const loadEnded = Date.now();
  const store = await openStore(databaseUrl);
  const head = await store.headPosition();
  await store.close();
  const deadline = Date.now() + 600_000;
  while (lags.length + unverified < head && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await bridge.stop();
  await new Promise((resolve) => receiver.close(resolve));
  return {
    store: kind,
    users: USERS,
    groups: GROUPS,
    membersPerGroup: MEMBERS,
    targetRate: RATE,
    requests,
    achievedRate: Math.round(requests / loadSeconds),
    statuses: Object.fromEntries(statuses),
    changes: head,
    delivered: lags.length,
    unverified,
    deliveredPerSecond: Math.round(lags.length / ((lastAt - firstAt) / 1000 || 1)),
    scimLatencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
    lagFromAppendMs: { p50: percentile(lags, 0.5), p90: percentile(lags, 0.9), p99: percentile(lags, 0.99), max: percentile(lags, 1) },
    lagAfterAcknowledgementMs: {
      p50: percentile(afterAck, 0.5),
      p90: percentile(afterAck, 0.9),
      p99: percentile(afterAck, 0.99),
      max: percentile(afterAck, 1),
    },
    drainSecondsAfterLoad: Math.round((lastAt - loadEnded) / 100) / 10,
  };
}

/** A store whose transactions append no changes: the same write with the feed off. */
function feedOff(store: Store): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'transaction') {
        return (work: (tx: unknown) => Promise<unknown>) =>
          target.transaction((tx) => work(new Proxy(tx, { get: (t, p) => (p === 'appendChanges' ? async () => undefined : Reflect.get(t, p, t)) })) as never);
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function writeCost(kind: string, databaseUrl: string): Promise<Record<string, unknown>> {
  const store = await openStore(databaseUrl);
  await store.migrate();
  const on = new Directory(store, { allowedDomains: [] });
  const off = new Directory(feedOff(store), { allowedDomains: [] });
  const times: Record<'on' | 'off', number[]> = { on: [], off: [] };
  let n = 0;
  const round = async (which: 'on' | 'off', count: number) => {
    const directory = which === 'on' ? on : off;
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await directory.createUser(
        { schemas: [USER], userName: `cost${n++}@bench.example.com`, displayName: 'Cost', emails: [{ value: `cost${n}@bench.example.com` }] },
        { actor: 'bench', requestId: `r${n}` },
      );
      times[which].push(performance.now() - t);
    }
  };
  await round('on', 200); // warm-up, not counted
  times.on = [];
  // Alternating rounds of 100, so drift (WAL growth, caches) falls on both alike.
  for (let r = 0; r < WRITES / 100; r++) {
    await round(r % 2 ? 'off' : 'on', 100);
    await round(r % 2 ? 'on' : 'off', 100);
  }
  await store.close();
  const summary = (list: number[]) => ({
    mean: Math.round((list.reduce((a, b) => a + b, 0) / list.length) * 1000) / 1000,
    p50: percentile(list, 0.5),
    p99: percentile(list, 0.99),
  });
  const a = summary(times.on);
  const b = summary(times.off);
  return { store: kind, writes: times.on.length, feedOnMs: a, feedOffMs: b, addedPercent: Math.round(((a.mean - b.mean) / b.mean) * 1000) / 10 };
}

async function main(): Promise<void> {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  for (const kind of STORES) {
    const dir = mkdtempSync(join(tmpdir(), 'scim-feed-bench-'));
    const databases: { url: string; drop?: () => Promise<void> }[] = [];
    const database = async () => {
      if (kind === 'sqlite') return { url: `sqlite:${join(dir, `bench-${databases.length}.db`)}` };
      return freshPostgres('scim_feed_bench');
    };
    try {
      const first = await database();
      databases.push(first);
      const deliveryResult = await delivery(kind, first.url);
      console.log(JSON.stringify(deliveryResult));
      const second = await database();
      databases.push(second);
      const cost = await writeCost(kind, second.url);
      console.log(JSON.stringify(cost));
      writeFileSync(join(ROOT, 'bench', 'results', `feed-${kind}.json`), JSON.stringify({ delivery: deliveryResult, writeCost: cost }, null, 2));
    } finally {
      for (const d of databases) await d.drop?.();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
