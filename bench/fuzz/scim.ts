/**
 * SCIM bodies generated from the bridge's own schemas (bridge/src/scim/schemas.ts): every writable attribute of
 * User (and the enterprise extension) and Group, with values of the attribute's type, in the shapes Okta and
 * Entra ID send (booleans as "True", `manager` as a bare id, SCIM 1.1 remnants), plus PATCH operations.
 */
import { type AttributeDef, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA, schemasFor } from '../../bridge/src/scim/schemas';
import type { Random } from './random';
import { nameText, token, validText } from './text';

export { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA };

const WRITABLE = (def: AttributeDef) => def.mutability === 'readWrite' || def.mutability === 'immutable' || def.mutability === 'writeOnly';

function scalar(rng: Random, def: AttributeDef, path: string): unknown {
  switch (def.type) {
    case 'boolean':
      // Entra sends "True"/"False"; the bridge coerces them.
      return rng.chance(0.2) ? rng.pick(['True', 'False', 'true', 'false']) : rng.chance(0.5);
    case 'integer':
      return rng.int(-1000, 100000);
    case 'decimal':
      return rng.int(-100000, 100000) / 100;
    case 'dateTime':
      return new Date(Date.UTC(2020, 0, 1) + rng.int(0, 200_000_000) * 1000).toISOString();
    case 'reference':
      return `https://example.com/${encodeURIComponent(nameText(rng, 1, 12))}/${token(rng, 6)}`;
    case 'binary':
      return Buffer.from(validText(rng, 4, 40)).toString('base64');
    default:
      if (path === 'emails.value') return `${nameText(rng, 1, 12)}.${token(rng, 4)}@${nameText(rng, 1, 10)}.example`;
      if (def.canonicalValues?.length && rng.chance(0.8)) return rng.pick(def.canonicalValues);
      return validText(rng, 1, 24, { spaces: true });
  }
}

function complexValue(rng: Random, def: AttributeDef, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const sub of def.subAttributes ?? []) {
    if (!WRITABLE(sub) || sub.name === 'primary') continue;
    if (sub.name === 'value' || rng.chance(0.5)) out[sub.name] = scalar(rng, sub, `${path}.${sub.name}`);
  }
  return out;
}

function attributeValue(rng: Random, def: AttributeDef, path: string): unknown {
  if (def.multiValued) {
    const count = rng.int(1, 3);
    const items = Array.from({ length: count }, () => (def.type === 'complex' ? complexValue(rng, def, path) : scalar(rng, def, path)));
    // At most one primary (RFC 7643 §2.4); the bridge refuses two.
    if (def.type === 'complex' && def.subAttributes?.some((s) => s.name === 'primary') && rng.chance(0.6)) {
      (items[rng.int(0, items.length - 1)] as Record<string, unknown>).primary = rng.chance(0.8) ? true : 'True';
    }
    return items;
  }
  if (def.type === 'complex') {
    // Entra sends the manager as a bare id.
    if (def.name === 'manager' && rng.chance(0.3)) return token(rng, 12);
    return complexValue(rng, def, path);
  }
  return scalar(rng, def, path);
}

export interface GeneratedUser {
  readonly body: Record<string, unknown>;
  readonly userName: string;
  readonly active: boolean;
  readonly externalId?: string;
  /** Single-valued string attributes as sent: the store must keep each exactly and find it with `eq`. */
  readonly strings: Record<string, string>;
}

const toBool = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() === 'true' : value !== false);

/** A valid user as Okta or Entra ID would create it, every other writable attribute present by chance. */
export function userBody(rng: Random, userName: string, fill = 0.35): GeneratedUser {
  const { core, extensions } = schemasFor('User');
  const body: Record<string, unknown> = { schemas: [USER_SCHEMA], userName };
  const strings: Record<string, string> = {};
  for (const def of core.attributes) {
    if (def.name === 'userName' || !WRITABLE(def) || !rng.chance(fill)) continue;
    const value = attributeValue(rng, def, def.name);
    body[def.name] = value;
    if (def.type === 'string' && !def.multiValued && typeof value === 'string' && def.mutability !== 'writeOnly') strings[def.name] = value;
    if (def.name === 'name') {
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) if (typeof v === 'string') strings[`name.${key}`] = v;
    }
  }
  if (rng.chance(fill)) {
    const ext = extensions[0];
    const value: Record<string, unknown> = {};
    for (const def of ext.attributes) if (WRITABLE(def) && rng.chance(0.5)) value[def.name] = attributeValue(rng, def, def.name);
    body[ENTERPRISE_USER_SCHEMA] = value;
    (body.schemas as string[]).push(ENTERPRISE_USER_SCHEMA);
  }
  if (rng.chance(0.6)) body.externalId = `ext-${token(rng, 12)}`;
  if (rng.chance(0.2)) body.password = validText(rng, 8, 20);
  const active = body.active === undefined ? true : toBool(body.active);
  return { body, userName, active, externalId: body.externalId as string | undefined, strings };
}

/** Attributes a PATCH `replace` may set with a plain string (their values stay searchable). */
export const PATCHABLE_STRINGS = [
  'displayName',
  'nickName',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
  'name.givenName',
  'name.familyName',
  'name.formatted',
];

export function patchBody(operations: unknown[]): Record<string, unknown> {
  return { schemas: [PATCH_OP_SCHEMA], Operations: operations };
}

export function groupBody(displayName: string, members: readonly string[], rng: Random): Record<string, unknown> {
  const body: Record<string, unknown> = { schemas: [GROUP_SCHEMA], displayName };
  if (members.length || rng.chance(0.3)) {
    // Okta sends value and display; Entra value only; some clients a bare id string.
    body.members = members.map((id) => (rng.chance(0.1) ? id : rng.chance(0.5) ? { value: id, display: validText(rng, 1, 12) } : { value: id }));
  }
  if (rng.chance(0.5)) body.externalId = `gext-${token(rng, 10)}`;
  return body;
}
