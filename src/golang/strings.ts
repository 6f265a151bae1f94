/**
 * Go's strings package for what sprig's string functions call, rune by rune as Go does, and in
 * time linear in the text for patterns that come from outside (find-text.ts).
 */
import { includesText, splitText } from './find-text.ts';
import { isDigit, isLetter, isSpace, toLower, toTitle, toUpper } from './unicode.ts';

function mapRunes(text: string, map: (cp: number) => number): string {
  let out = '';
  for (const char of text) out += String.fromCodePoint(map(char.codePointAt(0) ?? 0));
  return out;
}

/** strings.ToUpper. */
export const upper = (text: string): string => mapRunes(text, toUpper);

/** strings.ToLower. */
export const lower = (text: string): string => mapRunes(text, toLower);

/** strings.Title: the first letter of each word to title case, words split as Go's isSeparator does. */
export function title(text: string): string {
  let prev = 0x20;
  return mapRunes(text, (cp) => {
    const separator =
      prev <= 0x7f
        ? !/[0-9A-Za-z_]/.test(String.fromCodePoint(prev))
        : !isLetter(prev) && !isDigit(prev) && isSpace(prev);
    prev = cp;
    return separator ? toTitle(cp) : cp;
  });
}

function trimRunes(text: string, drop: (char: string) => boolean): string {
  const chars = [...text];
  let from = 0;
  let to = chars.length;
  while (from < to && drop(chars[from] ?? '')) from++;
  while (to > from && drop(chars[to - 1] ?? '')) to--;
  return chars.slice(from, to).join('');
}

/** strings.TrimSpace. */
export const trimSpace = (text: string): string => trimRunes(text, (char) => isSpace(char.codePointAt(0) ?? -1));

/**
 * strings.Trim(text, cutset). Membership is what `cutset.includes(char)` says, read from a set
 * rather than by a search of the cutset for each character (both may be long): a lone surrogate is
 * found inside a pair too, as includes finds it.
 */
export function trim(text: string, cutset: string): string {
  const chars = new Set<string>();
  for (const char of cutset) {
    chars.add(char);
    if (char.length === 2) {
      chars.add(char[0] as string);
      chars.add(char[1] as string);
    }
  }
  return trimRunes(text, (char) => chars.has(char));
}

/** strings.TrimPrefix. */
export const trimPrefix = (text: string, prefix: string): string =>
  text.startsWith(prefix) ? text.slice(prefix.length) : text;

/** strings.TrimSuffix. */
export const trimSuffix = (text: string, suffix: string): string =>
  suffix !== '' && text.endsWith(suffix) ? text.slice(0, -suffix.length) : text;

/** strings.Replace(text, old, replacement, -1), where an empty `old` matches before every rune and at the end. */
export function replaceAll(text: string, old: string, replacement: string): string {
  if (old === '') return replacement + [...text].map((char) => char + replacement).join('');
  return splitText(text, old).join(replacement);
}

/** strings.Split, where an empty separator splits the runes. */
export const split = (text: string, separator: string): string[] =>
  separator === '' ? [...text] : splitText(text, separator);

/** strings.Contains. */
export const contains = (text: string, substring: string): boolean => includesText(text, substring);

/** strings.HasPrefix. */
export const hasPrefix = (text: string, prefix: string): boolean => text.startsWith(prefix);

/** strings.HasSuffix. */
export const hasSuffix = (text: string, suffix: string): boolean => text.endsWith(suffix);
