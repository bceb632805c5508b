/**
 * Names compared as people read them. Two keys:
 *
 * - `nameKey`: what makes a userName or a group's displayName unique (the stores' `user_name_lc` and
 *   `display_name_lc`): NFC, trimmed, and case-folded fully, so "josé" in NFC and NFD, "straße" and "STRASSE",
 *   "İnci" and "inci" are one name. JavaScript has no case folding; upper-casing first (which maps ß to SS and ﬀ to
 *   FF, as full folding does) and then lower-casing comes close to Unicode's full folding, and the dotted capital I
 *   (İ, which lower-cases to i + U+0307) is read as i.
 * - `confusableSkeleton`: what a protected group's name is guarded with, after Unicode TR39's skeletons but
 *   stricter, for a short list of names: compatibility forms folded (fullwidth letters, no-break spaces), invisible
 *   characters dropped (zero-width spaces and joiners, bidi controls, soft hyphens), Greek and Cyrillic letters that
 *   look Latin mapped to it, digits and letter pairs that pass for letters (0→o, 1/l→i, rn→m, vv→w), and then only
 *   letters and digits kept. "Owners", "Οwners" (Greek), "Own\u200Bers" and "Ｏｗｎｅｒｓ" share one skeleton.
 */

const ASCII = /^[\x20-\x7e]*$/;

/** Full case folding (see above), without trimming: for substring comparisons (`co`, `sw`, `ew`). */
export function foldName(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  const folded = text.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
  return folded.includes('i\u0307') ? folded.replace(/i\u0307/g, 'i') : folded;
}

/** The key a userName or group displayName is unique by. */
export function nameKey(text: string): string {
  return foldName(text.trim());
}

/**
 * Characters that render as nothing: zero-width spaces and joiners, word joiner, BOM, soft hyphen, bidi controls, variation selectors.
 * The combining marks among them (grapheme joiner, Mongolian and Unicode variation selectors) are a class of their own, and the
 * Hangul fillers are listed so that they do not read as one syllable: each alternative matches one code unit, as one class would.
 */
const INVISIBLE =
  /[\u00ad\u061c\u1160\u115f\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0]|[\u034f\u180b-\u180d\u180f\ufe00-\ufe0f]/g;

/** Letters (after folding) that look like Latin ones: Greek and Cyrillic capitals' lower cases included. */
const LOOKALIKES: Record<string, string> = {
  // Greek
  α: 'a',
  β: 'b',
  ε: 'e',
  ζ: 'z',
  η: 'h',
  ι: 'i',
  κ: 'k',
  μ: 'm',
  ν: 'n',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'y',
  χ: 'x',
  ϲ: 'c',
  ϳ: 'j',
  // Cyrillic
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  һ: 'h',
  і: 'i',
  ї: 'i',
  ј: 'j',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  ѕ: 's',
  т: 't',
  у: 'y',
  х: 'x',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ӏ: 'i',
  ү: 'y',
  ɡ: 'g',
  ı: 'i',
  // Digits and signs that pass for letters
  '0': 'o',
  '1': 'i',
  l: 'i',
  '|': 'i',
  ǀ: 'i',
  '5': 's',
  $: 's',
};

/** The skeleton protected names are compared by (see the module comment). */
export function confusableSkeleton(text: string): string {
  let out = '';
  for (const ch of foldName(text.normalize('NFKC').replace(INVISIBLE, ''))) out += LOOKALIKES[ch] ?? ch;
  // Marks off (an accent does not make another name of a protected one), then only letters and digits.
  return out
    .normalize('NFD')
    .replace(/[^\p{L}\p{N}]/gu, '')
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w');
}
