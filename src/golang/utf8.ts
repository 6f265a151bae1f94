/**
 * Go's view of text where it differs from JavaScript's: strings are UTF-8 bytes, and a lone
 * surrogate cannot exist (it becomes U+FFFD, as Go's decoding of such bytes would give).
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

/** The bytes of a Go string. */
export function utf8Bytes(text: string): number[] {
  const bytes: number[] = [];
  for (const char of text) appendRune(bytes, char.codePointAt(0) ?? 0xfffd);
  return bytes;
}

/**
 * len(s) in Go: the length in bytes of the UTF-8 encoding (a lone surrogate counts as U+FFFD, 3
 * bytes, as TextEncoder writes it). Text is nearly always ASCII (labels, keys): that is measured
 * without walking code points, since callers measure thousands of keys.
 */
export function utf8Length(text: string): number {
  let ascii = true;
  for (let index = 0; index < text.length && ascii; index += 1) ascii = text.charCodeAt(index) <= 0x7f;
  if (ascii) return text.length;
  let length = 0;
  for (const char of text) {
    const cp = char.codePointAt(0) ?? 0;
    length += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return length;
}

/** utf8.RuneCountInString. */
export function runeCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Go orders strings as byte strings: code point order, which UTF-16 order is not. */
export function compareStrings(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i]?.codePointAt(0) ?? 0;
    const y = right[i]?.codePointAt(0) ?? 0;
    if (x !== y) return x - y;
  }
  return left.length - right.length;
}
