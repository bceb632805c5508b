/**
 * The change feed's records and its port. The directory hands typed changes to the store inside the write's own
 * transaction (`StoreTx.appendChanges`); the change log gives them positions that only grow and that commit in
 * position order (no reader can move past a position that commits later); the pull API, the webhooks and the
 * deprovisioning guard read them from here. Both store adapters implement `ChangeLog`, and
 * test/feed/contract.ts holds what each must show.
 */

/** What happened to a resource. Names other tooling relies on: never rename one. */
export const CHANGE_TYPES = [
  'user.created',
  'user.updated',
  'user.suspended',
  'user.reactivated',
  'user.deleted',
  'group.created',
  'group.updated',
  'group.deleted',
  'group.members.added',
  'group.members.removed',
  // The deprovisioning guard held a burst for an operator (resource type `Hold`): see feed/guard.ts.
  'hold.started',
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** The directory a change belongs to: one per deployment today; the column is there so more can come without a rewrite. */
export const DEFAULT_DIRECTORY = 'default';

/** The most member ids one membership change carries: a PATCH adding 10,000 members is 10 entries, not one giant row. */
export const MEMBERS_PER_CHANGE = 1000;

export interface ChangeResource {
  readonly type: 'User' | 'Group' | 'Hold';
  readonly id: string;
  /** The resource's version after the change (its ETag's number): per resource, versions only grow along the feed. */
  readonly version: number;
}

/** A change as the directory hands it to the store, inside the write's transaction. */
export interface ChangeInput {
  readonly type: ChangeType;
  readonly resource: ChangeResource;
  /** Who: the identity provider (its User-Agent), `google-workspace` for the sync, `cli` for an administrator. */
  readonly actor: string;
  readonly requestId?: string;
  /**
   * The resource as SCIM renders it after the change (without a group's members, which travel in membership
   * changes); absent after a delete.
   */
  readonly state?: Record<string, unknown>;
  /** Top-level attributes the change touched (e.g. `active`, `emails`, `displayName`). */
  readonly changed?: readonly string[];
  /** Membership changes: the user ids added or removed (at most MEMBERS_PER_CHANGE). */
  readonly members?: readonly string[];
}

/** A change as the log keeps it. */
export interface Change extends ChangeInput {
  /** Grows with every change; commits in position order. */
  readonly position: number;
  readonly directory: string;
  /** ISO 8601, when the change was appended. */
  readonly at: string;
}

/** The event id: the idempotency key of a delivery, the same in the pull API and in `webhook-id`. */
export function changeId(change: Pick<Change, 'directory' | 'position'>): string {
  return `chg_${change.directory}_${change.position}`;
}

/**
 * The Standard Webhooks payload of a change (`{type, timestamp, data}`), the same document in `/api/changes` and
 * as a webhook body.
 */
export function changeDocument(change: Change): Record<string, unknown> {
  return {
    id: changeId(change),
    type: change.type,
    timestamp: change.at,
    data: {
      position: change.position,
      directory: change.directory,
      resource: change.resource,
      ...(change.state !== undefined ? { state: change.state } : {}),
      ...(change.changed !== undefined ? { changed: change.changed } : {}),
      ...(change.members !== undefined ? { members: change.members } : {}),
      actor: change.actor,
      ...(change.requestId !== undefined ? { requestId: change.requestId } : {}),
    },
  };
}

/** The change log, outside transactions (appending is `StoreTx.appendChanges`, inside the write's transaction). */
export interface ChangeLog {
  /**
   * Changes after `position`, in position order, at most `limit`. Never returns a change while one with a lower
   * position may still commit, so a reader that moves its cursor to the last position it read skips nothing.
   */
  readChanges(after: number, limit: number, directory?: string): Promise<Change[]>;
  /** The highest position every earlier position is settled below (what a snapshot is "as of"); 0 when empty. */
  headPosition(directory?: string): Promise<number>;
  /** The lowest retained position (0 when the log is empty): a reader behind it has lost changes and must resync. */
  oldestPosition(directory?: string): Promise<number>;
  /** The first position appended at or after `at` (for `replay --from TIME`); undefined when none. */
  positionAt(at: string, directory?: string): Promise<number | undefined>;
  /** Deletes changes appended before `olderThan` and below `keepFrom` (the lowest position a reader still needs). */
  pruneChanges(olderThan: string, keepFrom: number): Promise<number>;
}

/** What a bearer token may do. Today's tokens and the default are `provision`. */
export const SCOPES = ['provision', 'read', 'operate'] as const;
export type Scope = (typeof SCOPES)[number];
