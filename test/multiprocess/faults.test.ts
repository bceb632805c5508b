/**
 * Faults a platform really causes: a replica killed mid-burst (scale-in, OOM, redeploy) and a database that
 * goes away and comes back. Acknowledged writes survive; clients see 503s, never 500s; no restart needed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { STORE_KINDS } from '../support/bridge';
import { type BridgeProcess, spawnBridge } from '../support/process';
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
    let n = 0;
    let killed = false;
    const writer = async (lane: number) => {
      while (!killed) {
        const userName = `burst-${lane}-${n++}@example.com`;
        if ((await post(first.url, userName)) === 201) acknowledged.push(userName);
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
      expect(missing).toEqual([]);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});

describePostgres('PostgreSQL stopped and restarted under load', () => {
  let cluster: ReturnType<typeof privateCluster>;
  let bridge: BridgeProcess;
  beforeAll(async () => {
    cluster = privateCluster(55_500 + (process.pid % 400));
    bridge = await spawnBridge({ ...sessionEnv, SCIM_DATABASE_URL: cluster.url });
  });
  afterAll(async () => {
    bridge?.child.kill('SIGTERM');
    await bridge?.exited;
    cluster?.destroy();
  });

  it('answers 503 with a SCIM body (never 500), reports unhealthy, and recovers without a restart', async () => {
    const statuses = new Map<number, number>();
    let running = true;
    let i = 0;
    const load = (async () => {
      while (running) {
        const status = await post(bridge.url, `load-${i++}@example.com`);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    })();
    await new Promise((r) => setTimeout(r, 300));

    cluster.stop();
    await new Promise((r) => setTimeout(r, 1500));
    const during = await fetch(`${bridge.url}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: [USER], userName: 'during-outage@example.com' }),
    });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBeTruthy();
    expect(await during.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' });
    expect((await fetch(`${bridge.url}/health`)).status).toBe(503);
    expect((await fetch(`${bridge.url}/ping`)).status).toBe(200);

    cluster.start();
    const deadline = Date.now() + 20_000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      recovered = (await post(bridge.url, `after-${Date.now()}@example.com`)) === 201;
      if (!recovered) await new Promise((r) => setTimeout(r, 200));
    }
    running = false;
    await load;
    expect(recovered).toBe(true);
    expect((await fetch(`${bridge.url}/health`)).status).toBe(200);
    expect(bridge.child.exitCode).toBeNull();
    expect(statuses.get(500)).toBeUndefined();
    expect([...statuses.keys()].every((s) => s === 201 || s === 503)).toBe(true);
    expect(statuses.get(503)).toBeGreaterThan(0);
  });
});
