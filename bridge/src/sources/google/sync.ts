/**
 * One sync: read Google in full (users, then each selected group's members, nested groups flattened), read the
 * store, plan, and apply the plan through the Directory (the same provisioning rules and events as a SCIM request,
 * with actor `google-workspace`). Nothing is changed unless the read of Google completed: a failed or partial read
 * must never look like "everyone left the group".
 */
import { randomUUID } from 'node:crypto';
import type { Directory, RequestContext } from '../../directory/directory';
import { ScimError } from '../../scim/errors';
import { GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../../scim/schemas';
import type { GroupRecord, Store, UserRecord } from '../../store/types';
import type { DirectoryClient, GoogleMember, GoogleUser } from './directory-client';
import { type GoogleSnapshot, type SelectedGroup, planGroups, planUsers } from './planner';

export const SYNC_ACTOR = 'google-workspace';
export const STATE_KEYS = {
  managedUsers: 'google-workspace.managed-users',
  lastRun: 'google-workspace.last-run',
  lastSuccess: 'google-workspace.last-success',
} as const;

const PAGE = 1000;
/** Member ids per PATCH operation (the bridge takes up to 1,000 operations a request). */
const MEMBER_CHUNK = 500;
const MAX_ERRORS_KEPT = 20;

export type SyncCounts = {
  googleUsers: number;
  selectedUsers: number;
  outsideMembers: number;
  usersCreated: number;
  usersUpdated: number;
  usersSuspended: number;
  usersReactivated: number;
  groupsCreated: number;
  groupsUpdated: number;
  membersAdded: number;
  membersRemoved: number;
  googleRequests: number;
};

export interface SyncRun {
  readonly id: string;
  readonly replica: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** success: everything applied; partial: Google was read, some changes were refused; failed: nothing or part applied. */
  readonly outcome: 'success' | 'partial' | 'failed';
  readonly counts: SyncCounts;
  readonly errorCount: number;
  /** The first few errors, as one line each. */
  readonly errors: readonly string[];
}

export interface SyncDeps {
  readonly client: DirectoryClient;
  readonly directory: Directory;
  readonly store: Store;
  readonly groups: readonly string[];
  readonly replica: string;
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

/** Reads what the selected groups hold: their direct members, and the members of groups inside them, once each. */
export async function readSnapshot(client: DirectoryClient, groupKeys: readonly string[], signal?: AbortSignal): Promise<GoogleSnapshot> {
  const users = new Map<string, GoogleUser>();
  const byEmail = new Map<string, string>();
  for (const user of await client.listUsers(signal)) {
    if (!user?.id || typeof user.primaryEmail !== 'string') continue;
    users.set(user.id, user);
    byEmail.set(user.primaryEmail.toLowerCase(), user.id);
  }
  const listed = new Map<string, GoogleMember[]>();
  const membersOf = async (key: string) => {
    let members = listed.get(key);
    if (!members) listed.set(key, (members = await client.listMembers(key, signal)));
    return members;
  };
  const outside = new Set<string>();
  const groups: SelectedGroup[] = [];
  for (const key of groupKeys) {
    const group = await client.getGroup(key, signal);
    const found = new Set<string>();
    const visited = new Set<string>([group.id, key]);
    const walk = async (groupKey: string) => {
      for (const member of await membersOf(groupKey)) {
        const type = (member.type ?? 'USER').toUpperCase();
        if (type === 'GROUP') {
          const nested = member.id ?? member.email;
          if (nested && !visited.has(nested)) {
            visited.add(nested);
            await walk(nested);
          }
        } else if (type === 'CUSTOMER') {
          for (const id of users.keys()) found.add(id); // "everyone in the account"
        } else {
          const id = member.id && users.has(member.id) ? member.id : member.email ? byEmail.get(member.email.toLowerCase()) : undefined;
          if (id) found.add(id);
          else outside.add((member.email ?? member.id ?? '').toLowerCase());
        }
      }
    };
    await walk(group.id);
    groups.push({ group: { id: group.id, email: group.email, name: group.name || group.email }, members: found });
  }
  return { users, groups, outsideMembers: outside.size };
}

export async function allUsers(store: Store): Promise<UserRecord[]> {
  const out: UserRecord[] = [];
  for (let startIndex = 1; ; startIndex += PAGE) {
    const { items } = await store.queryUsers({ startIndex, count: PAGE });
    out.push(...items);
    if (items.length < PAGE) return out;
  }
}

export async function allGroups(store: Store): Promise<GroupRecord[]> {
  const out: GroupRecord[] = [];
  for (let startIndex = 1; ; startIndex += PAGE) {
    const { items } = await store.queryGroups({ startIndex, count: PAGE });
    out.push(...items);
    if (items.length < PAGE) return out;
  }
}

const chunk = <T>(items: readonly T[], size = MEMBER_CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

const etag = (version: number) => `W/"${version}"`;

export async function runSync(deps: SyncDeps): Promise<SyncRun> {
  const now = deps.now ?? Date.now;
  const started = now();
  const id = randomUUID();
  const ctx: RequestContext = { actor: SYNC_ACTOR, requestId: `google-sync-${id.slice(0, 8)}` };
  const counts: SyncCounts = {
    googleUsers: 0,
    selectedUsers: 0,
    outsideMembers: 0,
    usersCreated: 0,
    usersUpdated: 0,
    usersSuspended: 0,
    usersReactivated: 0,
    groupsCreated: 0,
    groupsUpdated: 0,
    membersAdded: 0,
    membersRemoved: 0,
    googleRequests: 0,
  };
  const errors: string[] = [];
  let errorCount = 0;
  const fail = (line: string) => {
    errorCount++;
    if (errors.length < MAX_ERRORS_KEPT) errors.push(line);
  };
  const checkpoint = () => {
    if (deps.signal?.aborted) throw deps.signal.reason instanceof Error ? deps.signal.reason : new Error(String(deps.signal.reason ?? 'sync stopped'));
  };
  /** A refusal (4xx) of one change is reported and the sync goes on; anything else (the store is down) stops it. */
  const attempt = async (what: string, change: () => Promise<void>) => {
    checkpoint();
    try {
      await change();
    } catch (error) {
      if (error instanceof ScimError && error.status < 500) fail(`${what}: ${error.message}`);
      else throw error;
    }
  };

  let outcome: SyncRun['outcome'] = 'success';
  const requestsBefore = deps.client.requests;
  try {
    const snapshot = await readSnapshot(deps.client, deps.groups, deps.signal);
    counts.googleUsers = snapshot.users.size;
    counts.outsideMembers = snapshot.outsideMembers;
    checkpoint();
    const managed = new Set<string>(JSON.parse((await deps.store.getState(STATE_KEYS.managedUsers)) ?? '[]') as string[]);
    const users = await allUsers(deps.store);
    const plan = planUsers(snapshot, users, managed);
    counts.selectedUsers = new Set(snapshot.groups.flatMap((g) => [...g.members])).size;
    // Recorded before any create, so a crash between a create and the end of the run still knows the user is managed.
    await deps.store.setState(STATE_KEYS.managedUsers, JSON.stringify([...plan.managed].sort()));

    const bridgeIdOf = new Map(plan.linked);
    const suspensions = plan.ops.filter((op) => op.kind === 'suspend');
    for (const op of plan.ops) {
      if (op.kind === 'create') {
        await attempt(`create ${op.google.primaryEmail}`, async () => {
          const created = await deps.directory.createUser({ schemas: [USER_SCHEMA], ...op.doc, active: true }, ctx);
          bridgeIdOf.set(op.google.id, created.user.id);
          counts.usersCreated++;
        });
      } else if (op.kind === 'update' || op.kind === 'reactivate') {
        await attempt(`${op.kind} ${op.google.primaryEmail}`, async () => {
          await deps.directory.replaceUser(op.user.id, { schemas: [USER_SCHEMA], ...op.doc }, etag(op.user.version), ctx);
          if (op.kind === 'update') counts.usersUpdated++;
          else counts.usersReactivated++;
        });
      }
    }

    // Groups after the users exist, suspensions after the groups no longer hold them.
    const groups = await allGroups(deps.store);
    const relevant = groups.filter((g) =>
      snapshot.groups.some((s) => s.group.id === g.externalId || s.group.name.toLowerCase() === g.displayName.toLowerCase()),
    );
    const current = await deps.store.membersOfGroups(relevant.map((g) => g.id));
    const members = new Map([...current].map(([gid, refs]) => [gid, new Set(refs.map((m) => m.value))]));
    for (const op of planGroups(snapshot, groups, members, bridgeIdOf, plan.activeSelected)) {
      if (op.kind === 'skip') {
        fail(`group ${op.google.email}: ${op.why}`);
      } else if (op.kind === 'create') {
        await attempt(`create group ${op.google.email}`, async () => {
          await deps.directory.createGroup(
            { schemas: [GROUP_SCHEMA], displayName: op.google.name, externalId: op.google.id, members: op.members.map((value) => ({ value })) },
            ctx,
          );
          counts.groupsCreated++;
          counts.membersAdded += op.members.length;
        });
      } else {
        const operations = [
          ...(op.rename !== undefined ? [{ op: 'replace', path: 'displayName', value: op.rename }] : []),
          ...(op.externalId !== undefined ? [{ op: 'replace', path: 'externalId', value: op.externalId }] : []),
          ...chunk(op.add).map((ids) => ({ op: 'add', path: 'members', value: ids.map((value) => ({ value })) })),
          ...chunk(op.remove).map((ids) => ({ op: 'remove', path: 'members', value: ids.map((value) => ({ value })) })),
        ];
        await attempt(`update group ${op.google.email}`, async () => {
          await deps.directory.patchGroup(op.group.id, { schemas: [PATCH_OP_SCHEMA], Operations: operations }, undefined, ctx);
          counts.groupsUpdated++;
          counts.membersAdded += op.add.length;
          counts.membersRemoved += op.remove.length;
        });
      }
    }

    for (const op of suspensions) {
      if (op.kind !== 'suspend') continue;
      await attempt(`suspend ${op.user.userName} (${op.why})`, async () => {
        await deps.directory.patchUser(
          op.user.id,
          { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] },
          etag(op.user.version),
          ctx,
        );
        counts.usersSuspended++;
      });
    }
    if (errorCount) outcome = 'partial';
  } catch (error) {
    outcome = 'failed';
    fail((error as Error).message || String(error));
  }
  counts.googleRequests = deps.client.requests - requestsBefore;
  const finished = now();
  return {
    id,
    replica: deps.replica,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    outcome,
    counts,
    errorCount,
    errors,
  };
}
