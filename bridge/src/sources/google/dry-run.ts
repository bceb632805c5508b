/**
 * What a Google Workspace sync would change, without changing anything: the same read of Google and the store, and
 * the same planner (planner.ts), printed as the users it would create, update, reactivate and suspend and the
 * groups whose members it would add or remove. `scim-bridge sync google --dry-run` prints it.
 */
import type { Store } from '../../store/types';
import type { DirectoryClient } from './directory-client';
import { planGroups, planUsers } from './planner';
import { STATE_KEYS, allGroups, allUsers, readSnapshot } from './sync';

export interface SyncPlanCounts {
  usersCreate: number;
  usersUpdate: number;
  usersReactivate: number;
  usersSuspend: number;
  groupsCreate: number;
  groupsUpdate: number;
  membersAdd: number;
  membersRemove: number;
  groupsSkipped: number;
}

export interface SyncPlanReport {
  /** One line per change, in the order the sync applies them (users, groups, then suspensions). */
  readonly lines: readonly string[];
  readonly counts: SyncPlanCounts;
}

export async function planSync(client: DirectoryClient, store: Store, groupKeys: readonly string[]): Promise<SyncPlanReport> {
  const snapshot = await readSnapshot(client, groupKeys);
  const managed = new Set<string>(JSON.parse((await store.getState(STATE_KEYS.managedUsers)) ?? '[]') as string[]);
  const users = await allUsers(store);
  const plan = planUsers(snapshot, users, managed);
  const counts: SyncPlanCounts = {
    usersCreate: 0,
    usersUpdate: 0,
    usersReactivate: 0,
    usersSuspend: 0,
    groupsCreate: 0,
    groupsUpdate: 0,
    membersAdd: 0,
    membersRemove: 0,
    groupsSkipped: 0,
  };
  const lines: string[] = [];
  const nameOf = new Map(users.map((u) => [u.id, u.userName]));
  // Users the sync would create have no bridge id yet: their e-mail stands in for it.
  const bridgeIdOf = new Map(plan.linked);
  const suspensions: string[] = [];
  for (const op of plan.ops) {
    if (op.kind === 'create') {
      bridgeIdOf.set(op.google.id, op.google.primaryEmail);
      nameOf.set(op.google.primaryEmail, op.google.primaryEmail);
      counts.usersCreate++;
      lines.push(`create user ${op.google.primaryEmail}`);
    } else if (op.kind === 'suspend') {
      counts.usersSuspend++;
      suspensions.push(`suspend user ${op.user.userName} (${op.why})`);
    } else {
      counts[op.kind === 'update' ? 'usersUpdate' : 'usersReactivate']++;
      lines.push(`${op.kind} user ${op.user.userName}`);
    }
  }
  const groups = await allGroups(store);
  const relevant = groups.filter((g) => snapshot.groups.some((s) => s.group.id === g.externalId || s.group.name.toLowerCase() === g.displayName.toLowerCase()));
  const current = await store.membersOfGroups(relevant.map((g) => g.id));
  const members = new Map([...current].map(([gid, refs]) => [gid, new Set(refs.map((m) => m.value))]));
  const names = (ids: readonly string[]) => ids.map((id) => nameOf.get(id) ?? id).join(', ');
  for (const op of planGroups(snapshot, groups, members, bridgeIdOf, plan.activeSelected)) {
    if (op.kind === 'skip') {
      counts.groupsSkipped++;
      lines.push(`skip group ${op.google.email}: ${op.why}`);
    } else if (op.kind === 'create') {
      counts.groupsCreate++;
      counts.membersAdd += op.members.length;
      lines.push(`create group ${op.google.name} with ${op.members.length} members`);
    } else {
      counts.groupsUpdate++;
      counts.membersAdd += op.add.length;
      counts.membersRemove += op.remove.length;
      if (op.rename !== undefined) lines.push(`rename group ${op.group.displayName} to ${op.rename}`);
      if (op.add.length) lines.push(`add to group ${op.group.displayName}: ${names(op.add)}`);
      if (op.remove.length) lines.push(`remove from group ${op.group.displayName}: ${names(op.remove)}`);
    }
  }
  return { lines: [...lines, ...suspensions], counts };
}
