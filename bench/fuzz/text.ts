/**
 * Text for generated requests: ordinary names, odd but valid Unicode (case pairs that fold differently in
 * different libraries, combining marks, emoji sequences, right-to-left marks, Unicode spaces), and hostile text
 * (NUL, lone surrogates, control characters, invalid UTF-8) that the bridge must refuse or store faithfully.
 */
import { nameKey } from '../../bridge/src/scim/names';
import type { Random } from './random';

/** Valid characters, grouped by what tends to break: each group is picked as often as plain ASCII. */
const VALID_POOLS: readonly string[][] = [
  [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'],
  [..."-_.+~!$&'*=#%^{}|/`?"],
  // Latin with case: upper-case forms that byte-wise ASCII folding misses.
  [...'ÄÖÜäöüßẞÉÈéèÇçÑñÅåØøÆæŒœ'],
  // Case pairs that fold differently by library (Turkish dotted I, Greek final sigma, titlecase digraphs, ligatures).
  ['İ', 'ı', 'Σ', 'σ', 'ς', 'ǅ', 'ǆ', 'Ǆ', 'ﬃ', 'ﬀ', 'K' /* Kelvin sign */, 'Å' /* Angstrom sign */, 'ſ'],
  [...'ДЖЯдзяЁё中文字日本語한국어'],
  ['😀', '👩‍👩‍👧', '🏳️‍🌈', '👍🏽', '𝔘𝔫𝔦', '🇩🇪'],
  // Combining marks, right-to-left text and marks, zero-width characters.
  ['e\u0301', 'a\u0308', '\u05D0\u05D1', '\u0627\u0644', '\u202E', '\u200F', '\u200B', '\u200D', '\u2060'],
];

/** Whitespace a userName may not hold (JavaScript's \s), and other separators. */
export const UNICODE_SPACES = [' ', '\t', '\u00A0', '\u2028', '\u2029', '\u3000', '\uFEFF', '\u1680', '\u2007'];

/** Characters the bridge must refuse (in a JSON string as escapes or raw) or store faithfully (controls). */
export const HOSTILE_CHARS = ['\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\u0001', '\u001F', '\u007F', '\u0085', '\uFFFE', '\uFFFF'];

export function validChar(rng: Random): string {
  return rng.pick(rng.pick(VALID_POOLS));
}

/** A string of valid text, `min` to `max` characters (code points or clusters), never only whitespace. */
export function validText(rng: Random, min: number, max: number, options: { spaces?: boolean } = {}): string {
  const length = min + rng.length(Math.max(0, max - min));
  let text = '';
  for (let i = 0; i < length; i++) {
    text += options.spaces && rng.chance(0.08) ? rng.pick(UNICODE_SPACES) : validChar(rng);
  }
  return text || 'x';
}

/** Text a userName may hold: no whitespace, no '@'. */
export function nameText(rng: Random, min: number, max: number): string {
  return validText(rng, min, max).replace(/[@\s]/g, '');
}

/** A short token that makes generated names unique (case-insensitively) within a run. */
export function token(rng: Random, length = 8): string {
  let out = '';
  for (let i = 0; i < length; i++) out += '0123456789abcdefghijklmnopqrstuvwxyz'[rng.int(0, 35)];
  return out;
}

/** Valid text with hostile characters mixed in. */
export function hostileText(rng: Random, max: number): string {
  let text = '';
  const length = 1 + rng.length(max);
  for (let i = 0; i < length; i++) text += rng.chance(0.3) ? rng.pick(HOSTILE_CHARS) : rng.chance(0.1) ? rng.pick(UNICODE_SPACES) : validChar(rng);
  return text;
}

/** Changes the case of some characters (Unicode-aware, as a client that normalizes case would). */
export function recase(rng: Random, text: string): string {
  return [...text].map((c) => (rng.chance(0.5) ? c.toUpperCase() : rng.chance(0.5) ? c.toLowerCase() : c)).join('');
}

/** Whether both have the same name key (the bridge's rule for userNames and group names: bridge/src/scim/names.ts). */
export const sameIgnoringCase = (a: string, b: string) => nameKey(a) === nameKey(b);
