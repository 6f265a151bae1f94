/**
 * Go's view of text where it differs from JavaScript's: strings are UTF-8 bytes, a lone surrogate
 * cannot exist (it becomes U+FFFD), and "printable" is unicode.IsPrint. Shared by the Go template
 * and the constraint expression readers.
 */

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Appends the UTF-8 encoding of a code point (a surrogate becomes U+FFFD, as Go's utf8.AppendRune does). */
export function appendRune(bytes: number[], rune: number): void {
  const cp = rune >= 0xd800 && rune <= 0xdfff ? 0xfffd : rune;
  for (const byte of encoder.encode(String.fromCodePoint(cp))) bytes.push(byte);
}

/** Decodes UTF-8; undefined when the bytes are not valid UTF-8 (a JavaScript string cannot hold them). */
export function decodeUtf8(bytes: readonly number[]): string | undefined {
  try {
    return strictDecoder.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

const GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  return GRAPHIC.test(String.fromCodePoint(cp));
}

/** Go's %#U, used in syntax errors: `U+0023 '#'`. */
export function formatRune(cp: number): string {
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return isPrint(cp) ? `${code} '${String.fromCodePoint(cp)}'` : code;
}

/** The one-letter escapes of Go string and rune literals (`\n`, `\t`, ...), by letter. */
export const SIMPLE_ESCAPES: ReadonlyMap<string, number> = new Map([
  ['a', 0x07],
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
  ['v', 0x0b],
  ['\\', 0x5c],
]);
