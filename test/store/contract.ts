/**
 * What every store adapter must do. Run by sqlite.test.ts and postgres.test.ts against real databases.
 */
import { randomUUID } from 'node:crypto';
import { parseFilter } from '../../bridge/src/scim/filter';
import { ENTERPRISE_USER_SCHEMA } from '../../bridge/src/scim/schemas';
import { type GroupRecord, type Store, StoreRefused, UniqueViolation, type UserRecord } from '../../bridge/src/store/types';

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
  /** A filter the parser would refuse (the edge refuses such text first): the store must refuse it on its own too. */
  const findUnparsable = (attribute: string, value: string) =>
    store.queryUsers({
      filter: JSON.parse(JSON.stringify(parseFilter(`${attribute} eq "PLACEHOLDER"`)).replace('PLACEHOLDER', () => JSON.stringify(value).slice(1, -1))),
      startIndex: 1,
      count: 100,
    });

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
        await tx.insertUser(
          user('ada@example.com', {
            externalId: 'EXT-1',
            displayName: 'Ada Lovelace',
            title: 'Countess',
            emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
            [ENTERPRISE_USER_SCHEMA]: { department: 'Analytical Engines', manager: { value: 'm-1' } },
          }),
        );
        await tx.insertUser(
          user('grace@example.com', {
            externalId: 'ext-2',
            displayName: 'Grace Hopper',
            emails: [{ value: 'grace@navy.mil', type: 'home' }],
            [ENTERPRISE_USER_SCHEMA]: { department: 'Navy' },
          }),
        );
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
    it("adds idempotently, removes, replaces, and derives users' groups", async () => {
      const ada = user('ada@example.com');
      const grace = user('grace@example.com');
      const eng = group('Engineering');
      await store.transaction(async (tx) => {
        await tx.insertUser(ada);
        await tx.insertUser(grace);
        await tx.insertGroup(eng);
        expect((await tx.addMembers(eng.id, [ada.id, grace.id, ada.id])).sort()).toEqual([ada.id, grace.id].sort());
        expect(await tx.addMembers(eng.id, [ada.id])).toEqual([]);
      });
      expect(
        (await store.membersOfGroups([eng.id]))
          .get(eng.id)
          ?.map((m) => m.value)
          .sort(),
      ).toEqual([ada.id, grace.id].sort());
      expect((await store.groupsOfUsers([ada.id])).get(ada.id)).toEqual([{ value: eng.id, display: 'Engineering' }]);

      const byMember = await store.queryGroups({ filter: parseFilter(`members[value eq "${ada.id}"]`), startIndex: 1, count: 10 });
      expect(byMember.items.map((g) => g.id)).toEqual([eng.id]);
      const byGroup = await store.queryUsers({ filter: parseFilter(`groups.value eq "${eng.id}"`), startIndex: 1, count: 10 });
      expect(byGroup.totalResults).toBe(2);

      await store.transaction(async (tx) => expect(await tx.removeMembers(eng.id, [ada.id, 'nobody'])).toEqual([ada.id]));
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

  describe('hot reads: one statement, compiled once per shape', () => {
    it('answers a unique key with at most one row, the total from the same statement, and pages past it', async () => {
      const ada = user('ada@example.com', { externalId: 'X' });
      const twin = user('twin@example.com', { externalId: 'X' });
      await store.transaction(async (tx) => {
        await tx.insertUser(ada);
        await tx.insertUser(twin);
      });
      const byName = (startIndex: number, count: number) => store.queryUsers({ filter: parseFilter('userName eq "ADA@example.com"'), startIndex, count });
      expect(await byName(1, 100)).toMatchObject({ totalResults: 1, items: [{ id: ada.id }] });
      expect(await byName(2, 100)).toEqual({ totalResults: 1, items: [] });
      expect(await byName(1, 0)).toEqual({ totalResults: 1, items: [] });
      // the same shape with another value reuses the plan and binds the new value
      expect((await store.queryUsers({ filter: parseFilter('userName eq "twin@example.com"'), startIndex: 1, count: 1 })).items.map((u) => u.id)).toEqual([
        twin.id,
      ]);
      expect((await store.queryUsers({ filter: parseFilter('userName eq "nobody@example.com"'), startIndex: 1, count: 1 })).totalResults).toBe(0);
      expect((await store.queryUsers({ filter: parseFilter(`id eq "${twin.id}" and active eq true`), startIndex: 1, count: 5 })).totalResults).toBe(1);
      // externalId is not unique: ordered pages with a separate total
      const first = await store.queryUsers({ filter: parseFilter('externalId eq "X"'), startIndex: 1, count: 1 });
      expect(first.totalResults).toBe(2);
      const second = await store.queryUsers({ filter: parseFilter('externalId eq "X"'), startIndex: 2, count: 1 });
      expect([...first.items, ...second.items].map((u) => u.id).sort()).toEqual([ada.id, twin.id].sort());
    });

    it('returns a user with its groups, and a group with its members, in one read', async () => {
      const ada = user('ada@example.com', { displayName: 'Ada' });
      const grace = user('grace@example.com');
      const eng = group('Engineering');
      const art = group('art');
      await store.transaction(async (tx) => {
        await tx.insertUser(ada);
        await tx.insertUser(grace);
        await tx.insertGroup(eng);
        await tx.insertGroup(art);
        await tx.addMembers(eng.id, [ada.id, grace.id]);
        await tx.addMembers(art.id, [ada.id]);
      });
      const found = await store.queryUsers({ filter: parseFilter('userName eq "ada@example.com"'), startIndex: 1, count: 1, withGroups: true });
      expect(found.items[0].groups).toEqual([
        { value: art.id, display: 'art' },
        { value: eng.id, display: 'Engineering' },
      ]);
      expect((await store.getUser(grace.id, { withGroups: true }))?.groups).toEqual([{ value: eng.id, display: 'Engineering' }]);
      expect((await store.getUser(grace.id))?.groups).toBeUndefined();
      const loner = user('loner@example.com');
      await store.transaction((tx) => tx.insertUser(loner));
      expect((await store.getUser(loner.id, { withGroups: true }))?.groups).toEqual([]);
      const withMembers = await store.getGroup(eng.id, { withMembers: true });
      expect(withMembers?.members).toEqual(
        [
          { value: ada.id, display: 'Ada' },
          { value: grace.id, display: 'grace@example.com' },
        ].sort((a, b) => (a.value < b.value ? -1 : 1)),
      );
      const byMember = await store.queryGroups({ filter: parseFilter(`members[value eq "${grace.id}"]`), startIndex: 1, count: 10, withMembers: true });
      expect(byMember.items.map((g) => [g.displayName, g.members?.length])).toEqual([['Engineering', 2]]);
      const byName = await store.queryGroups({ filter: parseFilter('displayName eq "ENGINEERING"'), startIndex: 1, count: 10 });
      expect(byName).toMatchObject({ totalResults: 1, items: [{ id: eng.id }] });
      expect(byName.items[0].members).toBeUndefined();
    });

    it('binds booleans and resource types as values of the same shape', async () => {
      await store.transaction(async (tx) => {
        await tx.insertUser(user('on@example.com', { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'x' } }));
        await tx.insertUser(user('off@example.com', {}, false));
      });
      expect(names(await find('active eq true'))).toEqual(['on@example.com']);
      expect(names(await find('active eq false'))).toEqual(['off@example.com']);
      expect(names(await find('active eq "FALSE"'))).toEqual(['off@example.com']);
      await expect(find('active eq "maybe"')).rejects.toMatchObject({ status: 400, scimType: 'invalidFilter' });
      expect((await find('meta.resourceType eq "user"')).totalResults).toBe(2);
      expect((await find('meta.resourceType eq "Group"')).totalResults).toBe(0);
      await expect(find('meta.lastModified gt "not a date"')).rejects.toMatchObject({ status: 400 });
    });
  });

  describe('text no adapter can store alike', () => {
    // PostgreSQL cannot keep NUL in text or jsonb and both drivers turn a lone surrogate into U+FFFD; SQLite would
    // keep either. Both adapters refuse them with the same 400, wherever they appear (the edge refuses them first).
    const bad = ['nul\u0000inside', 'lone \ud800 high', 'lone \udc00 low', 'reversed \udc00\ud800'];
    it.each(bad)('refuses %j in a userName, in the document and in a filter, and stores nothing', async (text) => {
      const refused = (promise: Promise<unknown>) => expect(promise).rejects.toBeInstanceOf(StoreRefused);
      await refused(store.transaction((tx) => tx.insertUser(user(`${text}@example.com`))));
      await refused(store.transaction((tx) => tx.insertUser(user('ok@example.com', { title: text }))));
      await refused(store.transaction((tx) => tx.insertUser(user('ok@example.com', { [text]: 'as a key' }))));
      await refused(store.transaction((tx) => tx.insertGroup(group(text))));
      await refused(findUnparsable('title', text));
      await refused(store.getUser(text));
      expect((await store.counts()).usersActive).toBe(0);
    });

    it('keeps valid pairs, backslashes and escapes that only look like the refused ones', async () => {
      const fine = user('emoji@example.com', { title: 'a \ud83d\ude00 smile', nickName: 'back\\slash \\u0000 literally \\\\ud800' });
      await store.transaction((tx) => tx.insertUser(fine));
      expect((await store.getUser(fine.id))?.doc).toEqual(fine.doc);
      expect(names(await find('title co "\ud83d\ude00"'))).toEqual(['emoji@example.com']);
    });

    it('records events with such text made storable, so a refusal is still recorded', async () => {
      await store.recordEvent({
        at: new Date().toISOString(),
        actor: 'agent\u0000x',
        action: 'user.create',
        outcome: 'refused',
        status: 400,
        detail: 'bad \ud800 text',
      });
      const [event] = await store.listEvents({ limit: 1 });
      expect(event).toMatchObject({ actor: 'agent\ufffdx', detail: 'bad \ufffd text' });
    });
  });

  describe('leases and state', () => {
    it('gives a lease to one holder at a time, renews it for that holder only, and hands it over on release', async () => {
      expect(await store.tryAcquireLease('google-sync', 'replica-a', 60_000)).toBe(true);
      expect(await store.tryAcquireLease('google-sync', 'replica-b', 60_000)).toBe(false);
      expect(await store.tryAcquireLease('google-sync', 'replica-a', 60_000)).toBe(true); // re-acquiring renews
      expect(await store.renewLease('google-sync', 'replica-a', 60_000)).toBe(true);
      expect(await store.renewLease('google-sync', 'replica-b', 60_000)).toBe(false);
      expect(await store.releaseLease('google-sync', 'replica-b')).toBe(false);
      expect(await store.tryAcquireLease('other-job', 'replica-b', 60_000)).toBe(true); // leases are independent
      expect(await store.releaseLease('google-sync', 'replica-a')).toBe(true);
      expect(await store.tryAcquireLease('google-sync', 'replica-b', 60_000)).toBe(true);
      expect(await store.renewLease('google-sync', 'replica-a', 60_000)).toBe(false);
    });

    it('lets another holder take a lease its holder let expire, and the old holder learns it lost it', async () => {
      expect(await store.tryAcquireLease('job', 'slow', 1)).toBe(true);
      // Expiry is by the database's clock: poll (bounded) until the 1 ms lease has run out.
      let taken = false;
      for (let i = 0; i < 200 && !taken; i++) taken = await store.tryAcquireLease('job', 'fast', 60_000);
      expect(taken).toBe(true);
      expect(await store.renewLease('job', 'slow', 60_000)).toBe(false);
      expect(await store.releaseLease('job', 'slow')).toBe(false);
      expect(await store.tryAcquireLease('job', 'slow', 60_000)).toBe(false);
    });

    it('refuses nonsense lease arguments', async () => {
      await expect(store.tryAcquireLease('', 'a', 1000)).rejects.toThrow(RangeError);
      await expect(store.tryAcquireLease('x', 'a', 0)).rejects.toThrow(/ttlMs/);
      await expect(store.tryAcquireLease('x', 'a', 1.5)).rejects.toThrow(/ttlMs/);
    });

    it('keeps state values by key, replacing them, and shares them with every handle on the store', async () => {
      expect(await store.getState('google.checkpoint')).toBeUndefined();
      await store.setState('google.checkpoint', JSON.stringify({ etag: 'a', at: 1 }));
      await store.setState('google.checkpoint', JSON.stringify({ etag: 'b', at: 2 }));
      expect(JSON.parse((await store.getState('google.checkpoint'))!)).toEqual({ etag: 'b', at: 2 });
      await store.setState('empty', '');
      expect(await store.getState('empty')).toBe('');
      await expect(store.setState('big', 'x'.repeat(1024 * 1024 + 1))).rejects.toThrow(/1 MiB/);
      await expect(store.setState('bad', 'nul\u0000')).rejects.toBeInstanceOf(StoreRefused);
      expect(await store.listState()).toEqual(
        new Map([
          ['empty', ''],
          ['google.checkpoint', JSON.stringify({ etag: 'b', at: 2 })],
        ]),
      );
    });

    it('writes state inside a transaction, all or nothing', async () => {
      await expect(
        store.transaction(async (tx) => {
          await tx.setState('tx.kept', 'no');
          throw new Error('abandon');
        }),
      ).rejects.toThrow('abandon');
      expect(await store.getState('tx.kept')).toBeUndefined();
      await store.transaction((tx) => tx.setState('tx.kept', 'yes'));
      expect(await store.getState('tx.kept')).toBe('yes');
    });
  });

  describe('events', () => {
    it('records, pages newest first, filters and prunes', async () => {
      for (let i = 0; i < 5; i++) {
        await store.recordEvent({
          at: `2026-01-0${i + 1}T00:00:00.000Z`,
          actor: 'Okta SCIM Client',
          action: i % 2 ? 'user.create' : 'group.create',
          resourceName: `thing-${i}`,
          outcome: i === 4 ? 'refused' : 'success',
          status: i === 4 ? 409 : 201,
          requestId: `r${i}`,
        });
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
