/**
 * The persistence port. The directory layer speaks only this; adapters (embedded SQLite, PostgreSQL) implement
 * it, and test/store/contract.ts holds the behaviour every adapter must show.
 */
import type { FilterNode } from '../scim/filter';
import type { ScimDoc } from '../scim/resource';

export type StoreKind = 'sqlite' | 'postgres';

export interface UserRecord {
  readonly id: string;
  readonly userName: string;
  readonly externalId?: string;
  readonly active: boolean;
  /** SCIM attributes (without id, meta, groups); extension attributes under their URN. */
  readonly doc: ScimDoc;
  readonly version: number;
  readonly created: string;
  readonly lastModified: string;
}

export interface GroupRecord {
  readonly id: string;
  readonly displayName: string;
  readonly externalId?: string;
  /** Created over SCIM or marked managed by an administrator: only these change over SCIM. */
  readonly managed: boolean;
  /** Holds account-wide powers: never changed over SCIM. */
  readonly protected: boolean;
  /** SCIM attributes other than members. */
  readonly doc: ScimDoc;
  readonly version: number;
  readonly created: string;
  readonly lastModified: string;
}

export interface MemberRef {
  readonly value: string;
  readonly display?: string;
}

export interface GroupRef {
  readonly value: string;
  readonly display: string;
}

export interface ListQuery {
  readonly filter?: FilterNode;
  /** 1-based, as SCIM counts. */
  readonly startIndex: number;
  readonly count: number;
  readonly sortBy?: string;
  readonly sortDescending?: boolean;
}

export interface Page<T> {
  readonly totalResults: number;
  readonly items: readonly T[];
}

export type EventOutcome = 'success' | 'refused' | 'failed';

export interface ProvisioningEvent {
  readonly id?: number;
  readonly at: string;
  /** Who: the identity provider as told by its User-Agent, or `cli` for an administrator. */
  readonly actor: string;
  /** What: e.g. user.create, user.suspend, group.members.add, auth.rejected. */
  readonly action: string;
  readonly resourceType?: 'User' | 'Group';
  readonly resourceId?: string;
  /** A human label for the resource (userName, displayName). */
  readonly resourceName?: string;
  readonly outcome: EventOutcome;
  readonly status: number;
  readonly requestId?: string;
  readonly detail?: string;
}

export interface EventQuery {
  readonly limit: number;
  /** Events with an id lower than this (paging backwards from the newest). */
  readonly before?: number;
  readonly outcome?: EventOutcome;
  /** Matches action, resource name or detail (case-insensitive substring). */
  readonly search?: string;
}

export interface DirectoryCounts {
  readonly usersActive: number;
  readonly usersSuspended: number;
  readonly groupsManaged: number;
  readonly groupsProtected: number;
  readonly groupsOther: number;
}

/** Everything a request does, inside one transaction. */
export interface StoreTx {
  getUser(id: string): Promise<UserRecord | undefined>;
  findUserByUserName(userName: string): Promise<UserRecord | undefined>;
  /** Throws UniqueViolation when the userName (case-insensitive) is taken. */
  insertUser(user: UserRecord): Promise<void>;
  /** Writes `user` if the stored version is still `expectedVersion`; false when someone else changed it first. */
  updateUser(user: UserRecord, expectedVersion: number): Promise<boolean>;
  deleteUser(id: string): Promise<boolean>;
  queryUsers(query: ListQuery): Promise<Page<UserRecord>>;
  groupsOfUsers(userIds: readonly string[]): Promise<Map<string, GroupRef[]>>;

  getGroup(id: string): Promise<GroupRecord | undefined>;
  findGroupByName(displayName: string): Promise<GroupRecord | undefined>;
  insertGroup(group: GroupRecord): Promise<void>;
  updateGroup(group: GroupRecord, expectedVersion: number): Promise<boolean>;
  deleteGroup(id: string): Promise<boolean>;
  queryGroups(query: ListQuery): Promise<Page<GroupRecord>>;
  membersOfGroups(groupIds: readonly string[]): Promise<Map<string, MemberRef[]>>;
  /** Adds members that are not yet in the group; returns how many were added. */
  addMembers(groupId: string, userIds: readonly string[]): Promise<number>;
  removeMembers(groupId: string, userIds: readonly string[]): Promise<number>;
  removeAllMembers(groupId: string): Promise<number>;
  /** Of `ids`, those that are users. */
  existingUserIds(ids: readonly string[]): Promise<Set<string>>;

  recordEvent(event: ProvisioningEvent): Promise<void>;
}

export interface Store extends StoreTx {
  readonly kind: StoreKind;
  /** Creates or upgrades the schema; safe to run from several processes at once. */
  migrate(): Promise<void>;
  /** Runs `work` in one transaction: all of it is stored, or none of it. */
  transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Answers when the store is reachable (for /health). */
  ping(): Promise<void>;
  counts(): Promise<DirectoryCounts>;
  listEvents(query: EventQuery): Promise<ProvisioningEvent[]>;
  /** Deletes events older than the cut-off; returns how many. */
  pruneEvents(olderThan: string): Promise<number>;
  /**
   * Takes (or renews) the named lease for `holder` until `ttlMs` from now; true when `holder` has it. Free or expired
   * leases are taken; one held by another holder is not. Replicas use it so that only one of them runs a job at a time.
   */
  tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` still has it. */
  releaseLease(name: string, holder: string): Promise<void>;
  /** A small piece of shared state (a JSON string, say) by key; undefined when never set. */
  getState(key: string): Promise<string | undefined>;
  setState(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** A write broke a uniqueness rule (userName, group displayName). */
export class UniqueViolation extends Error {
  constructor(readonly field: string) {
    super(`${field} is already taken`);
    this.name = 'UniqueViolation';
  }
}

/** The store could not be reached or timed out: a 503 for the client, never a 500. */
export class StoreUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailable';
  }
}
