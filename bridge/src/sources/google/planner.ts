/**
 * What one sync must change, worked out from a complete read of Google and the store, with no I/O: which users to
 * create, update, suspend or reactivate, and what each selected group's name and membership must become. A sync
 * that stopped half-way simply plans the rest next time, because the plan compares states, not events.
 */
import { normalizeInput, type ScimDoc } from '../../scim/resource';
import { ENTERPRISE_USER_SCHEMA } from '../../scim/schemas';
import type { GroupRecord, UserRecord } from '../../store/types';
import type { GoogleGroup, GoogleUser } from './directory-client';

/** What Google says, read in full before anything is planned. */
export interface GoogleSnapshot {
  /** Every user of the account, by Google id. */
  readonly users: ReadonlyMap<string, GoogleUser>;
  readonly groups: readonly SelectedGroup[];
  /** Members that are not users of the account (another domain's addresses, external members). */
  readonly outsideMembers: number;
}

export interface SelectedGroup {
  readonly group: GoogleGroup;
  /** Google ids of the account's users in it, nested groups flattened. */
  readonly members: ReadonlySet<string>;
}

/** The user attributes the sync owns; anything else on a user (set by an administrator, say) is left alone. */
const OWNED = ['userName', 'externalId', 'name', 'displayName', 'emails', 'title'] as const;

export const isActiveInGoogle = (user: GoogleUser) => !user.suspended && !user.archived;

/** The stored SCIM document a Google user maps to (normalized exactly as a SCIM request's body would be). */
export function userDoc(user: GoogleUser): ScimDoc {
  const org = user.organizations?.find((o) => o.primary) ?? user.organizations?.[0];
  const full = user.name?.fullName?.trim() || [user.name?.givenName, user.name?.familyName].filter(Boolean).join(' ');
  return normalizeInput('User', {
    userName: user.primaryEmail,
    externalId: user.id,
    name: { givenName: user.name?.givenName || undefined, familyName: user.name?.familyName || undefined, formatted: full || undefined },
    displayName: full || user.primaryEmail,
    emails: [{ value: user.primaryEmail, type: 'work', primary: true }],
    title: org?.title || undefined,
    ...(org?.department ? { [ENTERPRISE_USER_SCHEMA]: { department: org.department } } : {}),
  });
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

const departmentOf = (doc: ScimDoc) => (doc[ENTERPRISE_USER_SCHEMA] as Record<string, unknown> | undefined)?.department;

/** Whether the owned attributes of `current` differ from `desired`. */
export function ownedAttributesDiffer(current: ScimDoc, desired: ScimDoc): boolean {
  return OWNED.some((key) => stable(current[key]) !== stable(desired[key])) || stable(departmentOf(current)) !== stable(departmentOf(desired));
}

/** The current document with the owned attributes replaced by Google's (the PUT body). */
export function mergeOwned(current: ScimDoc, desired: ScimDoc, active: boolean): ScimDoc {
  const doc: ScimDoc = { ...current };
  for (const key of OWNED) {
    if (desired[key] === undefined) delete doc[key];
    else doc[key] = desired[key];
  }
  const extension: Record<string, unknown> = { ...((current[ENTERPRISE_USER_SCHEMA] as Record<string, unknown> | undefined) ?? {}) };
  const department = departmentOf(desired);
  if (department === undefined) delete extension.department;
  else extension.department = department;
  if (Object.keys(extension).length) doc[ENTERPRISE_USER_SCHEMA] = extension;
  else delete doc[ENTERPRISE_USER_SCHEMA];
  doc.active = active;
  return doc;
}

export type UserOp =
  | { readonly kind: 'create'; readonly google: GoogleUser; readonly doc: ScimDoc }
  | { readonly kind: 'update' | 'reactivate'; readonly google: GoogleUser; readonly user: UserRecord; readonly doc: ScimDoc }
  | { readonly kind: 'suspend'; readonly user: UserRecord; readonly why: string };

export interface UserPlan {
  readonly ops: readonly UserOp[];
  /** Google id → bridge id of every selected user already in the store (creates add theirs when applied). */
  readonly linked: ReadonlyMap<string, string>;
  /** Google ids of the users the sync manages after this run (written before any create, so a crash loses none). */
  readonly managed: ReadonlySet<string>;
  /** Selected users who are active in Google: the ones that belong in the groups. */
  readonly activeSelected: ReadonlySet<string>;
}

/**
 * Users: those in a selected group are created (if active in Google) or brought up to date, suspended when Google
 * suspended or archived them, reactivated when Google did; users the sync manages that are in no selected group any
 * more (or deleted in Google) are suspended. Users it never managed are left alone.
 */
export function planUsers(snapshot: GoogleSnapshot, users: readonly UserRecord[], managed: ReadonlySet<string>): UserPlan {
  const byExternalId = new Map<string, UserRecord>();
  const byUserName = new Map<string, UserRecord>();
  for (const user of users) {
    if (user.externalId) byExternalId.set(user.externalId, user);
    byUserName.set(user.userName.toLowerCase(), user);
  }
  const selected = new Set<string>();
  for (const group of snapshot.groups) for (const id of group.members) selected.add(id);

  const ops: UserOp[] = [];
  const linked = new Map<string, string>();
  const claimed = new Set<string>();
  const nextManaged = new Set<string>();
  const activeSelected = new Set<string>();
  for (const id of [...selected].sort()) {
    const google = snapshot.users.get(id)!;
    const active = isActiveInGoogle(google);
    if (active) activeSelected.add(id);
    let user = byExternalId.get(id);
    if (!user || claimed.has(user.id)) user = byUserName.get(google.primaryEmail.toLowerCase());
    if (user && claimed.has(user.id)) user = undefined;
    if (!user) {
      if (active) {
        ops.push({ kind: 'create', google, doc: userDoc(google) });
        nextManaged.add(id);
      }
      continue;
    }
    claimed.add(user.id);
    linked.set(id, user.id);
    nextManaged.add(id);
    if (!active) {
      if (user.active) ops.push({ kind: 'suspend', user, why: google.archived ? 'archived in Google Workspace' : 'suspended in Google Workspace' });
      continue;
    }
    const doc = userDoc(google);
    if (!user.active) ops.push({ kind: 'reactivate', google, user, doc: mergeOwned(user.doc, doc, true) });
    else if (ownedAttributesDiffer(user.doc, doc)) ops.push({ kind: 'update', google, user, doc: mergeOwned(user.doc, doc, true) });
  }

  for (const id of [...managed].sort()) {
    if (selected.has(id)) continue;
    const user = byExternalId.get(id);
    if (!user || claimed.has(user.id)) continue; // gone from the store (deleted there): no longer managed
    nextManaged.add(id);
    if (user.active) ops.push({ kind: 'suspend', user, why: snapshot.users.has(id) ? 'no longer in a selected group' : 'deleted in Google Workspace' });
  }
  return { ops, linked, managed: nextManaged, activeSelected };
}

export type GroupOp =
  | { readonly kind: 'create'; readonly google: GoogleGroup; readonly members: readonly string[] }
  | {
      readonly kind: 'update';
      readonly google: GoogleGroup;
      readonly group: GroupRecord;
      readonly rename?: string;
      readonly externalId?: string;
      readonly add: readonly string[];
      readonly remove: readonly string[];
    }
  | { readonly kind: 'skip'; readonly google: GoogleGroup; readonly why: string };

/**
 * Groups: each selected group becomes a managed group of the same name whose members are exactly its users who are
 * active in Google. A protected group, or one the bridge does not manage, is never changed (the skip says why).
 */
export function planGroups(
  snapshot: GoogleSnapshot,
  groups: readonly GroupRecord[],
  members: ReadonlyMap<string, ReadonlySet<string>>,
  bridgeIdOf: ReadonlyMap<string, string>,
  activeSelected: ReadonlySet<string>,
): GroupOp[] {
  const ops: GroupOp[] = [];
  for (const { group: google, members: googleMembers } of snapshot.groups) {
    const group = groups.find((g) => g.externalId === google.id) ?? groups.find((g) => g.displayName.toLowerCase() === google.name.toLowerCase());
    if (group?.protected) {
      ops.push({ kind: 'skip', google, why: `"${group.displayName}" is a protected group; the sync never changes it (rename the Google group)` });
      continue;
    }
    if (group && !group.managed) {
      ops.push({
        kind: 'skip',
        google,
        why: `"${group.displayName}" exists and is not managed by the bridge; run "scim-bridge groups manage ${group.id}" to let the sync manage it`,
      });
      continue;
    }
    const desired = new Set(
      [...googleMembers]
        .filter((id) => activeSelected.has(id))
        .map((id) => bridgeIdOf.get(id))
        .filter((id): id is string => !!id),
    );
    if (!group) {
      ops.push({ kind: 'create', google, members: [...desired].sort() });
      continue;
    }
    const current = members.get(group.id) ?? new Set<string>();
    const add = [...desired].filter((id) => !current.has(id)).sort();
    const remove = [...current].filter((id) => !desired.has(id)).sort();
    const rename = group.displayName !== google.name ? google.name : undefined;
    const externalId = group.externalId !== google.id ? google.id : undefined;
    if (add.length || remove.length || rename !== undefined || externalId !== undefined) {
      ops.push({ kind: 'update', google, group, rename, externalId, add, remove });
    }
  }
  return ops;
}
