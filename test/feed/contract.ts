/**
 * What every change-log adapter must do (the ChangeLog port, bridge/src/feed/types.ts), with the changes the Directory
 * writes for real requests. Run by sqlite.test.ts and postgres.test.ts against real databases.
 */
import { Directory, type RequestContext } from '../../bridge/src/directory/directory';
import { type Change, type ChangeInput, MEMBERS_PER_CHANGE, changeDocument, changeId } from '../../bridge/src/feed/types';
import { PATCH_OP_SCHEMA } from '../../bridge/src/scim/schemas';
import type { Store } from '../../bridge/src/store/types';

const ctx: RequestContext = { actor: 'Okta SCIM Client', requestId: 'req-1' };
const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations });

export function change(id: string, version = 1, type: ChangeInput['type'] = 'user.updated'): ChangeInput {
  return { type, resource: { type: 'User', id, version }, actor: 'test', state: { id, userName: `${id}@example.com` }, changed: ['userName'] };
}

/** Every change from the start, read in pages as a consumer would. */
export async function readAll(store: Store, pageSize = 7): Promise<Change[]> {
  const out: Change[] = [];
  for (let after = 0, i = 0; i < 10_000; i++) {
    const page = await store.readChanges(after, pageSize);
    if (!page.length) return out;
    out.push(...page);
    after = page[page.length - 1].position;
  }
  throw new Error('the log did not end');
}

export function describeChangeLogContract(open: () => Promise<Store>): void {
  let store: Store;
  let directory: Directory;
  beforeEach(async () => {
    store = await open();
    await store.migrate();
    directory = new Directory(store, { allowedDomains: [] });
  });
  afterEach(async () => {
    await store.close();
  });

  it('commits changes with their transaction, in growing positions, and keeps none of a rolled-back one', async () => {
    expect(await store.headPosition()).toBe(0);
    expect(await store.oldestPosition()).toBe(0);
    await store.transaction((tx) => tx.appendChanges([change('a'), change('b')]));
    await expect(
      store.transaction(async (tx) => {
        await tx.appendChanges([change('lost')]);
        throw new Error('the request failed');
      }),
    ).rejects.toThrow('the request failed');
    await store.transaction((tx) => tx.appendChanges([change('c')]));
    const all = await readAll(store);
    expect(all.map((c) => c.resource.id)).toEqual(['a', 'b', 'c']);
    for (let i = 1; i < all.length; i++) expect(all[i].position).toBeGreaterThan(all[i - 1].position);
    expect(all[0]).toMatchObject({ type: 'user.updated', directory: 'default', actor: 'test', changed: ['userName'], state: { id: 'a' } });
    expect(await store.headPosition()).toBe(all[2].position);
    expect(await store.oldestPosition()).toBe(all[0].position);
  });

  it('reads after a position, at most a limit, and refuses a nonsense cursor or limit', async () => {
    await store.transaction((tx) => tx.appendChanges(Array.from({ length: 5 }, (_, i) => change(`u${i}`))));
    const [first, second] = await store.readChanges(0, 2);
    expect((await store.readChanges(first.position, 2)).map((c) => c.resource.id)).toEqual(['u1', 'u2']);
    expect(await store.readChanges(second.position + 3, 10)).toEqual([]);
    await expect(store.readChanges(-1, 10)).rejects.toThrow(RangeError);
    await expect(store.readChanges(0, 0)).rejects.toThrow(RangeError);
    await expect(store.readChanges(0, 1e9)).rejects.toThrow(RangeError);
  });

  it('finds the first position at a time, and prunes by age without passing a position still needed', async () => {
    await store.transaction((tx) => tx.appendChanges([change('old-1'), change('old-2')]));
    const [old1, old2] = await readAll(store);
    const later = new Date(Date.parse(old2.at) + 5).toISOString();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await store.transaction((tx) => tx.appendChanges([change('new')]));
    const fresh = (await readAll(store))[2];
    expect(await store.positionAt(old1.at)).toBe(old1.position);
    expect(await store.positionAt(later)).toBe(fresh.position);
    expect(await store.positionAt(new Date(Date.now() + 60_000).toISOString())).toBeUndefined();
    // A reader still at old2: old1 goes, old2 stays, though both are past the age.
    expect(await store.pruneChanges(later, old2.position)).toBe(1);
    expect((await readAll(store)).map((c) => c.resource.id)).toEqual(['old-2', 'new']);
    expect(await store.oldestPosition()).toBe(old2.position);
  });

  it('tells listeners after a commit that appended changes, and not after one that did not', async () => {
    let told = 0;
    const stop = store.onChangesCommitted(() => told++);
    await store.transaction((tx) => tx.appendChanges([change('a')]));
    expect(told).toBe(1);
    await store.transaction(async (tx) => {
      await tx.setState('k', 'v');
    });
    await expect(store.transaction(async (tx) => {
      await tx.appendChanges([change('b')]);
      throw new Error('no');
    })).rejects.toThrow();
    expect(told).toBe(1);
    stop();
    await store.transaction((tx) => tx.appendChanges([change('c')]));
    expect(told).toBe(1);
  });

  it('records a user\'s life as the Directory writes it: created, updated, suspended, reactivated, deleted, versions growing', async () => {
    const { user } = await directory.createUser({ userName: 'ada@example.com', name: { givenName: 'Ada' } }, ctx);
    await directory.patchUser(user.id, patch({ op: 'replace', path: 'name.givenName', value: 'Augusta' }), undefined, ctx);
    await directory.patchUser(user.id, patch({ op: 'replace', path: 'active', value: false }), undefined, ctx);
    await directory.patchUser(user.id, patch({ op: 'replace', path: 'active', value: true }), undefined, ctx);
    // A PATCH that changes nothing is no change.
    await directory.patchUser(user.id, patch({ op: 'replace', path: 'active', value: true }), undefined, ctx);
    await directory.deleteUser(user.id, undefined, ctx);
    const log = await readAll(store);
    expect(log.map((c) => [c.type, c.resource.version])).toEqual([
      ['user.created', 1],
      ['user.updated', 2],
      ['user.suspended', 3],
      ['user.reactivated', 4],
      ['user.deleted', 5],
    ]);
    expect(log[1].changed).toEqual(['name']);
    expect(log[2].changed).toEqual(['active']);
    expect(log[2].state).toMatchObject({ id: user.id, userName: 'ada@example.com', active: false, meta: { resourceType: 'User', version: 'W/"3"' } });
    expect(log[2].state).not.toHaveProperty('groups');
    expect(log[4].state).toBeUndefined();
    expect(log.every((c) => c.actor === 'Okta SCIM Client' && c.requestId === 'req-1')).toBe(true);
    expect(changeDocument(log[0])).toMatchObject({
      id: changeId(log[0]),
      type: 'user.created',
      timestamp: log[0].at,
      data: { position: log[0].position, resource: { type: 'User', id: user.id, version: 1 }, state: { userName: 'ada@example.com' } },
    });
  });

  it('records a refused write as nothing', async () => {
    await directory.createUser({ userName: 'ada@example.com' }, ctx);
    await expect(directory.createUser({ userName: 'ADA@example.com' }, ctx)).rejects.toMatchObject({ status: 409 });
    expect((await readAll(store)).map((c) => c.type)).toEqual(['user.created']);
  });

  it('records memberships in bounded entries: adding 2,500 members is three changes of the group, not one giant row', async () => {
    const ids: string[] = [];
    await store.transaction(async (tx) => {
      for (let i = 0; i < 2500; i++) {
        const at = new Date().toISOString();
        const id = `user-${i}`;
        await tx.insertUser({ id, userName: `u${i}@example.com`, active: true, doc: { userName: `u${i}@example.com`, active: true }, version: 1, created: at, lastModified: at });
        ids.push(id);
      }
    });
    const { group } = await directory.createGroup({ displayName: 'Engineering' }, ctx);
    await directory.patchGroup(group.id, patch({ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }), undefined, ctx);
    const log = await readAll(store, 100);
    expect(log.map((c) => c.type)).toEqual(['group.created', 'group.members.added', 'group.members.added', 'group.members.added']);
    const added = log.slice(1);
    expect(added.map((c) => c.members!.length)).toEqual([MEMBERS_PER_CHANGE, MEMBERS_PER_CHANGE, 500]);
    expect(new Set(added.flatMap((c) => c.members!))).toEqual(new Set(ids));
    expect(added.every((c) => c.resource.version === 2)).toBe(true);
    expect(log[0].state).not.toHaveProperty('members');
  });

  it('records a group\'s rename, its net membership changes and its deletion', async () => {
    const ada = (await directory.createUser({ userName: 'ada@example.com' }, ctx)).user;
    const grace = (await directory.createUser({ userName: 'grace@example.com' }, ctx)).user;
    const { group } = await directory.createGroup({ displayName: 'Eng', members: [{ value: ada.id }] }, ctx);
    // Grace in, Ada out, and a removal of Grace undone in the same request: the net change is +Grace, -Ada.
    await directory.patchGroup(
      group.id,
      patch(
        { op: 'add', path: 'members', value: [{ value: grace.id }] },
        { op: 'remove', path: `members[value eq "${grace.id}"]` },
        { op: 'add', path: 'members', value: [{ value: grace.id }] },
        { op: 'remove', path: `members[value eq "${ada.id}"]` },
        { op: 'replace', path: 'displayName', value: 'Engineering' },
      ),
      undefined,
      ctx,
    );
    // A PUT with the same members changes nothing.
    await directory.replaceGroup(group.id, { displayName: 'Engineering', members: [{ value: grace.id }] }, undefined, ctx);
    await directory.deleteGroup(group.id, undefined, ctx);
    const log = (await readAll(store)).filter((c) => c.resource.type === 'Group');
    expect(log.map((c) => [c.type, c.resource.version, c.members ?? c.changed])).toEqual([
      ['group.created', 1, undefined],
      ['group.members.added', 1, [ada.id]],
      ['group.updated', 2, ['displayName']],
      ['group.members.removed', 2, [ada.id]],
      ['group.members.added', 2, [grace.id]],
      ['group.deleted', 3, undefined],
    ]);
    expect(log[2].state).toMatchObject({ displayName: 'Engineering' });
  });

  it('deleting a user changes each group it leaves: version bumped, an event and a change each, a stale If-Match refused', async () => {
    const ada = (await directory.createUser({ userName: 'ada@example.com' }, ctx)).user;
    const eng = (await directory.createGroup({ displayName: 'Eng', members: [{ value: ada.id }] }, ctx)).group;
    const art = (await directory.createGroup({ displayName: 'Art', members: [{ value: ada.id }] }, ctx)).group;
    await directory.deleteUser(ada.id, undefined, { actor: 'Entra', requestId: 'del-1' });
    const tail = (await readAll(store)).slice(-3);
    expect(tail.map((c) => [c.type, c.resource.id, c.resource.version, c.members])).toEqual(
      expect.arrayContaining([
        ['group.members.removed', eng.id, 2, [ada.id]],
        ['group.members.removed', art.id, 2, [ada.id]],
      ]),
    );
    expect(tail[2]).toMatchObject({ type: 'user.deleted', resource: { id: ada.id }, requestId: 'del-1' });
    expect((await store.getGroup(eng.id))?.version).toBe(2);
    await expect(directory.patchGroup(eng.id, patch({ op: 'replace', path: 'displayName', value: 'X' }), 'W/"1"', ctx)).rejects.toMatchObject({ status: 412 });
    const events = await store.listEvents({ limit: 10 });
    expect(events.filter((e) => e.action === 'group.members.remove').map((e) => e.resourceId).sort()).toEqual([eng.id, art.id].sort());
  });
}
