/** Shared pieces of the benchmarks: spawning the bundled bridge, seeding a store, driving load. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
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

export async function startBridge(databaseUrl: string, port: number, extraEnv: Record<string, string> = {}): Promise<Bridge> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [BUNDLE, 'serve'], {
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
          id: randomUUID(), userName: name, active: true, version: 1, created: at, lastModified: at,
          doc: { userName: name, active: true, name: { givenName: `Given${i}`, familyName: `Family${i}` }, emails: [{ value: name, type: 'work', primary: true }] },
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
      await tx.insertGroup({ id: groupId!, displayName: 'Everyone (bench)', managed: true, protected: false, doc: { displayName: 'Everyone (bench)' }, version: 1, created: at, lastModified: at });
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

/** A bare node:http server answering a fixed JSON body: the ceiling this machine puts on any HTTP service. */
export function startBaseline(port: number): Promise<ChildProcess> {
  const code = `require('node:http').createServer((q, s) => { s.writeHead(200, {'content-type': 'application/json'}); s.end('{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1}'); }).listen(${port}, '127.0.0.1', () => process.send('up'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve) => child.once('message', () => resolve(child)));
}
