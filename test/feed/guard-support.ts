/**
 * Helpers for the guard's suites: the feed as an application reads it (`store.readChanges`), and changes made up
 * the way the directory hands them over. Where the store has no change log of its own (a branch built before it),
 * an in-process log stands in, shared by every Store opened on the same database, appended at commit.
 */
import type { Change, ChangeInput } from '../../bridge/src/feed/types';
import type { Store, StoreTx } from '../../bridge/src/store/types';

type WithLog = Store & { readChanges?(after: number, limit: number): Promise<Change[]> };
const logs = new Map<string, Change[]>();

/** The store with a change log: its own, or the stand-in keyed by `database`. */
export function withChangeLog(store: Store, database: string): Store {
  if (typeof (store as WithLog).readChanges === 'function') return store;
  const log = logs.get(database) ?? [];
  logs.set(database, log);
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'readChanges') return async (after: number, limit: number) => log.filter((c) => c.position > after).slice(0, limit);
      if (property === 'transaction') {
        return async <T>(work: (tx: StoreTx) => Promise<T>) => {
          const appended: ChangeInput[] = [];
          const result = await target.transaction((tx) =>
            work(
              new Proxy(tx, {
                get(t, p, r) {
                  if (p === 'appendChanges') return async (changes: readonly ChangeInput[]) => void appended.push(...changes);
                  const value = Reflect.get(t, p, r);
                  return typeof value === 'function' ? value.bind(t) : value;
                },
              }),
            ),
          );
          for (const change of appended) log.push({ ...change, position: log.length + 1, directory: 'default', at: new Date().toISOString() });
          return result;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Every change in the feed, read as an application reads it: page after page from the start. */
export async function feedOf(store: Store): Promise<Change[]> {
  const all: Change[] = [];
  for (let page = 0; page < 100; page++) {
    const next = await (store as WithLog).readChanges!(all.at(-1)?.position ?? 0, 10_000);
    all.push(...next);
    if (next.length < 10_000) return all;
  }
  throw new Error('more than a million changes in a test feed');
}

export const IDP = 'Microsoft Azure AD Scim Client';

export function suspended(id: string, version = 2, actor = IDP): ChangeInput {
  return {
    type: 'user.suspended',
    resource: { type: 'User', id, version },
    actor,
    state: { userName: `${id}@example.com`, active: false },
    changed: ['active'],
  };
}

export function reactivated(id: string, version = 3, actor = IDP): ChangeInput {
  return {
    type: 'user.reactivated',
    resource: { type: 'User', id, version },
    actor,
    state: { userName: `${id}@example.com`, active: true },
    changed: ['active'],
  };
}

export function created(id: string, actor = IDP): ChangeInput {
  return { type: 'user.created', resource: { type: 'User', id, version: 1 }, actor, state: { userName: `${id}@example.com`, active: true } };
}

export function updated(id: string, version: number, actor = IDP): ChangeInput {
  return {
    type: 'user.updated',
    resource: { type: 'User', id, version },
    actor,
    state: { userName: `${id}@example.com`, active: true, title: `v${version}` },
    changed: ['title'],
  };
}

export function removed(groupId: string, members: string[], version: number, actor = IDP): ChangeInput {
  return { type: 'group.members.removed', resource: { type: 'Group', id: groupId, version }, actor, state: { displayName: 'Staff' }, members };
}
