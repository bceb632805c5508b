/**
 * A group's members, bounded in bytes when rendered. Members cost nothing to add and each carries its user's
 * display name (up to the 64 KiB document bound), so without a bound one group could render as tens of MiB and a
 * page of a thousand groups as hundreds. Two bounds, both documented in SECURITY.md:
 *
 * - a member's `display` is given while it is at most MAX_MEMBER_DISPLAY characters and the group's display names
 *   so far (in member order) stay within MEMBER_DISPLAY_BUDGET; past either, the member is listed without it
 *   (`value`, `$ref` and `type` still identify it);
 * - a page of groups with their members ends at the last whole group that keeps the page within MAX_PAGE_MEMBERS
 *   members (the first group always comes): `itemsPerPage` tells the client where the next page starts.
 */
import type { SqlExecutor } from './sql-store';
import type { GroupRecord, MemberRef, Page } from './types';

export const MAX_MEMBER_DISPLAY = 256;
export const MEMBER_DISPLAY_BUDGET = 1_048_576;
export const MAX_PAGE_MEMBERS = 20_000;

/**
 * The JSON array of `[id, display or null]` of the members of the outer `groups` row, ordered by id, with the
 * display bounds above. `length` is the dialect's character length, `least` its two-argument minimum.
 */
export function boundedMembersJson(spell: { aggregate: (element: string, order: string) => string; length: string; least: string }): string {
  const display = 'COALESCE(u.display_name, u.user_name)';
  return `(SELECT ${spell.aggregate(
    `m.id, CASE WHEN ${spell.length}(m.display) <= ${MAX_MEMBER_DISPLAY} AND m.seen <= ${MEMBER_DISPLAY_BUDGET} THEN m.display END`,
    'm.id',
  )} FROM (SELECT u.id AS id, ${display} AS display, SUM(${spell.least}(${spell.length}(${display}), ${MAX_MEMBER_DISPLAY + 1})) OVER (ORDER BY u.id ROWS UNBOUNDED PRECEDING) AS seen
     FROM group_members gm JOIN users u ON u.id = gm.user_id WHERE gm.group_id = groups.id) m)`;
}

/** Members as stored in the JSON above. */
export function membersOf(pairs: readonly [string, string | null][]): MemberRef[] {
  return pairs.map(([value, display]) => (display === null || display === undefined ? { value } : { value, display }));
}

const IN_CHUNK = 500;

/**
 * Adds the members to a page of groups read without them, ending the page at the last whole group within
 * MAX_PAGE_MEMBERS: counts first (an index-only read), then the members of the groups that stay.
 */
export async function withBoundedMembers(
  db: SqlExecutor,
  membersJson: string,
  page: Page<GroupRecord>,
  maxMembers = MAX_PAGE_MEMBERS,
): Promise<Page<GroupRecord>> {
  if (!page.items.length) return page;
  const counts = new Map<string, number>();
  const json = new Map<string, unknown>();
  const inList = (from: number, n: number) => Array.from({ length: n }, (_, i) => `$${from + i}`).join(', ');
  const ids = page.items.map((group) => group.id);
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const part = ids.slice(i, i + IN_CHUNK);
    const rows = await db.rows(`SELECT group_id, COUNT(*) FROM group_members WHERE group_id IN (${inList(1, part.length)}) GROUP BY group_id`, part);
    for (const row of rows) counts.set(row[0] as string, Number(row[1]));
  }
  let kept = 0;
  let members = 0;
  for (const id of ids) {
    const n = counts.get(id) ?? 0;
    if (kept > 0 && members + n > maxMembers) break;
    members += n;
    kept++;
  }
  const keptIds = ids.slice(0, kept);
  for (let i = 0; i < keptIds.length; i += IN_CHUNK) {
    const part = keptIds.slice(i, i + IN_CHUNK);
    const rows = await db.rows(`SELECT groups.id, ${membersJson} FROM groups WHERE groups.id IN (${inList(1, part.length)})`, part);
    for (const row of rows) json.set(row[0] as string, row[1]);
  }
  const items = page.items.slice(0, kept).map((group) => {
    const value = json.get(group.id);
    const pairs = (value === null || value === undefined ? [] : typeof value === 'string' ? JSON.parse(value) : value) as [string, string | null][];
    return { ...group, members: membersOf(pairs) };
  });
  return { totalResults: page.totalResults, items };
}
