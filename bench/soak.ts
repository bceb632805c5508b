/**
 * `npm run soak`: an identity provider's initial sync, then churn, against the bundled bridge in its own process,
 * at the rate the providers use, with the bridge's memory and event-loop delay sampled throughout.
 *
 *   npm run soak -- [--store sqlite|postgres|both] [--users 50000] [--groups 2000] [--rate 25]
 *                   [--churn-seconds 600] [--batch 50] [--workers 8] [--seed S]
 *
 * The sync is what Entra ID and Okta do: for each user, a look-up by userName (`filter=userName eq "…"`) and, when
 * it finds nobody, a POST; then for each group a look-up by displayName with `excludedAttributes=members`, a POST
 * without members and the members in PATCH batches of `--batch`. Churn then mixes attribute updates (Entra's PATCH,
 * Okta's GET then PUT), deactivations and reactivations, membership changes, new users, deletes and renames.
 *
 * The default rate, 25 requests per second, is what Microsoft requires a SCIM endpoint to sustain per tenant
 * ("Support at least 25 requests per second per tenant", Entra's gallery onboarding checklist in "Tutorial: Develop
 * and plan provisioning for a SCIM endpoint"); Entra's own estimate of an initial cycle is 0.01 to 0.08 minutes per
 * user, group and membership ("How long will it take to provision users?"), i.e. at most about 1.7 objects a
 * second, and Okta documents no outbound rate (it backs off on 429 with Retry-After). At 25/s the full sync is
 * more than an hour; `--rate` goes faster for a quicker run. Loopback only; bounded by the counts and
 * `--churn-seconds`. Writes bench/results/soak-<store>-<seed>.{json,csv} (the CSV is the RSS and event-loop curve).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BundledBridge, rssOf, startBundle } from './bundle';
import { Random } from './fuzz/random';
import { BENCH_POSTGRES_URL, BUNDLE, ROOT, freshPostgres } from './lib';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LOOP_SAMPLING_MS = 10;

export interface SoakOptions {
  readonly store: 'sqlite' | 'postgres';
  readonly users: number;
  readonly groups: number;
  readonly rate: number;
  readonly churnSeconds: number;
  readonly batch: number;
  readonly workers: number;
  readonly seed: string;
  readonly log: (line: string) => void;
}

interface Sample {
  readonly seconds: number;
  readonly phase: string;
  readonly requests: number;
  readonly rssMb: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly requestsPerSecond: number;
}

/** Hands out request slots `1/rate` seconds apart; a worker waits for its slot. */
class Pacer {
  private readonly start = performance.now();
  private slots = 0;
  constructor(private readonly rate: number) {}
  async next(): Promise<void> {
    const at = this.start + (this.slots++ * 1000) / this.rate;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

class Timings {
  private readonly data = new Map<string, number[]>();
  add(op: string, ms: number): void {
    let list = this.data.get(op);
    if (!list) this.data.set(op, (list = []));
    list.push(ms);
  }
  summary(): Record<string, { count: number; p50: number; p90: number; p99: number; max: number }> {
    const out: Record<string, { count: number; p50: number; p90: number; p99: number; max: number }> = {};
    for (const [op, list] of this.data) {
      const sorted = Float64Array.from(list).sort();
      const at = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 100) / 100;
      out[op] = { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
    }
    return out;
  }
}

interface SoakUser {
  id: string;
  userName: string;
  active: boolean;
  /** The churn worker that alone changes this user, so no two requests race on it. */
  worker: number;
}

export async function runSoak(options: SoakOptions) {
  const { log } = options;
  const rng = new Random(`${options.seed}/soak`);
  const dir = mkdtempSync(join(tmpdir(), 'scim-soak-'));
  const pg = options.store === 'postgres' ? await freshPostgres('scim_soak') : undefined;
  const databaseUrl = pg ? pg.url : `sqlite:${join(dir, 'bridge.db')}`;
  const bridge: BundledBridge = await startBundle(databaseUrl, BUNDLE);
  const pacer = new Pacer(options.rate);
  const timings = { sync: new Timings(), churn: new Timings() };
  const errors: Record<string, number> = {};
  const errorSamples: string[] = [];
  let phase: 'sync' | 'churn' | 'done' = 'sync';
  let requests = 0;
  const headers = {
    authorization: `Bearer ${bridge.token}`,
    'content-type': 'application/scim+json',
    'user-agent': 'Microsoft.Azure.ActiveDirectory.Provisioning/1.0 (soak)',
  };

  /** One paced request; an answer outside `expected` is counted as an error. */
  const call = async (op: string, method: string, path: string, body: unknown, expected: number[]): Promise<{ status: number; body: any }> => {
    await pacer.next();
    const started = performance.now();
    let status = 0;
    let parsed: unknown;
    try {
      const res = await fetch(`${bridge.url}/scim/v2${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      status = res.status;
      const text = await res.text();
      parsed = text ? JSON.parse(text) : undefined;
    } catch (error) {
      parsed = (error as Error).message;
    }
    requests++;
    if (phase !== 'done') timings[phase].add(op, performance.now() - started);
    if (!expected.includes(status)) {
      const key = `${op} ${status}`;
      errors[key] = (errors[key] ?? 0) + 1;
      if (errorSamples.length < 20) errorSamples.push(`${method} ${path.slice(0, 120)} → ${status} ${JSON.stringify(parsed).slice(0, 200)}`);
    }
    return { status, body: parsed };
  };

  // ---- sampling: RSS from /proc, event-loop delay from the bridge's own metrics ----
  const samples: Sample[] = [];
  const t0 = performance.now();
  let lastRequests = 0;
  let lastAt = t0;
  const sample = async () => {
    let loopP99Ms = NaN;
    let loopMaxMs = NaN;
    try {
      const text = await (await fetch(`${bridge.url}/metrics`)).text();
      // prom-client samples the loop with a 10 ms timer (its default precision) and reports each interval whole:
      // the delay is what exceeds the 10 ms.
      const read = (name: string) =>
        Math.max(
          0,
          Number(new RegExp(`scim_bridge_nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? ([\\d.e+-]+)`).exec(text)?.[1]) * 1000 - LOOP_SAMPLING_MS,
        );
      loopP99Ms = read('p99');
      loopMaxMs = read('max');
    } catch {
      /* counted as missing */
    }
    const now = performance.now();
    samples.push({
      seconds: Math.round((now - t0) / 100) / 10,
      phase,
      requests,
      rssMb: Math.round(rssOf(bridge.child.pid!)),
      loopP99Ms: Math.round(loopP99Ms * 10) / 10,
      loopMaxMs: Math.round(loopMaxMs * 10) / 10,
      requestsPerSecond: Math.round(((requests - lastRequests) * 1000) / (now - lastAt)),
    });
    lastRequests = requests;
    lastAt = now;
  };
  await sample();
  const sampler = setInterval(() => void sample(), 2000);

  /** Runs `task(i)` for i in [0, count) on the workers. */
  const parallel = async (count: number, task: (i: number) => Promise<void>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: options.workers }, async () => {
        while (next < count && bridge.exited === null) await task(next++);
      }),
    );
  };

  const users: SoakUser[] = [];
  const live = new Map<string, SoakUser>();
  const userName = (i: number) => `soak.user${i}@example.com`;
  const userBody = (name: string, i: number, active = true) => ({
    schemas: [USER, ENTERPRISE],
    userName: name,
    active,
    externalId: `ext-${i}`,
    displayName: `Soak User ${i}`,
    name: { givenName: `Given${i}`, familyName: `Family${i}` },
    emails: [{ value: name, type: 'work', primary: true }],
    title: rng.pick(['Engineer', 'Manager', 'Analyst', 'Designer']),
    [ENTERPRISE]: { department: rng.pick(['R&D', 'Sales', 'Finance', 'Operations']), employeeNumber: String(100000 + i) },
  });

  // ---- the initial sync: users, then groups with their members in batches ----
  log(
    `soak on ${options.store}: sync of ${options.users.toLocaleString('en')} users and ${options.groups.toLocaleString('en')} groups at ${options.rate} requests/s`,
  );
  const syncStarted = performance.now();
  let created = 0;
  await parallel(options.users, async (i) => {
    const name = userName(i);
    const found = await call('lookup user', 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}&startIndex=1&count=100`, undefined, [200]);
    if (found.body?.totalResults !== 0) return;
    const res = await call('create user', 'POST', '/Users', userBody(name, i), [201]);
    if (res.status === 201) {
      const user = { id: res.body.id, userName: name, active: true, worker: i % options.workers };
      users[i] = user;
      live.set(user.id, user);
      created++;
    }
    if (created % 5000 === 0 && created) log(`  ${created.toLocaleString('en')} users, RSS ${Math.round(rssOf(bridge.child.pid!))} MB`);
  });
  const groups: { id: string; name: string; members: Set<string>; worker: number }[] = [];
  let memberships = 0;
  const sizeOf = () =>
    rng.weighted<() => number>([
      [70, () => rng.int(5, 30)],
      [25, () => rng.int(30, 200)],
      [5, () => rng.int(200, 2000)],
    ])();
  await parallel(options.groups, async (g) => {
    const name = `Soak Group ${g}`;
    const found = await call(
      'lookup group',
      'GET',
      `/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}&excludedAttributes=members`,
      undefined,
      [200],
    );
    if (found.body?.totalResults !== 0) return;
    const res = await call('create group', 'POST', '/Groups', { schemas: [GROUP], displayName: name, externalId: `gext-${g}` }, [201]);
    if (res.status !== 201) return;
    const group = { id: res.body.id as string, name, members: new Set<string>(), worker: g % options.workers };
    groups.push(group);
    const size = Math.min(sizeOf(), users.length);
    const chosen = new Set<string>();
    while (chosen.size < size) {
      const user = users[rng.int(0, users.length - 1)];
      if (user) chosen.add(user.id);
    }
    const ids = [...chosen];
    for (let at = 0; at < ids.length; at += options.batch) {
      const batch = ids.slice(at, at + options.batch);
      const patched = await call(
        'add members (batch)',
        'PATCH',
        `/Groups/${group.id}`,
        { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: batch.map((value) => ({ value })) }] },
        [204],
      );
      if (patched.status === 204) for (const id of batch) group.members.add(id);
    }
    memberships += group.members.size;
  });
  const syncSeconds = (performance.now() - syncStarted) / 1000;
  await sample();
  const afterSync = samples[samples.length - 1];
  log(
    `sync done in ${Math.round(syncSeconds)} s: ${created.toLocaleString('en')} users, ${groups.length.toLocaleString('en')} groups, ${memberships.toLocaleString('en')} memberships, RSS ${afterSync.rssMb} MB`,
  );

  // ---- churn ----
  phase = 'churn';
  const churnStarted = performance.now();
  const churnDeadline = Date.now() + options.churnSeconds * 1000;
  let nextUser = options.users;
  // Each churn worker changes only its own users and groups (a partition), so no two of its requests race.
  const byWorker = Array.from({ length: options.workers }, () => ({ users: [] as SoakUser[], groups: [] as typeof groups }));
  for (const user of live.values()) byWorker[user.worker].users.push(user);
  for (const group of groups) byWorker[group.worker].groups.push(group);
  const churnTask = async (worker: number) => {
    const mine = byWorker[worker];
    const someUser = () => {
      while (mine.users.length) {
        const at = rng.int(0, mine.users.length - 1);
        const user = mine.users[at];
        if (live.has(user.id)) return user;
        mine.users.splice(at, 1);
      }
      return undefined;
    };
    const user = someUser();
    const group = mine.groups.length ? mine.groups[rng.int(0, mine.groups.length - 1)] : undefined;
    const action = rng.weighted<string>([
      [30, 'update'],
      [10, 'put'],
      [10, 'deactivate'],
      [5, 'reactivate'],
      [15, 'add'],
      [10, 'remove'],
      [5, 'delete'],
      [10, 'create'],
      [2, 'rename'],
      [3, 'lookup'],
    ]);
    if (!user || !group) return;
    switch (action) {
      case 'update':
        await call(
          'update user (PATCH)',
          'PATCH',
          `/Users/${user.id}`,
          {
            schemas: [PATCH],
            Operations: [
              { op: 'Replace', path: 'title', value: rng.pick(['Lead', 'Director', 'Intern', 'Principal']) },
              { op: 'Replace', path: `${ENTERPRISE}:department`, value: rng.pick(['R&D', 'Legal', 'Support']) },
            ],
          },
          [200],
        );
        break;
      case 'put': {
        const got = await call('get user', 'GET', `/Users/${user.id}`, undefined, [200]);
        if (got.status !== 200) break;
        const i = Number(String(got.body.externalId).slice(4));
        await call('replace user (PUT)', 'PUT', `/Users/${user.id}`, { ...userBody(user.userName, i, user.active), id: user.id }, [200]);
        break;
      }
      case 'deactivate':
      case 'reactivate': {
        const active = action === 'reactivate';
        const res = await call(
          `${action} user`,
          'PATCH',
          `/Users/${user.id}`,
          { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: active ? 'True' : 'False' }] },
          [200],
        );
        if (res.status === 200) user.active = active;
        break;
      }
      case 'add': {
        const ids = Array.from({ length: rng.int(1, 5) }, () => someUser()?.id).filter((id): id is string => id !== undefined);
        if (!ids.length) break;
        const res = await call(
          'add members',
          'PATCH',
          `/Groups/${group.id}`,
          { schemas: [PATCH], Operations: [{ op: 'Add', path: 'members', value: ids.map((value) => ({ value })) }] },
          [204],
        );
        if (res.status === 204) for (const id of ids) group.members.add(id);
        break;
      }
      case 'remove': {
        const ids = [...group.members].slice(0, rng.int(1, 3));
        if (!ids.length) break;
        const res = await call(
          'remove members',
          'PATCH',
          `/Groups/${group.id}`,
          { schemas: [PATCH], Operations: ids.map((id) => ({ op: 'Remove', path: `members[value eq "${id}"]` })) },
          [204],
        );
        if (res.status === 204) for (const id of ids) group.members.delete(id);
        break;
      }
      case 'delete': {
        // Okta deactivates first, then the app deletes; Entra deletes when the user leaves the scope.
        await call('deactivate user', 'PATCH', `/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active: false } }] }, [200]);
        const res = await call('delete user', 'DELETE', `/Users/${user.id}`, undefined, [204]);
        if (res.status === 204) {
          live.delete(user.id);
          for (const g of groups) g.members.delete(user.id);
        }
        break;
      }
      case 'create': {
        const i = nextUser++;
        const name = userName(i);
        const found = await call('lookup user', 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`, undefined, [200]);
        if (found.body?.totalResults !== 0) break;
        const res = await call('create user', 'POST', '/Users', userBody(name, i), [201]);
        if (res.status === 201) {
          const made = { id: res.body.id, userName: name, active: true, worker };
          live.set(made.id, made);
          mine.users.push(made);
        }
        break;
      }
      case 'rename': {
        const name = `${group.name.replace(/ \(renamed \d+\)$/, '')} (renamed ${rng.int(1, 1e6)})`;
        const res = await call(
          'rename group',
          'PATCH',
          `/Groups/${group.id}`,
          { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'displayName', value: name }] },
          [204],
        );
        if (res.status === 204) group.name = name;
        break;
      }
      default:
        await call('lookup user', 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${user.userName}"`)}`, undefined, [200]);
    }
  };
  await Promise.all(
    Array.from({ length: options.workers }, async (_, worker) => {
      while (Date.now() < churnDeadline && bridge.exited === null) await churnTask(worker);
    }),
  );
  const churnSeconds = (performance.now() - churnStarted) / 1000;
  phase = 'done';
  clearInterval(sampler);
  await sample();

  // ---- the store counts what the soak did ----
  const status = (await (await fetch(`${bridge.url}/api/status`, { headers })).json()) as {
    counts: { usersActive: number; usersSuspended: number; groupsManaged: number };
  };
  const expected = {
    usersActive: [...live.values()].filter((u) => u.active).length,
    usersSuspended: [...live.values()].filter((u) => !u.active).length,
    groupsManaged: groups.length,
  };
  const countsAgree =
    status.counts.usersActive === expected.usersActive &&
    status.counts.usersSuspended === expected.usersSuspended &&
    status.counts.groupsManaged === expected.groupsManaged;
  const exit = await bridge.stop();
  await pg?.drop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });

  const rss = samples.map((s) => s.rssMb);
  return {
    store: options.store,
    seed: options.seed,
    options: {
      users: options.users,
      groups: options.groups,
      rate: options.rate,
      churnSeconds: options.churnSeconds,
      batch: options.batch,
      workers: options.workers,
    },
    sync: {
      seconds: Math.round(syncSeconds),
      users: created,
      groups: groups.length,
      memberships,
      requestsPerSecond: Math.round(
        samples.filter((s) => s.phase === 'sync').reduce((a, s) => a + s.requestsPerSecond, 0) / Math.max(1, samples.filter((s) => s.phase === 'sync').length),
      ),
    },
    churn: { seconds: Math.round(churnSeconds) },
    requests,
    rssMb: { start: rss[0], afterSync: afterSync.rssMb, peak: Math.max(...rss), end: rss[rss.length - 1] },
    eventLoop: {
      p99MaxMs: Math.max(...samples.map((s) => s.loopP99Ms).filter((v) => !Number.isNaN(v))),
      maxMs: Math.max(...samples.map((s) => s.loopMaxMs).filter((v) => !Number.isNaN(v))),
    },
    latency: { sync: timings.sync.summary(), churn: timings.churn.summary() },
    errors,
    errorSamples,
    counts: { store: status.counts, expected, agree: countsAgree },
    errorLogLines: bridge.errorLines.length,
    bridgeExit: exit,
    samples,
    passed: Object.keys(errors).length === 0 && countsAgree && bridge.errorLines.length === 0 && exit === 0,
  };
}

type SoakResult = Awaited<ReturnType<typeof runSoak>>;

function report(r: SoakResult): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out();
  out(
    `## ${r.store}: ${r.sync.users.toLocaleString('en')} users, ${r.sync.groups.toLocaleString('en')} groups, ${r.sync.memberships.toLocaleString('en')} memberships at ${r.options.rate}/s; sync ${r.sync.seconds} s, churn ${r.churn.seconds} s, ${r.requests.toLocaleString('en')} requests`,
  );
  out();
  out(
    `RSS: start ${r.rssMb.start} MB, after sync ${r.rssMb.afterSync} MB, peak ${r.rssMb.peak} MB, end ${r.rssMb.end} MB; event-loop delay (beyond the 10 ms sampling interval): worst p99 over 2 s ${r.eventLoop.p99MaxMs} ms, worst single ${r.eventLoop.maxMs} ms`,
  );
  out();
  out('| phase | operation | count | p50 ms | p90 ms | p99 ms | max ms |');
  out('|---|---|---|---|---|---|---|');
  for (const phase of ['sync', 'churn'] as const) {
    for (const [op, t] of Object.entries(r.latency[phase]))
      out(`| ${phase} | ${op} | ${t.count.toLocaleString('en')} | ${t.p50} | ${t.p90} | ${t.p99} | ${t.max} |`);
  }
  out();
  out('| seconds | phase | requests | RSS MB | loop p99 ms | requests/s |');
  out('|---|---|---|---|---|---|');
  const step = Math.max(1, Math.floor(r.samples.length / 12));
  for (let i = 0; i < r.samples.length; i += step) {
    const s = r.samples[i];
    out(`| ${s.seconds} | ${s.phase} | ${s.requests.toLocaleString('en')} | ${s.rssMb} | ${s.loopP99Ms} | ${s.requestsPerSecond} |`);
  }
  out();
  out(
    `errors: ${JSON.stringify(r.errors)}; counts ${r.counts.agree ? 'agree' : `differ: store ${JSON.stringify(r.counts.store)}, expected ${JSON.stringify(r.counts.expected)}`}; error log lines ${r.errorLogLines}; exit ${r.bridgeExit}`,
  );
  for (const line of r.errorSamples) out(`  ${line}`);
  out(r.passed ? 'PASSED' : 'FAILED');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: 'string', default: 'both' },
      users: { type: 'string', default: '50000' },
      groups: { type: 'string', default: '2000' },
      rate: { type: 'string', default: '25' },
      'churn-seconds': { type: 'string', default: '600' },
      batch: { type: 'string', default: '50' },
      workers: { type: 'string', default: '8' },
      seed: { type: 'string', default: 'soak' },
    },
  });
  const num = (name: string, raw: string | undefined) => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number (got ${raw})`);
    return value;
  };
  const stores = values.store === 'both' ? (BENCH_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite']) : [values.store];
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  let failed = false;
  for (const store of stores) {
    if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store must be sqlite, postgres or both (got ${store})`);
    const result = await runSoak({
      store,
      users: Math.round(num('users', values.users)),
      groups: Math.round(num('groups', values.groups)),
      rate: num('rate', values.rate),
      churnSeconds: num('churn-seconds', values['churn-seconds']),
      batch: Math.round(num('batch', values.batch)),
      workers: Math.round(num('workers', values.workers)),
      seed: values.seed!,
      log: (line) => process.stdout.write(`${line}\n`),
    });
    report(result);
    const base = join(dir, `soak-${store}-${values.seed!.replace(/[^\w.-]/g, '_')}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(
      `${base}.csv`,
      `${[
        'seconds,phase,requests,rss_mb,loop_p99_ms,loop_max_ms,requests_per_second',
        ...result.samples.map((s) => `${s.seconds},${s.phase},${s.requests},${s.rssMb},${s.loopP99Ms},${s.loopMaxMs},${s.requestsPerSecond}`),
      ].join('\n')}\n`,
    );
    process.stdout.write(`written: ${base}.json and .csv\n`);
    failed ||= !result.passed;
  }
  process.exit(failed ? 1 : 0);
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
