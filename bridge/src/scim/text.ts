/**
 * What client text may hold, checked once at the edge so both stores see the same input: no NUL (PostgreSQL's
 * text and jsonb cannot store it; SQLite can, so the stores would disagree) and no unpaired UTF-16 surrogate
 * (not a character; PostgreSQL refuses the escape, node-postgres turns the raw one into U+FFFD). Plus a JSON
 * body scan that bounds nesting without recursion, before anything walks or stringifies the value.
 */
import { badRequest } from './errors';

/** Deep enough for any SCIM resource or PATCH (the deepest is about five levels); a deeper body is refused. */
export const MAX_JSON_DEPTH = 32;

/** ES2024's String.prototype.isWellFormed (native in Node 20+; the project's lib setting is ES2023). */
const wellFormed = (value: string): boolean => (value as string & { isWellFormed(): boolean }).isWellFormed();

/** Whether a string can be stored alike by every store: no NUL, no lone surrogate. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && wellFormed(value);
}

/** What is wrong with a string, in words, or undefined when it is storable. */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'holds a NUL character (\\u0000)';
  if (!wellFormed(value)) return 'holds an unpaired UTF-16 surrogate (not a character)';
  return undefined;
}

/** A short, safe rendering of any client value for an error message: never walks or stringifies a deep value. */
export function preview(value: unknown, max = 60): string {
  if (typeof value === 'string') {
    const shown = JSON.stringify(value.length > max ? value.slice(0, max) : value);
    return value.length > max ? `${shown.slice(0, -1)}..."` : shown;
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return 'an object';
}

const C = { Quote: 34, Backslash: 92, OpenBrace: 123, CloseBrace: 125, OpenBracket: 91, CloseBracket: 93, U: 117 } as const;

function hex4(text: string, at: number): number {
  // Invalid hex is left for JSON.parse to refuse; NaN compares false with every bound below.
  return Number.parseInt(text.slice(at, at + 4), 16);
}

/**
 * Checks JSON text before it is parsed: nesting within `maxDepth`, and no string (key or value) that would
 * decode to NUL or an unpaired surrogate. One pass, no recursion, no allocation per character. Syntax errors are
 * left to JSON.parse. Throws a SCIM 400.
 */
export function checkJsonText(text: string, maxDepth = MAX_JSON_DEPTH): void {
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === C.Quote) {
      // Inside a string: jump to the next quote or backslash.
      for (i++; i < length; i++) {
        const s = text.charCodeAt(i);
        if (s === C.Quote) break;
        if (s >= 0xd800 && s <= 0xdfff) {
          // A raw surrogate (only possible when the text did not come from UTF-8): it must be a pair.
          const next = text.charCodeAt(i + 1);
          if (s <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
          else throw badText('holds an unpaired UTF-16 surrogate (not a character)');
          continue;
        }
        if (s !== C.Backslash) continue;
        i++;
        if (text.charCodeAt(i) !== C.U) continue;
        const code = hex4(text, i + 1);
        i += 4;
        if (code === 0) throw badText('holds a NUL character (\\u0000)');
        if (code >= 0xd800 && code <= 0xdbff) {
          const low = text.charCodeAt(i + 1) === C.Backslash && text.charCodeAt(i + 2) === C.U ? hex4(text, i + 3) : NaN;
          if (!(low >= 0xdc00 && low <= 0xdfff)) throw badText('holds an unpaired UTF-16 surrogate (not a character)');
          i += 6;
        } else if (code >= 0xdc00 && code <= 0xdfff) {
          throw badText('holds an unpaired UTF-16 surrogate (not a character)');
        }
      }
    } else if (c === C.OpenBrace || c === C.OpenBracket) {
      if (++depth > maxDepth) throw badRequest('invalidSyntax', `The request body is nested deeper than ${maxDepth} levels`);
    } else if (c === C.CloseBrace || c === C.CloseBracket) {
      depth--;
    }
  }
}

function badText(problem: string) {
  return badRequest('invalidValue', `The request body ${problem} in a string; send text without it`);
}

/** Throws a SCIM 400 naming `where` when `value` is not storable text. */
export function requireStorableText(value: string, where: string, scimType: 'invalidValue' | 'invalidFilter' | 'invalidPath' = 'invalidValue'): void {
  const problem = textProblem(value);
  if (problem) throw badRequest(scimType, `${where} ${problem}`);
}
