/**
 * A store that is full (SQLITE_FULL; PostgreSQL 53100 disk_full) answers 507 with Retry-After, never 500;
 * /health reports it, so a full replica leaves rotation; nothing is half-written; and once there is room again
 * the bridge recovers by itself.
 *
 * The store-level test caps SQLite with `PRAGMA max_page_count` (portable). The end-to-end tests fill a real,
 * small tmpfs (they need permission to mount, as root in CI has; elsewhere they are skipped with a note).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { SqliteStore } from '../../bridge/src/store/sqlite';
import { StoreFull } from '../../bridge/src/store/types';
import { recordFigures, tally } from '../support/figures';
import { POSTGRES_URL, describePostgres, freshDatabase } from '../support/postgres';
import { type BridgeProcess, spawnBridge } from '../support/process';
import { group, user } from './contract';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

describe('SQLite store at its size limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-full-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses writes with StoreFull, keeps every transaction whole, reads on, and recovers when there is room', async () => {
    const store = SqliteStore.open(join(dir, 'full.db'));
    await store.migrate();
    const kept = user('kept@example.com');
    await store.transaction((tx) => tx.insertUser(kept));
    store.limitPagesForTesting(8);
    let full: unknown;
    const written: string[] = [];
    for (let i = 0; i < 2000 && !full; i++) {
      const next = user(`filler${i}@example.com`, { title: 'x'.repeat(2000) });
      try {
        await store.transaction((tx) => tx.insertUser(next));
        written.push(next.id);
      } catch (error) {
        full = error;
      }
    }
    expect(full).toBeInstanceOf(StoreFull);
    expect(full).toMatchObject({ status: 507, reason: 'full' });
    expect((full as StoreFull).retryAfterSeconds).toBeGreaterThan(0);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreFull);

    // A group with members in one transaction: all of it or none of it.
    const team = group('Team');
    const members = Array.from({ length: 40 }, (_, i) => user(`member${i}@example.com`, { title: 'y'.repeat(500) }));
    await expect(
      store.transaction(async (tx) => {
        await tx.insertGroup(team);
        for (const member of members) await tx.insertUser(member);
        await tx.addMembers(
          team.id,
          members.map((m) => m.id),
        );
      }),
    ).rejects.toBeInstanceOf(StoreFull);
    expect(await store.getGroup(team.id)).toBeUndefined();
    expect(await store.existingUserIds(members.map((m) => m.id))).toEqual(new Set());
    // Reads go on while full; what was acknowledged is there.
    expect((await store.getUser(kept.id))?.userName).toBe('kept@example.com');
    expect((await store.existingUserIds(written)).size).toBe(written.length);

    store.limitPagesForTesting(10_000);
    await store.ping();
    await store.transaction((tx) => tx.insertGroup(team));
    expect((await store.getGroup(team.id))?.displayName).toBe('Team');
    await store.close();
  });
});

/** Mounts a tmpfs of `sizeKiB`; undefined when this machine does not let the tests mount. */
function smallDisk(sizeKiB: number): { path: string; unmount(): void } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const path = mkdtempSync(join(tmpdir(), 'scim-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0777`, 'tmpfs', path], { stdio: 'ignore' });
  } catch {
    rmSync(path, { recursive: true, force: true });
    return undefined;
  }
  return {
    path,
    unmount: () => {
      execFileSync('umount', ['-l', path], { stdio: 'ignore' });
      rmSync(path, { recursive: true, force: true });
    },
  };
}

const canMount = (() => {
  const disk = smallDisk(64);
  disk?.unmount();
  return Boolean(disk);
})();
const describeDisk = canMount ? describe : describe.skip;
if (!canMount) console.warn('full.test.ts: cannot mount a tmpfs here (needs root); the real-disk-full tests are skipped');

const { session, token } = createSession();
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' };

async function fillUntilFull(
  url: string,
  prefix: string,
  limit = 4000,
): Promise<{ status: number; retryAfter: string | null; body: any; userName: string; ids: string[] }> {
  const ids: string[] = [];
  for (let i = 0; i < limit; i++) {
    const userName = `${prefix}${i}@example.com`;
    const res = await fetch(`${url}/scim/v2/Users`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ schemas: [USER], userName, title: 'z'.repeat(3000), nickName: String(Math.random()).repeat(50) }),
    });
    const body = (await res.json()) as any;
    if (res.status !== 201) return { status: res.status, retryAfter: res.headers.get('retry-after'), body, userName, ids };
    ids.push(body.id);
  }
  throw new Error(`the store took ${limit} users without filling up`);
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Appends to `filler` until the disk has no block left, so no write can find slack beside the store's files. */
function topUp(filler: string): void {
  const chunk = Buffer.alloc(4096);
  for (;;) {
    try {
      appendFileSync(filler, chunk);
    } catch {
      return;
    }
  }
}

async function expectFullThenRecovery(bridge: BridgeProcess, filler: string, fault: string): Promise<void> {
  const writes: number[] = [];
  const refused = await fillUntilFull(bridge.url, 'fill');
  writes.push(...refused.ids.map(() => 201), refused.status);
  expect(refused.status).toBe(507);
  expect(Number(refused.retryAfter)).toBeGreaterThan(0);
  expect(refused.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '507' });
  // The refused user is not there, half or whole; reads still answer.
  const lookup = await fetch(`${bridge.url}/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${refused.userName}"`)}`, { headers: auth });
  expect(lookup.status).toBe(200);
  expect(((await lookup.json()) as { totalResults: number }).totalResults).toBe(0);

  // With no block left, a write fits only where the store's own files have room (a reset WAL, free pages):
  // after a refused write /health must say "full" until one fits again. Writes are only ever 201 or 507.
  topUp(filler);
  let reported = false;
  for (let i = 0; i < 200 && !reported; i++) {
    const res = await fetch(`${bridge.url}/scim/v2/Users`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ schemas: [USER], userName: `more${i}@example.com`, title: 'z'.repeat(3000) }),
    });
    expect([201, 507]).toContain(res.status);
    writes.push(res.status);
    await res.arrayBuffer();
    if (res.status !== 507) continue;
    const health = await fetch(`${bridge.url}/health`);
    const body = (await health.json()) as { store: { status: string } };
    if (health.status === 503) {
      expect(body).toMatchObject({ store: { status: 'full' } });
      reported = true;
    }
  }
  expect(reported).toBe(true);

  // A group with members is several statements in one transaction: refused whole, or stored whole.
  const members = refused.ids.slice(-300).map((value) => ({ value }));
  const groupRes = await fetch(`${bridge.url}/scim/v2/Groups`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ schemas: [GROUP], displayName: 'Refused team', members }),
  });
  expect([201, 507]).toContain(groupRes.status);
  const groups = (await (
    await fetch(`${bridge.url}/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "Refused team"')}`, { headers: auth })
  ).json()) as any;
  if (groupRes.status === 507) expect(groups.totalResults).toBe(0);
  else expect(groups.Resources[0].members).toHaveLength(members.length);

  rmSync(filler);
  await until(async () => (await fetch(`${bridge.url}/health`)).status === 200, '/health recovers once there is room');
  const after = await fetch(`${bridge.url}/scim/v2/Users`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ schemas: [USER], userName: 'after@example.com' }),
  });
  expect(after.status).toBe(201);
  writes.push(groupRes.status, after.status);
  recordFigures(fault, { answers: tally(writes), exit: bridge.child.exitCode ?? 'still running' });
  expect(bridge.child.exitCode).toBeNull();
}

describeDisk('a bridge on a disk that fills up (SQLite)', () => {
  it('answers 507 with Retry-After, reports it on /health, writes nothing half, and recovers when space is freed', async () => {
    const disk = smallDisk(1536)!;
    let bridge: BridgeProcess | undefined;
    try {
      const filler = join(disk.path, 'filler');
      writeFileSync(filler, Buffer.alloc(512 * 1024));
      bridge = await spawnBridge({ SCIM_SESSION: serializeSession(session), SCIM_DATABASE_URL: `sqlite:${join(disk.path, 'bridge.db')}` });
      await expectFullThenRecovery(bridge, filler, 'disk full under the SQLite file (1.5 MiB tmpfs)');
    } finally {
      bridge?.child.kill('SIGTERM');
      await bridge?.exited;
      disk.unmount();
    }
  });
});

const describeDiskPostgres = canMount && POSTGRES_URL ? describePostgres : describe.skip;
describeDiskPostgres('a bridge whose PostgreSQL tablespace fills up (53100 disk_full)', () => {
  it('answers 507 with Retry-After, reports it on /health, writes nothing half, and recovers when space is freed', async () => {
    const disk = smallDisk(16 * 1024)!;
    const admin = new Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    const name = `full_${process.pid}`;
    let bridge: BridgeProcess | undefined;
    try {
      const location = join(disk.path, 'ts');
      mkdirSync(location);
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      chownSync(location, uid, uid);
      await admin.query(`CREATE TABLESPACE ${name} LOCATION '${location}'`);
      const url = new URL(await freshDatabase());
      await admin.query(`ALTER DATABASE ${url.pathname.slice(1)} SET TABLESPACE ${name}`);
      // Leave about 1 MiB free once the database lives there.
      const { bavail, bsize } = statfsSync(disk.path);
      const filler = join(disk.path, 'filler');
      writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 1024 * 1024)));
      bridge = await spawnBridge({ SCIM_SESSION: serializeSession(session), SCIM_DATABASE_URL: url.toString() });
      await expectFullThenRecovery(bridge, filler, 'PostgreSQL tablespace full, 53100 disk_full (16 MiB tmpfs)');
      bridge.child.kill('SIGTERM');
      await bridge.exited;
      bridge = undefined;
      await admin.query(`DROP DATABASE ${url.pathname.slice(1)} WITH (FORCE)`);
    } finally {
      bridge?.child.kill('SIGTERM');
      await bridge?.exited;
      await admin.query(`DROP TABLESPACE IF EXISTS ${name}`).catch(() => undefined);
      await admin.end();
      disk.unmount();
    }
  });
});
