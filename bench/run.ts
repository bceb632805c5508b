/**
 * The benchmark (`npm run bench`): the bundled bridge on this machine, each figure beside a bare node:http
 * server measured in the same run. Embedded store always; PostgreSQL too when SCIM_TEST_POSTGRES_URL is set
 * (e.g. `source .ci/postgres.sh && npm run bench`). With SCIM_BENCH_COMPARE=<git ref>, the look-up rows are
 * measured for that commit's bridge too, in the same run. Prints a Markdown report; see BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBridgeAt, gitCommit } from '../test/upgrade/build-at';
import {
  BENCH_POSTGRES_URL,
  BUNDLE,
  HAVE_WRK,
  ROOT,
  type LoadResult,
  type Scenario,
  freePorts,
  freshPostgres,
  memoryOf,
  run,
  seed,
  startBaseline,
  startBridge,
  userName,
} from './lib';

/** SCIM_BENCH_PORT, or a port free now (several people may run benchmarks on one machine); PORT + 1 is used too. */
let PORT = Number(process.env.SCIM_BENCH_PORT) || 0;
const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
const row = (name: string, r: LoadResult, base?: LoadResult) =>
  say(`| ${name} | ${r.rps.toLocaleString('en')} | ${r.p50} | ${r.p99} | ${base ? (r.rps / base.rps).toFixed(2) : ''} | ${r.non2xx + r.errors} |`);

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const auth = (token: string, json = false) => ({ authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/scim+json' } : {}) });

/** Look-ups of existing users by userName, spread over the whole directory. */
function lookups(url: string, token: string, users: number, connections = 32): Scenario {
  const path = (i: number) => `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName(i)}"`)}`;
  return {
    url,
    headers: auth(token),
    connections,
    lua: { path: `"/scim/v2/Users?filter=userName%20eq%20%22user" .. ((n * 7919) % ${users}) .. "%40bench.example.com%22"` },
    next: (n) => ({ path: path((n * 7919) % users) }),
  };
}

function creates(url: string, token: string, prefix: string, connections = 16): Scenario {
  const body = (n: number) =>
    JSON.stringify({ schemas: [USER_SCHEMA], userName: `${prefix}${n}@bench.example.com`, name: { givenName: 'New', familyName: 'Person' }, active: true });
  return {
    url,
    method: 'POST',
    headers: auth(token, true),
    connections,
    seconds: 6,
    lua: {
      path: '"/scim/v2/Users"',
      body: `'{"schemas":["${USER_SCHEMA}"],"userName":"${prefix}' .. n .. '@bench.example.com","name":{"givenName":"New","familyName":"Person"},"active":true}'`,
    },
    next: (n) => ({ path: '/scim/v2/Users', body: body(n) }),
  };
}

/** The same look-up scenario on another commit's bundle, for a before/after row in the same run. */
async function compareRow(
  label: string,
  bundle: string | undefined,
  databaseUrl: string,
  users: number,
  bare: LoadResult,
  port: number,
): Promise<LoadResult | undefined> {
  if (!bundle) return undefined;
  const other = await startBridge(databaseUrl, port, {}, bundle);
  const result = await run(lookups(other.url, other.token, users));
  row(`${label} (${process.env.SCIM_BENCH_COMPARE})`, result, bare);
  await other.stop();
  return result;
}

async function main(): Promise<void> {
  PORT ||= await freePorts();
  execFileSync(process.execPath, [join(ROOT, 'bridge', 'build.mjs')], { stdio: 'inherit' });
  const compareRef = process.env.SCIM_BENCH_COMPARE;
  const compareCommit = compareRef ? gitCommit(compareRef) : undefined;
  if (compareRef && !compareCommit) throw new Error(`SCIM_BENCH_COMPARE=${compareRef} is not a commit here`);
  const compareBundle = compareCommit ? await buildBridgeAt(compareCommit) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'scim-bench-'));
  say(`# Benchmark run ${new Date().toISOString()}`);
  say(
    `Node ${process.version}, ${require('node:os').cpus().length} cores, bundle ${BUNDLE.replace(`${ROOT}/`, '')}, load from ${HAVE_WRK ? 'wrk' : 'autocannon'} on the same machine`,
  );
  say('');
  say('Look-ups spread over the whole directory; the bare server sends Content-Length, as the bridge does.');
  say('');
  say('| scenario | requests/s | p50 ms | p99 ms | ratio to bare node:http | errors |');
  say('|---|---|---|---|---|---|');

  const baseline = await startBaseline(PORT);
  const bare = await run({ url: `http://127.0.0.1:${PORT}`, lua: { path: '"/scim/v2/Users"' }, next: () => ({ path: '/scim/v2/Users' }) });
  baseline.kill();
  row('bare node:http, fixed JSON body (32 connections)', bare);

  // ---- embedded store ----
  const small = `sqlite:${join(dir, 'small.db')}`;
  await seed(small, 0, 1_000);
  let bridge = await startBridge(small, PORT);
  const lookup1k = await run(lookups(bridge.url, bridge.token, 1_000));
  row('SQLite: GET /Users?filter=userName eq, 1k users', lookup1k, bare);
  await bridge.stop();
  await compareRow('SQLite: GET /Users?filter=userName eq, 1k users', compareBundle, small, 1_000, bare, PORT);

  const large = `sqlite:${join(dir, 'large.db')}`;
  const seeded = await seed(large, 0, 100_000, 50_000);
  await compareRow('SQLite: GET /Users?filter=userName eq, 100k users', compareBundle, large, 100_000, bare, PORT);
  bridge = await startBridge(large, PORT);
  const lookup100k = await run(lookups(bridge.url, bridge.token, 100_000));
  row('SQLite: GET /Users?filter=userName eq, 100k users', lookup100k, bare);
  const created = await run(creates(bridge.url, bridge.token, 'new-'));
  row('SQLite: POST /Users (16 connections)', created, bare);
  // One member at a time into the 50,000-member group, as an identity provider does after an assignment.
  const outsiders = seeded.userIds.slice(50_000, 70_000);
  const addBody = (id: string) => JSON.stringify({ schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] });
  const addMember = await run({
    url: bridge.url,
    method: 'PATCH',
    headers: auth(bridge.token, true),
    connections: 1,
    seconds: 4,
    amount: 2_000,
    lua: {
      prelude: `local ids = { ${outsiders.map((id) => `"${id}"`).join(',')} }`,
      path: `"/scim/v2/Groups/${seeded.groupId}"`,
      body: `'{"schemas":["${PATCH_SCHEMA}"],"Operations":[{"op":"add","path":"members","value":[{"value":"' .. ids[n] .. '"}]}]}'`,
    },
    next: (n) => ({ path: `/scim/v2/Groups/${seeded.groupId}`, body: addBody(outsiders[n]) }),
  });
  row('SQLite: PATCH add 1 member to the 50k group (1 connection)', addMember);
  const memory = memoryOf(bridge.process.pid!);
  await bridge.stop();

  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const b = await startBridge(large, PORT);
    starts.push(b.startMs);
    await b.stop();
  }
  starts.sort((a, b) => a - b);
  say('');
  say(
    `- Latency at 100k users vs 1k users (p50): ${(lookup100k.p50 / Math.max(lookup1k.p50, 0.001)).toFixed(2)}x; requests/s ratio ${(lookup100k.rps / lookup1k.rps).toFixed(2)}`,
  );
  say(`- Process start to /health 200 on the 100k-user store: median ${starts[2].toFixed(0)} ms (min ${starts[0].toFixed(0)}, max ${starts[4].toFixed(0)})`);
  say(`- Resident memory after the load above: ${memory.rssMb.toFixed(0)} MB (peak ${memory.peakMb.toFixed(0)} MB)`);

  // ---- PostgreSQL ----
  if (BENCH_POSTGRES_URL) {
    say('');
    say('| PostgreSQL on loopback | requests/s | p50 ms | p99 ms | ratio to bare node:http | errors |');
    say('|---|---|---|---|---|---|');
    const fresh = await freshPostgres();
    const pg = fresh.url;
    await seed(pg, 0, 100_000);
    await compareRow('PostgreSQL: GET /Users?filter=userName eq, 100k users, 1 bridge', compareBundle, pg, 100_000, bare, PORT);
    const one = await startBridge(pg, PORT);
    const pgLookup = await run(lookups(one.url, one.token, 100_000));
    row('PostgreSQL: GET /Users?filter=userName eq, 100k users, 1 bridge', pgLookup, bare);
    const pgCreate = await run(creates(one.url, one.token, 'pg1-'));
    row('PostgreSQL: POST /Users, 1 bridge (16 connections)', pgCreate, bare);
    const two = await startBridge(pg, PORT + 1);
    const [a, b] = await Promise.all([run(lookups(one.url, one.token, 100_000, 16)), run(lookups(two.url, two.token, 100_000, 16))]);
    say(
      `| PostgreSQL: GET lookups, 2 bridges sharing the database | ${(a.rps + b.rps).toLocaleString('en')} | ${a.p50}/${b.p50} | ${a.p99}/${b.p99} | ${((a.rps + b.rps) / bare.rps).toFixed(2)} | ${a.non2xx + b.non2xx + a.errors + b.errors} |`,
    );
    const [c, d] = await Promise.all([run(creates(one.url, one.token, 'pg2a-', 8)), run(creates(two.url, two.token, 'pg2b-', 8))]);
    say(
      `| PostgreSQL: POST /Users, 2 bridges sharing the database | ${(c.rps + d.rps).toLocaleString('en')} | ${c.p50}/${d.p50} | ${c.p99}/${d.p99} | ${((c.rps + d.rps) / bare.rps).toFixed(2)} | ${c.non2xx + d.non2xx + c.errors + d.errors} |`,
    );
    say('');
    say(
      `- Two bridges vs one: lookups ${((a.rps + b.rps) / pgLookup.rps).toFixed(2)}x, creates ${((c.rps + d.rps) / pgCreate.rps).toFixed(2)}x (this machine has 2 cores shared by the load generator, the bridges and PostgreSQL)`,
    );
    await one.stop();
    await two.stop();
    await fresh.drop();
  }

  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.md'), `${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
