/**
 * `POST /.search` at the service's root (RFC 7644 §3.4.3, §3.4.2.1): one query over users, then groups. Each kind
 * runs the same filter, sort and projection as its own list; a kind lacking an attribute the filter names
 * contributes nothing, and a `sortBy` a kind lacks leaves that kind in its default order. Pages run across the
 * kinds, users first, so paging through the whole result visits every resource once.
 */
import type { Directory } from '../directory/directory';
import { renderGroup, renderUser } from '../directory/render';
import { parseAttrRef } from '../scim/filter';
import { applyProjection, wants } from '../scim/projection';
import { type ListParams, type ListRequest, parseListRequest } from '../scim/query';
import { type ResourceKind, resolveAttribute } from '../scim/schemas';
import { filterAppliesTo, nextPage } from '../scim/search';
import { listResponseText } from './list-page';

function sortsBy(kind: ResourceKind, sortBy: string | undefined): string | undefined {
  if (!sortBy) return undefined;
  try {
    return resolveAttribute(
      kind,
      parseAttrRef(sortBy, (msg) => new Error(msg)),
    )
      ? sortBy
      : undefined;
  } catch {
    return sortBy; // not an attribute path at all: the kind's own parser says why, with a 400
  }
}

/** The list response as text, cut at a whole resource within the page's byte bound like every list (list-page.ts). */
export async function rootSearch(directory: Directory, params: ListParams, baseUrl: string): Promise<string> {
  const users = parseListRequest('User', params);
  const groups = parseListRequest('Group', params);
  const { startIndex, count, filter } = users.query;
  const query = (kind: ResourceKind, base: ListRequest): ListRequest | undefined =>
    filter && !filterAppliesTo(kind, filter) ? undefined : { ...base, sortBy: sortsBy(kind, base.sortBy) };

  const userQuery = query('User', users.query);
  const userPage = userQuery ? await directory.listUsers(userQuery, { related: wants(users.projection, 'groups') }) : { totalResults: 0, items: [] };
  const resources = userPage.items.map((view) => applyProjection(renderUser(view.user, view.groups, baseUrl), users.projection));

  const groupQuery = query('Group', { ...groups.query, ...nextPage(startIndex, count, userPage.totalResults, resources.length) });
  const groupPage = groupQuery ? await directory.listGroups(groupQuery, { related: wants(groups.projection, 'members') }) : { totalResults: 0, items: [] };
  for (const view of groupPage.items) resources.push(applyProjection(renderGroup(view.group, view.members, baseUrl), groups.projection));

  return listResponseText(userPage.totalResults + groupPage.totalResults, startIndex, resources);
}
