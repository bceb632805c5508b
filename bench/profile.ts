/**
 * Where a look-up's time goes (`npx tsx bench/profile.ts [sqlite|postgres] [git-ref]`): the bridge, bundled
 * without minification, answers `GET /Users?filter=userName eq "…"` at 100k users under wrk (32 connections,
 * 8 s) while `node --cpu-prof` samples it; the samples are then split by what the time was spent in, by the
 * source module of the innermost bridge or library frame (esbuild's unminified bundle marks each module). With a
 * git ref, the same is done for that commit's bridge, for a before/after breakdown in the same conditions.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleBridge, checkout, gitCommit } from '../test/upgrade/build-at';
import { ROOT, freePorts, freshPostgres, run, seed, session, userName } from './lib';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

async function bundleAt(ref: string | undefined, out: string): Promise<string> {
  const source = ref ? checkout(ref) : ROOT;
  try {
    await bundleBridge(source, out, { minify: false });
  } finally {
    if (ref) rmSync(source, { recursive: true, force: true });
  }
  return out;
}

/** Line ranges of the bundle's modules, from esbuild's `// path` markers. */
function moduleMap(bundle: string): (line: number) => string {
  const starts: { line: number; path: string }[] = [];
  readFileSync(bundle, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      // Paths are relative to where esbuild ran: keep them from bridge/ or contract/ on, whatever the checkout.
      const m = /^\/\/ (?:\S*\/)?((?:bridge|contract)\/\S+\.(?:ts|js|cjs|mjs|json))$/.exec(text);
      if (m) starts.push({ line: i, path: m[1] });
    });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = 'bundle';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid].line <= line) {
        found = starts[mid].path;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

function category(module: string): string {
  if (/node_modules\/(pg|pg-\w+|pgpass|postgres-\w+)\//.test(module)) return 'PostgreSQL driver (pg)';
  if (module.startsWith('bridge/src/store/')) return 'the store (SQL, rows to records)';
  if (/node_modules\/(pino|pino-\w+|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|@pinojs)/.test(module)) return 'logging (pino)';
  if (
    /node_modules\/(fastify|find-my-way|light-my-request|avvio|@fastify|fast-json-stringify|fast-querystring|fast-uri|fast-decode-uri-component|abstract-logging|process-warning|toad-cache|safe-regex2|ret)/.test(
      module,
    )
  )
    return 'Fastify and its router';
  if (module.startsWith('bridge/src/http/')) return 'the HTTP edge (hooks, auth, errors)';
  if (module.startsWith('bridge/src/ops/') || /node_modules\/(prom-client|tdigest|bintrees)/.test(module)) return 'metrics';
  if (module.startsWith('bridge/src/session/')) return 'bearer-token check';
  if (module.startsWith('bridge/src/scim/') || module.startsWith('bridge/src/directory/')) return 'SCIM: filter, rendering, projection';
  return `other (${module})`;
}

function summarize(profilePath: string, bundle: string): Map<string, number> {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as Profile;
  const moduleOf = moduleMap(bundle);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const bundleUrl = (url: string) => url.endsWith(bundle.split('/').pop()!);
  const totals = new Map<string, number>();
  const functions = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const leaf = byId.get(id)!;
    const name = leaf.callFrame.functionName;
    let bucket: string;
    if (name === '(idle)') bucket = 'idle (waiting for I/O)';
    else if (name === '(garbage collector)') bucket = 'garbage collection';
    else if (name === '(program)') bucket = 'V8 and native, unattributed';
    else {
      // The innermost frame in the bundle decides; native and node: frames count for the code that called them.
      let at: ProfileNode | undefined = leaf;
      while (at && !bundleUrl(at.callFrame.url)) at = byId.get(parent.get(at.id)!);
      if (!at) bucket = /^node:/.test(leaf.callFrame.url) || !leaf.callFrame.url ? 'Node internals (sockets, HTTP parser, timers)' : 'other';
      else bucket = category(moduleOf(at.callFrame.lineNumber));
      if (at && (name === 'all' || name === 'get' || name === 'run') && !leaf.callFrame.url) bucket = 'node:sqlite (the statement itself)';
      if (at && /^(writev|writeUtf8String|writeBuffer|writeLatin1String)$/.test(name)) bucket = 'Node internals (sockets, HTTP parser, timers)';
    }
    totals.set(bucket, (totals.get(bucket) ?? 0) + dt);
    const fn = `${name || '(anonymous)'} ${bundleUrl(leaf.callFrame.url) ? moduleOf(leaf.callFrame.lineNumber) : leaf.callFrame.url || '(native)'}`;
    functions.set(fn, (functions.get(fn) ?? 0) + dt);
  });
  if (process.env.PROFILE_FUNCTIONS) {
    const top = [...functions].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.PROFILE_FUNCTIONS));
    for (const [fn, t] of top) process.stdout.write(`  ${(t / 1000).toFixed(0).padStart(6)} ms  ${fn}\n`);
  }
  return totals;
}

async function profileOnce(
  kind: 'sqlite' | 'postgres',
  ref: string | undefined,
  databaseUrl: string,
  users: number,
  port: number,
): Promise<{ rps: number; totals: Map<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'scim-prof-'));
  const bundle = await bundleAt(ref, join(dir, 'bridge.cjs'));
  const profiles = join(dir, 'profiles');
  mkdirSync(profiles);
  const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profiles, bundle, 'serve'], {
    env: {
      PATH: process.env.PATH,
      SCIM_SESSION: (await import('../bridge/src/session/scimsession')).serializeSession(session.session),
      SCIM_DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) break;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const lookups = {
    url,
    headers: { authorization: `Bearer ${session.token}` },
    connections: 32,
    lua: { path: `"/scim/v2/Users?filter=userName%20eq%20%22user" .. ((n * 7919) % ${users}) .. "%40bench.example.com%22"` },
    next: (n: number) => ({ path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName((n * 7919) % users)}"`)}` }),
  };
  const result = await run(lookups);
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  const file = readdirSync(profiles).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile was written');
  const totals = summarize(join(profiles, file), bundle);
  rmSync(dir, { recursive: true, force: true });
  void kind;
  return { rps: result.rps, totals };
}

async function main(): Promise<void> {
  const kind = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';
  const ref = process.argv[3];
  if (ref && !gitCommit(ref)) throw new Error(`no commit ${ref}`);
  const dir = mkdtempSync(join(tmpdir(), 'scim-prof-db-'));
  let databaseUrl = `sqlite:${join(dir, 'bench.db')}`;
  let drop: (() => Promise<void>) | undefined;
  if (kind === 'postgres') {
    const pg = await freshPostgres('scim_prof');
    databaseUrl = pg.url;
    drop = pg.drop;
  }
  await seed(databaseUrl, 0, 100_000, kind === 'sqlite' ? 50_000 : 0);
  const runs = ref ? [ref, undefined] : [undefined];
  const results: { ref: string; rps: number; totals: Map<string, number> }[] = [];
  const port = await freePorts();
  for (const r of runs) results.push({ ref: r ?? 'this tree', ...(await profileOnce(kind, r, databaseUrl, 100_000, port)) });
  const buckets = [...new Set(results.flatMap((r) => [...r.totals.keys()]))];
  const busy = (t: Map<string, number>) => [...t].filter(([k]) => !k.startsWith('idle')).reduce((a, [, v]) => a + v, 0);
  process.stdout.write(`\n${kind}, 100k users, userName eq look-ups, 32 connections, share of busy CPU time:\n\n`);
  process.stdout.write(
    `| spent in | ${results.map((r) => `${r.ref} (${r.rps.toLocaleString('en')} req/s)`).join(' | ')} |\n|---|${results.map(() => '---|').join('')}\n`,
  );
  const shown = buckets.filter((b) => !b.startsWith('idle') && results.some((r) => (r.totals.get(b) ?? 0) / busy(r.totals) >= 0.005));
  for (const bucket of shown.sort((a, b) => (results[results.length - 1].totals.get(b) ?? 0) - (results[results.length - 1].totals.get(a) ?? 0))) {
    const cells = results.map((r) => {
      const share = (r.totals.get(bucket) ?? 0) / busy(r.totals);
      const perRequest = (r.totals.get(bucket) ?? 0) / (r.rps * 8);
      return `${(share * 100).toFixed(1)} % (${perRequest.toFixed(1)} µs)`;
    });
    process.stdout.write(`| ${bucket} | ${cells.join(' | ')} |\n`);
  }
  process.stdout.write(`| **busy CPU per request** | ${results.map((r) => `${(busy(r.totals) / (r.rps * 8)).toFixed(1)} µs`).join(' | ')} |\n`);
  await drop?.();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
