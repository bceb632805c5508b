/**
 * `npm run bench:worst`: the costliest requests the bridge accepts, against a large directory, with what they cost
 * the replica. For each store (SQLite always; PostgreSQL when SCIM_TEST_POSTGRES_URL or SCIM_BENCH_POSTGRES_URL is
 * set): the worst filter within the cost budget (each costly shape at as many terms as the budget allows; the
 * slowest one, then eight of it at once), the largest page of groups with members, and the heaviest PATCH within
 * the work bound (one, then eight at once). Reports each one's time, the bridge's peak RSS, and /ping's latency
 * while it ran (a loop of sequential pings). SCIM_BENCH_USERS sets the directory's size (default 100,000).
 * Prints Markdown; BENCHMARKS.md holds a run's figures.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILTER_COST_BUDGET, filterCost } from '../bridge/src/scim/filter-cost';
import { parseFilter } from '../bridge/src/scim/filter';
import { MAX_PATCH_WORK } from '../bridge/src/scim/patch';
import { seedDirectory } from '../test/support/seed';
import { type BundledBridge, startBundle } from './bundle';
import { BENCH_POSTGRES_URL, BUNDLE, ROOT, freshPostgres } from './lib';

const USERS = Number(process.env.SCIM_BENCH_USERS ?? 100_000);
const GROUPS = 20;
const say = (line: string) => process.stdout.write(`${line}\n`);

/** Costly shapes; each is repeated with `or` as often as the budget (and the 4,096-character filter bound) allow. */
const SHAPES = [
  'displayName co "zz"',
  'name.givenName co "zz"',
  'title pr',
  'userName co "zzz"',
  'emails.value co "zz"',
  'emails[type eq "work" and value co "zz"]',
  'groups.display co "zz"',
  'not (groups pr)',
];

function worstOf(shape: string): string {
  const times = Math.floor(FILTER_COST_BUDGET / filterCost('User', parseFilter(shape)));
  let filter = shape;
  for (let i = 1; i < times && filter.length + shape.length + 4 <= 4096; i++) filter += ` or ${shape}`;
  return filter;
}

function peakOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024);
  return { rss: mb('VmRSS'), peak: mb('VmHWM') };
}

const percentile = (values: number[], p: number) => {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Runs `work` while pinging /ping in a loop; returns its time, its result, and the pings' latencies. */
async function whilePinging<T>(bridge: BundledBridge, work: () => Promise<T>): Promise<{ ms: number; result: T; pings: number[] }> {
  const pings: number[] = [];
  let done = false;
  const pinger = (async () => {
    while (!done) {
      const started = performance.now();
      await (await fetch(`${bridge.url}/ping`)).arrayBuffer();
      pings.push(performance.now() - started);
    }
  })();
  const started = performance.now();
  const result = await work().finally(() => (done = true));
  const ms = performance.now() - started;
  await pinger;
  return { ms, result, pings };
}

async function get(bridge: BundledBridge, path: string): Promise<{ status: number; bytes: number; body: string }> {
  const res = await fetch(`${bridge.url}/scim/v2${path}`, { headers: { authorization: `Bearer ${bridge.token}` } });
  const body = await res.text();
  return { status: res.status, bytes: Buffer.byteLength(body), body };
}

async function send(bridge: BundledBridge, method: string, path: string, body: unknown): Promise<{ status: number; body: string }> {
  const res = await fetch(`${bridge.url}/scim/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${bridge.token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.text() };
}

function row(what: string, answer: string, run: { ms: number; pings: number[] }, bridge: BundledBridge): void {
  const { rss, peak } = peakOf(bridge.child.pid!);
  say(
    `| ${what} | ${answer} | ${Math.round(run.ms)} | ${rss} / ${peak} | ${run.pings.length} | ${percentile(run.pings, 50).toFixed(1)} | ${percentile(run.pings, 99).toFixed(1)} | ${Math.max(...run.pings, 0).toFixed(1)} |`,
  );
}

async function measure(kind: 'sqlite' | 'postgres', databaseUrl: string): Promise<void> {
  const seeded = performance.now();
  await seedDirectory(databaseUrl, { users: USERS, groups: GROUPS, displayNameLength: 240 });
  say(
    `\n### ${kind}: ${USERS.toLocaleString('en')} users (display names of 240+ characters), ${GROUPS} groups of ${(USERS / GROUPS).toLocaleString('en')} members (seeded in ${Math.round((performance.now() - seeded) / 1000)} s)\n`,
  );
  const bridge = await startBundle(databaseUrl, BUNDLE);
  try {
    say(`RSS at start: ${peakOf(bridge.child.pid!).rss} MB\n`);
    say('| request | answer | ms | RSS / peak MB | pings | ping p50 ms | ping p99 ms | ping max ms |');
    say('|---|---|---|---|---|---|---|---|');
    let worst = { filter: '', ms: -1 };
    for (const shape of SHAPES) {
      const filter = worstOf(shape);
      const run = await whilePinging(bridge, () => get(bridge, `/Users?count=100&filter=${encodeURIComponent(filter)}`));
      const terms = filter.split(' or ').length;
      row(`\`${shape}\` × ${terms} (cost ${filterCost('User', parseFilter(filter))})`, String(run.result.status), run, bridge);
      if (run.result.status === 200 && run.ms > worst.ms) worst = { filter, ms: run.ms };
    }
    const eight = await whilePinging(bridge, () =>
      Promise.all(Array.from({ length: 8 }, () => get(bridge, `/Users?count=100&filter=${encodeURIComponent(worst.filter)}`))),
    );
    const statuses = eight.result
      .map((r) => r.status)
      .sort()
      .join(' ');
    row(`8 × the slowest of these at once`, statuses, eight, bridge);

    const page = await whilePinging(bridge, () => get(bridge, '/Groups?count=1000'));
    const body = JSON.parse(page.result.body);
    row(
      `\`GET /Groups?count=1000\` (members)`,
      `${page.result.status}, ${body.itemsPerPage} groups, ${(page.result.bytes / 1048576).toFixed(1)} MiB`,
      page,
      bridge,
    );
    const one = await whilePinging(bridge, () => get(bridge, '/Groups/g1'));
    row(
      `\`GET /Groups/g1\` (${(USERS / GROUPS).toLocaleString('en')} members)`,
      `${one.result.status}, ${(one.result.bytes / 1048576).toFixed(1)} MiB`,
      one,
      bridge,
    );
    const pages = await whilePinging(bridge, () => Promise.all(Array.from({ length: 8 }, () => get(bridge, '/Groups?count=1000'))));
    row('8 × the group page at once', pages.result.map((r) => r.status).join(' '), pages, bridge);

    // The heaviest PATCH: a value filter over a user's 1,800 emails with as many terms as the work bound allows.
    const emails = Array.from({ length: 1800 }, (_, i) => ({ value: `e${i}@x.io` }));
    const ids: string[] = [];
    for (let u = 0; u < 8; u++) {
      const created = await send(bridge, 'POST', '/Users', { userName: `heavy${u}@bench.example.com`, emails });
      if (created.status !== 201) throw new Error(`create answered ${created.status}: ${created.body.slice(0, 200)}`);
      ids.push(JSON.parse(created.body).id);
    }
    const terms = Math.min(95, Math.floor(MAX_PATCH_WORK / emails.length) - 2);
    const filter = Array.from({ length: terms }, (_, i) => `value eq "q${i}"`).join(' or ');
    const operations = Math.max(1, Math.floor(MAX_PATCH_WORK / (emails.length * terms + emails.length)));
    const patch = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: Array.from({ length: operations }, () => ({ op: 'remove', path: `emails[${filter}]` })),
    };
    const single = await whilePinging(bridge, () => send(bridge, 'PATCH', `/Users/${ids[0]}`, patch));
    row(`PATCH: ${operations} remove by a ${terms}-term filter over 1,800 emails`, String(single.result.status), single, bridge);
    const refused = await whilePinging(bridge, () =>
      send(bridge, 'PATCH', `/Users/${ids[0]}`, { ...patch, Operations: [...patch.Operations, ...patch.Operations] }),
    );
    row(`the same with twice the operations`, String(refused.result.status), refused, bridge);
    const parallel = await whilePinging(bridge, () => Promise.all(ids.map((id) => send(bridge, 'PATCH', `/Users/${id}`, patch))));
    row('8 × the heaviest PATCH at once (8 users)', parallel.result.map((r) => r.status).join(' '), parallel, bridge);
    say(`\nPeak RSS of the bridge over the run: ${peakOf(bridge.child.pid!).peak} MB`);
    if (bridge.errorLines.length) say(`\nError lines: ${bridge.errorLines.slice(0, 3).join('\n')}`);
  } finally {
    await bridge.stop();
  }
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'bridge', 'build.mjs')], { stdio: 'inherit' });
  say(
    `## Worst accepted requests (bench/worst.ts)\n\nNode ${process.version}, ${require('node:os').cpus().length} cores; filter budget ${FILTER_COST_BUDGET}, PATCH work bound ${MAX_PATCH_WORK.toLocaleString('en')}.`,
  );
  const kinds = (process.env.SCIM_BENCH_STORES ?? 'sqlite,postgres').split(',');
  if (kinds.includes('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'scim-worst-'));
    try {
      await measure('sqlite', `sqlite:${join(dir, 'bridge.db')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (kinds.includes('postgres') && BENCH_POSTGRES_URL) {
    const pg = await freshPostgres('scim_worst');
    try {
      await measure('postgres', pg.url);
    } finally {
      await pg.drop();
    }
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
