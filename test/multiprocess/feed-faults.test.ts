/**
 * The change feed's promises under the faults a platform causes, through the pull API of real bundled bridges: a
 * bridge killed with SIGKILL mid-write, two replicas writing while a consumer long-polls one of them, PostgreSQL
 * stopped (fast, then as a crash) under load. Each time: every write acknowledged to the identity provider (2xx) is
 * in the feed exactly once, each resource's changes come in version order, no position is skipped, a consumer that
 * applies docs/pull-api.md's rule ends with the directory SCIM shows (so nothing unacknowledged is half there), and
 * a replay from any cursor gives the same sequence. Then a replica frozen (SIGSTOP: a paused VM, a partition) while
 * it numbers changes, and while it writes: the server ends its idle transaction, so neither the feed nor the other
 * replicas' writes wait on it for longer than the limits in store/postgres.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { CHANGE_LOG_LOCK } from '../../bridge/src/store/change-log';
import { IDLE_TRANSACTION_LIMIT_MS, NUMBERING_IDLE_LIMIT_MS } from '../../bridge/src/store/postgres';
import { MEMBERS_PER_CHANGE } from '../../bridge/src/feed/types';
import { addToken, createSession, serializeSession } from '../../bridge/src/session/scimsession';
import { STORE_KINDS } from '../support/bridge';
import { FeedConsumer, directoryView } from '../support/feed-consumer';
import { type ChangeDoc, FeedFollower, type SnapshotItem, readFeed, readSnapshot, verdict } from '../support/feed-follow';
import { recordFigures, tally } from '../support/figures';
import { type Ack, IdpLoad } from '../support/idp-load';
import { describePostgres, freshDatabase, privateCluster } from '../support/postgres';
import { type BridgeProcess, freePort, spawnBridge } from '../support/process';

const provision = createSession();
const read = addToken(provision.session, { scope: 'read' });
const token = provision.token;
const readToken = read.token;
// The deprovisioning guard off: its settle time would keep suspensions and deletions out of the feed for a minute, and
// what is proven here is that the log loses nothing (test/feed/guard-*.test.ts prove the guard's own holds).
const sessionEnv = { SCIM_SESSION: serializeSession(read.session), SCIM_DEPROVISION_HOLD_WINDOW_SECONDS: '0' };

/**
 * The consumer's copy: a snapshot taken before the load (the protected groups the bridge seeds are in no change),
 * then the changes after it, in directoryView's shape.
 */
function replayed(snapshot: readonly SnapshotItem[], changes: readonly ChangeDoc[]): Record<string, unknown> {
  const consumer = new FeedConsumer();
  for (const item of snapshot) consumer.applySnapshotItem(item);
  for (const change of changes) consumer.applyChange(change);
  return consumer.view();
}

/** Members of the bulk lane's writes: more than one change's worth (MEMBERS_PER_CHANGE), so each write is several. */
const BULK_MEMBERS = MEMBERS_PER_CHANGE + 100;

/** How many writes came as several membership changes (one request id, one version): the bulk lane's, whole. */
function chunkedWrites(changes: readonly ChangeDoc[]): number {
  const chunks = new Map<string, number>();
  for (const change of changes) {
    if (!change.type.startsWith('group.members.')) continue;
    const key = `${change.data.requestId} ${change.data.resource.id} v${change.data.resource.version}`;
    chunks.set(key, (chunks.get(key) ?? 0) + 1);
  }
  return [...chunks.values()].filter((n) => n > 1).length;
}

/**
 * Changes no acknowledged write accounts for: writes cut off by the fault that committed anyway (a user's delete
 * also removes it from its groups, in changes that share the delete's request id: those are accounted for).
 */
function unacknowledged(acks: readonly Ack[], changes: readonly ChangeDoc[]): number {
  const deletes = new Set(changes.filter((c) => c.type === 'user.deleted').map((c) => c.data.requestId));
  const acked = new Set(acks.map((ack) => `${ack.type} ${ack.resource.id} ${ack.version ?? ''}`));
  return changes.filter((c) => {
    if (c.type === 'group.members.removed' && deletes.has(c.data.requestId)) return false;
    return !acked.has(`${c.type} ${c.data.resource.id} ${c.type.endsWith('.deleted') ? '' : c.data.resource.version}`);
  }).length;
}

/** Polls (bounded in time) until `check` holds: waits on the bridge's answers, not on a fixed sleep. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not answering yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The changes committed to the database at `url`, numbered or not: the position a consumer must reach (none pruned). */
async function committedChanges(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT count(*)::int AS n FROM changes')).rows[0].n;
  } finally {
    await client.end();
  }
}

/** Waits (bounded) until no session but the caller's is connected to the database at `url`. */
async function untilSessionsEnd(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const others = 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()';
    await until(async () => (await client.query(others)).rows[0].n === 0, "the killed bridge's sessions end");
  } finally {
    await client.end();
  }
}

const healthIs = (bridge: BridgeProcess, status: number) => async () =>
  (await fetch(`${bridge.url}/health`, { signal: AbortSignal.timeout(5000) })).status === status;

async function stopBridge(bridge: BridgeProcess | undefined): Promise<void> {
  if (!bridge || bridge.child.exitCode !== null || bridge.child.signalCode !== null) return;
  bridge.child.kill('SIGTERM');
  await bridge.exited;
}

describe.each(STORE_KINDS)('the change feed across a SIGKILL mid-write (%s store)', (kind) => {
  let dir: string;
  let restarted: BridgeProcess | undefined;
  let feed: ChangeDoc[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-feed-kill-'));
  });
  afterAll(async () => {
    await stopBridge(restarted);
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds every acknowledged write exactly once, in order per resource, and nothing unacknowledged half-written', async () => {
    const databaseUrl = kind === 'postgres' ? await freshDatabase() : `sqlite:${join(dir, 'bridge.db')}`;
    const first = await spawnBridge({ ...sessionEnv, SCIM_DATABASE_URL: databaseUrl });
    const snapshot = await readSnapshot(first.url, readToken);
    // An application long-polls the bridge that gets killed, and carries its cursor over to the restarted one.
    const follower = new FeedFollower(first.url, readToken, { after: snapshot.after, wait: 10, limit: 50, noAnswerExpected: true });
    follower.start();
    const load = new IdpLoad({ targets: [first.url], token, lanes: 8, bulkMembers: BULK_MEMBERS });
    try {
      await load.start();
      await load.untilAcknowledged(load.acknowledged + 400);
      first.child.kill('SIGKILL');
    } finally {
      await load.stop();
    }
    expect(await first.exited).toBe('SIGKILL');
    // PostgreSQL ends the dead process's sessions on its own time: one may still commit a COMMIT the process sent
    // before it died. The feed is read once they are all gone (nothing else uses this database).
    if (kind === 'postgres') await untilSessionsEnd(databaseUrl);

    restarted = await spawnBridge({ ...sessionEnv, SCIM_DATABASE_URL: databaseUrl });
    follower.moveTo(restarted.url);
    await follower.finish(kind === 'postgres' ? await committedChanges(databaseUrl) : undefined);
    feed = (await readFeed(restarted.url, readToken)).changes;
    const found = verdict(load.acks, feed);
    const directory = await directoryView(`${restarted.url}/scim/v2`, token);
    recordFigures(`feed: SIGKILL mid-write, 8 writers and a long-polling consumer (${kind})`, {
      answers: tally(load.statuses),
      acknowledged: load.acknowledged,
      lost: found.missing.length,
      inFeed: feed.length,
      unacknowledgedInFeed: unacknowledged(load.acks, feed),
      delivered: follower.changes.length,
      consumerAnswers: tally(follower.statuses),
      bulkWritesWhole: chunkedWrites(feed),
      bulkWritesCutOff: load.bulkCutOff,
      exit: 'SIGKILL',
    });
    expect(chunkedWrites(feed)).toBeGreaterThan(0);
    // Some requests were cut off by the kill: this run did test writes in flight.
    expect(load.statuses.get(0)).toBeGreaterThan(0);
    expect(load.unexpected).toEqual([]);
    expect(found).toEqual({ missing: [], repeated: [], duplicated: [], disordered: [], unordered: 0 });
    expect(feed.map((c) => c.data.position)).toEqual(feed.map((_, i) => i + 1));
    // The consumer across the kill: no cursor back, no position skipped, and in the end the whole feed (nothing
    // was written before its snapshot).
    expect(follower.problems).toEqual([]);
    expect(follower.changes).toEqual(feed);
    // Directory and feed agree on every resource (its version and state): no write is in one and not the other.
    expect(replayed(snapshot.items, feed)).toEqual(directory);
  });

  it('replays: the feed from position 0 twice is the same sequence, and from a cursor in the middle exactly its suffix', async () => {
    expect(feed.length).toBeGreaterThan(400);
    const again = await readFeed(restarted!.url, readToken, { limit: 37 });
    expect(again.changes).toEqual(feed);
    // Without `after` the feed starts at the oldest change: the same as asking after position 0.
    const { feedCursor } = await import('../../bridge/src/feed/cursor');
    const fromZero = await readFeed(restarted!.url, readToken, { after: feedCursor({ directory: 'default', position: 0 }), limit: 1000 });
    expect(fromZero.changes).toEqual(feed);
    expect(fromZero.next).toBe(again.next);
    // The cursor a page in the middle handed out, and one at an arbitrary position.
    for (const middle of [1, 137, Math.floor(feed.length / 2), feed.length - 1]) {
      // Pages (of at most 1,000, the bound) that end exactly after `middle` changes.
      let next: string | undefined;
      for (let taken = 0, i = 0; taken < middle && i < 100; i++) {
        const page = await fetch(`${restarted!.url}/api/changes?limit=${Math.min(1000, middle - taken)}${next ? `&after=${next}` : ''}`, {
          headers: { authorization: `Bearer ${readToken}` },
        });
        const body = (await page.json()) as { changes: unknown[]; next: string };
        taken += body.changes.length;
        next = body.next;
      }
      const suffix = await readFeed(restarted!.url, readToken, { after: next, limit: 100 });
      expect(suffix.changes).toEqual(feed.slice(middle));
    }
  });
});

describePostgres('the change feed with two replicas writing while a consumer long-polls one of them', () => {
  const replicas: BridgeProcess[] = [];
  afterAll(async () => {
    for (const replica of replicas) await stopBridge(replica);
  });

  it('delivers every acknowledged change once, in order per resource, and the consumer ends with the directory', async () => {
    const databaseUrl = await freshDatabase();
    const env = { ...sessionEnv, SCIM_DATABASE_URL: databaseUrl };
    replicas.push(...(await Promise.all([spawnBridge(env), spawnBridge(env)])));
    const snapshot = await readSnapshot(replicas[0].url, readToken);
    const follower = new FeedFollower(replicas[0].url, readToken, { after: snapshot.after, wait: 10, limit: 50 });
    follower.start();
    const load = new IdpLoad({ targets: replicas.map((r) => r.url), token, lanes: 8, bulkMembers: BULK_MEMBERS });
    try {
      await load.start();
      await load.untilAcknowledged(load.acknowledged + 600);
    } finally {
      await load.stop();
      await follower.finish(await committedChanges(databaseUrl).catch(() => undefined));
    }

    const found = verdict(load.acks, follower.changes);
    const directory = await directoryView(`${replicas[1].url}/scim/v2`, token);
    recordFigures('feed: two replicas writing, a consumer long-polling one (postgres)', {
      answers: tally(load.statuses),
      acknowledged: load.acknowledged,
      lost: found.missing.length,
      delivered: follower.changes.length,
      unacknowledgedInFeed: unacknowledged(load.acks, follower.changes),
      consumerAnswers: tally(follower.statuses),
      pages: follower.pages,
      bulkWritesWhole: chunkedWrites(follower.changes),
      exit: 'still running',
    });
    expect(follower.problems).toEqual([]);
    expect([...follower.statuses.keys()]).toEqual([200]);
    expect(load.unexpected).toEqual([]);
    expect(found).toEqual({ missing: [], repeated: [], duplicated: [], disordered: [], unordered: 0 });
    // The consumer waited on the feed: more than one page of changes came while the writes ran.
    expect(follower.pages).toBeGreaterThan(1);
    expect(chunkedWrites(follower.changes)).toBeGreaterThan(0);
    expect(replayed(snapshot.items, follower.changes)).toEqual(directory);
    // What the consumer got, live, is the whole log as the other replica reads it afterwards.
    expect((await readFeed(replicas[1].url, readToken)).changes).toEqual(follower.changes);
  });
});

describePostgres('the change feed while PostgreSQL restarts under load', () => {
  let cluster: ReturnType<typeof privateCluster> | undefined;
  let bridge: BridgeProcess | undefined;
  afterAll(async () => {
    await stopBridge(bridge);
    cluster?.destroy();
  });

  it('reaches the long-polling consumer whole after fast and crash restarts: no 500, cursor never back, nothing skipped', async () => {
    cluster = privateCluster(await freePort());
    const served = await spawnBridge({ ...sessionEnv, SCIM_DATABASE_URL: cluster.url });
    bridge = served;
    const snapshot = await readSnapshot(served.url, readToken);
    const follower = new FeedFollower(served.url, readToken, { after: snapshot.after, wait: 10, limit: 50 });
    follower.start();
    const load = new IdpLoad({ targets: [served.url], token, lanes: 8 });
    const outages: Record<string, number> = {};
    let consumerRefused = 0;
    try {
      await load.start();
      for (const mode of ['fast', 'immediate'] as const) {
        await load.untilAcknowledged(load.acknowledged + 100);
        const refusedBefore = load.statuses.get(503) ?? 0;
        cluster.stop(mode);
        await until(healthIs(served, 503), '/health reports the outage');
        // The identity provider was told: some writes were refused while the database was away.
        await until(async () => (load.statuses.get(503) ?? 0) > refusedBefore, 'a write is refused during the outage');
        outages[mode] = (load.statuses.get(503) ?? 0) - refusedBefore;
        // ...and so was the consumer: its long-poll's next read of the log failed and answered 503.
        await until(async () => (follower.statuses.get(503) ?? 0) > consumerRefused, 'the long-polling consumer gets a 503');
        consumerRefused = follower.statuses.get(503) ?? 0;
        cluster.start();
        await until(healthIs(served, 200), '/health recovers');
      }
      await load.untilAcknowledged(load.acknowledged + 100);
    } finally {
      await load.stop();
      await follower.finish(await committedChanges(cluster.url).catch(() => undefined));
    }

    const found = verdict(load.acks, follower.changes);
    const directory = await directoryView(`${served.url}/scim/v2`, token);
    recordFigures('feed: PostgreSQL stopped (fast, then immediate) under 8 writers and a long-polling consumer', {
      answers: tally(load.statuses),
      acknowledged: load.acknowledged,
      lost: found.missing.length,
      delivered: follower.changes.length,
      unacknowledgedInFeed: unacknowledged(load.acks, follower.changes),
      consumerAnswers: tally(follower.statuses),
      refusedPerOutage: outages,
      exit: served.child.exitCode ?? 'still running',
    });
    expect(served.child.exitCode).toBeNull();
    expect(follower.problems).toEqual([]);
    // Only 200 and 503 (with Retry-After, checked as they came) reached the consumer: never a 500.
    expect([...follower.statuses.keys()].every((status) => status === 200 || status === 503)).toBe(true);
    expect(load.unexpected).toEqual([]);
    expect(load.statuses.get(0)).toBeUndefined(); // the bridge never went away
    expect(found).toEqual({ missing: [], repeated: [], duplicated: [], disordered: [], unordered: 0 });
    expect(replayed(snapshot.items, follower.changes)).toEqual(directory);
    expect((await readFeed(served.url, readToken)).changes).toEqual(follower.changes);
  });
});

describePostgres('the change feed while a replica is frozen holding the numbering lock', () => {
  const replicas: BridgeProcess[] = [];
  afterAll(async () => {
    for (const replica of replicas) {
      replica.child.kill('SIGCONT');
      await stopBridge(replica);
    }
  });

  it("keeps flowing to another replica's consumer: the frozen replica's hold ends within seconds, and it recovers", async () => {
    const databaseUrl = await freshDatabase();
    const env = { ...sessionEnv, SCIM_DATABASE_URL: databaseUrl };
    replicas.push(...(await Promise.all([spawnBridge(env), spawnBridge(env)])));
    const [other, frozen] = replicas;
    const createUser = async (userName: string) =>
      (
        await fetch(`${other.url}/scim/v2/Users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName }),
        })
      ).status;
    const locker = new Client({ connectionString: databaseUrl });
    await locker.connect();
    let stuck: Promise<number> | undefined;
    let follower: FeedFollower | undefined;
    try {
      const snapshot = await readSnapshot(other.url, readToken);
      // A committed change not numbered yet, its row locked here: the frozen replica's numbering takes the lock and
      // waits on the row, so the freeze lands while it holds the lock (a partition or a paused VM, at that moment).
      expect(await createUser('first@example.com')).toBe(201);
      await locker.query('BEGIN');
      expect((await locker.query('SELECT seq FROM changes WHERE position IS NULL FOR UPDATE')).rowCount).toBe(1);
      stuck = fetch(`${frozen.url}/api/changes?after=${snapshot.after}`, { headers: { authorization: `Bearer ${readToken}` } }).then(
        (res) => res.status,
        () => 0,
      );
      // This database's only (the server is shared with other suites running bridges).
      const holding = `SELECT l.pid, s.state, s.wait_event_type FROM pg_locks l JOIN pg_stat_activity s USING (pid)
        WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1 AND s.datname = current_database()`;
      await until(
        async () => (await locker.query(holding, [CHANGE_LOG_LOCK])).rows[0]?.wait_event_type === 'Lock',
        'the replica numbers changes, waiting on the row',
      );
      frozen.child.kill('SIGSTOP');
      await locker.query('ROLLBACK');
      await until(
        async () => (await locker.query(holding, [CHANGE_LOG_LOCK])).rows[0]?.state === 'idle in transaction',
        'the numbering is done and waits for a COMMIT that will not come',
      );

      const frozenAt = Date.now();
      follower = new FeedFollower(other.url, readToken, { after: snapshot.after, wait: 10 });
      follower.start();
      expect(await createUser('second@example.com')).toBe(201);
      await until(async () => follower!.changes.length >= 2, "the other replica's consumer gets both changes", 25_000);
      const stalledMs = Date.now() - frozenAt;
      recordFigures('feed: a replica frozen (SIGSTOP) holding the numbering lock, consumer on the other replica', { stalledMs, exit: 'still running' });
      expect(stalledMs).toBeLessThan(NUMBERING_IDLE_LIMIT_MS + 3000);
    } finally {
      frozen.child.kill('SIGCONT');
      await follower?.finish();
      await locker.end();
    }
    expect(follower.problems).toEqual([]);
    expect(follower.changes.map((c) => c.data.state?.userName)).toEqual(['first@example.com', 'second@example.com']);
    // The thawed replica answers its stuck poll (its transaction was ended for it) and serves the same feed.
    expect([200, 503]).toContain(await stuck);
    expect((await readFeed(frozen.url, readToken)).changes).toEqual(follower.changes);
  });
});

describePostgres('a replica frozen in the middle of a write', () => {
  const replicas: BridgeProcess[] = [];
  afterAll(async () => {
    for (const replica of replicas) {
      replica.child.kill('SIGCONT');
      await stopBridge(replica);
    }
  });

  it('holds its locks only until the server ends its idle transaction: the same write through another replica then succeeds, once in the feed', async () => {
    const databaseUrl = await freshDatabase();
    const env = { ...sessionEnv, SCIM_DATABASE_URL: databaseUrl };
    replicas.push(...(await Promise.all([spawnBridge(env), spawnBridge(env)])));
    const [other, frozen] = replicas;
    const scim = async (url: string, method: string, path: string, body: unknown) => {
      try {
        const res = await fetch(`${url}/scim/v2${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      } catch {
        return { status: 0, body: undefined };
      }
    };
    const snapshot = await readSnapshot(other.url, readToken);
    const user = (await scim(other.url, 'POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'x@example.com' })).body
      .id as string;
    const group = (await scim(other.url, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Frozen' })).body
      .id as string;
    const addUser = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: user }] }] };
    const locker = new Client({ connectionString: databaseUrl });
    await locker.connect();
    let stuck: Promise<{ status: number }> | undefined;
    const answers: number[] = [];
    let waitedMs = 0;
    try {
      // The frozen replica's membership insert waits (its foreign key check) on the user's row, locked here; the
      // freeze lands while its transaction holds what it wrote so far.
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user]);
      stuck = scim(frozen.url, 'PATCH', `/Groups/${group}`, addUser);
      let pid: number | undefined;
      await until(async () => {
        // This database's only (the server is shared with other suites).
        const waiting = `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity s USING (pid)
          WHERE NOT l.granted AND l.pid <> pg_backend_pid() AND s.datname = current_database()`;
        pid = (await locker.query(waiting)).rows[0]?.pid;
        return pid !== undefined;
      }, "the replica's write waits on the row");
      frozen.child.kill('SIGSTOP');
      await locker.query('ROLLBACK');
      const state = async () => (await locker.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0]?.state;
      await until(async () => (await state()) === 'idle in transaction', 'the write waits, idle, for statements that will not come');

      // The identity provider retries through the other replica (bounded: 40 s), as it does after a 503.
      const started = Date.now();
      for (let i = 0; i < 20 && Date.now() - started < 40_000; i++) {
        const answer = await scim(other.url, 'PATCH', `/Groups/${group}`, addUser);
        answers.push(answer.status);
        if (answer.status === 204) break;
        if (answer.status !== 503) throw new Error(`the retry got ${answer.status}`);
      }
      waitedMs = Date.now() - started;
    } finally {
      frozen.child.kill('SIGCONT');
      await locker.end();
    }
    recordFigures('a replica frozen (SIGSTOP) mid-write; the identity provider retries the write through another', {
      answers: tally(answers),
      waitedMs,
      frozenReplicaAnswer: (await stuck)?.status,
      exit: 'still running',
    });
    expect(answers.at(-1)).toBe(204);
    expect(waitedMs).toBeLessThan(IDLE_TRANSACTION_LIMIT_MS + 12_000);
    // The frozen replica's own write was ended for it: never acknowledged, so nothing of it is in the feed.
    expect((await stuck)?.status).toBe(503);
    const feed = (await readFeed(other.url, readToken, { after: snapshot.after })).changes;
    expect(feed.filter((c) => c.type === 'group.members.added').map((c) => c.data.members)).toEqual([[user]]);
    expect(replayed(snapshot.items, feed)).toEqual(await directoryView(`${frozen.url}/scim/v2`, token));
  });
});
