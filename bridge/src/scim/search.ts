/**
 * `POST …/.search` (RFC 7644 §3.4.3): a SearchRequest body read into the same query parameters a GET list takes,
 * so both go through one parser with one set of limits; and, for the root `/.search` across every resource type,
 * whether a filter can match a kind at all and how one page spans the kinds.
 */
import { badRequest } from './errors';
import type { FilterNode } from './filter';
import type { ListParams } from './query';
import { type ResourceKind, resolveAttribute } from './schemas';

export const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** `attributes` and `excludedAttributes` are arrays in a SearchRequest (§3.4.3); a comma-separated string is read too. */
function attributeList(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(',');
  throw badRequest('invalidValue', `"${name}" must be an array of attribute names`);
}

/** A number in the body may come as a JSON number or as a string, as in a query string. */
function scalar(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw badRequest('invalidValue', `"${name}" must be a ${name === 'startIndex' || name === 'count' ? 'number' : 'string'}`);
}

/** Reads a SearchRequest body into list parameters; member names are matched case-insensitively, like attribute names. */
export function searchParams(body: unknown): ListParams {
  if (body === undefined || body === null || body === '') return {};
  if (!isObject(body)) throw badRequest('invalidSyntax', 'The search request must be a JSON object');
  const schemas = body.schemas;
  if (schemas !== undefined && (!Array.isArray(schemas) || !schemas.includes(SEARCH_REQUEST_SCHEMA))) {
    throw badRequest('invalidSyntax', `"schemas" must be ["${SEARCH_REQUEST_SCHEMA}"]`);
  }
  const field = (name: string) => {
    const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : body[key];
  };
  return {
    filter: scalar('filter', field('filter')),
    startIndex: scalar('startIndex', field('startIndex')),
    count: scalar('count', field('count')),
    sortBy: scalar('sortBy', field('sortBy')),
    sortOrder: scalar('sortOrder', field('sortOrder')),
    attributes: attributeList('attributes', field('attributes')),
    excludedAttributes: attributeList('excludedAttributes', field('excludedAttributes')),
  };
}

/**
 * Whether every attribute a filter names is an attribute of `kind`. A root search runs the filter against each kind
 * (§3.4.2.1); a kind lacking an attribute the filter names contributes no results rather than an error
 * (`userName eq "x"` finds users, not a 400 from groups).
 */
export function filterAppliesTo(kind: ResourceKind, node: FilterNode): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return filterAppliesTo(kind, node.left) && filterAppliesTo(kind, node.right);
    case 'not':
      return filterAppliesTo(kind, node.expr);
    case 'valuePath':
      return resolveAttribute(kind, node.ref) !== undefined;
    case 'pr':
    case 'cmp':
      return resolveAttribute(kind, node.ref) !== undefined;
  }
}

/**
 * One page across kinds listed one after the other: the kind before holds positions 1…`before`, so the next kind's
 * page starts at `startIndex - before` and takes what is left of `count`.
 */
export function nextPage(startIndex: number, count: number, before: number, taken: number): { startIndex: number; count: number } {
  return { startIndex: Math.max(1, startIndex - before), count: Math.max(0, count - taken) };
}
