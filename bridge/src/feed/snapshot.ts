/**
 * Reconciliation: the whole directory, paged (users by id, then groups by id with their members), and the feed
 * position to follow from. Each item has the shape of a change's `data` (`resource` with its version, and `state`),
 * so a consumer applies snapshot items and changes with the same code.
 *
 * What "consistent" means here (docs/pull-api.md says it to consumers):
 * - the position P is the change log's head, taken before the first page is read: every change at or below P has
 *   committed before any page is read, so each page shows it or something newer;
 * - every item's state is at least as new as the version it carries (a user is one row; a group's version is read
 *   before its members, so the members may be newer than the version, never older);
 * - every change after P is in the feed. So a consumer that stores the snapshot, then applies each change from
 *   `/api/changes?after=<P>` in order, except one whose version is lower than the version it holds for that
 *   resource (a delete always applies), ends with exactly the directory's state. Changes at the holder's own
 *   version are applied again, which is harmless: every change is a state replacement or a set operation.
 * A snapshot is not one instant: pages read while writes go on. The feed after P is what makes the result exact.
 */
import { SCIM_BASE_PATH } from '../../../contract';
import { renderGroup, renderUser } from '../directory/render';
import type { FilterNode } from '../scim/filter';
import type { GroupRecord, Store } from '../store/types';
import type { SnapshotCursor } from './cursor';
import { type ChangeLog, type ChangeResource, DEFAULT_DIRECTORY } from './types';

/** Items per page unless the client asks: the SCIM default. */
export const DEFAULT_SNAPSHOT_PAGE = 100;
export const MAX_SNAPSHOT_PAGE = 1000;
/** A page stops adding groups once it carries this many members (a page holds at least one group, however large). */
export const MEMBERS_PER_SNAPSHOT_PAGE = 10_000;
/** Groups whose members are read in one statement. */
const MEMBER_BATCH = 20;

export interface SnapshotItem {
  readonly resource: ChangeResource;
  /** The SCIM resource (a group with its `members`), rendered as in the feed (locations under /scim/v2). */
  readonly state: Record<string, unknown>;
}

export interface SnapshotPage {
  /** The position the feed continues from (the same on every page of one snapshot). */
  readonly position: number;
  readonly items: readonly SnapshotItem[];
  /** Where the next page starts; undefined after the last page. */
  readonly next?: SnapshotCursor;
}

export type SnapshotSource = Pick<Store, 'queryUsers' | 'queryGroups' | 'membersOfGroups'> & Pick<ChangeLog, 'headPosition'>;

const after = (id: string | undefined): FilterNode | undefined => (id === undefined ? undefined : { kind: 'cmp', ref: { attr: 'id' }, op: 'gt', value: id });

/** One page of the snapshot that `from` continues (a new snapshot when absent). */
export async function readSnapshotPage(store: SnapshotSource, from: SnapshotCursor | undefined, count: number): Promise<SnapshotPage> {
  const directory = from?.directory ?? DEFAULT_DIRECTORY;
  // Before the first page reads anything: see the module comment.
  const position = from?.position ?? (await store.headPosition(directory));
  let kind = from?.kind ?? 'User';
  let last = from?.after;

  if (kind === 'User') {
    const page = await store.queryUsers({ filter: after(last), sortBy: 'id', startIndex: 1, count });
    const items = page.items.map((user) => ({
      resource: { type: 'User' as const, id: user.id, version: user.version },
      state: renderUser(user, undefined, SCIM_BASE_PATH),
    }));
    if (items.length === count) return { position, items, next: { directory, position, kind, after: items[items.length - 1].resource.id } };
    if (items.length > 0) return { position, items, next: { directory, position, kind: 'Group' } };
    kind = 'Group';
    last = undefined;
  }

  // Groups: the rows (and so the versions) first, then their members, in batches until the page's member budget.
  const page = await store.queryGroups({ filter: after(last), sortBy: 'id', startIndex: 1, count });
  const items: SnapshotItem[] = [];
  let members = 0;
  for (let i = 0; i < page.items.length && members < MEMBERS_PER_SNAPSHOT_PAGE; i += MEMBER_BATCH) {
    const batch: readonly GroupRecord[] = page.items.slice(i, i + MEMBER_BATCH);
    const byGroup = await store.membersOfGroups(batch.map((group) => group.id));
    for (const group of batch) {
      const groupMembers = byGroup.get(group.id) ?? [];
      members += groupMembers.length;
      items.push({ resource: { type: 'Group', id: group.id, version: group.version }, state: renderGroup(group, groupMembers, SCIM_BASE_PATH) });
    }
  }
  const more = items.length < page.items.length || page.items.length === count;
  return { position, items, ...(more ? { next: { directory, position, kind: 'Group' as const, after: items[items.length - 1].resource.id } } : {}) };
}
