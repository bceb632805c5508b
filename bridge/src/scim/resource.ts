/**
 * Turns what a client sent into the stored shape of a resource: canonical attribute names, values of the
 * schema's types (identity providers send `"False"` for booleans and bare strings for complex values),
 * read-only and unknown attributes dropped, passwords never kept.
 */
import { badRequest } from './errors';
import { isUrnKey, undeclaredExtension, validateExtensions } from './extensions';
import { preview, textProblem } from './text';
import { type AttributeDef, ENTERPRISE_USER_SCHEMA, type ResourceKind, canonicalName, resolveAttribute, schemasFor } from './schemas';

/** A resource's stored attributes: core attributes at the top, extension attributes under their URN. */
export type ScimDoc = Record<string, unknown>;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function invalid(path: string, expected: string, value: unknown): never {
  // preview, not JSON.stringify: the value is the client's and may be nested arbitrarily deep.
  throw badRequest('invalidValue', `"${path}" must be ${expected} (got ${preview(value)})`);
}

function coerceScalar(def: AttributeDef, value: unknown, path: string): unknown {
  switch (def.type) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      return invalid(path, 'true or false', value);
    case 'integer':
    case 'decimal': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) return invalid(path, 'a number', value);
      if (def.type === 'integer' && !Number.isInteger(number)) return invalid(path, 'a whole number', value);
      return number;
    }
    case 'dateTime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return invalid(path, 'a date-time', value);
      // Stored in UTC with milliseconds, as meta's are, so filters and sorts compare them as text in time order.
      return new Date(value).toISOString();
    default:
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return invalid(path, 'a string', value);
  }
}

function coerceComplex(def: AttributeDef, value: unknown, path: string, keepReadOnly: boolean): Record<string, unknown> {
  // A bare value for a complex attribute means its `value` sub-attribute (Entra sends `manager: "id"`).
  const source = isObject(value) ? value : { value };
  const result: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(source)) {
    if (raw === null || raw === undefined) continue;
    const sub = def.subAttributes?.find((s) => s.name.toLowerCase() === key.toLowerCase());
    if (!sub || (!keepReadOnly && sub.mutability === 'readOnly')) continue;
    result[sub.name] = coerceScalar(sub, raw, `${path}.${sub.name}`);
  }
  return result;
}

/** Coerces one attribute's value to its schema type; `keepReadOnly` keeps read-only sub-attributes (stored data). */
export function coerceAttribute(def: AttributeDef, value: unknown, path: string, keepReadOnly = false): unknown {
  if (value === null || value === undefined) return undefined;
  if (def.multiValued) {
    const items = Array.isArray(value) ? value : [value];
    const coerced = items
      .filter((item) => item !== null && item !== undefined)
      .map((item) => (def.type === 'complex' ? coerceComplex(def, item, path, keepReadOnly) : coerceScalar(def, item, path)));
    return coerced.length ? dedupe(coerced) : undefined;
  }
  if (def.type === 'complex') {
    if (Array.isArray(value)) return invalid(path, 'a single object', value);
    const result = coerceComplex(def, value, path, keepReadOnly);
    return Object.keys(result).length ? result : undefined;
  }
  return coerceScalar(def, value, path);
}

function dedupe(items: unknown[]): unknown[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = valueKey(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A canonical key of a multi-valued element once coerced, so equal elements have equal keys whatever the order of
 * their sub-attributes. Coerced elements are flat (SCIM has no complex attribute inside a complex one).
 */
export function valueKey(item: unknown): string {
  if (!isObject(item)) return `${typeof item}:${String(item)}`;
  let key = '{';
  for (const name of Object.keys(item).sort()) {
    const v = item[name];
    key += `${JSON.stringify(name)}:${typeof v === 'string' ? JSON.stringify(v) : `${typeof v}:${String(v)}`},`;
  }
  return key;
}

/**
 * Normalizes a POST or PUT body into a stored document. Read-only attributes (id, meta, groups) and
 * attributes of unknown schemas are ignored, as RFC 7643 §7 allows; write-only ones (password) are dropped.
 */
/** The SCIM 1.1 enterprise extension's URN, which OneLogin's legacy templates still send. */
export const LEGACY_ENTERPRISE_SCHEMA = 'urn:scim:schemas:extension:enterprise:1.0';

/**
 * SCIM 1.1 bodies (OneLogin's "Core Schema" and "Enterprise Schema" templates): `schemas` of
 * `urn:scim:schemas:core:1.0` need nothing (schemas are not read), `emails` as one object is read as a list of one
 * (see coerceAttribute), and the 1.0 enterprise extension is read as the 2.0 one, its `manager.managerId` being 2.0's
 * `manager.value`. A 2.0 extension in the same body wins attribute by attribute.
 */
function fromScim11(body: Record<string, unknown>): Record<string, unknown> {
  const legacyKey = Object.keys(body).find((key) => key.toLowerCase() === LEGACY_ENTERPRISE_SCHEMA);
  if (!legacyKey || !isObject(body[legacyKey])) return body;
  const { [legacyKey]: legacy, ...rest } = body;
  const { manager, ...attributes } = legacy as Record<string, unknown>;
  const converted: Record<string, unknown> = { ...attributes };
  if (isObject(manager)) {
    const { managerId, ...others } = manager;
    converted.manager = { ...(managerId !== undefined ? { value: managerId } : {}), ...others };
  } else if (manager !== undefined) {
    converted.manager = manager;
  }
  const currentKey = Object.keys(rest).find((key) => key.toLowerCase() === ENTERPRISE_USER_SCHEMA.toLowerCase()) ?? ENTERPRISE_USER_SCHEMA;
  const current = isObject(rest[currentKey]) ? (rest[currentKey] as Record<string, unknown>) : {};
  return { ...rest, [currentKey]: { ...converted, ...current } };
}

export function normalizeInput(kind: ResourceKind, rawBody: unknown): ScimDoc {
  if (!isObject(rawBody)) throw badRequest('invalidSyntax', 'The request body must be a JSON object');
  const body = kind === 'User' ? fromScim11(rawBody) : rawBody;
  if (body.schemas !== undefined && !Array.isArray(body.schemas)) {
    throw badRequest('invalidSyntax', '"schemas" must be an array of schema URNs');
  }
  const { core, extensions } = schemasFor(kind);
  const doc: ScimDoc = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'schemas' || value === null || value === undefined) continue;
    const extension = extensions.find((e) => e.id.toLowerCase() === key.toLowerCase());
    if (extension) {
      if (!isObject(value)) invalid(key, 'an object', value);
      const ext = normalizeAttributes(kind, value, extension.id);
      if (Object.keys(ext).length) doc[extension.id] = ext;
      continue;
    }
    if (key.toLowerCase() === core.id.toLowerCase() && isObject(value)) {
      Object.assign(doc, normalizeAttributes(kind, value, undefined));
      continue;
    }
    if (isUrnKey(key)) {
      // An extension this bridge does not declare: refused, or kept as sent (scim/extensions.ts), never dropped.
      doc[key] = undeclaredExtension(key, value);
      continue;
    }
    Object.assign(doc, normalizeAttributes(kind, { [key]: value }, undefined));
  }
  return doc;
}

function normalizeAttributes(kind: ResourceKind, values: Record<string, unknown>, uri: string | undefined): ScimDoc {
  const out: ScimDoc = {};
  for (const [key, value] of Object.entries(values)) {
    const resolved = resolveAttribute(kind, { uri, attr: key });
    if (!resolved || resolved.parent) continue;
    const { def } = resolved;
    if (def.mutability === 'readOnly' || def.mutability === 'writeOnly') continue;
    if (!uri && canonicalName(kind, key) === 'externalId' && value !== null && typeof value !== 'string') {
      invalid('externalId', 'a string', value);
    }
    const coerced = coerceAttribute(def, value, uri ? `${uri}:${def.name}` : def.name);
    if (coerced !== undefined) out[def.name] = coerced;
  }
  return out;
}

/** Values one multi-valued attribute may hold in a stored resource (group members are not in the document). */
export const MAX_VALUES_PER_ATTRIBUTE = 10_000;

/**
 * Every string in a coerced document (at most three levels: extension, complex, element) is storable alike on
 * both stores, and no multi-valued attribute is unbounded. Directory writes that do not come over HTTP pass here too.
 */
function checkStoredValues(value: unknown, path: string, depth = 0): void {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) throw badRequest('invalidValue', `"${path}" ${problem}`);
    return;
  }
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if (Array.isArray(value)) {
    if (value.length > MAX_VALUES_PER_ATTRIBUTE) throw badRequest('tooMany', `"${path}" holds more than ${MAX_VALUES_PER_ATTRIBUTE} values`);
    for (const item of value) checkStoredValues(item, path, depth + 1);
    return;
  }
  for (const key in value as Record<string, unknown>) {
    checkStoredValues((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, depth + 1);
  }
}

/** Validates what every stored resource of a kind must have; throws a 400 naming the attribute. */
export function validateDoc(kind: ResourceKind, doc: ScimDoc): void {
  checkStoredValues(doc, '');
  validateExtensions(kind, doc);
  if (kind === 'User') {
    if (typeof doc.userName !== 'string' || !doc.userName.trim()) {
      throw badRequest('invalidValue', '"userName" is required and must be a non-empty string');
    }
    if (doc.userName.length > 256) throw badRequest('invalidValue', '"userName" is longer than 256 characters');
  } else {
    if (typeof doc.displayName !== 'string' || !doc.displayName.trim()) {
      throw badRequest('invalidValue', '"displayName" is required and must be a non-empty string');
    }
    if (doc.displayName.length > 256) throw badRequest('invalidValue', '"displayName" is longer than 256 characters');
  }
  const emails = doc.emails;
  if (Array.isArray(emails)) {
    for (const email of emails as Record<string, unknown>[]) {
      if (typeof email.value !== 'string' || !email.value.includes('@')) {
        throw badRequest('invalidValue', `"emails" holds "${String(email.value)}", which is not an email address`);
      }
    }
    if (emails.filter((e) => (e as Record<string, unknown>).primary === true).length > 1) {
      throw badRequest('invalidValue', '"emails" may mark only one value as primary');
    }
  }
}
