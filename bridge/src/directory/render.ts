/** Renders stored records as SCIM resources (RFC 7643 §3.1 common attributes and meta). */
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../scim/schemas';
import type { GroupRecord, GroupRef, MemberRef, UserRecord } from '../store/types';

export const etagOf = (version: number) => `W/"${version}"`;

export function renderUser(user: UserRecord, groups: readonly GroupRef[] | undefined, baseUrl: string): Record<string, unknown> {
  const { userName, externalId, ...rest } = user.doc;
  return {
    schemas: user.doc[ENTERPRISE_USER_SCHEMA] ? [USER_SCHEMA, ENTERPRISE_USER_SCHEMA] : [USER_SCHEMA],
    id: user.id,
    ...(externalId !== undefined ? { externalId } : {}),
    userName,
    ...rest,
    active: user.active,
    ...(groups ? { groups: groups.map((g) => ({ value: g.value, display: g.display, $ref: `${baseUrl}/Groups/${g.value}`, type: 'direct' })) } : {}),
    meta: {
      resourceType: 'User',
      created: user.created,
      lastModified: user.lastModified,
      location: `${baseUrl}/Users/${user.id}`,
      version: etagOf(user.version),
    },
  };
}

export function renderGroup(group: GroupRecord, members: readonly MemberRef[] | undefined, baseUrl: string): Record<string, unknown> {
  const { displayName, externalId, ...rest } = group.doc;
  return {
    schemas: [GROUP_SCHEMA],
    id: group.id,
    ...(externalId !== undefined ? { externalId } : {}),
    displayName,
    ...rest,
    ...(members ? { members: members.map((m) => ({ value: m.value, display: m.display, $ref: `${baseUrl}/Users/${m.value}`, type: 'User' })) } : {}),
    meta: {
      resourceType: 'Group',
      created: group.created,
      lastModified: group.lastModified,
      location: `${baseUrl}/Groups/${group.id}`,
      version: etagOf(group.version),
    },
  };
}
