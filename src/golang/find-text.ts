/**
 * Substring search in time linear in the text, for patterns that come from outside. JavaScript's
 * own search (includes, indexOf, split) can take time proportional to the text times the pattern
 * for patterns that repeat themselves (`aaa…baaa…` in `aaaa…`): a text feeding a template's
 * `contains` or `replace` could so stall the process. Short patterns keep the native search, whose
 * worst case is then linear as well.
 */

const NATIVE_MAX = 16;

/** Knuth–Morris–Pratt: for each prefix of `pattern`, the longest proper prefix that is also its suffix. */
function borders(pattern: string): Int32Array {
  const table = new Int32Array(pattern.length);
  let k = 0;
  for (let i = 1; i < pattern.length; i++) {
    while (k > 0 && pattern.charCodeAt(i) !== pattern.charCodeAt(k)) k = table[k - 1] as number;
    if (pattern.charCodeAt(i) === pattern.charCodeAt(k)) k++;
    table[i] = k;
  }
  return table;
}

/** Every start of `pattern` in `text`, left to right, not overlapping (as split and replace find them). */
function occurrences(text: string, pattern: string, first: boolean): number[] {
  const table = borders(pattern);
  const found: number[] = [];
  let k = 0;
  for (let i = 0; i < text.length; i++) {
    while (k > 0 && text.charCodeAt(i) !== pattern.charCodeAt(k)) k = table[k - 1] as number;
    if (text.charCodeAt(i) === pattern.charCodeAt(k)) k++;
    if (k === pattern.length) {
      found.push(i - k + 1);
      if (first) break;
      k = 0;
    }
  }
  return found;
}

/** `text.includes(pattern)`. */
export function includesText(text: string, pattern: string): boolean {
  if (pattern.length <= NATIVE_MAX) return text.includes(pattern);
  return occurrences(text, pattern, true).length > 0;
}

/** `text.split(separator)` for a separator that is not empty. */
export function splitText(text: string, separator: string): string[] {
  if (separator.length <= NATIVE_MAX) return text.split(separator);
  const parts: string[] = [];
  let from = 0;
  for (const at of occurrences(text, separator, false)) {
    parts.push(text.slice(from, at));
    from = at + separator.length;
  }
  parts.push(text.slice(from));
  return parts;
}
