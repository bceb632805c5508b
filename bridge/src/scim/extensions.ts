/**
 * Operator-declared schema extensions (RFC 7643 §3.3, §7): custom attributes an identity provider maps into an
 * extension URN (Okta's "external namespace", Entra ID's `urn:…:CustomExtensionName:2.0:User:attribute`). The
 * declarations are read once at start and checked whole, so a mistake stops the start with one line; the
 * bridge then stores their attributes in the resource's document under the URN (as the enterprise extension),
 * validates them, filters and sorts on them, and serves them at /Schemas and /ResourceTypes.
 *
 * What is not declared is refused with a 400 naming the URN (`refuse`, the default), or kept as sent (`keep`),
 * never dropped: a 201 that loses what the identity provider sent is the worst answer.
 */
import { badRequest } from './errors';
import { type AttributeDef, type DeclaredExtension, type ResourceKind, SCHEMAS, type SchemaDef, declareExtensions, declaredExtensions } from './schemas';

export type UndeclaredExtensions = 'refuse' | 'keep';
export const UNDECLARED_EXTENSION_POLICIES: readonly UndeclaredExtensions[] = ['refuse', 'keep'];

export interface ExtensionSettings {
  readonly declared: readonly DeclaredExtension[];
  readonly undeclared: UndeclaredExtensions;
}

/** A declaration mistake; the caller prefixes where the declarations came from. */
export class ExtensionDeclarationError extends Error {}

let UNDECLARED: UndeclaredExtensions = 'refuse';

/** Serves these extensions and this policy from now on (one set per process, installed at start). */
export function installExtensions(settings: ExtensionSettings): void {
  declareExtensions(settings.declared);
  UNDECLARED = settings.undeclared;
}

export function undeclaredExtensions(): UndeclaredExtensions {
  return UNDECLARED;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const TYPES: readonly AttributeDef['type'][] = ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary'];
const ATTR_NAME = /^[A-Za-z$][\w$-]*$/;
/** RFC 8141's shape, loosely: `urn:` then at least two colon-separated parts, no spaces, no `[`, `]` or `"`. */
const URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[^\s"[\]]+$/i;
const RESERVED_URNS = new Set([...SCHEMAS.map((s) => s.id.toLowerCase()), 'urn:scim:schemas:extension:enterprise:1.0']);

function fail(message: string): never {
  throw new ExtensionDeclarationError(message);
}

function oneOf<T extends string>(where: string, key: string, value: unknown, allowed: readonly T[], fallback: T, unsupported: Record<string, string> = {}): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && unsupported[value]) fail(`${where}: "${key}": ${value} ${unsupported[value]}`);
  if (typeof value !== 'string' || !allowed.includes(value as T))
    fail(`${where}: "${key}" must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
  return value as T;
}

function flag(where: string, key: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail(`${where}: "${key}" must be true or false`);
  return value;
}

function attribute(where: string, raw: unknown, inComplex: boolean): AttributeDef {
  if (!isObject(raw)) fail(`${where}: each attribute must be an object`);
  const name = raw.name;
  if (typeof name !== 'string' || !ATTR_NAME.test(name))
    fail(`${where}: "name" must be an attribute name (letters, digits, _, $ or -; got ${JSON.stringify(name)})`);
  const at = `${where}, attribute "${name}"`;
  const type = oneOf(at, 'type', raw.type, TYPES, 'string');
  if (type === 'complex' && inComplex) fail(`${at}: a complex attribute cannot hold another (RFC 7643 §2.3.8)`);
  const mutability = oneOf(at, 'mutability', raw.mutability, ['readWrite', 'immutable', 'readOnly'] as const, 'readWrite', {
    writeOnly: 'is not supported: the bridge stores nothing it cannot return',
  });
  const returned = oneOf(at, 'returned', raw.returned, ['default', 'always'] as const, 'default', {
    never: 'is not supported: declare only attributes the bridge returns',
    request: 'is not supported: declare "default"',
  });
  const uniqueness = oneOf(at, 'uniqueness', raw.uniqueness, ['none'] as const, 'none', {
    server: 'is not enforced by the bridge for extension attributes; declare "none"',
    global: 'is not enforced by the bridge for extension attributes; declare "none"',
  });
  let canonicalValues: string[] | undefined;
  if (raw.canonicalValues !== undefined) {
    if (!Array.isArray(raw.canonicalValues) || !raw.canonicalValues.every((v) => typeof v === 'string'))
      fail(`${at}: "canonicalValues" must be an array of strings`);
    if (type !== 'string' && raw.canonicalValues.length) fail(`${at}: "canonicalValues" apply to string attributes only`);
    canonicalValues = raw.canonicalValues as string[];
  }
  let subAttributes: AttributeDef[] | undefined;
  if (type === 'complex') {
    if (!Array.isArray(raw.subAttributes) || !raw.subAttributes.length) fail(`${at}: a complex attribute needs "subAttributes"`);
    subAttributes = raw.subAttributes.map((sub) => attribute(at, sub, true));
    unique(at, subAttributes);
  } else if (raw.subAttributes !== undefined) {
    fail(`${at}: only a complex attribute has "subAttributes"`);
  }
  return {
    name,
    type,
    multiValued: flag(at, 'multiValued', raw.multiValued),
    description: typeof raw.description === 'string' ? raw.description : '',
    required: flag(at, 'required', raw.required),
    caseExact: flag(at, 'caseExact', raw.caseExact),
    mutability,
    returned,
    uniqueness,
    ...(canonicalValues ? { canonicalValues } : {}),
    ...(Array.isArray(raw.referenceTypes) && raw.referenceTypes.every((v) => typeof v === 'string') ? { referenceTypes: raw.referenceTypes as string[] } : {}),
    ...(subAttributes ? { subAttributes } : {}),
  };
}

function unique(where: string, attributes: readonly AttributeDef[]): void {
  const seen = new Set<string>();
  for (const a of attributes) {
    if (seen.has(a.name.toLowerCase())) fail(`${where}: attribute "${a.name}" is declared twice (names are case-insensitive)`);
    seen.add(a.name.toLowerCase());
  }
}

function schema(raw: unknown, index: number): DeclaredExtension {
  const where0 = `schema ${index + 1}`;
  if (!isObject(raw)) fail(`${where0}: must be an object (an RFC 7643 §7 schema definition)`);
  const id = raw.id;
  if (typeof id !== 'string' || !URN.test(id))
    fail(`${where0}: "id" must be the extension's URN, e.g. "urn:ietf:params:scim:schemas:extension:acme:2.0:User" (got ${JSON.stringify(id)})`);
  const where = `schema "${id}"`;
  if (RESERVED_URNS.has(id.toLowerCase())) fail(`${where}: is a built-in schema; declare extensions under a URN of your own`);
  // RFC 7643 §7 gives a schema no resource type: an explicit `resourceType`, or the URN's last part (`…:User`).
  const named = typeof raw.resourceType === 'string' ? raw.resourceType : id.slice(id.lastIndexOf(':') + 1);
  const kind = (['User', 'Group'] as const).find((k) => k.toLowerCase() === named.toLowerCase());
  if (!kind) fail(`${where}: say which resource it extends with "resourceType": "User" or "Group" (or end the URN with :User or :Group)`);
  if (!Array.isArray(raw.attributes) || !raw.attributes.length) fail(`${where}: "attributes" must be a non-empty array`);
  const attributes = raw.attributes.map((a) => attribute(where, a, false));
  unique(where, attributes);
  const def: SchemaDef = {
    id,
    // Without a name, the URN past the IETF extension prefix (`acme:2.0:User`): a bare `User` would read as the core schema's.
    name: typeof raw.name === 'string' && raw.name ? raw.name : id.replace(/^urn:ietf:params:scim:schemas:extension:/i, ''),
    description: typeof raw.description === 'string' ? raw.description : 'Declared by the operator',
    attributes,
  };
  return { kind, schema: def, required: flag(where, 'required', raw.required) };
}

/**
 * Reads declarations: JSON of an array of RFC 7643 §7 schema definitions, `{"schemas": […]}`, a /Schemas list
 * response (`{"Resources": […]}`), or one schema. Throws ExtensionDeclarationError with one line saying what is wrong.
 */
export function parseExtensionDeclarations(text: string): DeclaredExtension[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    fail(`not JSON (${(error as Error).message})`);
  }
  const list = Array.isArray(parsed)
    ? parsed
    : isObject(parsed) && Array.isArray(parsed.schemas) && parsed.schemas.some(isObject)
      ? parsed.schemas
      : isObject(parsed) && Array.isArray(parsed.Resources)
        ? parsed.Resources
        : isObject(parsed) && typeof parsed.id === 'string'
          ? [parsed]
          : fail('expected an array of schema definitions or {"schemas": [...]}');
  const declared = list.map(schema);
  const ids = new Set<string>();
  for (const d of declared) {
    if (ids.has(d.schema.id.toLowerCase())) fail(`schema "${d.schema.id}" is declared twice`);
    ids.add(d.schema.id.toLowerCase());
  }
  return declared;
}

// ---- requests ----

/**
 * A body key that names a schema the bridge does not serve for this kind: refused (`invalidValue` in a body,
 * `invalidPath` in a PATCH path, RFC 7644 §3.12), or kept as sent.
 */
export function undeclaredExtension(key: string, value: unknown, scimType: 'invalidValue' | 'invalidPath' = 'invalidValue'): Record<string, unknown> {
  if (UNDECLARED === 'refuse') {
    throw badRequest(
      scimType,
      `"${key.slice(0, 200)}" is not a schema extension this bridge declares; its attributes would be lost. Ask the administrator to declare it (SCIM_SCHEMA_EXTENSIONS) or to keep undeclared extensions (SCIM_UNDECLARED_EXTENSIONS=keep)`,
    );
  }
  if (!isObject(value)) throw badRequest(scimType, `"${key.slice(0, 200)}" must be an object of the extension's attributes`);
  return value;
}

/** A body key that looks like an extension URN (not a core attribute): `urn:…`. */
export const isUrnKey = (key: string) => /^urn:/i.test(key);

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * What every stored resource must satisfy for the declared extensions of its kind: required attributes (when the
 * resource carries the extension, or always when the extension itself is required) and canonical values (stored in
 * their declared spelling when the attribute is not caseExact).
 */
export function validateExtensions(kind: ResourceKind, doc: Record<string, unknown>): void {
  for (const { kind: k, schema: s, required } of declaredExtensions()) {
    if (k !== kind) continue;
    const values = doc[s.id];
    if (values === undefined && !required) continue;
    const container = isObject(values) ? values : {};
    for (const def of s.attributes) {
      const path = `${s.id}:${def.name}`;
      if (def.required && (container[def.name] === undefined || container[def.name] === '')) {
        throw badRequest('invalidValue', `"${path}" is required`);
      }
      if (def.canonicalValues?.length && container[def.name] !== undefined) {
        const canonical = (value: unknown) => {
          const found = def.canonicalValues!.find((c) => (def.caseExact ? c === value : c.toLowerCase() === String(value).toLowerCase()));
          if (found === undefined)
            throw badRequest(
              'invalidValue',
              `"${path}" must be one of ${def.canonicalValues!.join(', ')} (got ${JSON.stringify(String(value).slice(0, 100))})`,
            );
          return found;
        };
        container[def.name] = Array.isArray(container[def.name]) ? (container[def.name] as unknown[]).map(canonical) : canonical(container[def.name]);
      }
    }
  }
}

/**
 * Immutable declared attributes (RFC 7643 §2.2): set once, then never changed. A PUT that leaves one out keeps it
 * (the RFC lets a service provider read an omission as "not asserted"); a PATCH or PUT that changes or removes it is
 * refused with 400 `mutability`. Returns the document to store.
 */
export function keepImmutable(
  kind: ResourceKind,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  omissionKeeps: boolean,
): Record<string, unknown> {
  let result = after;
  for (const { kind: k, schema: s } of declaredExtensions()) {
    if (k !== kind) continue;
    for (const def of s.attributes) {
      if (def.mutability !== 'immutable') continue;
      const old = isObject(before[s.id]) ? (before[s.id] as Record<string, unknown>)[def.name] : undefined;
      if (old === undefined) continue;
      const now = isObject(result[s.id]) ? (result[s.id] as Record<string, unknown>)[def.name] : undefined;
      if (now === undefined && omissionKeeps) {
        result = { ...result, [s.id]: { ...(isObject(result[s.id]) ? (result[s.id] as object) : {}), [def.name]: old } };
        continue;
      }
      if (!sameValue(old, now)) throw badRequest('mutability', `"${s.id}:${def.name}" is immutable: it was set once and cannot change`);
    }
  }
  return result;
}
