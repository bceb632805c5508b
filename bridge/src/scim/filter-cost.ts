/**
 * What a list filter costs the store before it runs, so a request is refused by what it would do, not only by its
 * length: a filter's work grows with its terms, with text searches (`co`, `sw`, `ew`) that no index answers, with
 * attributes read out of the stored document, and with multi-valued attributes, each of which is a subquery per
 * row (a group's `members` can be 50,000 rows). The units are roughly "one indexed comparison per row visited":
 * the budget below was measured so that the worst filter it accepts stays within the store's list deadline on
 * 100,000 users (BENCHMARKS.md, "Worst accepted requests").
 *
 * The look-up an identity provider makes before every write (`userName eq "…"`, `externalId eq "…"`, `id eq "…"`,
 * a group's `displayName eq "…"`) is answered on its first line without allocating.
 */
import { badRequest } from './errors';
import type { AttrRef, FilterNode } from './filter';
import { type ResourceKind, resolveAttribute } from './schemas';

/** The most a list filter may cost (see the module comment); documented in SECURITY.md. */
export const FILTER_COST_BUDGET = 200;

/** Costs of one term, per row the store visits. */
export const TERM_COST = {
  /** `eq` on an indexed column (id, externalId, userName, a group's displayName), or a membership by id. */
  indexed: 1,
  /** Any other comparison or `pr` on a column (dates, active, ranges): read from the row, no JSON. */
  column: 2,
  /** `co`/`sw`/`ew` on a column: a scan of the text. */
  columnText: 4,
  /** An attribute read out of the stored JSON document. */
  document: 8,
  /** A case-insensitive comparison of a document attribute folds both sides (a function call per row). */
  fold: 8,
  /** `co`/`sw`/`ew` on a document attribute. */
  documentText: 4,
  /**
   * A multi-valued attribute: a subquery per row (PostgreSQL expands the JSON array of every row: measured 25 times
   * a document attribute's cost there, 5 times on SQLite), plus its inner terms once per element.
   */
  multiValued: 60,
  /** Elements of a multi-valued attribute the model assumes per row (emails, addresses, a user's groups). */
  elements: 3,
  /** A group's members: the subquery joins the users of every member. */
  members: 100,
  memberElements: 20,
  /** `not (…)`: NULL-safe negation wraps its operand. */
  not: 1,
} as const;

/** Indexed, single-valued attributes per kind, by the spellings clients send (others take the general path). */
const INDEXED_EQ: Record<ResourceKind, ReadonlySet<string>> = {
  User: new Set(['userName', 'username', 'UserName', 'externalId', 'externalid', 'id']),
  Group: new Set(['displayName', 'displayname', 'DisplayName', 'externalId', 'externalid', 'id']),
};

/** Column-backed attributes (as resolveAttribute names their path), compared without reading the document. */
const COLUMNS: Record<ResourceKind, ReadonlySet<string>> = {
  User: new Set(['id', 'externalId', 'userName', 'active', 'meta.created', 'meta.lastModified', 'meta.resourceType']),
  Group: new Set(['id', 'externalId', 'displayName', 'meta.created', 'meta.lastModified', 'meta.resourceType']),
};
const INDEXED_PATHS: Record<ResourceKind, ReadonlySet<string>> = {
  User: new Set(['id', 'externalId', 'userName']),
  Group: new Set(['id', 'externalId', 'displayName']),
};

const isText = (op: string) => op === 'co' || op === 'sw' || op === 'ew';

/** The cost of a filter in TERM_COST units. Unknown attributes cost as document reads (the compiler refuses them). */
export function filterCost(kind: ResourceKind, node: FilterNode): number {
  // The identity providers' look-up: one comparison on an indexed column, no allocation.
  if (node.kind === 'cmp' && node.op === 'eq' && node.ref.uri === undefined && node.ref.sub === undefined && INDEXED_EQ[kind].has(node.ref.attr)) {
    return TERM_COST.indexed;
  }
  return cost(kind, node);
}

function cost(kind: ResourceKind, node: FilterNode): number {
  switch (node.kind) {
    case 'and':
    case 'or':
      return cost(kind, node.left) + cost(kind, node.right);
    case 'not':
      return TERM_COST.not + cost(kind, node.expr);
    case 'valuePath':
      return multiValuedCost(kind, node.ref, node.expr);
    case 'pr':
    case 'cmp':
      return termCost(kind, node);
  }
}

function termCost(kind: ResourceKind, node: Extract<FilterNode, { kind: 'pr' | 'cmp' }>): number {
  const resolved = resolveAttribute(kind, node.ref);
  if (!resolved) return TERM_COST.document + TERM_COST.fold;
  const top = resolved.parent ?? resolved.def;
  if (top.multiValued) {
    // `emails.value eq "x"`, `groups pr`: a subquery over the elements with one inner comparison.
    const inner: FilterNode =
      node.kind === 'pr'
        ? { kind: 'pr', ref: { attr: resolved.parent ? resolved.def.name : 'value' } }
        : { kind: 'cmp', ref: { attr: resolved.parent ? resolved.def.name : 'value' }, op: node.op, value: node.value };
    return multiValuedCost(kind, { uri: node.ref.uri, attr: node.ref.attr }, inner);
  }
  const op = node.kind === 'pr' ? 'pr' : node.op;
  if (COLUMNS[kind].has(resolved.path)) {
    if (op === 'eq' && INDEXED_PATHS[kind].has(resolved.path)) return TERM_COST.indexed;
    return isText(op) ? TERM_COST.columnText : TERM_COST.column;
  }
  let units = TERM_COST.document;
  if (resolved.def.type === 'string' && !resolved.def.caseExact && op !== 'pr') units += TERM_COST.fold;
  if (isText(op)) units += TERM_COST.documentText;
  return units;
}

/** A subquery per row over a multi-valued attribute's elements, each tested by `expr`. */
function multiValuedCost(kind: ResourceKind, ref: AttrRef, expr: FilterNode): number {
  const members = kind === 'Group' && ref.attr.toLowerCase() === 'members';
  const viaIndex = (kind === 'Group' && members) || (kind === 'User' && ref.attr.toLowerCase() === 'groups');
  // `members[value eq "id"]`, `groups.value eq "id"`: one look-up in the membership table's primary key.
  if (viaIndex && expr.kind === 'cmp' && expr.op === 'eq' && expr.ref.attr.toLowerCase() === 'value') return TERM_COST.indexed * 2;
  const inner = elementCost(expr);
  return members ? TERM_COST.members + inner * TERM_COST.memberElements : TERM_COST.multiValued + inner * TERM_COST.elements;
}

/** Inner terms of a value filter: each compares one sub-attribute of an element. */
function elementCost(node: FilterNode): number {
  switch (node.kind) {
    case 'and':
    case 'or':
      return elementCost(node.left) + elementCost(node.right);
    case 'not':
      return TERM_COST.not + elementCost(node.expr);
    case 'valuePath':
      return TERM_COST.multiValued; // refused by the compiler: value filters do not nest
    case 'pr':
      return TERM_COST.column;
    case 'cmp':
      return isText(node.op) ? TERM_COST.columnText : TERM_COST.column;
  }
}

/** Refuses a filter over the budget with 400 `tooMany`, before any query runs; returns its cost. */
export function checkFilterCost(kind: ResourceKind, node: FilterNode): number {
  const units = filterCost(kind, node);
  if (units > FILTER_COST_BUDGET) {
    throw badRequest(
      'tooMany',
      `The filter would cost the store ${units} units of work; the bridge runs at most ${FILTER_COST_BUDGET} per request (text searches and multi-valued attributes cost most): narrow or split it`,
    );
  }
  return units;
}

/**
 * The work of testing one element against a PATCH value filter (`emails[type eq "work" or …]`), evaluated in
 * memory: one unit per comparison and per negation. A PATCH spends this per element it visits (patch.ts).
 */
export function elementFilterWork(node: FilterNode): number {
  switch (node.kind) {
    case 'and':
    case 'or':
      return elementFilterWork(node.left) + elementFilterWork(node.right);
    case 'not':
      return 1 + elementFilterWork(node.expr);
    case 'valuePath':
      return 1 + elementFilterWork(node.expr);
    case 'pr':
    case 'cmp':
      return 1;
  }
}
