/**
 * The query of a list request (RFC 7644 §3.4.2): filter, paging, sorting and projection, read from the query
 * string into values every store accepts. Paging follows §3.4.2.4: a `startIndex` below 1 is 1, a negative `count`
 * is 0 and a `count` above the maximum is the maximum; what is not a whole number is a 400, as is a `startIndex`
 * past any directory (rather than an offset a store cannot bind).
 */
import { badRequest } from './errors';
import { type FilterNode, parseFilter } from './filter';
import { checkFilterCost } from './filter-cost';
import { type Projection, parseProjection } from './projection';
import type { ResourceKind } from './schemas';

/** The query string of a list or read request, as sent. */
export interface ListParams {
  readonly filter?: string;
  readonly startIndex?: string;
  readonly count?: string;
  readonly sortBy?: string;
  readonly sortOrder?: string;
  readonly attributes?: string;
  readonly excludedAttributes?: string;
}

/** What to list: the store's ListQuery has this shape. */
export interface ListRequest {
  readonly filter?: FilterNode;
  /** 1-based, as SCIM counts. */
  readonly startIndex: number;
  readonly count: number;
  readonly sortBy?: string;
  readonly sortDescending?: boolean;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** 2^31 - 1: far past any directory, and an offset every store binds as an integer. */
export const MAX_START_INDEX = 2_147_483_647;

const WHOLE_NUMBER = /^[+-]?\d{1,400}$/;

/** A query value that may be given more than once (`?count=1&count=2`): the last one counts, as most servers do. */
function single(name: string, raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof value !== 'string') throw badRequest('invalidValue', `"${name}" must be given once`);
  return value;
}

function wholeNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  if (!WHOLE_NUMBER.test(text)) throw badRequest('invalidValue', `"${name}" must be a whole number (got "${text.slice(0, 40)}")`);
  // Digits beyond 2^53 lose precision, not sign or magnitude, which is all the clamps below need.
  return Number(text);
}

export function parseStartIndex(raw: unknown): number {
  const value = wholeNumber('startIndex', single('startIndex', raw));
  if (value === undefined || value < 1) return 1;
  if (value > MAX_START_INDEX) throw badRequest('invalidValue', `"startIndex" must be at most ${MAX_START_INDEX}`);
  return value;
}

export function parseCount(raw: unknown): number {
  const value = wholeNumber('count', single('count', raw));
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(0, value));
}

export function parseListRequest(kind: ResourceKind, params: ListParams): { query: ListRequest; projection: Projection } {
  const filter = single('filter', params.filter);
  const sortBy = single('sortBy', params.sortBy);
  const sortOrder = single('sortOrder', params.sortOrder)?.toLowerCase();
  if (sortOrder !== undefined && sortOrder !== '' && sortOrder !== 'ascending' && sortOrder !== 'descending') {
    throw badRequest('invalidValue', `"sortOrder" must be "ascending" or "descending"`);
  }
  const node = filter !== undefined && filter.trim() !== '' ? parseFilter(filter) : undefined;
  // Refused by its cost before any query runs (filter-cost.ts).
  if (node) checkFilterCost(kind, node);
  return {
    query: {
      filter: node,
      startIndex: parseStartIndex(params.startIndex),
      count: parseCount(params.count),
      sortBy: sortBy || undefined,
      sortDescending: sortOrder === 'descending',
    },
    projection: parseResourceProjection(kind, params),
  };
}

/** `attributes` / `excludedAttributes` of a read or list request. */
export function parseResourceProjection(kind: ResourceKind, params: Pick<ListParams, 'attributes' | 'excludedAttributes'>): Projection {
  return parseProjection(kind, single('attributes', params.attributes), single('excludedAttributes', params.excludedAttributes));
}
