/**
 * PATCH (RFC 7644 §3.5.2) applied to a stored document, plus the real-world variants identity providers
 * send: operation names in any case, booleans as strings, dotted keys in path-less values (Entra),
 * `remove` of members by a value list (Okta, Entra), and value filters that match nothing on add/replace
 * (Entra's `emails[type eq "work"].value`), which create the element instead of failing.
 *
 * A group's members never enter the document: member operations come out as `MemberChange`s, so adding one
 * member to a 50,000-member group is one row insert, not a rewrite of the list.
 */
import { badRequest } from './errors';
import { undeclaredExtension } from './extensions';
import { type FilterNode, type PatchPath, parsePatchPath } from './filter';
import { elementFilterWork } from './filter-cost';
import { equalityTemplate, matchesElement } from './match';
import { coerceAttribute, type ScimDoc, valueKey } from './resource';
import { type ResolvedAttribute, type ResourceKind, PATCH_OP_SCHEMA, resolveAttribute, schemasFor } from './schemas';
import { preview } from './text';

export type PatchOpName = 'add' | 'replace' | 'remove';

export interface PatchOperation {
  readonly op: PatchOpName;
  readonly path?: string;
  readonly value?: unknown;
}

export type MemberChange =
  | { readonly kind: 'add'; readonly ids: readonly string[] }
  | { readonly kind: 'remove'; readonly ids: readonly string[] }
  | { readonly kind: 'replace'; readonly ids: readonly string[] };

export interface PatchResult {
  readonly doc: ScimDoc;
  readonly memberChanges: readonly MemberChange[];
  /** Elements visited, compared or copied: linear in what the request sends and the document holds. */
  readonly work: number;
}

export const MAX_PATCH_OPERATIONS = 1000;
/** Values one operation may add, replace or remove (members included): a 1 MiB body holds about 20,000. */
export const MAX_VALUES_PER_OPERATION = 10_000;
/**
 * Work one PATCH may cost: element visits, and for a value filter each element's comparisons (elementFilterWork).
 * Adding every value a 1 MiB body can hold costs a few tens of thousands; this bound only stops requests built to
 * repeat whole-list work (480 filters of 95 terms over 2,000 emails held the event loop 20 s when a visit counted
 * one). 100,000 comparisons take about 100–150 ms of the event loop (BENCHMARKS.md, "Worst accepted requests").
 */
export const MAX_PATCH_WORK = 100_000;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Validates a PATCH body and returns its operations. */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'The PATCH body must be a JSON object');
  const schemas = body.schemas;
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.includes(PATCH_OP_SCHEMA))) {
    throw badRequest('invalidSyntax', `"schemas" must be ["${PATCH_OP_SCHEMA}"]`);
  }
  const operations = body.Operations ?? body.operations;
  if (!Array.isArray(operations) || operations.length === 0) {
    throw badRequest('invalidSyntax', '"Operations" must be a non-empty array');
  }
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw badRequest('tooMany', `A PATCH may hold at most ${MAX_PATCH_OPERATIONS} operations`);
  }
  return operations.map((raw, index) => {
    if (!isObject(raw)) throw badRequest('invalidSyntax', `Operations[${index}] must be an object`);
    const op = typeof raw.op === 'string' ? raw.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw badRequest('invalidSyntax', `Operations[${index}].op must be "add", "replace" or "remove" (got ${preview(raw.op)})`);
    }
    if (raw.path !== undefined && typeof raw.path !== 'string') {
      throw badRequest('invalidPath', `Operations[${index}].path must be a string`);
    }
    if (op !== 'remove' && raw.value === undefined) {
      throw badRequest('invalidSyntax', `Operations[${index}] ("${op}") needs a "value"`);
    }
    if (valueCount(raw.value) > MAX_VALUES_PER_OPERATION) {
      throw badRequest('tooMany', `Operations[${index}] holds more than ${MAX_VALUES_PER_OPERATION} values; send them in several operations or requests`);
    }
    const path = typeof raw.path === 'string' && raw.path.trim() !== '' ? raw.path.trim() : undefined;
    return { op, path, value: raw.value };
  });
}

/** Values an operation carries: the elements of an array, or of each array in a path-less object. */
function valueCount(value: unknown): number {
  if (Array.isArray(value)) return value.length;
  if (!isObject(value)) return 1;
  let count = 0;
  for (const key in value) {
    const inner = value[key];
    count += Array.isArray(inner) ? inner.length : 1;
  }
  return count;
}

/** The id at the end of a member's `$ref` (`…/Users/<id>`), for clients that send only the reference. */
function idFromRef(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return undefined;
  const match = /\/Users\/([^/?#]+)\/?$/.exec(ref);
  return match ? decodeURIComponentSafe(match[1]) : undefined;
}

function decodeURIComponentSafe(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Member ids named by a value such as `[{"value": "id"}]`, `{"value": "id"}`, `"id"` or `["id", …]`; `display`,
 * `type` and `$ref` beside `value` are accepted and ignored (the bridge shows the user's own name), and a member
 * given only by `$ref` is the user it points to.
 */
export function memberIds(value: unknown, where = 'members'): string[] {
  // Bounded by the caller: per PATCH operation (parsePatchRequest), by the body limit for a POST or PUT.
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    const id = isObject(item) ? (item.value ?? idFromRef(item.$ref)) : item;
    if (typeof id !== 'string' || !id)
      throw badRequest('invalidValue', `${where}[${i}].value must be a member id (got ${preview(isObject(item) ? item.value : item)})`);
    return id;
  });
}

class Patcher {
  readonly changes: MemberChange[] = [];
  work = 0;
  /**
   * The canonical keys of a multi-valued attribute's elements, by the array that holds them. Adds push onto that
   * array and into its set, so a request adding N values does O(N) work, not O(N²). Every other change builds a
   * new array or drops the entry, so a set never describes a changed array.
   */
  private readonly keys = new WeakMap<unknown[], Set<string>>();
  constructor(
    private readonly kind: ResourceKind,
    readonly doc: ScimDoc,
  ) {}

  private spend(units: number): void {
    this.work += units;
    if (this.work > MAX_PATCH_WORK) {
      throw badRequest('tooMany', 'This PATCH asks for more work than the bridge does in one request; send its operations in several requests');
    }
  }

  apply(operation: PatchOperation): void {
    if (operation.path === undefined) {
      if (operation.op === 'remove') throw badRequest('noTarget', '"remove" needs a "path"');
      this.applyPathless(operation.op, operation.value);
      return;
    }
    this.applyAt(operation.op, parsePatchPath(operation.path), operation.value, operation.path);
  }

  /** `{"op": "replace", "value": {"active": false, "name.givenName": "Ada"}}`: each key is a path. */
  private applyPathless(op: 'add' | 'replace', value: unknown): void {
    if (!isObject(value)) throw badRequest('invalidValue', `A "${op}" without a path needs an object value`);
    const extensions = schemasFor(this.kind).extensions;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'schemas') continue;
      const extension = extensions.find((e) => e.id.toLowerCase() === key.toLowerCase());
      if (extension && isObject(inner)) {
        for (const [attr, v] of Object.entries(inner)) this.applyAt(op, parsePatchPath(`${extension.id}:${attr}`), v, `${extension.id}:${attr}`);
        continue;
      }
      this.applyAt(op, parsePatchPath(key), inner, key, true);
    }
  }

  private resolve(path: PatchPath, text: string): ResolvedAttribute {
    const resolved = resolveAttribute(this.kind, path.ref);
    if (!resolved) throw badRequest('invalidPath', `"${text}" is not an attribute of ${this.kind}`);
    return resolved;
  }

  private applyAt(op: PatchOpName, path: PatchPath, value: unknown, text: string, pathless = false): void {
    // A bare schema URN (`urn:…:enterprise:2.0:User`): the value holds that extension's attributes.
    const bareUrn =
      path.ref.uri && !path.ref.sub && !path.filter
        ? schemasFor(this.kind).extensions.find((e) => e.id.toLowerCase() === `${path.ref.uri}:${path.ref.attr}`.toLowerCase())
        : undefined;
    if (bareUrn) path = { ref: { uri: bareUrn.id, attr: '' } };
    if (path.ref.uri && path.ref.attr && !this.servesSchema(path.ref.uri)) {
      this.applyUndeclared(op, path, value, text);
      return;
    }
    if (!path.ref.attr && path.ref.uri) {
      if (op === 'remove') {
        delete this.doc[this.extensionId(path.ref.uri, text)];
        return;
      }
      if (!isObject(value)) throw badRequest('invalidValue', `"${text}" needs an object value`);
      for (const [attr, v] of Object.entries(value)) {
        // Clients that serialize the extension as a model put its `schemas` beside its attributes (python-scim).
        if (attr === 'schemas') continue;
        this.applyAt(op, parsePatchPath(`${path.ref.uri}:${attr}`), v, `${path.ref.uri}:${attr}`);
      }
      return;
    }
    const resolved = this.resolve(path, text);
    const top = resolved.parent ?? resolved.def;
    if (top.mutability === 'readOnly' || resolved.def.mutability === 'readOnly') {
      // Okta and Entra echo `id` (and sometimes meta) in path-less replaces; that is no change, not an error.
      if (pathless && op !== 'remove') return;
      throw badRequest('mutability', `"${text}" is read-only`);
    }
    if (top.mutability === 'writeOnly') return; // passwords are never stored

    if (this.kind === 'Group' && top.name === 'members') {
      this.applyMembers(op, path, value, text);
      return;
    }
    const container = this.container(resolved);
    if (path.filter) {
      this.applyFiltered(op, resolved, container, path.filter, path.subAfterFilter, value, text);
      return;
    }
    if (resolved.parent) {
      this.applySubAttribute(op, resolved, container, value, text);
      return;
    }
    const def = resolved.def;
    if (op === 'remove') {
      if (value !== undefined && def.multiValued && def.type === 'complex') {
        // Remove the listed values from a multi-valued attribute (the members-style variant).
        const listed = Array.isArray(value) ? value : [value];
        const current = (container[def.name] as unknown[] | undefined) ?? [];
        this.spend(listed.length + current.length);
        const removed = new Set<string>();
        for (const l of listed) {
          const key = looseKey(l);
          if (key !== undefined) removed.add(key);
        }
        const keep = current.filter((item) => !removed.has(looseKey(item) ?? ''));
        setOrDelete(container, def.name, keep.length ? keep : undefined);
        return;
      }
      if (def.required) throw badRequest('mutability', `"${text}" is required and cannot be removed`);
      delete container[def.name];
      return;
    }
    const coerced = coerceAttribute(def, value, text);
    if (def.multiValued) {
      const incoming = (coerced as unknown[] | undefined) ?? [];
      this.spend(incoming.length);
      if (op === 'replace') {
        setOrDelete(container, def.name, incoming.length ? incoming : undefined);
      } else {
        const existing = container[def.name];
        const list = Array.isArray(existing) ? existing : [];
        let keys = this.keys.get(list);
        if (!keys) {
          this.spend(list.length);
          keys = new Set(list.map(valueKey));
        }
        for (const item of incoming) {
          const key = valueKey(item);
          if (keys.has(key)) continue;
          keys.add(key);
          list.push(item);
        }
        this.keys.set(list, keys);
        setOrDelete(container, def.name, list.length ? list : undefined);
      }
      if (incoming.some((item) => isObject(item) && item.primary === true)) this.clearOtherPrimaries(container, def.name);
      return;
    }
    if (def.type === 'complex' && isObject(container[def.name]) && coerced !== undefined) {
      // Sub-attributes not named in the value are left as they were (RFC 7644 §3.5.2.1 and .3).
      container[def.name] = { ...(container[def.name] as object), ...(coerced as object) };
      return;
    }
    if (coerced === undefined && def.required) throw badRequest('invalidValue', `"${text}" is required`);
    setOrDelete(container, def.name, coerced);
  }

  private applySubAttribute(op: PatchOpName, resolved: ResolvedAttribute, container: ScimDoc, value: unknown, text: string): void {
    const parent = resolved.parent!;
    const def = resolved.def;
    if (parent.multiValued) {
      // `emails.value` names the sub-attribute of every element.
      const items = (container[parent.name] as Record<string, unknown>[] | undefined) ?? [];
      this.spend(items.length);
      if (op !== 'remove' && !items.length) throw badRequest('noTarget', `"${text}" matches no value`);
      const coerced = op === 'remove' ? undefined : coerceAttribute(def, value, text);
      const changed = items.map((item) => {
        const copy = { ...item };
        setOrDelete(copy, def.name, coerced);
        return copy;
      });
      setOrDelete(container, parent.name, changed.length ? changed : undefined);
      return;
    }
    const current = isObject(container[parent.name]) ? ({ ...(container[parent.name] as object) } as Record<string, unknown>) : {};
    if (op === 'remove') delete current[def.name];
    else setOrDelete(current, def.name, coerceAttribute(def, value, text));
    setOrDelete(container, parent.name, Object.keys(current).length ? current : undefined);
  }

  private applyFiltered(
    op: PatchOpName,
    resolved: ResolvedAttribute,
    container: ScimDoc,
    filter: FilterNode,
    sub: string | undefined,
    value: unknown,
    text: string,
  ): void {
    const def = resolved.def;
    if (!def.multiValued || resolved.parent) throw badRequest('invalidPath', `"${text}": a value filter needs a multi-valued attribute`);
    const subDef = sub ? def.subAttributes?.find((s) => s.name.toLowerCase() === sub.toLowerCase()) : undefined;
    if (sub && !subDef) throw badRequest('invalidPath', `"${text}": "${sub}" is not a sub-attribute of ${def.name}`);
    const caseExactOf = (name: string) => def.subAttributes?.find((s) => s.name.toLowerCase() === name.toLowerCase())?.caseExact ?? false;
    const current = (container[def.name] as Record<string, unknown>[] | undefined) ?? [];
    // Each element visited costs the filter's comparisons, not one unit: 95 terms over 2,000 elements is 190,000.
    this.spend(current.length * elementFilterWork(filter));
    // Match on the stored elements; only the matched ones are copied (a new array holds them).
    const matched = new Set<number>();
    for (let i = 0; i < current.length; i++) if (matchesElement(filter, current[i], caseExactOf)) matched.add(i);

    if (op === 'remove') {
      const kept = subDef ? current.map((item, i) => (matched.has(i) ? withoutKey(item, subDef.name) : item)) : current.filter((_item, i) => !matched.has(i));
      setOrDelete(container, def.name, kept.length ? kept : undefined);
      return;
    }
    let items: Record<string, unknown>[];
    if (!matched.size) {
      const template = equalityTemplate(filter);
      if (!template) throw badRequest('noTarget', `"${text}" matches no value`);
      const given: Record<string, unknown> = subDef ? { [subDef.name]: value } : isObject(value) ? value : { value };
      const created = coerceAttribute(def, { ...template, ...given }, text) as Record<string, unknown>[] | undefined;
      items = [...current, ...(created ?? [])];
    } else if (subDef) {
      const coerced = coerceAttribute(subDef, value, text);
      items = current.map((item, i) => {
        if (!matched.has(i)) return item;
        const copy = { ...item };
        setOrDelete(copy, subDef.name, coerced);
        return copy;
      });
    } else {
      const replacement = (coerceAttribute({ ...def, multiValued: false }, value, text) ?? {}) as Record<string, unknown>;
      // replace: the element becomes the value; add: the value's sub-attributes are merged into it.
      items = current.map((item, i) => (!matched.has(i) ? item : op === 'replace' ? { ...replacement } : { ...item, ...replacement }));
    }
    setOrDelete(container, def.name, items.length ? items : undefined);
    this.clearOtherPrimaries(container, def.name);
  }

  /** When an operation marks a value primary, the others stop being primary (RFC 7643 §2.4); the newest mark wins. */
  private clearOtherPrimaries(container: ScimDoc, name: string): void {
    const items = container[name];
    if (!Array.isArray(items)) return;
    this.spend(items.length);
    let last = -1;
    for (let i = 0; i < items.length; i++) if (isObject(items[i]) && items[i].primary === true) last = i;
    if (last < 0) return;
    let changed = false;
    const cleared = items.map((item, i) => {
      if (i === last || !isObject(item) || item.primary !== true) return item;
      changed = true;
      return { ...item, primary: false };
    });
    // A new array: the key set of the old one no longer describes its elements.
    if (changed) container[name] = cleared;
  }

  private applyMembers(op: PatchOpName, path: PatchPath, value: unknown, text: string): void {
    if (path.ref.sub || path.subAfterFilter) throw badRequest('invalidPath', `"${text}": members can only be added or removed whole`);
    if (path.filter) {
      if (op !== 'remove') throw badRequest('invalidPath', `"${text}": use "add" on "members" to add members`);
      const template = equalityTemplate(path.filter);
      const id = template?.value;
      if (typeof id !== 'string' || Object.keys(template!).length !== 1) {
        throw badRequest('invalidFilter', `"${text}": members can be selected only with value eq "<id>"`);
      }
      this.changes.push({ kind: 'remove', ids: [id] });
      return;
    }
    if (op === 'remove') {
      this.changes.push(value === undefined || value === null ? { kind: 'replace', ids: [] } : { kind: 'remove', ids: memberIds(value) });
      return;
    }
    const ids = value === null ? [] : memberIds(value);
    this.changes.push(op === 'add' ? { kind: 'add', ids } : { kind: 'replace', ids });
  }

  private servesSchema(uri: string): boolean {
    const { core, extensions } = schemasFor(this.kind);
    const lower = uri.toLowerCase();
    return lower === core.id.toLowerCase() || extensions.some((e) => e.id.toLowerCase() === lower);
  }

  /**
   * A path into an extension the bridge does not declare: refused with a 400 naming it, or, when undeclared
   * extensions are kept, applied to the stored values as sent (`urn:…:User` whole, or `urn:…:User:attr[.sub]`).
   */
  private applyUndeclared(op: PatchOpName, path: PatchPath, value: unknown, text: string): void {
    const uri = path.ref.uri!;
    const whole = !path.ref.sub && !path.filter && path.ref.attr.toLowerCase() === this.kind.toLowerCase();
    const urn = whole ? `${uri}:${path.ref.attr}` : uri;
    if (path.filter) throw badRequest('invalidPath', `"${text}": value filters need a declared extension`);
    const key = Object.keys(this.doc).find((k) => k.toLowerCase() === urn.toLowerCase()) ?? urn;
    if (whole) {
      if (op === 'remove') delete this.doc[key];
      else {
        const given = undeclaredExtension(urn, value, 'invalidPath');
        const current = op === 'add' && isObject(this.doc[key]) ? (this.doc[key] as object) : {};
        this.doc[key] = { ...current, ...structuredClone(given) };
      }
      return;
    }
    if (op !== 'remove')
      undeclaredExtension(urn, {}, 'invalidPath'); // refused unless undeclared extensions are kept
    else if (!isObject(this.doc[key])) return;
    const container = isObject(this.doc[key]) ? (this.doc[key] as Record<string, unknown>) : (this.doc[key] = {});
    const { attr, sub } = path.ref;
    if (!sub) {
      setOrDelete(container, attr, op === 'remove' ? undefined : structuredClone(value));
    } else {
      const inner = isObject(container[attr]) ? ({ ...(container[attr] as object) } as Record<string, unknown>) : {};
      setOrDelete(inner, sub, op === 'remove' ? undefined : structuredClone(value));
      setOrDelete(container, attr, Object.keys(inner).length ? inner : undefined);
    }
  }

  private extensionId(uri: string, text: string): string {
    const extension = schemasFor(this.kind).extensions.find((e) => e.id.toLowerCase() === uri.toLowerCase());
    if (!extension) throw badRequest('invalidPath', `"${text}" names an unknown schema`);
    return extension.id;
  }

  private container(resolved: ResolvedAttribute): ScimDoc {
    if (resolved.schemaId === schemasFor(this.kind).core.id) return this.doc;
    const existing = this.doc[resolved.schemaId];
    if (isObject(existing)) return existing;
    const created: ScimDoc = {};
    this.doc[resolved.schemaId] = created;
    return created;
  }
}

/** The identity `remove` with a value list matches on: an element's `value`, case-insensitively. */
function looseKey(item: unknown): string | undefined {
  const value = isObject(item) ? item.value : item;
  return value === undefined || value === null ? undefined : String(value).toLowerCase();
}

function withoutKey(item: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...item };
  delete copy[key];
  return copy;
}

function setOrDelete(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

/** Applies operations in order to a copy of `doc`; the stored document is untouched if any operation fails. */
export function applyPatch(kind: ResourceKind, doc: ScimDoc, operations: readonly PatchOperation[]): PatchResult {
  const patcher = new Patcher(kind, structuredClone(doc));
  for (const operation of operations) {
    patcher.apply(operation);
    patcher.work++;
  }
  // Drop extension objects that operations emptied.
  for (const extension of schemasFor(kind).extensions) {
    const ext = patcher.doc[extension.id];
    if (isObject(ext) && Object.keys(ext).length === 0) delete patcher.doc[extension.id];
  }
  return { doc: patcher.doc, memberChanges: patcher.changes, work: patcher.work };
}
