/**
 * What the deprovisioning guard does on a store, run on SQLite and PostgreSQL (guard-sqlite.test.ts,
 * guard-postgres.test.ts): the gate on the append path, the promoter's settle time and thresholds at their edges,
 * holds, release as the net effect, discard, and two replicas promoting one database. The clock is given, so
 * edges are exact.
 */
import { guardStore } from '../../bridge/src/feed/gate';
import type { GuardSettings } from '../../bridge/src/feed/guard';
import { discardHold, releaseHold, showHold } from '../../bridge/src/feed/holds';
import { Promoter, promoteOnce } from '../../bridge/src/feed/promoter';
import type { ChangeInput } from '../../bridge/src/feed/types';
import { GRANT_ACCESS_KEY } from '../../bridge/src/store/guard-sql';
import type { Store, StoreTx } from '../../bridge/src/store/types';
import { user } from '../store/contract';
import { IDP, created, feedOf, reactivated, removed, suspended, updated, withChangeLog } from './guard-support';

export interface OpenedDatabase {
  /** A name for the database (the same for every Store opened on it). */
  readonly database: string;
  /** Opens a Store on that database (a replica), not yet migrated. */
  open(): Promise<Store>;
}

const T0 = Date.parse('2026-12-01T09:00:00.000Z');
const SETTINGS: GuardSettings = { holdCount: 5, holdPercent: 0, windowSeconds: 60, settleSeconds: 10 };
const quiet = { info: () => undefined, warn: () => undefined };

export function describeGuardContract(fresh: () => Promise<OpenedDatabase>): void {
  let stores: Store[] = [];
  let store: Store;
  let clock: number;
  let settings: GuardSettings;

  async function setUp(overrides: Partial<GuardSettings> = {}): Promise<OpenedDatabase> {
    const db = await fresh();
    const raw = await db.open();
    stores.push(raw);
    await raw.migrate();
    store = withChangeLog(raw, db.database);
    clock = T0;
    settings = { ...SETTINGS, ...overrides };
    return db;
  }

  afterEach(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    stores = [];
  });

  /** One write's changes, through the gate of `via` (a replica; the first by default), at `at`. */
  const append = (changes: ChangeInput[], at = clock, via = store) =>
    guardStore(via, { settings, now: () => new Date(at) }).transaction((tx: StoreTx) => tx.appendChanges(changes));
  const promote = (at = clock) => promoteOnce(store, settings, at);
  const feed = async () => (await feedOf(store)).map((c) => `${c.type} ${c.resource.id}@${c.resource.version}`);

  it('lets a deprovisioning change settle first, exactly the settle time, while others flow at once', async () => {
    await setUp();
    await append([suspended('ada'), created('bob')]);
    expect(await feed()).toEqual(['user.created bob@1']);
    await promote(T0 + 9_999);
    expect(await feed()).toEqual(['user.created bob@1']);
    expect((await promote(T0 + 10_000)).promoted).toBe(1);
    expect(await feed()).toEqual(['user.created bob@1', 'user.suspended ada@2']);
  });

  it('keeps a later change to the same person behind the settling one, in order', async () => {
    await setUp();
    await append([suspended('ada', 2)]);
    await append([updated('ada', 3)], T0 + 1000);
    expect(await feed()).toEqual([]);
    await promote(T0 + 10_000);
    expect(await feed()).toEqual(['user.suspended ada@2', 'user.updated ada@3']);
  });

  it('holds nothing at the count, and holds the whole burst one past it', async () => {
    await setUp();
    await append(['a', 'b', 'c', 'd', 'e'].map((id) => suspended(id)));
    expect((await promote(T0 + 10_000)).started).toEqual([]);
    expect(await feed()).toHaveLength(5);

    await setUp();
    await append(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => suspended(id)));
    const { started } = await promote(T0 + 1000);
    expect(started).toEqual([expect.objectContaining({ actor: IDP, people: 6, changes: 6 })]);
    // Unrelated changes keep flowing; the held ones do not, even past the settle time.
    await append([created('new-hire')], T0 + 2000);
    await promote(T0 + 600_000);
    expect(await feed()).toEqual([`hold.started ${started[0].id}@1`, 'user.created new-hire@1']);
    const [holdEvent] = (await feedOf(store)).filter((c) => c.type === 'hold.started');
    expect(holdEvent.state).toMatchObject({ source: IDP, people: 6, changes: 6 });
  });

  it('counts within the window, its first millisecond included and the one before it not', async () => {
    for (const [gap, holds] of [
      [60_000, 1],
      [60_001, 0],
    ] as const) {
      await setUp({ settleSeconds: 0 });
      await append(['a', 'b', 'c'].map((id) => suspended(id)));
      await append(
        ['d', 'e', 'f'].map((id) => suspended(id)),
        T0 + gap,
      );
      const { started } = await promote(T0 + gap);
      expect({ gap, holds: started.length }).toEqual({ gap, holds });
    }
  });

  it('counts per source: two sources under the threshold each are not a burst', async () => {
    await setUp();
    await append(['a', 'b', 'c'].map((id) => suspended(id, 2, 'okta')));
    await append(['d', 'e', 'f'].map((id) => suspended(id, 2, 'google-workspace')));
    expect((await promote(T0 + 10_000)).started).toEqual([]);
    expect(await feed()).toHaveLength(6);
  });

  it('holds at more than the percent of active users, not at it', async () => {
    for (const [people, holds] of [
      [5, 0],
      [6, 1],
    ] as const) {
      await setUp({ holdCount: 0, holdPercent: 10 });
      // 50 active users; the directory has already suspended those the changes name (it mirrors the provider).
      await store.transaction(async (tx) => {
        for (let i = 0; i < 50; i++) await tx.insertUser(user(`u${i}@example.com`));
      });
      await append(Array.from({ length: people }, (_, i) => suspended(`s${i}`)));
      const { started } = await promote(T0 + 1000);
      // 5 of 55 is 9.1 %; 6 of 56 is 10.7 %.
      expect({ people, holds: started.length }).toEqual({ people, holds });
    }
  });

  it('counts removals from a group that grants access member by member, and ignores other groups', async () => {
    await setUp();
    await store.setState(GRANT_ACCESS_KEY, JSON.stringify(['app-users']));
    await append([removed('other', ['a', 'b', 'c', 'd', 'e', 'f'], 2)]);
    expect(await feed()).toEqual(['group.members.removed other@2']);
    await append([removed('app-users', ['a', 'b', 'c', 'd', 'e', 'f'], 2)]);
    expect(await feed()).toHaveLength(1);
    expect((await promote(T0 + 1000)).started).toEqual([expect.objectContaining({ people: 6, changes: 1 })]);
  });

  it('counts a person suspended and removed from a group that grants access once', async () => {
    await setUp();
    await store.setState(GRANT_ACCESS_KEY, JSON.stringify(['app-users']));
    const ids = ['a', 'b', 'c', 'd', 'e'];
    await append([removed('app-users', ids, 2), ...ids.map((id) => suspended(id))]);
    expect((await promote(T0 + 1000)).started).toEqual([]);
    await append([suspended('f')], T0 + 2000);
    expect((await promote(T0 + 3000)).started).toEqual([expect.objectContaining({ people: 6, changes: 7 })]);
  });

  it('releases the net effect in order: a suspension undone before release delivers nothing for that person', async () => {
    await setUp();
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    await append(ids.map((id) => suspended(id)));
    const [hold] = (await promote(T0 + 1000)).started;
    // The administrator reassigns three of them: the provider reactivates them, behind the hold.
    await append(
      ['a', 'b', 'c'].map((id) => reactivated(id)),
      T0 + 2000,
    );
    await append([updated('d', 3)], T0 + 3000);
    await promote(T0 + 4000);
    const details = await showHold(store, hold.id);
    expect(details.changes).toHaveLength(10);
    expect(details.people.map((p) => p.userName)).toEqual(ids.map((id) => `${id}@example.com`));

    const before = (await feedOf(store)).length;
    const decision = await releaseHold(store, hold.id, 'test');
    expect(decision).toMatchObject({ held: 10, delivered: 3 });
    const delivered = (await feedOf(store)).slice(before);
    expect(delivered.map((c) => `${c.type} ${c.resource.id}@${c.resource.version}`)).toEqual(['user.suspended e@2', 'user.suspended f@2', 'user.updated d@3']);
    expect(delivered.every((c, i) => i === 0 || c.position > delivered[i - 1].position)).toBe(true);
    expect((await store.listEvents({ limit: 5 })).map((e) => e.action)).toContain('hold.release');
    // Released once only; and what comes next for those people flows as usual.
    await expect(releaseHold(store, hold.id, 'test')).rejects.toMatchObject({ status: 409 });
    await append([updated('e', 3)], T0 + 5000);
    expect((await feedOf(store)).slice(-1)[0].resource).toEqual({ type: 'User', id: 'e', version: 3 });
  });

  it('starts counting anew after a decision, instead of holding the next single departure', async () => {
    await setUp();
    await append(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => suspended(id)));
    const [hold] = (await promote(T0 + 1000)).started;
    await releaseHold(store, hold.id, 'test');
    await append([suspended('g')], T0 + 2000);
    expect((await promote(T0 + 12_000)).started).toEqual([]);
    expect((await feed()).slice(-1)).toEqual(['user.suspended g@2']);
  });

  it('discards: the held changes never reach the feed, and later ones flow', async () => {
    await setUp();
    await append(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => suspended(id)));
    const [hold] = (await promote(T0 + 1000)).started;
    expect(await discardHold(store, hold.id, 'test')).toMatchObject({ held: 6, delivered: 0 });
    expect(await feed()).toEqual([`hold.started ${hold.id}@1`]);
    await append([reactivated('a')], T0 + 2000);
    expect((await feed()).slice(-1)).toEqual(['user.reactivated a@3']);
    expect((await store.guard.getHold(hold.id))?.state).toBe('discarded');
  });

  it('with no settle time, delivers at once and holds what the source sends after the crossing', async () => {
    await setUp({ settleSeconds: 0 });
    await append(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => suspended(id)));
    expect(await feed()).toHaveLength(6);
    const [hold] = (await promote(T0 + 1000)).started;
    expect(hold).toMatchObject({ people: 0, changes: 0 });
    await append([suspended('g')], T0 + 2000);
    await promote(T0 + 3000);
    expect((await store.guard.getHold(hold.id))?.changes).toBe(1);
    expect((await feed()).filter((c) => c.startsWith('user.suspended g'))).toEqual([]);
  });

  it('two replicas promoting one database: one hold, every change once, in order', async () => {
    const db = await setUp();
    const second = await db.open();
    stores.push(second);
    const promoters = [store, withChangeLog(second, db.database)].map((s) => new Promoter({ store: s, settings, log: quiet, leaseMs: 60_000 }));
    await append(['a', 'b', 'c'].map((id) => suspended(id)));
    await append([created('x')]);
    await Promise.all(promoters.map((p) => p.tick(T0 + 10_000)));
    expect(promoters.filter((p) => p.isLeader)).toHaveLength(1);
    // The burst arrives through both replicas: with the three delivered, five in the window are not a hold and six
    // are, whichever replica's gate took them and whichever replica counts.
    const other = withChangeLog(second, db.database);
    await append([suspended('d')], T0 + 11_000);
    await append([suspended('e')], T0 + 11_000, other);
    expect((await Promise.all(promoters.map((p) => p.tick(T0 + 11_500)))).flatMap((r) => r?.started ?? [])).toEqual([]);
    await append([suspended('f')], T0 + 11_600, other);
    const results = await Promise.all(promoters.map((p) => p.tick(T0 + 12_000)));
    expect(results.flatMap((r) => r?.started ?? [])).toEqual([expect.objectContaining({ people: 3, changes: 3, reason: expect.stringMatching(/^6 people/) })]);
    await append(
      ['g', 'h', 'i'].map((id) => suspended(id)),
      T0 + 12_500,
      other,
    );
    await Promise.all(promoters.map((p) => p.tick(T0 + 30_000)));
    expect(promoters.map((p) => p.activeHolds)).toEqual([1, 1]);
    const changes = await feedOf(store);
    expect(changes.map((c) => c.resource.id).sort()).toEqual(['1', 'a', 'b', 'c', 'x'].sort());
    await Promise.all(promoters.map((p) => p.stop()));
  });
}
