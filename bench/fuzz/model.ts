/**
 * What one client lane believes the bridge holds: the users and groups it created (and only it touches), updated
 * from every acknowledged answer. The lane predicts answers from it (a known userName is a 409, a deleted user a
 * 404, a group's members exactly these), and the run compares it with the store at the end.
 */
import { nameKey } from '../../bridge/src/scim/names';

export interface ModelUser {
  readonly id: string;
  userName: string;
  active: boolean;
  externalId?: string;
  etag?: string;
  /** Single-valued string attributes as stored (path → value): each must match itself in a filter. */
  strings: Record<string, string>;
}

export interface ModelGroup {
  readonly id: string;
  displayName: string;
  etag?: string;
  members: Set<string>;
}

/** Counts of acknowledged writes, across lanes, that the events table must agree with. */
export interface Acknowledged {
  userCreates: number;
  userDeletes: number;
  groupCreates: number;
  groupDeletes: number;
}

export class LaneModel {
  readonly users = new Map<string, ModelUser>();
  /** The users' ids in an array, for a random pick in O(1) (a lane may hold thousands). */
  private readonly userIds: string[] = [];
  private readonly userSlot = new Map<string, number>();
  readonly groups = new Map<string, ModelGroup>();
  readonly deletedUsers = new Set<string>();
  /** The last few deleted users, to ask for again (a 404, a refused member). */
  readonly recentlyDeleted: string[] = [];
  readonly deletedGroups = new Set<string>();
  /** Groups changed by an answer the lane cannot predict (a hostile PATCH that was accepted): read before use. */
  readonly staleGroups = new Set<string>();
  /** Resources a write may or may not have changed (no answer came): the final check takes the store's word. */
  readonly uncertain = new Set<string>();
  /** userNames (name keys) the lane sent in creates that got no answer: they may exist. */
  readonly uncertainNames = new Set<string>();
  /** Hostile creates that got no answer (their names are not known): that many unexplained resources are allowed. */
  uncertainCreates = 0;

  /** The user an answer describes, recorded or refreshed from the answer's body. */
  userFromAnswer(body: Record<string, unknown>, etag: string | undefined): ModelUser | undefined {
    if (typeof body?.id !== 'string' || typeof body.userName !== 'string') return undefined;
    const strings: Record<string, string> = {};
    for (const key of ['displayName', 'nickName', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone', 'profileUrl']) {
      if (typeof body[key] === 'string') strings[key] = body[key] as string;
    }
    const name = body.name as Record<string, unknown> | undefined;
    if (name && typeof name === 'object') for (const [k, v] of Object.entries(name)) if (typeof v === 'string') strings[`name.${k}`] = v;
    const user: ModelUser = {
      id: body.id,
      userName: body.userName,
      active: body.active !== false,
      externalId: typeof body.externalId === 'string' ? body.externalId : undefined,
      etag,
      strings,
    };
    this.users.set(user.id, user);
    if (!this.userSlot.has(user.id)) {
      this.userSlot.set(user.id, this.userIds.length);
      this.userIds.push(user.id);
    }
    this.deletedUsers.delete(user.id);
    return user;
  }

  groupFromAnswer(body: Record<string, unknown>, etag: string | undefined): ModelGroup | undefined {
    if (typeof body?.id !== 'string' || typeof body.displayName !== 'string') return undefined;
    const members = new Set<string>();
    if (Array.isArray(body.members)) for (const m of body.members as { value?: unknown }[]) if (typeof m?.value === 'string') members.add(m.value);
    const group: ModelGroup = { id: body.id, displayName: body.displayName, etag, members };
    this.groups.set(group.id, group);
    this.deletedGroups.delete(group.id);
    this.staleGroups.delete(group.id);
    return group;
  }

  /** The id at `fraction` (in [0, 1)) of the users: a random pick given a random fraction. */
  userAt(fraction: number): ModelUser | undefined {
    return this.userIds.length ? this.users.get(this.userIds[Math.floor(fraction * this.userIds.length)]) : undefined;
  }

  deleteUser(id: string): void {
    this.users.delete(id);
    this.recentlyDeleted.push(id);
    if (this.recentlyDeleted.length > 200) this.recentlyDeleted.shift();
    const slot = this.userSlot.get(id);
    if (slot !== undefined) {
      const last = this.userIds.pop()!;
      if (last !== id) {
        this.userIds[slot] = last;
        this.userSlot.set(last, slot);
      }
      this.userSlot.delete(id);
    }
    this.deletedUsers.add(id);
    for (const group of this.groups.values()) group.members.delete(id);
  }

  deleteGroup(id: string): void {
    this.groups.delete(id);
    this.deletedGroups.add(id);
    this.staleGroups.delete(id);
  }

  /** Whether `userName` is taken by a user of this lane (case-insensitively, by the bridge's rule). */
  holderOf(userName: string): ModelUser | undefined {
    const key = nameKey(userName);
    for (const user of this.users.values()) if (nameKey(user.userName) === key) return user;
    return undefined;
  }

  groupNamed(displayName: string): ModelGroup | undefined {
    const key = nameKey(displayName);
    for (const group of this.groups.values()) if (nameKey(group.displayName) === key) return group;
    return undefined;
  }

  groupsOf(userId: string): string[] {
    const out: string[] = [];
    for (const group of this.groups.values()) if (group.members.has(userId)) out.push(group.id);
    return out;
  }
}
