/**
 * What every store adapter must do. Run by sqlite.test.ts and postgres.test.ts against real databases.
 */
import { randomUUID } from 'node:crypto';
import { parseFilter } from '../../bridge/src/scim/filter';
import { ENTERPRISE_USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { type GroupRecord, type Store, UniqueViolation, type UserRecord } from '../../bridge/src/store/types';

let clock = Date.parse('2026-01-01T00:00:00.000Z');
const tick = () => new Date((clock += 1000)).toISOString();

export function user(userName: string, extra: Record<string, unknown> = {}, active = true): UserRecord {
  const at = tick();
  return {
    id: randomUUID(),
    userName,
    externalId: extra.externalId as string | undefined,
    active,
    doc: { userName, active, ...extra },
    version: 1,
    created: at,
    lastModified: at,
  };
}

export function group(displayName: string): GroupRecord {
  const at = tick();
  return { id: randomUUID(), displayName, managed: true, protected: false, doc: { displayName }, version: 1, created: at, lastModified: at };
}

export function describeStoreContract(open: () => Promise<Store>): void {
  let store: Store;
  beforeEach(async () => {
    store = await open();
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
  });

  const names = (page: { items: readonly UserRecord[] }) => page.items.map((u) => u.userName).sort();
  const find = (filter: string) => store.queryUsers({ filter: parseFilter(filter), startIndex: 1, count: 100 });

  it('migrates idempotently and seeds the protected groups', async () => {
    await store.migrate();
    const owners = await store.findGroupByName('owners');
    expect(owners).toMatchObject({ displayName: 'Owners', protected: true, managed: false });
    expect((await store.counts()).groupsProtected).toBe(4);
  });

  it('stores users and finds them by userName case-insensitively', async () => {
    const ada = user('Ada@Example.com', { name: { givenName: 'Ada' } });
    await store.transaction((tx) => tx.insertUser(ada));
    expect(await store.getUser(ada.id)).toEqual(ada);
    expect((await store.findUserByUserName('ada@example.COM'))?.id).toBe(ada.id);
    await expect(store.transaction((tx) => tx.insertUser(user('ADA@example.com')))).rejects.toBeInstanceOf(UniqueViolation);
  });

  it('writes only when the version is the expected one', async () => {
    const ada = user('ada@example.com');
    await store.transaction((tx) => tx.insertUser(ada));
    const next = { ...ada, doc: { ...ada.doc, title: 'Countess' }, version: 2 };
    expect(await store.transaction((tx) => tx.updateUser(next, 1))).toBe(true);
    expect(await store.transaction((tx) => tx.updateUser({ ...next, version: 3 }, 1))).toBe(false);
    expect((await store.getUser(ada.id))?.doc.title).toBe('Countess');
  });

  it('rolls a failed transaction back whole', async () => {
    const ada = user('ada@example.com');
    await expect(
      store.transaction(async (tx) => {
        await tx.insertUser(ada);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.getUser(ada.id)).toBeUndefined();
    // and the store still works afterwards
    await store.transaction((tx) => tx.insertUser(ada));
    expect(await store.getUser(ada.id)).toBeDefined();
  });

  describe('filters, compiled to SQL', () => {
    beforeEach(async () => {
      await store.transaction(async (tx) => {
        await tx.insertUser(user('ada@example.com', { externalId: 'EXT-1', displayName: 'Ada Lovelace', title: 'Countess', emails: [{ value: 'ada@example.com', type: 'work', primary: true }], [ENTERPRISE_USER_SCHEMA]: { department: 'Analytical Engines', manager: { value: 'm-1' } } }));
        await tx.insertUser(user('grace@example.com', { externalId: 'ext-2', displayName: 'Grace Hopper', emails: [{ value: 'grace@navy.mil', type: 'home' }], [ENTERPRISE_USER_SCHEMA]: { department: 'Navy' } }));
        await tx.insertUser(user('alan@example.org', { displayName: 'Alan Turing', title: '' }, false));
      });
    });

    it.each([
      ['userName eq "ADA@example.com"', ['ada@example.com']],
      ['userName ne "ada@example.com"', ['alan@example.org', 'grace@example.com']],
      ['userName co "EXAMPLE.COM"', ['ada@example.com', 'grace@example.com']],
      ['userName sw "A"', ['ada@example.com', 'alan@example.org']],
      ['userName ew ".org"', ['alan@example.org']],
      ['userName gt "b"', ['grace@example.com']],
      ['externalId eq "EXT-1"', ['ada@example.com']],
      ['externalId eq "ext-1"', []],
      ['title pr', ['ada@example.com']],
      ['active eq false', ['alan@example.org']],
      ['active eq true and not (title pr)', ['grace@example.com']],
      ['displayName eq "grace hopper" or userName eq "alan@example.org"', ['alan@example.org', 'grace@example.com']],
      ['emails[type eq "work" and value co "@EXAMPLE"]', ['ada@example.com']],
      ['emails.value eq "grace@navy.mil"', ['grace@example.com']],
      ['emails eq "grace@navy.mil"', ['grace@example.com']],
      ['emails pr', ['ada@example.com', 'grace@example.com']],
      [`${ENTERPRISE_USER_SCHEMA}:department eq "navy"`, ['grace@example.com']],
      [`${ENTERPRISE_USER_SCHEMA}:manager.value eq "m-1"`, ['ada@example.com']],
      ['meta.resourceType eq "User"', ['ada@example.com', 'alan@example.org', 'grace@example.com']],
    ])('%s', async (filter, expected) => {
      expect(names(await find(filter))).toEqual(expected);
    });

    it('compares date-times as times', async () => {
      const all = await store.queryUsers({ startIndex: 1, count: 10 });
      const second = all.items[1].lastModified;
      const withoutMillis = second.replace('.000Z', 'Z');
      expect(names(await find(`meta.lastModified gt "${withoutMillis}"`))).toEqual([all.items[2].userName]);
      expect((await find(`meta.lastModified ge "${withoutMillis}"`)).items).toHaveLength(2);
    });

    it('pages with coherent totals and sorts', async () => {
      const first = await store.queryUsers({ startIndex: 1, count: 2, sortBy: 'userName' });
      expect(first.totalResults).toBe(3);
      expect(first.items.map((u) => u.userName)).toEqual(['ada@example.com', 'alan@example.org']);
      const second = await store.queryUsers({ startIndex: 3, count: 2, sortBy: 'userName' });
      expect(second).toMatchObject({ totalResults: 3, items: [{ userName: 'grace@example.com' }] });
      const none = await store.queryUsers({ startIndex: 1, count: 0 });
      expect(none).toEqual({ totalResults: 3, items: [] });
      const desc = await store.queryUsers({ startIndex: 1, count: 1, sortBy: 'name.givenName', sortDescending: true });
      expect(desc.totalResults).toBe(3);
    });
  });

  describe('membership', () => {
    it('adds idempotently, removes, replaces, and derives users\' groups', async () => {
      const ada = user('ada@example.com');
      const grace = user('grace@example.com');
      const eng = group('Engineering');
      await store.transaction(async (tx) => {
        await tx.insertUser(ada);
        await tx.insertUser(grace);
        await tx.insertGroup(eng);
        expect(await tx.addMembers(eng.id, [ada.id, grace.id, ada.id])).toBe(2);
        expect(await tx.addMembers(eng.id, [ada.id])).toBe(0);
      });
      expect((await store.membersOfGroups([eng.id])).get(eng.id)?.map((m) => m.value).sort()).toEqual([ada.id, grace.id].sort());
      expect((await store.groupsOfUsers([ada.id])).get(ada.id)).toEqual([{ value: eng.id, display: 'Engineering' }]);

      const byMember = await store.queryGroups({ filter: parseFilter(`members[value eq "${ada.id}"]`), startIndex: 1, count: 10 });
      expect(byMember.items.map((g) => g.id)).toEqual([eng.id]);
      const byGroup = await store.queryUsers({ filter: parseFilter(`groups.value eq "${eng.id}"`), startIndex: 1, count: 10 });
      expect(byGroup.totalResults).toBe(2);

      await store.transaction(async (tx) => expect(await tx.removeMembers(eng.id, [ada.id, 'nobody'])).toBe(1));
      await store.transaction((tx) => tx.deleteUser(grace.id));
      expect((await store.membersOfGroups([eng.id])).get(eng.id)).toEqual([]);
      expect(await store.transaction((tx) => tx.existingUserIds([ada.id, grace.id, 'x']))).toEqual(new Set([ada.id]));
    });

    it('keeps group names unique case-insensitively and deletes memberships with the group', async () => {
      const ada = user('ada@example.com');
      const eng = group('Engineering');
      await store.transaction(async (tx) => {
        await tx.insertUser(ada);
        await tx.insertGroup(eng);
        await tx.addMembers(eng.id, [ada.id]);
      });
      await expect(store.transaction((tx) => tx.insertGroup(group('ENGINEERING')))).rejects.toBeInstanceOf(UniqueViolation);
      await store.transaction((tx) => tx.deleteGroup(eng.id));
      expect((await store.groupsOfUsers([ada.id])).get(ada.id)).toEqual([]);
      const counts = await store.counts();
      expect(counts).toMatchObject({ usersActive: 1, usersSuspended: 0, groupsManaged: 0, groupsProtected: 4 });
    });
  });

  describe('events', () => {
    it('records, pages newest first, filters and prunes', async () => {
      for (let i = 0; i < 5; i++) {
        await store.recordEvent({ at: `2026-01-0${i + 1}T00:00:00.000Z`, actor: 'Okta SCIM Client', action: i % 2 ? 'user.create' : 'group.create', resourceName: `thing-${i}`, outcome: i === 4 ? 'refused' : 'success', status: i === 4 ? 409 : 201, requestId: `r${i}` });
      }
      const newest = await store.listEvents({ limit: 2 });
      expect(newest.map((e) => e.resourceName)).toEqual(['thing-4', 'thing-3']);
      const older = await store.listEvents({ limit: 2, before: newest[1].id });
      expect(older.map((e) => e.resourceName)).toEqual(['thing-2', 'thing-1']);
      expect((await store.listEvents({ limit: 10, outcome: 'refused' })).map((e) => e.status)).toEqual([409]);
      expect((await store.listEvents({ limit: 10, search: 'USER.' })).length).toBe(2);
      expect((await store.listEvents({ limit: 10, search: '100%_' })).length).toBe(0);
      expect(await store.pruneEvents('2026-01-03T00:00:00.000Z')).toBe(2);
      expect((await store.listEvents({ limit: 10 })).length).toBe(3);
    });
  });
}
