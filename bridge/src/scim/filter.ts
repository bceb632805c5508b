/**
 * SCIM filter and PATCH path parsing (RFC 7644 §3.4.2.2 and §3.5.2) into a small AST.
 *
 * Hand-written because no maintained library parses the whole grammar (value paths, URN-prefixed
 * attributes whose URNs contain dots, `not (...)`) into a form we can compile to SQL; the published
 * parsers either evaluate in memory or drop parts of the grammar.
 */
import { badRequest } from './errors';
import { textProblem } from './text';

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterValue = string | number | boolean | null;

/** An attribute as written: optional schema URN, attribute name, optional sub-attribute. */
export interface AttrRef {
  readonly uri?: string;
  readonly attr: string;
  readonly sub?: string;
}

export type FilterNode =
  | { readonly kind: 'cmp'; readonly ref: AttrRef; readonly op: CompareOp; readonly value: FilterValue }
  | { readonly kind: 'pr'; readonly ref: AttrRef }
  | { readonly kind: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: 'not'; readonly expr: FilterNode }
  /** `emails[type eq "work"]`: `expr`'s refs name sub-attributes of `ref`. */
  | { readonly kind: 'valuePath'; readonly ref: AttrRef; readonly expr: FilterNode };

/** A PATCH target: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`. */
export interface PatchPath {
  readonly ref: AttrRef;
  readonly filter?: FilterNode;
  /** Sub-attribute after a value filter (`emails[type eq "work"].value`). */
  readonly subAfterFilter?: string;
}

const COMPARE_OPS = new Set<CompareOp>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
export const MAX_FILTER_LENGTH = 4096;
const MAX_DEPTH = 32;

type Token = { t: 'word'; v: string; at: number } | { t: 'string'; v: string; at: number } | { t: '(' | ')' | '[' | ']'; at: number };

function tokenize(text: string, fail: (msg: string) => Error): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ t: c, at: i });
      i++;
    } else if (c === '"') {
      // JSON string rules, so escapes mean what identity providers expect.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw fail(`unterminated string starting at position ${i + 1}`);
      let value: string;
      try {
        value = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        throw fail(`invalid escape in the string at position ${i + 1}`);
      }
      const problem = textProblem(value);
      if (problem) throw fail(`the string at position ${i + 1} ${problem}`);
      tokens.push({ t: 'string', v: value, at: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !' \t\n\r()[]"'.includes(text[j])) j++;
      tokens.push({ t: 'word', v: text.slice(i, j), at: i });
      i = j;
    }
  }
  return tokens;
}

const ATTR_NAME = /^[A-Za-z$][\w$-]*$/;

/** Splits `urn:…:2.0:User:manager.value` into URN, attribute and sub-attribute (URNs contain dots). */
export function parseAttrRef(text: string, fail: (msg: string) => Error): AttrRef {
  let uri: string | undefined;
  let rest = text;
  if (/^urn:/i.test(text)) {
    const cut = text.lastIndexOf(':');
    uri = text.slice(0, cut);
    rest = text.slice(cut + 1);
    if (!rest) return { uri, attr: '' }; // a bare schema URN, meaningful only as a PATCH path
  }
  const parts = rest.split('.');
  if (parts.length > 2 || !parts.every((p) => ATTR_NAME.test(p))) throw fail(`"${text}" is not an attribute path`);
  return parts.length === 2 ? { uri, attr: parts[0], sub: parts[1] } : { uri, attr: parts[0] };
}

/** Words the grammar gives a meaning to: never read as an unquoted value. */
const RESERVED_WORDS = new Set(['and', 'or', 'not', 'pr', 'true', 'false', 'null', ...COMPARE_OPS]);

/**
 * An unquoted value (`userName eq loginUser1`, as WSO2's clients send) is read as the string it spells when it can
 * be nothing else: not a number, not a keyword, and not starting like a number or a sub-attribute. A filter the
 * RFC's grammar accepts never reaches here, so none changes meaning.
 */
function isBareWord(word: string): boolean {
  return (/^[A-Za-z_][\w@.+-]*$/.test(word) && !RESERVED_WORDS.has(word.toLowerCase())) || BARE_DATE_TIME.test(word);
}

/** An unquoted date or date-time (`meta.created gt 2015-10-10T14:38:21.86-07:00`, as Microsoft's test collection sends). */
const BARE_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/i;

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly fail: (msg: string) => Error,
  ) {}

  done(): boolean {
    return this.pos >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private next(): Token {
    const token = this.tokens[this.pos++];
    if (!token) throw this.fail('unexpected end of the expression');
    return token;
  }

  private isWord(token: Token | undefined, word: string): boolean {
    return token?.t === 'word' && token.v.toLowerCase() === word;
  }

  expect(type: ')' | ']'): void {
    const token = this.next();
    if (token.t !== type) throw this.fail(`expected "${type}" at position ${token.at + 1}`);
  }

  /** or-expression: the lowest precedence. */
  parseOr(): FilterNode {
    if (++this.depth > MAX_DEPTH) throw this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    let left = this.parseAnd();
    while (this.isWord(this.peek(), 'or')) {
      this.pos++;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    this.depth--;
    return left;
  }

  private parseAnd(): FilterNode {
    let left = this.parseUnary();
    while (this.isWord(this.peek(), 'and')) {
      this.pos++;
      left = { kind: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): FilterNode {
    const token = this.next();
    if (this.isWord(token, 'not')) {
      const open = this.next();
      if (open.t !== '(') throw this.fail(`"not" must be followed by "(" at position ${open.at + 1}`);
      const expr = this.parseOr();
      this.expect(')');
      return { kind: 'not', expr };
    }
    if (token.t === '(') {
      const expr = this.parseOr();
      this.expect(')');
      return expr;
    }
    if (token.t !== 'word') throw this.fail(`expected an attribute at position ${token.at + 1}`);
    const ref = parseAttrRef(token.v, this.fail);
    if (!ref.attr) throw this.fail(`"${token.v}" is not an attribute path`);
    if (this.peek()?.t === '[') {
      this.pos++;
      if (ref.sub) throw this.fail(`a value filter cannot follow a sub-attribute ("${token.v}")`);
      const expr = this.parseOr();
      this.expect(']');
      const node: FilterNode = { kind: 'valuePath', ref, expr };
      // `emails[type eq "work"].value eq "x"`: some clients write the sub-attribute after the brackets.
      const after = this.peek();
      if (after?.t === 'word' && after.v.startsWith('.')) {
        this.pos++;
        const sub = after.v.slice(1);
        if (!ATTR_NAME.test(sub)) throw this.fail(`"${after.v}" is not a sub-attribute`);
        const inner = this.parseComparison({ attr: sub });
        return { kind: 'valuePath', ref, expr: { kind: 'and', left: expr, right: inner } };
      }
      return node;
    }
    return this.parseComparison(ref);
  }

  private parseComparison(ref: AttrRef): FilterNode {
    const opToken = this.next();
    if (opToken.t !== 'word') throw this.fail(`expected an operator at position ${opToken.at + 1}`);
    const op = opToken.v.toLowerCase();
    if (op === 'pr') return { kind: 'pr', ref };
    if (!COMPARE_OPS.has(op as CompareOp)) throw this.fail(`unknown operator "${opToken.v}" at position ${opToken.at + 1}`);
    return { kind: 'cmp', ref, op: op as CompareOp, value: this.parseValue() };
  }

  private parseValue(): FilterValue {
    const token = this.next();
    if (token.t === 'string') return token.v;
    if (token.t === 'word') {
      const word = token.v.toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
      if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token.v)) return Number(token.v);
      if (isBareWord(token.v)) return token.v;
    }
    throw this.fail(`expected a value (a quoted string, number, true, false or null) at position ${token.at + 1}`);
  }
}

/** Parses a `filter` query parameter; throws a 400 `invalidFilter` ScimError on any mistake. */
export function parseFilter(text: string): FilterNode {
  const fail = (msg: string) => badRequest('invalidFilter', `Invalid filter: ${msg}`);
  if (text.length > MAX_FILTER_LENGTH) throw fail(`longer than ${MAX_FILTER_LENGTH} characters`);
  const problem = textProblem(text);
  if (problem) throw fail(`the filter ${problem}`);
  const parser = new Parser(tokenize(text, fail), fail);
  if (parser.done()) throw fail('the filter is empty');
  const node = parser.parseOr();
  const rest = parser.peek();
  if (rest) throw fail(`unexpected "${rest.t === 'word' || rest.t === 'string' ? rest.v : rest.t}" at position ${rest.at + 1}`);
  return node;
}

/** Parses a PATCH operation's `path`; throws a 400 `invalidPath` ScimError on any mistake. */
export function parsePatchPath(text: string): PatchPath {
  const fail = (msg: string) => badRequest('invalidPath', `Invalid path "${text}": ${msg}`);
  const open = text.indexOf('[');
  if (open < 0) {
    if (!text.trim()) throw fail('the path is empty');
    return { ref: parseAttrRef(text.trim(), fail) };
  }
  const close = text.lastIndexOf(']');
  if (close < open) throw fail('"[" without "]"');
  const ref = parseAttrRef(text.slice(0, open).trim(), fail);
  if (!ref.attr || ref.sub) throw fail('a value filter must follow a multi-valued attribute');
  let filter: FilterNode;
  try {
    filter = parseFilter(text.slice(open + 1, close));
  } catch (error) {
    throw fail((error as Error).message);
  }
  const tail = text.slice(close + 1).trim();
  if (!tail) return { ref, filter };
  if (!tail.startsWith('.') || !ATTR_NAME.test(tail.slice(1))) throw fail(`unexpected "${tail}" after the value filter`);
  return { ref, filter, subAfterFilter: tail.slice(1) };
}

const refText = (ref: AttrRef) => `${ref.uri ? `${ref.uri}:` : ''}${ref.attr}${ref.sub ? `.${ref.sub}` : ''}`;

function formatValue(value: FilterValue): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Writes a filter back as text that parses to the same tree (logs, tests); compound operands are parenthesised. */
export function formatFilter(node: FilterNode): string {
  const operand = (inner: FilterNode) => (inner.kind === 'and' || inner.kind === 'or' ? `(${formatFilter(inner)})` : formatFilter(inner));
  switch (node.kind) {
    case 'cmp':
      return `${refText(node.ref)} ${node.op} ${formatValue(node.value)}`;
    case 'pr':
      return `${refText(node.ref)} pr`;
    case 'and':
    case 'or':
      return `${operand(node.left)} ${node.kind} ${operand(node.right)}`;
    case 'not':
      return `not (${formatFilter(node.expr)})`;
    case 'valuePath':
      return `${refText(node.ref)}[${formatFilter(node.expr)}]`;
  }
}
