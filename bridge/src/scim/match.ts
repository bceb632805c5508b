/**
 * Evaluates a filter against one element of a multi-valued attribute in memory (PATCH value filters such as
 * `emails[type eq "work"]`). Listing filters never come here: the store compiles them to SQL.
 */
import { badRequest } from './errors';
import type { FilterNode, FilterValue } from './filter';

/** Tells whether a sub-attribute compares case-exactly (from the schema). */
export type CaseExactOf = (subAttribute: string) => boolean;

function field(element: unknown, name: string): unknown {
  if (element === null || typeof element !== 'object') return name.toLowerCase() === 'value' ? element : undefined;
  const record = element as Record<string, unknown>;
  // Stored elements use the schema's names; a filter usually does too. Otherwise, case-insensitively.
  if (Object.hasOwn(record, name)) return record[name];
  const lower = name.toLowerCase();
  for (const key in record) if (key.toLowerCase() === lower) return record[key];
  return undefined;
}

function compare(actual: unknown, op: string, expected: FilterValue, caseExact: boolean): boolean {
  if (op === 'eq' && expected === null) return actual === undefined || actual === null;
  if (op === 'ne' && expected === null) return actual !== undefined && actual !== null;
  if (actual === undefined || actual === null) return op === 'ne';
  if (typeof actual === 'string' && typeof expected === 'string') {
    const a = caseExact ? actual : actual.toLowerCase();
    const e = caseExact ? expected : expected.toLowerCase();
    switch (op) {
      case 'eq':
        return a === e;
      case 'ne':
        return a !== e;
      case 'co':
        return a.includes(e);
      case 'sw':
        return a.startsWith(e);
      case 'ew':
        return a.endsWith(e);
      case 'gt':
        return a > e;
      case 'ge':
        return a >= e;
      case 'lt':
        return a < e;
      case 'le':
        return a <= e;
    }
  }
  if (typeof actual === 'boolean' || typeof expected === 'boolean') {
    const a = typeof actual === 'string' ? actual.toLowerCase() === 'true' : actual;
    if (op === 'eq') return a === expected;
    if (op === 'ne') return a !== expected;
    throw badRequest('invalidFilter', `"${op}" cannot compare booleans`);
  }
  if (typeof actual === 'number' && typeof expected === 'number') {
    switch (op) {
      case 'eq':
        return actual === expected;
      case 'ne':
        return actual !== expected;
      case 'gt':
        return actual > expected;
      case 'ge':
        return actual >= expected;
      case 'lt':
        return actual < expected;
      case 'le':
        return actual <= expected;
    }
    throw badRequest('invalidFilter', `"${op}" cannot compare numbers`);
  }
  return op === 'ne' ? String(actual) !== String(expected) : op === 'eq' && String(actual) === String(expected);
}

export function matchesElement(node: FilterNode, element: unknown, caseExactOf: CaseExactOf): boolean {
  switch (node.kind) {
    case 'and':
      return matchesElement(node.left, element, caseExactOf) && matchesElement(node.right, element, caseExactOf);
    case 'or':
      return matchesElement(node.left, element, caseExactOf) || matchesElement(node.right, element, caseExactOf);
    case 'not':
      return !matchesElement(node.expr, element, caseExactOf);
    case 'pr': {
      const value = field(element, node.ref.attr);
      return value !== undefined && value !== null && value !== '';
    }
    case 'cmp':
      return compare(field(element, node.ref.attr), node.op, node.value, caseExactOf(node.ref.attr));
    case 'valuePath':
      throw badRequest('invalidFilter', 'value filters cannot be nested');
  }
}

/**
 * The attribute values a filter pins down with `eq` (e.g. `type eq "work"` → {type: "work"}), so that an
 * `add`/`replace` whose value filter matches nothing can create the element identity providers mean.
 * Returns undefined when the filter is anything but a conjunction of `eq` comparisons.
 */
export function equalityTemplate(node: FilterNode): Record<string, FilterValue> | undefined {
  if (node.kind === 'cmp' && node.op === 'eq' && !node.ref.sub) return { [node.ref.attr]: node.value };
  if (node.kind === 'and') {
    const left = equalityTemplate(node.left);
    const right = equalityTemplate(node.right);
    return left && right ? { ...left, ...right } : undefined;
  }
  return undefined;
}
