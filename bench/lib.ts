/** Shared pieces of the benchmarks: spawning the bundled bridge, seeding a store, driving load. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { createSession, serializeSession } from '../bridge/src/session/scimsession';
import { openStore } from '../bridge/src/store/open';
import type { UserRecord } from '../bridge/src/store/types';

export const ROOT = join(__dirname, '..');
export const BUNDLE = join(ROOT, 'dist', 'scim-bridge.cjs');

export interface Bridge {
  readonly url: string;
  readonly process: ChildProcess;
  readonly token: string;
  /** Milliseconds from spawn to the first 200 from /health. */
  readonly startMs: number;
  stop(): Promise<void>;
}

export const session = createSession();

export async function startBridge(databaseUrl: string, port: number, extraEnv: Record<string, string> = {}, bundle = BUNDLE): Promise<Bridge> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [bundle, 'serve'], {
    env: {
      PATH: process.env.PATH,
      SCIM_SESSION: serializeSession(session.session),
      SCIM_DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bridge exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const startMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    url,
    process: child,
    token: session.token,
    startMs,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Resident set size now and at its peak, in MB (Linux). */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

export const userName = (i: number) => `user${i}@bench.example.com`;

/** The PostgreSQL server the benchmarks use, when there is one (SCIM_BENCH_POSTGRES_URL or the tests' server). */
export const BENCH_POSTGRES_URL = process.env.SCIM_BENCH_POSTGRES_URL ?? process.env.SCIM_TEST_POSTGRES_URL;

/** A new empty database on that server, and a function that drops it. */
export async function freshPostgres(prefix = 'scim_bench'): Promise<{ url: string; drop(): Promise<void> }> {
  if (!BENCH_POSTGRES_URL) throw new Error('set SCIM_TEST_POSTGRES_URL (source .ci/postgres.sh) or SCIM_BENCH_POSTGRES_URL');
  const name = `${prefix}_${Date.now()}`;
  const admin = new Client({ connectionString: BENCH_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(BENCH_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** A port P on 127.0.0.1 such that P and P + 1 are free right now. */
export async function freePorts(): Promise<number> {
  const { createServer } = await import('node:net');
  const listen = (port: number) =>
    new Promise<import('node:net').Server | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  for (;;) {
    const first = await listen(0);
    const port = (first!.address() as import('node:net').AddressInfo).port;
    const second = await listen(port + 1);
    await new Promise((r) => first!.close(r));
    if (second) {
      await new Promise((r) => second.close(r));
      if (port + 1 < 65_535) return port;
    }
  }
}

/** Seeds users (and optionally one group holding the first `groupMembers`) straight into a store. */
export async function seed(databaseUrl: string, from: number, to: number, groupMembers = 0): Promise<{ groupId?: string; userIds: string[] }> {
  const store = await openStore(databaseUrl);
  await store.migrate();
  const userIds: string[] = [];
  const at = new Date().toISOString();
  for (let start = from; start < to; start += 5000) {
    await store.transaction(async (tx) => {
      for (let i = start; i < Math.min(to, start + 5000); i++) {
        const name = userName(i);
        const user: UserRecord = {
          id: randomUUID(),
          userName: name,
          active: true,
          version: 1,
          created: at,
          lastModified: at,
          doc: {
            userName: name,
            active: true,
            name: { givenName: `Given${i}`, familyName: `Family${i}` },
            emails: [{ value: name, type: 'work', primary: true }],
          },
        };
        await tx.insertUser(user);
        userIds.push(user.id);
      }
    });
  }
  let groupId: string | undefined;
  if (groupMembers) {
    groupId = randomUUID();
    await store.transaction(async (tx) => {
      await tx.insertGroup({
        id: groupId!,
        displayName: 'Everyone (bench)',
        managed: true,
        protected: false,
        doc: { displayName: 'Everyone (bench)' },
        version: 1,
        created: at,
        lastModified: at,
      });
      await tx.addMembers(groupId!, userIds.slice(0, groupMembers));
    });
  }
  await store.close();
  return { groupId, userIds };
}

export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly total: number;
}

/**
 * wrk (Debian's package; C, so it leaves the bridge most of a core) drives the load when installed;
 * autocannon otherwise. Either way every scenario of one run uses the same generator as the bare baseline.
 */
export const HAVE_WRK = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status === 1; // wrk --version exits 1 after printing its version
  }
})();

export interface Scenario {
  readonly url: string;
  readonly method?: 'GET' | 'POST' | 'PATCH';
  readonly headers?: Record<string, string>;
  /** Lua expression (wrk) and JS function (autocannon) giving the n-th request's path and body. */
  readonly lua: { path: string; body?: string; prelude?: string };
  readonly next: (n: number) => { path: string; body?: string };
  readonly connections?: number;
  readonly seconds?: number;
  /** A fixed number of requests instead of a duration (autocannon only; wrk runs for `seconds`). */
  readonly amount?: number;
}

export async function run(scenario: Scenario): Promise<LoadResult> {
  const connections = scenario.connections ?? 32;
  if (HAVE_WRK) return runWrk(scenario, connections);
  let n = 0;
  return load({
    url: scenario.url,
    connections,
    ...(scenario.amount ? { amount: scenario.amount } : { duration: scenario.seconds ?? 8 }),
    method: scenario.method ?? 'GET',
    headers: scenario.headers,
    requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, ...scenario.next(n++) }) }],
  });
}

function runWrk(scenario: Scenario, connections: number): LoadResult {
  const headers = Object.entries(scenario.headers ?? {})
    .map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
    .join(', ');
  const script = join(tmpdir(), `scim-bench-${process.pid}-${Date.now()}.lua`);
  writeFileSync(
    script,
    `${scenario.lua.prelude ?? ''}
local n = 0
local headers = { ${headers} }
request = function()
  n = n + 1
  return wrk.format(${JSON.stringify(scenario.method ?? 'GET')}, ${scenario.lua.path}, headers, ${scenario.lua.body ?? 'nil'})
end
`,
  );
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${scenario.seconds ?? 8}s`, '--latency', '-s', script, scenario.url], { encoding: 'utf8' });
  rmSync(script, { force: true });
  const ms = (label: string) => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)),
    p50: Math.round(ms('50') * 100) / 100,
    p99: Math.round(ms('99') * 100) / 100,
    errors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx,
    total,
  };
}

export async function load(options: autocannon.Options): Promise<LoadResult> {
  const result = await autocannon({ connections: 32, ...(options.amount ? {} : { duration: 8 }), ...options });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

/**
 * A bare node:http server answering a fixed JSON body: the ceiling this machine puts on any HTTP service. It
 * sends Content-Length as the bridge does (writeHead then end(body) alone would answer chunked, and cheaper).
 */
export function startBaseline(port: number): Promise<ChildProcess> {
  const code = `const body = Buffer.from('{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1}'); require('node:http').createServer((q, s) => { s.writeHead(200, {'content-type': 'application/json', 'content-length': body.length}); s.end(body); }).listen(${port}, '127.0.0.1', () => process.send('up'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve) => child.once('message', () => resolve(child)));
}
