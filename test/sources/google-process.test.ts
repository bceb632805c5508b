/**
 * The bundled bridge syncing from the fake Google Workspace as a real process: killed with SIGKILL in the middle of
 * a sync and restarted (it converges, with no duplicates); two replicas on one PostgreSQL (exactly one syncs, the
 * other takes over when it dies); the last sync on /api/status and /metrics; configuration errors in one line; and
 * no credential in any log line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { DatabaseSync } from 'node:sqlite';
import { STORE_KINDS } from '../support/bridge';
import { type FakeGoogle, startFakeGoogle } from '../support/fake-google';
import { BUNDLE, type BridgeProcess, spawnBridge as spawnOnce } from '../support/process';
import { describePostgres, freshDatabase } from '../support/postgres';

/** The machine is shared: a port another suite (or engineer) took is retried on the next one. */
async function spawnBridge(env: Record<string, string>): Promise<BridgeProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(env);
    } catch (error) {
      if (attempt >= 4 || !/EADDRINUSE|port is already in use/.test((error as Error).message)) throw error;
    }
  }
}

const { session, token } = createSession();
const sessionEnv = { SCIM_SESSION: serializeSession(session) };
const GROUP = 'staff@example.com';
const PEOPLE = 300;

const json = (res: Response): Promise<any> => res.json();

const until = async <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

async function status(bridge: BridgeProcess): Promise<any> {
  const res = await fetch(`${bridge.url}/api/status`, { headers: { authorization: `Bearer ${token}` } });
  return res.json();
}

/** How many users the store holds, read straight from the database (fast enough to catch a sync mid-way). */
function userCounter(databaseUrl: string): { count(): Promise<number>; close(): Promise<void> } {
  if (databaseUrl.startsWith('sqlite:')) {
    return {
      count: async () => {
        const db = new DatabaseSync(databaseUrl.slice('sqlite:'.length), { readOnly: true });
        try {
          return Number((db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n);
        } catch {
          return 0; // not migrated yet
        } finally {
          db.close();
        }
      },
      close: async () => undefined,
    };
  }
  const client = new Client({ connectionString: databaseUrl });
  const connected = client.connect();
  return {
    count: async () => {
      await connected;
      return Number((await client.query('SELECT COUNT(*) AS n FROM users').catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n);
    },
    close: () => client.end(),
  };
}

function seed(google: FakeGoogle): void {
  google.pageSize = 100;
  google.addGroup(GROUP, 'Staff');
  for (let i = 0; i < PEOPLE; i++) {
    google.addUser(`person${String(i).padStart(3, '0')}.staff`);
    google.addMember(GROUP, `person${String(i).padStart(3, '0')}.staff@example.com`);
  }
}

/** Everything a credential leaves in text: the key's body, the assertions' signatures, the access tokens. */
function secretsIn(google: FakeGoogle): string[] {
  const pem = google.privateKeyPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return [pem.slice(40, 80), pem.slice(-60, -20), Buffer.from(google.keyJson()).toString('base64').slice(100, 140), ...google.issuedTokens, token];
}

describe.each(STORE_KINDS)('the bundled bridge syncing Google Workspace (%s store)', (kind) => {
  let google: FakeGoogle;
  let dir: string;
  beforeEach(async () => {
    google = await startFakeGoogle();
    dir = mkdtempSync(join(tmpdir(), 'scim-gproc-'));
  });
  afterEach(async () => {
    await google.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('killed with SIGKILL mid-sync, restarts and converges with no duplicate and no credential in its logs', async () => {
    seed(google);
    const databaseUrl = kind === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
    const env = { ...sessionEnv, SCIM_DATABASE_URL: databaseUrl, LOG_LEVEL: 'debug', ...google.env([GROUP], { SCIM_GOOGLE_SYNC_INTERVAL_SECONDS: '1' }) };
    const counter = userCounter(databaseUrl);
    const first = await spawnBridge(env);
    let second: BridgeProcess | undefined;
    try {
      const seen = await until('the first users', async () => {
        const n = await counter.count();
        return n > 0 && n;
      });
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const atKill = await counter.count();
      expect(seen).toBeLessThan(PEOPLE);
      expect(atKill).toBeLessThan(PEOPLE); // the kill landed mid-sync

      second = await spawnBridge(env);
      const run = await until('a successful sync after the restart', async () => {
        const s = await status(second!);
        return s.sync?.lastRun?.outcome === 'success' && s.sync.lastRun.replica.includes(`:${second!.child.pid}:`) && s.sync.lastRun;
      });
      expect(run.counts).toMatchObject({ googleUsers: PEOPLE, selectedUsers: PEOPLE });
      const users = await fetch(`${second.url}/scim/v2/Users?count=0`, { headers: { authorization: `Bearer ${token}` } }).then(json);
      expect(users.totalResults).toBe(PEOPLE);
      const groups = await fetch(`${second.url}/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Staff"')}`, {
        headers: { authorization: `Bearer ${token}` },
      }).then(json);
      expect(groups.totalResults).toBe(1);
      expect(groups.Resources[0].members).toHaveLength(PEOPLE);
      const events = await fetch(`${second.url}/api/events?limit=200&q=user.create`, { headers: { authorization: `Bearer ${token}` } }).then(json);
      expect(events.events.every((e: { outcome: string; actor: string }) => e.outcome === 'success' && e.actor === 'google-workspace')).toBe(true);

      const logs = first.output() + second.output();
      expect(logs).toContain('Google Workspace sync finished');
      for (const secret of secretsIn(google)) expect(logs).not.toContain(secret);
      expect(logs).not.toMatch(/PRIVATE KEY|ya29\./);
    } finally {
      second?.child.kill('SIGTERM');
      await second?.exited;
      await counter.close();
    }
  });
});

describePostgres('two bridge replicas on one PostgreSQL, both configured for Google Workspace', () => {
  let google: FakeGoogle;
  let replicas: BridgeProcess[] = [];
  beforeAll(async () => {
    google = await startFakeGoogle();
    google.addGroup(GROUP, 'Staff');
    for (const name of ['ada.lovelace', 'bob.byte', 'cy.coder']) {
      google.addUser(name);
      google.addMember(GROUP, `${name}@example.com`);
    }
  });
  afterAll(async () => {
    for (const replica of replicas) {
      replica.child.kill('SIGTERM');
      await replica.exited;
    }
    await google.close();
  });

  it('lets exactly one sync; the other shows the same last run, and takes over when the first dies', async () => {
    const env = { ...sessionEnv, SCIM_DATABASE_URL: await freshDatabase(), ...google.env([GROUP], { SCIM_GOOGLE_SYNC_INTERVAL_SECONDS: '1' }) };
    replicas = await Promise.all([spawnBridge(env), spawnBridge(env)]);
    // Several syncs, all by one replica.
    const runs = new Set<string>();
    await until('three syncs', async () => {
      for (const replica of replicas) {
        const run = (await status(replica)).sync?.lastRun;
        if (run) runs.add(`${run.id} ${run.replica}`);
      }
      return runs.size >= 3;
    });
    const syncers = new Set([...runs].map((r) => r.split(' ')[1]));
    expect(syncers.size).toBe(1);
    const states = await Promise.all(replicas.map(status));
    const leaderIndex = states.findIndex((s) => s.sync.leader);
    expect(states.map((s) => s.sync.leader).sort()).toEqual([false, true]);
    expect(states[1 - leaderIndex].sync.state).toBe('standby');
    expect([...syncers][0]).toContain(`:${replicas[leaderIndex].child.pid}:`);
    // Only the leader ever asked Google for a token.
    expect(google.requests.filter((r) => r.path === '/token')).toHaveLength(1);

    // /metrics on both: the leader says so, both show the last run (shared through the store).
    const metrics = await Promise.all(replicas.map((r) => fetch(`${r.url}/metrics`).then((res) => res.text())));
    expect(metrics[leaderIndex]).toMatch(/scim_bridge_sync_leader\{source="google-workspace"\} 1/);
    expect(metrics[1 - leaderIndex]).toMatch(/scim_bridge_sync_leader\{source="google-workspace"\} 0/);
    for (const text of metrics) {
      expect(text).toMatch(/scim_bridge_sync_last_success_timestamp_seconds\{source="google-workspace"\} \d/);
      expect(text).toMatch(/scim_bridge_sync_last_count\{source="google-workspace",kind="usersCreated"\} \d/);
    }

    // The leader dies; the survivor takes the lease once it expires and syncs.
    const [leader] = replicas.splice(leaderIndex, 1);
    leader.child.kill('SIGKILL');
    await leader.exited;
    google.addUser('dee.late');
    google.addMember(GROUP, 'dee.late@example.com');
    const survivor = replicas[0];
    await until('the survivor to sync', async () => {
      const s = await status(survivor);
      return s.sync.leader && s.sync.lastRun?.replica.includes(`:${survivor.child.pid}:`) && s.sync.lastRun.counts.usersCreated === 1;
    });
    expect(google.requests.filter((r) => r.path === '/token')).toHaveLength(2);
  });
});

describe('a Google Workspace configuration mistake', () => {
  it('stops the bundled bridge with one line naming the variable, and no key material', async () => {
    const google = await startFakeGoogle();
    try {
      const broken = google.keyJson().replace(/MII[A-Za-z0-9+/]{30}/, 'MIIbroken');
      const child = spawn(process.execPath, [BUNDLE, 'serve'], {
        env: {
          PATH: process.env.PATH,
          ...sessionEnv,
          PORT: '0',
          SCIM_DATABASE_URL: 'sqlite::memory:',
          ...google.env([GROUP]),
          SCIM_GOOGLE_CREDENTIALS: broken,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(out.trim().split('\n')).toEqual([
        expect.stringMatching(/^scim-bridge: SCIM_GOOGLE_CREDENTIALS has a "private_key" that is not a PEM private key$/),
      ]);
      for (const secret of secretsIn(google)) expect(out).not.toContain(secret);
    } finally {
      await google.close();
    }
  });
});
