/** Renders stored records as SCIM resources (RFC 7643 §3.1 common attributes and meta). */
import { GROUP_SCHEMA, USER_SCHEMA } from '../scim/schemas';
import type { GroupRecord, GroupRef, MemberRef, UserRecord } from '../store/types';

export const etagOf = (version: number) => `W/"${version}"`;

/** The core schema and every extension the document holds (extensions are stored under their URN). */
const schemasOf = (core: string, doc: Record<string, unknown>) => [core, ...Object.keys(doc).filter((key) => key.startsWith('urn:'))];

export function renderUser(user: UserRecord, groups: readonly GroupRef[] | undefined, baseUrl: string): Record<string, unknown> {
  const { userName, externalId, ...rest } = user.doc;
  return {
    schemas: schemasOf(USER_SCHEMA, user.doc),
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
    schemas: schemasOf(GROUP_SCHEMA, group.doc),
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
