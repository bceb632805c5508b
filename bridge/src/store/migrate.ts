/**
 * `scim-bridge migrate`: copies an embedded store into PostgreSQL in one transaction, so the target holds
 * everything or nothing. It refuses a target that already holds users, so it cannot merge two directories.
 * The kept state moves too (the Google sync's list of the users it manages: without it, a user removed from Google
 * after the move would stay active); leases do not (they belong to running processes).
 */
import { openStore } from './open';
import type { GroupRecord, ProvisioningEvent, Store, UserRecord } from './types';

export interface MigrationSummary {
  users: number;
  groups: number;
  memberships: number;
  events: number;
  state: number;
}

const PAGE = 1000;

async function all<T>(fetch: (startIndex: number) => Promise<{ items: readonly T[] }>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 1; ; start += PAGE) {
    const { items } = await fetch(start);
    out.push(...items);
    if (items.length < PAGE) return out;
  }
}

export async function migrateStore(fromUrl: string, toUrl: string, log: (line: string) => void = () => undefined): Promise<MigrationSummary> {
  if (!/^sqlite:/i.test(fromUrl)) throw new Error('--from must be an embedded store (sqlite:PATH)');
  if (!/^postgres(ql)?:\/\//i.test(toUrl)) throw new Error('--to must be a postgres:// URL');
  const source = await openStore(fromUrl);
  let target: Store | undefined;
  try {
    await source.migrate();
    target = await openStore(toUrl);
    await target.migrate();
    const existing = await target.counts();
    if (existing.usersActive + existing.usersSuspended > 0) {
      throw new Error('the target database already holds users; migrate into an empty database');
    }
    const users = await all<UserRecord>((startIndex) => source.queryUsers({ startIndex, count: PAGE }));
    const groups = await all<GroupRecord>((startIndex) => source.queryGroups({ startIndex, count: PAGE }));
    const members = await source.membersOfGroups(groups.map((g) => g.id));
    const events: ProvisioningEvent[] = [];
    for (let before: number | undefined; ; ) {
      const page = await source.listEvents({ limit: PAGE, before });
      events.push(...page);
      if (page.length < PAGE) break;
      before = page[page.length - 1].id;
    }
    const state = await source.listState();
    log(`Copying ${users.length} users and ${groups.length} groups...`);
    let memberships = 0;
    await target.transaction(async (tx) => {
      for (const user of users) await tx.insertUser(user);
      for (const group of groups) {
        const seeded = await tx.getGroup(group.id);
        if (seeded) await tx.updateGroup({ ...group, version: seeded.version + 1 }, seeded.version);
        else await tx.insertGroup(group);
        const ids = (members.get(group.id) ?? []).map((m) => m.value);
        memberships += (await tx.addMembers(group.id, ids)).length;
      }
      // Oldest first, so the copy's ids keep the original order.
      for (const event of events.reverse()) await tx.recordEvent(event);
      for (const [key, value] of state) await tx.setState(key, value);
    });
    return { users: users.length, groups: groups.length, memberships, events: events.length, state: state.size };
  } finally {
    await source.close();
    await target?.close();
  }
}
