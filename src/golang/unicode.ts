/**
 * Go's unicode package where JavaScript's answers differ: which runes print, which are spaces,
 * letters and digits, and the simple case mappings (Go maps rune by rune; JavaScript's full
 * mappings turn ß into SS and İ into i̇, which Go does not).
 */

const GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
// JavaScript's \s also has U+FEFF and lacks U+0085.
const SPACES =
  '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  return GRAPHIC.test(String.fromCodePoint(cp));
}

/** unicode.IsSpace. */
export function isSpace(cp: number): boolean {
  return cp >= 0 && cp <= 0x10ffff && SPACES.includes(String.fromCodePoint(cp));
}

/** unicode.IsLetter. */
export function isLetter(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a);
  return cp <= 0x10ffff && LETTER.test(String.fromCodePoint(cp));
}

/** unicode.IsDigit. */
export function isDigit(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x30 && cp <= 0x39;
  return cp <= 0x10ffff && DIGIT.test(String.fromCodePoint(cp));
}

function singleRune(mapped: string, original: number): number {
  const cp = mapped.codePointAt(0) ?? original;
  return mapped.length === (cp > 0xffff ? 2 : 1) ? cp : original;
}

/** unicode.ToUpper. */
export function toUpper(cp: number): number {
  if (cp < 0x80) return cp >= 0x61 && cp <= 0x7a ? cp - 0x20 : cp;
  // Greek letters with ypogegrammeni: the full mapping is two letters, the simple one the capital.
  if (cp >= 0x1f80 && cp <= 0x1faf) return (cp & 0xf) < 8 ? cp + 8 : cp;
  if (cp === 0x1fb3 || cp === 0x1fc3 || cp === 0x1ff3) return cp + 9;
  if (cp === 0x1fbc || cp === 0x1fcc || cp === 0x1ffc) return cp;
  return singleRune(String.fromCodePoint(cp).toUpperCase(), cp);
}

/** unicode.ToLower. */
export function toLower(cp: number): number {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp;
  if (cp === 0x130) return 0x69;
  return singleRune(String.fromCodePoint(cp).toLowerCase(), cp);
}

/** unicode.ToTitle. */
export function toTitle(cp: number): number {
  // Digraphs have a title case of their own; Georgian letters are their own title case.
  if (cp >= 0x1c4 && cp <= 0x1cc) return cp - ((cp - 0x1c4) % 3) + 1;
  if (cp >= 0x1f1 && cp <= 0x1f3) return 0x1f2;
  if ((cp >= 0x10d0 && cp <= 0x10fa) || (cp >= 0x10fd && cp <= 0x10ff)) return cp;
  return toUpper(cp);
}
