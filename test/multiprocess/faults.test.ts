/**
 * Faults a platform really causes: a replica killed mid-burst (scale-in, OOM, redeploy) and a database that
 * goes away and comes back. Acknowledged writes survive; clients see 503s, never 500s; no restart needed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { STORE_KINDS } from '../support/bridge';
import { type BridgeProcess, freePort, spawnBridge } from '../support/process';
import { recordFigures, tally } from '../support/figures';
import { describePostgres, freshDatabase, privateCluster } from '../support/postgres';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const { session, token } = createSession();
const sessionEnv = { SCIM_SESSION: serializeSession(session) };

async function post(url: string, userName: string): Promise<number> {
  try {
    const res = await fetch(`${url}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [USER], userName }),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // connection reset by the kill: not acknowledged
  }
}

describe.each(STORE_KINDS)('a bridge killed with SIGKILL mid-burst (%s store)', (kind) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-kill-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses no write it acknowledged with a 2xx', async () => {
    const databaseUrl = kind === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
    const first = await spawnBridge({ ...sessionEnv, SCIM_DATABASE_URL: databaseUrl });
    const acknowledged: string[] = [];
    const answers: number[] = [];
    let n = 0;
    let killed = false;
    const writer = async (lane: number) => {
      while (!killed) {
        const userName = `burst-${lane}-${n++}@example.com`;
        const status = await post(first.url, userName);
        answers.push(status);
        if (status === 201) acknowledged.push(userName);
      }
    };
    const lanes = Array.from({ length: 8 }, (_, lane) => writer(lane));
    while (acknowledged.length < 150) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL');
    killed = true;
    await Promise.all(lanes);
    expect(await first.exited).toBe('SIGKILL');

    const second = await spawnBridge({ ...sessionEnv, SCIM_DATABASE_URL: databaseUrl });
    try {
      const missing: string[] = [];
      for (const userName of acknowledged) {
        const res = await fetch(`${second.url}/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&attributes=userName`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (((await res.json()) as { totalResults: number }).totalResults !== 1) missing.push(userName);
      }
      recordFigures(`SIGKILL mid-burst, 8 writers (${kind})`, {
        answers: tally(answers),
        acknowledged: acknowledged.length,
        lost: missing.length,
        exit: 'SIGKILL',
      });
      expect(missing).toEqual([]);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});

const get = async (url: string, path: string) => {
  try {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: text ? JSON.parse(text) : undefined };
  } catch {
    return { status: 0, retryAfter: null, body: undefined };
  }
};

/** Polls (bounded) until `check` holds; waits on the bridge's answers, not on a fixed sleep. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let done = false;
    try {
      done = await check();
    } catch (error) {
      if ((error as Error).message.startsWith('the bridge died')) throw error;
    }
    if (done) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describePostgres('PostgreSQL stopped and restarted under load', () => {
  let cluster: ReturnType<typeof privateCluster>;
  let bridge: BridgeProcess;
  beforeAll(async () => {
    cluster = privateCluster(await freePort());
    bridge = await spawnBridge({ ...sessionEnv, SCIM_DATABASE_URL: cluster.url, SCIM_DATABASE_POOL_SIZE: '4' });
  });
  afterAll(async () => {
    bridge?.child.kill('SIGTERM');
    await bridge?.exited;
    cluster?.destroy();
  });

  it('never dies and never answers 500 with 12 clients, writers mid-transaction, across fast and crash restarts, and recovers without a restart', async () => {
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    // Writes that succeeded since `mark`: each outage waits for fresh ones.
    let mark = 0;
    const writesSinceMark = () => (statuses.get(201) ?? 0) - mark;
    let running = true;
    let i = 0;
    const alive = () => {
      if (bridge.child.exitCode !== null || bridge.child.signalCode !== null) throw new Error(`the bridge died:\n${bridge.output().slice(-800)}`);
    };
    // 12 clients, with no pause between requests: 8 writers (each POST is a transaction, so at any moment some
    // hold a connection mid-transaction) and 4 readers (look-ups, one statement each).
    const lanes = Array.from({ length: 12 }, (_, lane) =>
      (async () => {
        while (running && bridge.child.exitCode === null) {
          if (lane >= 8) count((await get(bridge.url, `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "load-${i}@example.com"`)}`)).status);
          else count(await post(bridge.url, `load-${lane}-${i++}@example.com`));
        }
      })(),
    );
    try {
      for (const mode of ['fast', 'immediate', 'fast', 'immediate'] as const) {
        await until(async () => {
          alive();
          return writesSinceMark() > 20;
        }, 'writes succeed');
        mark = statuses.get(201) ?? 0;
        cluster.stop(mode);
        await until(async () => {
          alive();
          return (await fetch(`${bridge.url}/health`)).status === 503;
        }, '/health reports the outage');
        const during = await fetch(`${bridge.url}/scim/v2/Users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify({ schemas: [USER], userName: `during-${mode}-${i}@example.com` }),
        });
        expect(during.status).toBe(503);
        expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await during.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' });
        expect((await fetch(`${bridge.url}/ping`)).status).toBe(200);
        cluster.start();
        await until(async () => {
          alive();
          return (await fetch(`${bridge.url}/health`)).status === 200;
        }, '/health recovers');
      }
      await until(async () => {
        alive();
        return writesSinceMark() > 20;
      }, 'writes succeed again');
    } finally {
      running = false;
      await Promise.all(lanes);
    }
    recordFigures('PostgreSQL stopped and restarted 4 times (fast, immediate) under 12 clients', {
      answers: tally(statuses),
      exit: bridge.child.exitCode ?? 'still running',
    });
    expect(bridge.child.exitCode).toBeNull();
    expect(statuses.get(500)).toBeUndefined();
    expect(statuses.get(0)).toBeUndefined(); // the bridge itself never went away
    expect([...statuses.keys()].every((s) => s === 200 || s === 201 || s === 503)).toBe(true);
    expect(statuses.get(503)).toBeGreaterThan(0);
  });
});

describePostgres('a bridge started while PostgreSQL is down', () => {
  let cluster: ReturnType<typeof privateCluster>;
  let bridge: BridgeProcess | undefined;
  afterAll(async () => {
    bridge?.child.kill('SIGTERM');
    await bridge?.exited;
    cluster?.destroy();
  });

  it('serves /ping, answers 503 on SCIM and /health, then migrates and serves once the database is up, without a restart', async () => {
    cluster = privateCluster(await freePort());
    cluster.stop();
    const started = await spawnBridge({ ...sessionEnv, SCIM_DATABASE_URL: cluster.url, LOG_LEVEL: 'info' });
    bridge = started;
    expect((await fetch(`${started.url}/ping`)).status).toBe(200);
    const health = await fetch(`${started.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ store: { kind: 'postgres', status: 'not-ready' } });
    const scim = await get(started.url, '/scim/v2/Users');
    expect(scim).toMatchObject({ status: 503, body: { status: '503' } });
    expect(Number(scim.retryAfter)).toBeGreaterThan(0);
    expect(await post(started.url, 'early@example.com')).toBe(503);
    expect(started.output()).toMatch(/not reachable yet/);

    cluster.start();
    await until(async () => (await fetch(`${started.url}/health`)).status === 200, 'the bridge migrates and reports healthy');
    expect(await post(started.url, 'later@example.com')).toBe(201);
    expect((await get(started.url, `/scim/v2/Users?filter=${encodeURIComponent('userName eq "later@example.com"')}`)).body.totalResults).toBe(1);
    expect(started.child.exitCode).toBeNull();
  });
});

describePostgres('every database connection of a replica busy', () => {
  it('answers 503 with its own message, Retry-After and metric, told apart from an unreachable database', async () => {
    const url = await freshDatabase();
    const bridge = await spawnBridge({ ...sessionEnv, SCIM_DATABASE_URL: url, SCIM_DATABASE_POOL_SIZE: '1' });
    const { Client } = await import('pg');
    const locker = new Client({ connectionString: url });
    await locker.connect();
    try {
      expect(await post(bridge.url, 'first@example.com')).toBe(201);
      // Hold a lock the bridge's only connection will wait on, so that connection stays busy.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      const stuck = post(bridge.url, 'stuck@example.com');
      await until(
        async () => (await locker.query("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'users'::regclass")).rows[0].n > 0,
        'the bridge waits on the lock',
      );
      const saturated = await get(bridge.url, '/scim/v2/Users?count=1');
      expect(saturated.status).toBe(503);
      expect(saturated.retryAfter).toBe('1');
      expect(saturated.body.detail).toMatch(/as many requests as its store connections allow/);
      await locker.query('ROLLBACK');
      expect(await stuck).toBe(201);
      const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
      expect(metrics).toMatch(/scim_bridge_store_unavailable_total\{reason="busy"\} [1-9]/);
      expect(metrics).not.toMatch(/scim_bridge_store_unavailable_total\{reason="unreachable"\}/);
    } finally {
      await locker.end();
      bridge.child.kill('SIGTERM');
      await bridge.exited;
    }
  });
});
