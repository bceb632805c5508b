/**
 * Compiles a SCIM filter AST into a SQL condition, so filters run in the database on indexed columns
 * (userName, externalId, id, displayName, membership) instead of loading records. Attributes without a
 * column are read from the JSON document; multi-valued ones through an EXISTS over their elements.
 * Identifiers in the SQL come from the schema only; every value is a bound parameter, so the SQL depends only on
 * the filter's *shape* (attributes, operators, value types) and is compiled once per shape and cached: a stream
 * of `userName eq "…"` look-ups reuses one statement text, and the adapters one prepared statement.
 */
import { StoreRefused } from './types';

/** A filter or sort the store cannot compile: the client's mistake (400 with `scimType`). */
const badRequest = (scimType: 'invalidFilter' | 'invalidValue', message: string) => new StoreRefused(400, message, scimType);
import { type AttrRef, type CompareOp, type FilterNode, type FilterValue, parseAttrRef } from '../scim/filter';
import { foldName, nameKey } from '../scim/names';
import { type AttributeDef, type ResourceKind, resolveAttribute, schemasFor } from '../scim/schemas';

export interface Dialect {
  /** Placeholder for the next parameter. */
  placeholder(index: number): string;
  /** Text of the JSON value at `keys` inside `source` (a column or an element alias). */
  jsonText(source: string, keys: readonly string[]): string;
  /** FROM clause listing the elements of the JSON array at `keys`, and the alias that holds each element. */
  jsonElements(source: string, keys: readonly string[], alias: string): { from: string; element: string };
  /** Compares a JSON boolean at `expr` (as produced by jsonText) to a bound parameter made by jsonBooleanParam. */
  jsonBoolean(expr: string, param: string): string;
  jsonBooleanParam(value: boolean): unknown;
  /** Parameter value for a boolean column. */
  booleanParam(value: boolean): unknown;
  contains(expr: string, param: string): string;
  startsWith(expr: string, param: string): string;
  endsWith(expr: string, param: string): string;
  /** NULL-safe negation: NOT of unknown is true here, as a missing attribute does not match. */
  not(condition: string): string;
  /** Numeric comparison of a JSON text value. */
  numeric(expr: string): string;
  /**
   * Case-folds text for a case-insensitive comparison of a value that has no lower-cased column (an attribute read
   * from the document), applied to both sides: the stored value and the bound one. A value then always matches
   * itself, whatever the script, even where the database's folding differs from JavaScript's (SQLite's built-in
   * lower() folds ASCII only; PostgreSQL's follows the database's locale).
   */
  fold(expr: string): string;
  /** A JSON array of `[id, displayName, lower-cased displayName]` of the groups of the outer `users` row, in no order (sorted in JS, alike on both stores). */
  readonly groupsOfUserJson: string;
  /** A JSON array of `[id, display]` of the members of the outer `groups` row, ordered by id. */
  readonly membersOfGroupJson: string;
  /** The database's clock in milliseconds since the epoch (leases expire by it, so replicas agree). */
  readonly nowMs: string;
  /**
   * A condition evaluated once per row a list query visits, that fails the statement past the request's deadline
   * (list-deadline.ts); for a database that has no statement timeout of its own (SQLite).
   */
  readonly rowGuard?: string;
}

export interface CompiledSql {
  readonly sql: string;
  readonly params: unknown[];
}

/** A parameter computed from the filter's values (in the order `filterShape` lists them); may throw a 400. */
type Binder = (values: readonly FilterValue[]) => unknown;

/** A compiled filter shape: the WHERE condition and how to get its parameters from a filter of that shape. */
export interface FilterPlan {
  readonly sql: string;
  readonly binders: readonly Binder[];
  /** The filter pins a unique key (`userName eq`, `id eq`, a group's `displayName eq`): at most one row matches. */
  readonly unique: boolean;
}

type ValueType = AttributeDef['type'];

interface Operand {
  /** SQL expression of the value. */
  readonly expr: string;
  /** An expression holding the lower-cased value, indexed, when the column has one. */
  readonly lowerExpr?: string;
  readonly type: ValueType;
  readonly caseExact: boolean;
  readonly isJson: boolean;
  /** Equality on this column (its lower-cased form when case-insensitive) matches at most one row. */
  readonly unique?: boolean;
}

/** Elements of a multi-valued attribute: the FROM clause correlated to the outer row, and how to read each sub-attribute. */
interface ElementSource {
  readonly from: string;
  readonly where: string;
  readonly sub: (name: string) => Operand;
}

const COLUMN_TYPES: Record<ResourceKind, Record<string, Operand>> = {
  User: {
    id: { expr: 'users.id', type: 'string', caseExact: true, isJson: false, unique: true },
    externalId: { expr: 'users.external_id', type: 'string', caseExact: true, isJson: false },
    userName: { expr: 'users.user_name', lowerExpr: 'users.user_name_lc', type: 'string', caseExact: false, isJson: false, unique: true },
    active: { expr: 'users.active', type: 'boolean', caseExact: false, isJson: false },
    'meta.created': { expr: 'users.created', type: 'dateTime', caseExact: false, isJson: false },
    'meta.lastModified': { expr: 'users.last_modified', type: 'dateTime', caseExact: false, isJson: false },
  },
  Group: {
    id: { expr: 'groups.id', type: 'string', caseExact: true, isJson: false, unique: true },
    externalId: { expr: 'groups.external_id', type: 'string', caseExact: true, isJson: false },
    displayName: { expr: 'groups.display_name', lowerExpr: 'groups.display_name_lc', type: 'string', caseExact: false, isJson: false, unique: true },
    'meta.created': { expr: 'groups.created', type: 'dateTime', caseExact: false, isJson: false },
    'meta.lastModified': { expr: 'groups.last_modified', type: 'dateTime', caseExact: false, isJson: false },
  },
};

export const TABLE: Record<ResourceKind, string> = { User: 'users', Group: 'groups' };

class Compiler {
  readonly binders: Binder[] = [];
  private aliases = 0;
  /** Index of the comparison being compiled, in the order filterShape lists the values. */
  private leaf = -1;

  constructor(
    private readonly kind: ResourceKind,
    private readonly dialect: Dialect,
  ) {}

  /** A placeholder whose value is `transform` of the current comparison's value. */
  private bind(transform: (value: FilterValue) => unknown): string {
    const index = this.leaf;
    this.binders.push((values) => transform(values[index]));
    return this.dialect.placeholder(this.binders.length);
  }

  /** Whether `node` pins a unique key, so at most one row can match (then ORDER BY, LIMIT and OFFSET are pointless). */
  unique(node: FilterNode): boolean {
    if (node.kind === 'and') return this.unique(node.left) || this.unique(node.right);
    if (node.kind !== 'cmp' || node.op !== 'eq' || (typeof node.value !== 'string' && typeof node.value !== 'number')) return false;
    if (node.ref.sub !== undefined) return false;
    const resolved = resolveAttribute(this.kind, node.ref);
    return Boolean(resolved && !resolved.parent && COLUMN_TYPES[this.kind][resolved.path]?.unique);
  }

  compile(node: FilterNode): string {
    if (node.kind === 'cmp') this.leaf++;
    switch (node.kind) {
      case 'and':
        return `(${this.compile(node.left)} AND ${this.compile(node.right)})`;
      case 'or':
        return `(${this.compile(node.left)} OR ${this.compile(node.right)})`;
      case 'not':
        return this.dialect.not(this.compile(node.expr));
      case 'valuePath': {
        const source = this.elements(node.ref);
        return `EXISTS (SELECT 1 FROM ${source.from} WHERE ${source.where} AND ${this.compileElement(node.expr, source)})`;
      }
      case 'pr':
      case 'cmp':
        return this.compileAttribute(node);
    }
  }

  private compileElement(node: FilterNode, source: ElementSource): string {
    if (node.kind === 'cmp') this.leaf++;
    switch (node.kind) {
      case 'and':
        return `(${this.compileElement(node.left, source)} AND ${this.compileElement(node.right, source)})`;
      case 'or':
        return `(${this.compileElement(node.left, source)} OR ${this.compileElement(node.right, source)})`;
      case 'not':
        return this.dialect.not(this.compileElement(node.expr, source));
      case 'valuePath':
        throw badRequest('invalidFilter', 'Invalid filter: value filters cannot be nested');
      case 'pr':
        return this.present(source.sub(node.ref.attr));
      case 'cmp':
        return this.comparison(source.sub(node.ref.attr), node.op, node.value);
    }
  }

  private compileAttribute(node: Extract<FilterNode, { kind: 'pr' | 'cmp' }>): string {
    const resolved = resolveAttribute(this.kind, node.ref);
    if (!resolved) throw badRequest('invalidFilter', `Invalid filter: "${refText(node.ref)}" is not an attribute of ${this.kind}`);
    const top = resolved.parent ?? resolved.def;
    if (top.multiValued) {
      // `emails.value eq "x"` and `emails eq "x"` (the value sub-attribute) match when any element does.
      const source = this.elements({ uri: node.ref.uri, attr: node.ref.attr });
      const subName = resolved.parent ? resolved.def.name : 'value';
      const condition =
        node.kind === 'pr' && !resolved.parent
          ? '1=1'
          : node.kind === 'pr'
            ? this.present(source.sub(subName))
            : this.comparison(source.sub(subName), node.op, node.value);
      return `EXISTS (SELECT 1 FROM ${source.from} WHERE ${source.where} AND ${condition})`;
    }
    if (resolved.path === 'meta.resourceType') {
      if (node.kind === 'pr') return '1=1';
      if (node.op !== 'eq') return '1=0';
      return `${this.bind((value) => String(value).toLowerCase())} = '${this.kind.toLowerCase()}'`;
    }
    if (resolved.path.startsWith('meta.') && !COLUMN_TYPES[this.kind][resolved.path]) {
      throw badRequest('invalidFilter', `Invalid filter: "${resolved.path}" cannot be filtered on`);
    }
    const operand = this.operand(resolved.schemaId, resolved.path, resolved.def, resolved.parent);
    return node.kind === 'pr' ? this.present(operand) : this.comparison(operand, node.op, node.value);
  }

  private operand(schemaId: string, path: string, def: AttributeDef, parent?: AttributeDef): Operand {
    const column = COLUMN_TYPES[this.kind][path];
    if (column) return column;
    const table = TABLE[this.kind];
    const keys = schemaId === schemasFor(this.kind).core.id ? [] : [schemaId];
    keys.push(...(parent ? [parent.name, def.name] : [def.name]));
    return { expr: this.dialect.jsonText(`${table}.doc`, keys), type: def.type, caseExact: def.caseExact, isJson: true };
  }

  private elements(ref: AttrRef): ElementSource {
    const resolved = resolveAttribute(this.kind, ref);
    if (!resolved || resolved.parent || !resolved.def.multiValued) {
      throw badRequest('invalidFilter', `Invalid filter: "${refText(ref)}" is not a multi-valued attribute of ${this.kind}`);
    }
    const alias = `e${++this.aliases}`;
    const def = resolved.def;
    const subDef = (name: string) => {
      const sub = def.subAttributes?.find((s) => s.name.toLowerCase() === name.toLowerCase());
      if (!sub) throw badRequest('invalidFilter', `Invalid filter: "${name}" is not a sub-attribute of ${def.name}`);
      return sub;
    };
    if (this.kind === 'Group' && def.name === 'members') {
      return {
        from: `group_members ${alias} JOIN users ${alias}u ON ${alias}u.id = ${alias}.user_id`,
        where: `${alias}.group_id = groups.id`,
        sub: (name) => {
          const sub = subDef(name);
          if (sub.name === 'value') return { expr: `${alias}.user_id`, type: 'string', caseExact: true, isJson: false };
          if (sub.name === 'display') return { expr: `COALESCE(${alias}u.display_name, ${alias}u.user_name)`, type: 'string', caseExact: false, isJson: false };
          if (sub.name === 'type') return { expr: `'User'`, type: 'string', caseExact: false, isJson: false };
          throw badRequest('invalidFilter', `Invalid filter: members.${sub.name} cannot be filtered on`);
        },
      };
    }
    if (this.kind === 'User' && def.name === 'groups') {
      return {
        from: `group_members ${alias} JOIN groups ${alias}g ON ${alias}g.id = ${alias}.group_id`,
        where: `${alias}.user_id = users.id`,
        sub: (name) => {
          const sub = subDef(name);
          if (sub.name === 'value') return { expr: `${alias}.group_id`, type: 'string', caseExact: true, isJson: false };
          if (sub.name === 'display')
            return { expr: `${alias}g.display_name`, lowerExpr: `${alias}g.display_name_lc`, type: 'string', caseExact: false, isJson: false };
          if (sub.name === 'type') return { expr: `'direct'`, type: 'string', caseExact: false, isJson: false };
          throw badRequest('invalidFilter', `Invalid filter: groups.${sub.name} cannot be filtered on`);
        },
      };
    }
    const table = TABLE[this.kind];
    const keys = resolved.schemaId === schemasFor(this.kind).core.id ? [def.name] : [resolved.schemaId, def.name];
    const { from, element } = this.dialect.jsonElements(`${table}.doc`, keys, alias);
    return {
      from,
      where: '1=1',
      sub: (name) => {
        const sub = subDef(name);
        return { expr: this.dialect.jsonText(element, [sub.name]), type: sub.type, caseExact: sub.caseExact, isJson: true };
      },
    };
  }

  private present(operand: Operand): string {
    return operand.type === 'string' ? `(${operand.expr} IS NOT NULL AND ${operand.expr} <> '')` : `${operand.expr} IS NOT NULL`;
  }

  /** SQL for `operand op value`; `value` decides only its type here (the shape), each call's value is bound. */
  private comparison(operand: Operand, op: CompareOp, value: FilterValue): string {
    if (value === null) {
      if (op === 'eq') return `${operand.expr} IS NULL`;
      if (op === 'ne') return `${operand.expr} IS NOT NULL`;
      throw badRequest('invalidFilter', `Invalid filter: "${op}" cannot compare with null`);
    }
    switch (operand.type) {
      case 'boolean': {
        if (op !== 'eq' && op !== 'ne') throw badRequest('invalidFilter', `Invalid filter: a boolean attribute takes only eq or ne with true or false`);
        const toBool = (v: FilterValue) => {
          const bool = typeof v === 'boolean' ? v : typeof v === 'string' && /^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : undefined;
          if (bool === undefined) throw badRequest('invalidFilter', `Invalid filter: a boolean attribute takes only eq or ne with true or false`);
          return bool;
        };
        const test = operand.isJson
          ? this.dialect.jsonBoolean(
              operand.expr,
              this.bind((v) => this.dialect.jsonBooleanParam(toBool(v))),
            )
          : `${operand.expr} = ${this.bind((v) => this.dialect.booleanParam(toBool(v)))}`;
        return op === 'eq' ? test : this.dialect.not(test);
      }
      case 'integer':
      case 'decimal': {
        if (typeof value !== 'number') throw badRequest('invalidFilter', `Invalid filter: expected a number to compare with`);
        if (op === 'co' || op === 'sw' || op === 'ew') throw badRequest('invalidFilter', `Invalid filter: "${op}" does not apply to numbers`);
        return this.ordered(operand.isJson ? this.dialect.numeric(operand.expr) : operand.expr, op, (v) => v);
      }
      case 'dateTime': {
        if (op === 'co' || op === 'sw' || op === 'ew') throw badRequest('invalidFilter', `Invalid filter: "${op}" does not apply to date-times`);
        // Stored as ISO-8601 in UTC with milliseconds, so text order is time order.
        return this.ordered(operand.expr, op, (v) => {
          const time = typeof v === 'string' ? Date.parse(v) : NaN;
          if (Number.isNaN(time)) throw badRequest('invalidFilter', `Invalid filter: expected a date-time such as "2026-01-31T12:00:00Z"`);
          return new Date(time).toISOString();
        });
      }
      default: {
        if (typeof value !== 'string' && typeof value !== 'number') {
          throw badRequest('invalidFilter', `Invalid filter: expected a string to compare with`);
        }
        // A name-key column holds nameKey of the value (scim/names.ts), so an equality's parameter is keyed the same
        // way and a substring's folded alike; a document attribute is folded by the database on both sides.
        const folded = !operand.caseExact && !operand.lowerExpr;
        const expr = operand.caseExact ? operand.expr : (operand.lowerExpr ?? this.dialect.fold(operand.expr));
        const keyed = op === 'co' || op === 'sw' || op === 'ew' ? (v: FilterValue) => foldName(String(v)) : (v: FilterValue) => nameKey(String(v));
        const bound = this.bind(operand.caseExact || folded ? (v) => String(v) : keyed);
        const param = folded ? this.dialect.fold(bound) : bound;
        switch (op) {
          case 'co':
            return this.dialect.contains(expr, param);
          case 'sw':
            return this.dialect.startsWith(expr, param);
          case 'ew':
            return this.dialect.endsWith(expr, param);
          case 'ne':
            return `(${expr} IS NULL OR ${expr} <> ${param})`;
          default:
            return `${expr} ${SQL_OPS[op]} ${param}`;
        }
      }
    }
  }

  private ordered(expr: string, op: CompareOp, transform: (value: FilterValue) => unknown): string {
    const param = this.bind(transform);
    if (op === 'ne') return `(${expr} IS NULL OR ${expr} <> ${param})`;
    return `${expr} ${SQL_OPS[op]} ${param}`;
  }

  sortExpression(sortBy: string): string {
    const resolved = resolveAttribute(
      this.kind,
      parseAttrRef(sortBy, (msg) => badRequest('invalidValue', `Invalid sortBy: ${msg}`)),
    );
    if (!resolved || (resolved.parent ?? resolved.def).multiValued || resolved.def.type === 'complex') {
      throw badRequest('invalidValue', `sortBy "${sortBy}" is not a single-valued attribute of ${this.kind}`);
    }
    const operand = this.operand(resolved.schemaId, resolved.path, resolved.def, resolved.parent);
    // A number read from the document sorts as a number on both stores (PostgreSQL's ->> gives text: "8" > "43").
    if (operand.isJson && (operand.type === 'integer' || operand.type === 'decimal')) return this.dialect.numeric(operand.expr);
    return operand.caseExact || operand.type !== 'string' ? operand.expr : (operand.lowerExpr ?? this.dialect.fold(operand.expr));
  }
}

const SQL_OPS: Record<string, string> = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' };

function refText(ref: AttrRef): string {
  return `${ref.uri ? `${ref.uri}:` : ''}${ref.attr}${ref.sub ? `.${ref.sub}` : ''}`;
}

/**
 * The filter's shape (attributes, operators and value types, which decide the SQL) as a cache key, and its
 * values in the order the compiled plan binds them.
 */
export function filterShape(node: FilterNode, values: FilterValue[] = []): { key: string; values: FilterValue[] } {
  const walk = (n: FilterNode): string => {
    switch (n.kind) {
      case 'and':
        return `(${walk(n.left)}&${walk(n.right)})`;
      case 'or':
        return `(${walk(n.left)}|${walk(n.right)})`;
      case 'not':
        return `!(${walk(n.expr)})`;
      case 'valuePath':
        return `${refKey(n.ref)}[${walk(n.expr)}]`;
      case 'pr':
        return `${refKey(n.ref)} pr`;
      case 'cmp':
        values.push(n.value);
        // Booleans and null change the SQL itself (IS NULL); strings and numbers only their parameter.
        return `${refKey(n.ref)} ${n.op} ${n.value === null ? 'null' : typeof n.value === 'boolean' ? 'b' : typeof n.value === 'number' ? 'n' : 's'}`;
    }
  };
  return { key: walk(node), values };
}

function refKey(ref: AttrRef): string {
  // Attribute names are case-insensitive (RFC 7643 §2.1): one shape whatever the case.
  return `${ref.uri ?? ''}:${ref.attr}.${ref.sub ?? ''}`.toLowerCase();
}

/** Compiled shapes per dialect and resource kind. Bounded: a client inventing shapes cannot grow it without end. */
const PLAN_CACHE = new WeakMap<Dialect, Map<string, FilterPlan>>();
const MAX_CACHED_PLANS = 512;

/** The plan for a filter's shape, compiled once and cached. Throws a 400 for a filter no value could make valid. */
export function filterPlan(kind: ResourceKind, node: FilterNode, dialect: Dialect, shapeKey = filterShape(node).key): FilterPlan {
  let cache = PLAN_CACHE.get(dialect);
  if (!cache) PLAN_CACHE.set(dialect, (cache = new Map()));
  const key = `${kind} ${shapeKey}`;
  let plan = cache.get(key);
  if (!plan) {
    const compiler = new Compiler(kind, dialect);
    plan = { sql: compiler.compile(node), binders: compiler.binders, unique: compiler.unique(node) };
    if (cache.size < MAX_CACHED_PLANS) cache.set(key, plan);
  }
  return plan;
}

/** WHERE condition (and its parameters, numbered from 1) for a filter. */
export function compileFilter(kind: ResourceKind, node: FilterNode | undefined, dialect: Dialect): CompiledSql {
  if (!node) return { sql: '1=1', params: [] };
  const { key, values } = filterShape(node);
  const plan = filterPlan(kind, node, dialect, key);
  return { sql: plan.sql, params: plan.binders.map((bind) => bind(values)) };
}

/** ORDER BY expression for `sortBy`; the id breaks ties so pages are stable. */
export function compileSort(kind: ResourceKind, sortBy: string | undefined, descending: boolean | undefined, dialect: Dialect): string {
  const table = TABLE[kind];
  if (!sortBy) return `${table}.created, ${table}.id`;
  const expr = new Compiler(kind, dialect).sortExpression(sortBy);
  return `${expr} ${descending ? 'DESC' : 'ASC'}, ${table}.id`;
}
