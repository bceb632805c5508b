/** `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) applied to a rendered resource. */
import { badRequest } from './errors';
import { parseAttrRef } from './filter';
import { type ResourceKind, resolveAttribute, schemasFor, servedSchemas } from './schemas';

export interface Projection {
  /** Canonical paths to return ('userName', 'name.givenName', '<urn>:department'); undefined means the defaults. */
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
}

const ALWAYS = new Set(['id', 'schemas']);

function canonicalPaths(kind: ResourceKind, list: string | undefined): string[] | undefined {
  if (list === undefined || list.trim() === '') return undefined;
  const fail = (msg: string) => badRequest('invalidValue', `Invalid attribute list: ${msg}`);
  const paths: string[] = [];
  const { core, extensions } = schemasFor(kind);
  for (const item of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    // `emails[type eq "work"]` names no attribute (§3.4.2.5 takes names only), but clients send it (Microsoft's test
    // collection): a multi-valued attribute is returned whole, which holds what was asked for.
    const filtered = /^([^[\]]+)\[[^\]]*\]$/.exec(item);
    if (filtered) {
      const resolved = resolveAttribute(kind, parseAttrRef(filtered[1], fail));
      if (!resolved?.def.multiValued || resolved.parent) throw fail(`"${item}": a value filter needs a multi-valued attribute`);
      paths.push(resolved.path);
      continue;
    }
    const ref = parseAttrRef(item, fail);
    if (!ref.attr) {
      // A bare schema URN (`urn:…:User` or, with a trailing colon, `urn:…:User:`): all of that schema's attributes.
      const uri = ref.uri!.toLowerCase();
      if (uri === core.id.toLowerCase()) paths.push(...core.attributes.map((a) => a.name), 'externalId', 'meta');
      const extension = extensions.find((e) => e.id.toLowerCase() === uri);
      if (extension) paths.push(extension.id);
      continue; // unknown schemas are ignored like unknown attributes
    }
    // A whole extension named without the trailing colon parses as URN + attribute: look for the extension first.
    const extension = ref.uri && !ref.sub ? extensions.find((e) => e.id.toLowerCase() === `${ref.uri}:${ref.attr}`.toLowerCase()) : undefined;
    if (extension) {
      paths.push(extension.id);
      continue;
    }
    // Unknown names are ignored, as clients ask for attributes of schemas they assume.
    const resolved = resolveAttribute(kind, ref);
    if (resolved) paths.push(resolved.path);
  }
  return paths;
}

export function parseProjection(kind: ResourceKind, attributes?: string, excludedAttributes?: string): Projection {
  return { include: canonicalPaths(kind, attributes), exclude: canonicalPaths(kind, excludedAttributes) };
}

/** Whether a top-level attribute (e.g. 'members', 'groups') will be returned: lets the store skip loading it. */
export function wants(projection: Projection, attribute: string): boolean {
  const lower = attribute.toLowerCase();
  const hits = (paths: readonly string[]) => paths.some((p) => p.toLowerCase() === lower || p.toLowerCase().startsWith(`${lower}.`));
  if (projection.include) return hits(projection.include);
  if (projection.exclude) return !projection.exclude.some((p) => p.toLowerCase() === lower);
  return true;
}

const isSchemaId = (path: string) => servedSchemas().some((s) => s.id === path);

/** A canonical path as container (an extension URN, for its attributes), attribute and sub-attribute. */
function splitPath(path: string): { container?: string; name: string; sub?: string } {
  const ref = parseAttrRef(path, () => new Error(`not a canonical path: ${path}`));
  return { container: ref.uri, name: ref.attr, sub: ref.sub };
}

export function applyProjection(resource: Record<string, unknown>, projection: Projection): Record<string, unknown> {
  if (projection.include) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key];
    for (const path of projection.include) {
      if (Object.hasOwn(resource, path)) {
        out[path] = resource[path]; // a top-level attribute, or a whole extension asked for by its URN
        continue;
      }
      if (isSchemaId(path)) continue; // an extension the resource does not have
      const { container, name, sub } = splitPath(path);
      const source = container ? (resource[container] as Record<string, unknown> | undefined) : resource;
      const value = source?.[name];
      if (value === undefined) continue;
      const target = container ? ((out[container] as Record<string, unknown>) ??= {}) : out;
      if (!sub) target[name] = value;
      else if (Array.isArray(value)) target[name] = value.map((v) => ({ [sub]: (v as Record<string, unknown>)[sub] })).filter((v) => v[sub] !== undefined);
      else if (value && typeof value === 'object' && (value as Record<string, unknown>)[sub] !== undefined) {
        target[name] = { ...((target[name] as object) ?? {}), [sub]: (value as Record<string, unknown>)[sub] };
      }
    }
    return out;
  }
  if (projection.exclude) {
    const out = structuredClone(resource);
    for (const path of projection.exclude) {
      if (Object.hasOwn(out, path) || isSchemaId(path)) {
        if (!ALWAYS.has(path)) delete out[path]; // a top-level attribute or a whole extension
        continue;
      }
      const { container, name, sub } = splitPath(path);
      if (!container && ALWAYS.has(name)) continue;
      const target = container ? (out[container] as Record<string, unknown> | undefined) : out;
      if (!target) continue;
      if (!sub) delete target[name];
      else if (Array.isArray(target[name])) {
        for (const v of target[name] as Record<string, unknown>[]) delete v[sub];
      } else if (target[name] && typeof target[name] === 'object') delete (target[name] as Record<string, unknown>)[sub];
    }
    return out;
  }
  return resource;
}
