/**
 * The persistence port. The directory layer speaks only this; adapters (embedded SQLite, PostgreSQL) implement
 * it, and test/store/contract.ts holds the behaviour every adapter must show.
 */
import type { WebhookEndpointStore } from '../feed/endpoint-record';
import type { Change, ChangeInput, ChangeLog } from '../feed/types';
import type { FilterNode } from '../scim/filter';
import type { ScimDoc } from '../scim/resource';
import type { GuardStorage } from './guard-sql';

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
  /** The groups the user is in, when the read asked for them (`withGroups`), read in the same statement. */
  readonly groups?: readonly GroupRef[];
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
  /** The members, when the read asked for them (`withMembers`), read in the same statement. */
  readonly members?: readonly MemberRef[];
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
  /** Users come with their `groups` (one statement, not one more per page). */
  readonly withGroups?: boolean;
  /** Groups come with their `members`. */
  readonly withMembers?: boolean;
}

export interface UserReadOptions {
  /** Read the user's groups in the same statement. */
  readonly withGroups?: boolean;
}

export interface GroupReadOptions {
  /** Read the group's members in the same statement. */
  readonly withMembers?: boolean;
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

/**
 * Everything a request does, inside one transaction. Text that cannot be stored the same way on every adapter
 * (NUL, an unpaired UTF-16 surrogate) is refused with a 400 before it reaches the database.
 */
export interface StoreTx {
  /** The deprovisioning guard's rows (pending changes, holds): storage only, the rules are in feed/guard.ts. */
  readonly guard: GuardStorage;
  getUser(id: string, options?: UserReadOptions): Promise<UserRecord | undefined>;
  findUserByUserName(userName: string): Promise<UserRecord | undefined>;
  /** Throws UniqueViolation when the userName (case-insensitive) is taken. */
  insertUser(user: UserRecord): Promise<void>;
  /** Writes `user` if the stored version is still `expectedVersion`; false when someone else changed it first. */
  updateUser(user: UserRecord, expectedVersion: number): Promise<boolean>;
  deleteUser(id: string): Promise<boolean>;
  queryUsers(query: ListQuery): Promise<Page<UserRecord>>;
  groupsOfUsers(userIds: readonly string[]): Promise<Map<string, GroupRef[]>>;

  getGroup(id: string, options?: GroupReadOptions): Promise<GroupRecord | undefined>;
  findGroupByName(displayName: string): Promise<GroupRecord | undefined>;
  insertGroup(group: GroupRecord): Promise<void>;
  updateGroup(group: GroupRecord, expectedVersion: number): Promise<boolean>;
  deleteGroup(id: string): Promise<boolean>;
  queryGroups(query: ListQuery): Promise<Page<GroupRecord>>;
  membersOfGroups(groupIds: readonly string[]): Promise<Map<string, MemberRef[]>>;
  /** Adds members that are not yet in the group; returns the ids it added. */
  addMembers(groupId: string, userIds: readonly string[]): Promise<string[]>;
  /** Returns the ids it removed (those that were members). */
  removeMembers(groupId: string, userIds: readonly string[]): Promise<string[]>;
  removeAllMembers(groupId: string): Promise<string[]>;
  /** Of `ids`, those that are users. */
  existingUserIds(ids: readonly string[]): Promise<Set<string>>;

  recordEvent(event: ProvisioningEvent): Promise<void>;
  /**
   * Appends changes to the change log as part of this transaction: they commit with it or not at all, and take
   * their positions just before the commit (see store/change-log.ts).
   */
  appendChanges(changes: readonly ChangeInput[]): Promise<void>;
  /** Copies changes keeping their positions (only `scim-bridge migrate`, into an empty log). */
  importChanges(changes: readonly Change[]): Promise<void>;
  /** Stores `value` under `key` (at most 1 MiB), replacing what was there. */
  setState(key: string, value: string): Promise<void>;
}

/** `WebhookEndpointStore`: the webhook endpoints and their delivery progress (bridge/src/feed/endpoint-record.ts). */
export interface Store extends StoreTx, ChangeLog, WebhookEndpointStore {
  readonly kind: StoreKind;
  /** Creates or upgrades the schema; safe to run from several processes at once. */
  migrate(): Promise<void>;
  /** Runs `work` in one transaction: all of it is stored, or none of it. */
  transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Answers when the store is reachable and can take writes (for /health); throws a StoreUnavailable otherwise. */
  ping(): Promise<void>;
  counts(): Promise<DirectoryCounts>;
  listEvents(query: EventQuery): Promise<ProvisioningEvent[]>;
  /** Deletes events older than the cut-off; returns how many. */
  pruneEvents(olderThan: string): Promise<number>;

  /**
   * Takes the lease `name` for `holder` for `ttlMs` when nobody holds it, its holder let it expire, or `holder`
   * already holds it (then it is renewed). True when `holder` holds it afterwards. Expiry is judged by the
   * database's clock, so replicas with skewed clocks agree; at most one holder at a time, across processes.
   */
  tryAcquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends a lease `holder` still holds; false when it lost it (another holder took it after it expired). */
  renewLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once (a clean stop), so another replica need not wait for it to expire; false if not held. */
  releaseLease(name: string, holder: string): Promise<boolean>;
  /** A small value kept by key (e.g. a sync checkpoint), shared by every replica; undefined when never set. */
  getState(key: string): Promise<string | undefined>;
  /** Every key and value kept (for `scim-bridge migrate`: a sync's record of what it manages must move with the users). */
  listState(): Promise<Map<string, string>>;
  /** Calls `listener` after a transaction of this process that appended changes commits; returns an unsubscribe. */
  onChangesCommitted(listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * The store refuses what a request asked of it (a value it cannot store alike on every adapter, a filter it cannot
 * compile, a list past its deadline, a row deleted meanwhile): the client's side, never a server fault. The edge
 * answers `status` with `scimType` (directory/store-refusal.ts); the store itself speaks no protocol.
 */
export class StoreRefused extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
    readonly scimType?: 'invalidValue' | 'invalidFilter' | 'tooMany',
  ) {
    super(message);
    this.name = 'StoreRefused';
  }
}

/** A write broke a uniqueness rule (userName, group displayName). */
export class UniqueViolation extends Error {
  constructor(readonly field: string) {
    super(`${field} is already taken`);
    this.name = 'UniqueViolation';
  }
}

/** Why the store cannot answer: what /health shows and what the metrics count. */
export type StoreUnavailableReason = 'unreachable' | 'timeout' | 'busy' | 'full' | 'not-ready' | 'misconfigured';

/**
 * The store could not answer right now: never a 500. The edge answers `status` with `Retry-After:
 * retryAfterSeconds`; the message is safe to show a client (no host names, no credentials), the details are in
 * `cause`. Subclasses below name the common reasons.
 */
export class StoreUnavailable extends Error {
  readonly status: number = 503;
  readonly retryAfterSeconds: number = 5;
  readonly reason: StoreUnavailableReason = 'unreachable';
  constructor(message = 'The bridge cannot reach its store right now; retry shortly', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailable';
  }
}

/** A database statement ran past its timeout. */
export class StoreTimeout extends StoreUnavailable {
  override readonly reason = 'timeout';
  constructor(options?: { cause?: unknown }) {
    super("The bridge's store did not answer in time; retry shortly", options);
    this.name = 'StoreTimeout';
  }
}

/** Every database connection of this replica is busy answering other requests: the replica is saturated, the database is fine. */
export class StorePoolExhausted extends StoreUnavailable {
  override readonly reason = 'busy';
  override readonly retryAfterSeconds = 1;
  constructor(options?: { cause?: unknown }) {
    super('The bridge is answering as many requests as its store connections allow; retry shortly', options);
    this.name = 'StorePoolExhausted';
  }
}

/** The disk or the database's storage quota is full (SQLITE_FULL, PostgreSQL 53100): nothing was written. */
export class StoreFull extends StoreUnavailable {
  override readonly reason = 'full';
  override readonly status = 507;
  override readonly retryAfterSeconds = 60;
  constructor(options?: { cause?: unknown }) {
    super("The bridge's store is out of space; nothing was written; retry later", options);
    this.name = 'StoreFull';
  }
}

/** The bridge started before its database answered and has not finished migrating it yet. */
export class StoreNotReady extends StoreUnavailable {
  override readonly reason = 'not-ready';
  override readonly retryAfterSeconds = 2;
  constructor(options?: { cause?: unknown }) {
    super('The bridge is waiting for its store to come up; retry shortly', options);
    this.name = 'StoreNotReady';
  }
}

/**
 * The database refuses this bridge for a reason only an operator can fix (a certificate that does not verify,
 * a missing privilege, a wrong password). At start the bridge exits with `message`; later it answers 503.
 */
export class StoreMisconfigured extends StoreUnavailable {
  override readonly reason = 'misconfigured';
  override readonly retryAfterSeconds = 30;
  /** One line for the operator: what is wrong and what to do. Never shown to clients. */
  readonly operatorMessage: string;
  constructor(operatorMessage: string, options?: { cause?: unknown }) {
    super('The bridge cannot use its store (see its log); retry later', options);
    this.name = 'StoreMisconfigured';
    this.operatorMessage = operatorMessage;
  }
}
