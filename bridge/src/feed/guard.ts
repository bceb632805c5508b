/**
 * The deprovisioning guard's rules, as pure functions: which changes deprovision people, when a burst of them from
 * one source crosses a threshold, and what a held run of changes to one resource amounts to once released (its net
 * effect). The gate (gate.ts) and the promoter (promoter.ts) apply them; the stores only keep the rows.
 */
import { BRIDGE_ENV } from '../../../contract';
import { ConfigError } from '../config';
import { type ChangeInput, MEMBERS_PER_CHANGE } from './types';

export interface GuardSettings {
  /** More than this many people deprovisioned by one source within the window start a hold; 0 off. */
  readonly holdCount: number;
  /** More than this percent of active users deprovisioned by one source within the window start a hold; 0 off. */
  readonly holdPercent: number;
  /** The window the thresholds count over, in seconds; 0 turns both thresholds off. */
  readonly windowSeconds: number;
  /** Seconds a deprovisioning change waits before delivery, so a burst is held whole; 0 none. */
  readonly settleSeconds: number;
}

export const GUARD_DEFAULTS: GuardSettings = { holdCount: 50, holdPercent: 10, windowSeconds: 900, settleSeconds: 60 };

/**
 * The percent threshold needs at least this many people: in a directory of 20, one dismissal is 5 %, and two are
 * 10 %; a hold there would keep an ordinary departure from ending access without an operator.
 */
export const PERCENT_MIN_PEOPLE = 5;

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) throw new ConfigError(`${name} must be a whole number from 0 to ${max} (got "${raw}")`);
  return value;
}

export function readGuardSettings(env: NodeJS.ProcessEnv): GuardSettings {
  return {
    holdCount: wholeNumber(env, BRIDGE_ENV.deprovisionHoldCount, GUARD_DEFAULTS.holdCount, 10_000_000),
    holdPercent: wholeNumber(env, BRIDGE_ENV.deprovisionHoldPercent, GUARD_DEFAULTS.holdPercent, 100),
    windowSeconds: wholeNumber(env, BRIDGE_ENV.deprovisionHoldWindowSeconds, GUARD_DEFAULTS.windowSeconds, 7 * 86_400),
    settleSeconds: wholeNumber(env, BRIDGE_ENV.deprovisionSettleSeconds, GUARD_DEFAULTS.settleSeconds, 86_400),
  };
}

/** Whether the guard can ever hold anything: a threshold is on and the window is not zero. */
export function guardEnabled(settings: GuardSettings): boolean {
  return settings.windowSeconds > 0 && (settings.holdCount > 0 || settings.holdPercent > 0);
}

/** A change's resource as one key: the unit order is kept in (`User:id`, `Group:id`). */
export function resourceKey(change: Pick<ChangeInput, 'resource'>): string {
  return `${change.resource.type}:${change.resource.id}`;
}

/**
 * Whom a change deprovisions, by user id: the user suspended or deleted; the members removed from (or the group
 * deleted, when the change names no members: the group itself stands for them) a group the operator marked as
 * granting access; nobody for any other change. A person suspended and removed in one burst counts once.
 */
export function deprovisionedSubjects(change: ChangeInput, grantAccessGroups: ReadonlySet<string>): string[] {
  switch (change.type) {
    case 'user.suspended':
    case 'user.deleted':
      return [change.resource.id];
    case 'group.members.removed':
    case 'group.deleted':
      if (!grantAccessGroups.has(change.resource.id)) return [];
      return change.members?.length ? [...change.members] : [`Group:${change.resource.id}`];
    default:
      return [];
  }
}

/**
 * Why `people` deprovisioned by one source within the window start a hold, or undefined when they do not. Both
 * thresholds are "more than": 50 people is not a hold at the default, 51 is. The percent is of the active users
 * the directory had before these (`activeUsers` counts them after, so the people are added back).
 */
export function thresholdCrossed(people: number, activeUsers: number, settings: GuardSettings): string | undefined {
  if (!guardEnabled(settings)) return undefined;
  const window = `${settings.windowSeconds} s`;
  if (settings.holdCount > 0 && people > settings.holdCount) {
    return `${people} people deprovisioned within ${window}: more than ${settings.holdCount}`;
  }
  const base = activeUsers + people;
  if (settings.holdPercent > 0 && people >= PERCENT_MIN_PEOPLE && people * 100 > settings.holdPercent * base) {
    return `${people} people deprovisioned within ${window}: more than ${settings.holdPercent} % of ${base} active users`;
  }
  return undefined;
}

/** The state a user change leaves behind says whether the user is active. */
function activeAfter(change: ChangeInput): boolean {
  if (change.type === 'user.suspended') return false;
  if (change.type === 'user.reactivated') return true;
  return change.state?.active !== false;
}

/** Whether the user was active before `change` (the first held change of a user). */
function activeBefore(change: ChangeInput): boolean {
  if (change.type === 'user.suspended') return true;
  if (change.type === 'user.reactivated') return false;
  return change.state?.active !== false;
}

/** JSON with object keys sorted at every level: equal documents give equal text whatever order a store kept. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(object[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A user's attributes other than `active` and `meta` (which every change moves). */
function attributesOf(state: Record<string, unknown> | undefined): string {
  if (!state) return '';
  const { meta: _meta, active: _active, ...rest } = state;
  return canonical(rest);
}

function unionChanged(changes: readonly ChangeInput[], drop?: string): readonly string[] | undefined {
  if (changes.every((c) => c.changed === undefined)) return undefined;
  const all = new Set<string>();
  for (const change of changes) for (const attribute of change.changed ?? []) all.add(attribute);
  if (drop) all.delete(drop);
  return [...all];
}

function userNet(changes: readonly ChangeInput[]): ChangeInput[] {
  const first = changes[0];
  const last = changes[changes.length - 1];
  const deleted = changes.find((c) => c.type === 'user.deleted');
  if (deleted) return first.type === 'user.created' ? [] : [last.type === 'user.deleted' ? last : deleted];
  if (first.type === 'user.created') return [{ ...last, type: 'user.created', changed: undefined }];
  const before = activeBefore(first);
  const after = activeAfter(last);
  // Compared by state, not by each change's `changed` list: a rename undone before release is no change either.
  // (What the first held change itself did besides `active` is not known: its state is already after it.)
  const attributesMoved = attributesOf(first.state) !== attributesOf(last.state);
  if (!attributesMoved && before === after) return [];
  const type = before && !after ? 'user.suspended' : !before && after ? 'user.reactivated' : 'user.updated';
  return [{ ...last, type, changed: unionChanged(changes, before === after ? 'active' : undefined) }];
}

function chunk(ids: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += MEMBERS_PER_CHANGE) out.push(ids.slice(i, i + MEMBERS_PER_CHANGE));
  return out;
}

function groupNet(changes: readonly ChangeInput[]): ChangeInput[] {
  const first = changes[0];
  const last = changes[changes.length - 1];
  const deleted = changes.find((c) => c.type === 'group.deleted');
  if (deleted) return first.type === 'group.created' ? [] : [last.type === 'group.deleted' ? last : deleted];
  // Per member: present before the first held change, and after the last.
  const presence = new Map<string, { before: boolean; after: boolean }>();
  for (const change of changes) {
    if (change.type !== 'group.members.added' && change.type !== 'group.members.removed') continue;
    const added = change.type === 'group.members.added';
    for (const id of change.members ?? []) {
      const seen = presence.get(id);
      if (seen) seen.after = added;
      else presence.set(id, { before: !added, after: added });
    }
  }
  const added = [...presence].filter(([, p]) => !p.before && p.after).map(([id]) => id);
  const removed = [...presence].filter(([, p]) => p.before && !p.after).map(([id]) => id);
  const updates = changes.filter((c) => c.type === 'group.updated' || c.type === 'group.created');
  const kinds: { type: ChangeInput['type']; members?: string[]; changed?: readonly string[] }[] = [];
  if (first.type === 'group.created') kinds.push({ type: 'group.created' });
  else if (updates.length > 0) kinds.push({ type: 'group.updated', changed: unionChanged(updates) });
  for (const members of chunk(added)) kinds.push({ type: 'group.members.added', members });
  for (const members of chunk(removed)) kinds.push({ type: 'group.members.removed', members });
  // Versions only grow along the feed: the net changes take the last versions of the held ones, in order, and
  // never outnumber them (each net chunk replaces at least one held change of its kind).
  const versions = changes.slice(-kinds.length).map((c) => c.resource.version);
  return kinds.map((kind, i) => ({
    type: kind.type,
    resource: { ...last.resource, version: versions[i] },
    actor: last.actor,
    ...(last.requestId !== undefined ? { requestId: last.requestId } : {}),
    ...(last.state !== undefined ? { state: last.state } : {}),
    ...(kind.changed !== undefined ? { changed: kind.changed } : {}),
    ...(kind.members !== undefined ? { members: kind.members } : {}),
  }));
}

/**
 * What a held run of changes to ONE resource (in order) amounts to: nothing when the resource is back where it
 * was (a suspension undone by a reactivation, members removed and added back), one deletion when it was deleted,
 * otherwise the fewest changes that take a consumer from the state before the run to the state after it.
 */
export function netEffect(changes: readonly ChangeInput[]): ChangeInput[] {
  if (changes.length === 0) return [];
  return changes[0].resource.type === 'User' ? userNet(changes) : changes[0].resource.type === 'Group' ? groupNet(changes) : [...changes];
}

/**
 * The net effect of held changes to many resources, in the order they were held: each resource's net changes take
 * the places of its last held changes, so order per resource holds and the feed reads as it happened.
 */
export function netEffectInOrder<T extends { readonly seq: number; readonly change: ChangeInput }>(rows: readonly T[]): ChangeInput[] {
  const byResource = new Map<string, T[]>();
  for (const row of [...rows].sort((a, b) => a.seq - b.seq)) {
    const key = resourceKey(row.change);
    const list = byResource.get(key);
    if (list) list.push(row);
    else byResource.set(key, [row]);
  }
  const placed: { seq: number; change: ChangeInput }[] = [];
  for (const list of byResource.values()) {
    const net = netEffect(list.map((r) => r.change));
    const seats = list.slice(-net.length);
    for (const [i, change] of net.entries()) placed.push({ seq: seats[i].seq, change });
  }
  return placed.sort((a, b) => a.seq - b.seq).map((p) => p.change);
}
