/**
 * Go's strconv, for what the emulated packages use: quoting as %q and error messages print
 * strings, unquoting of string and character literals, integers with Go's base prefixes and
 * underscores, the shape of a float constant, and ParseBool.
 */
import { isPrint } from './unicode.ts';
import { appendRune, decodeUtf8 } from './utf8.ts';

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

const C_ESCAPES: ReadonlyMap<number, string> = new Map(
  [...SIMPLE_ESCAPES].filter(([letter]) => letter !== '\\').map(([letter, cp]) => [cp, `\\${letter}`]),
);

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** strconv.Quote; QuoteToASCII with `asciiOnly`. */
export function quote(text: string, asciiOnly = false): string {
  return quoteWith(text, '"', asciiOnly);
}

/** strconv.QuoteRune; QuoteRuneToASCII with `asciiOnly`. A code point that is no rune becomes U+FFFD. */
export function quoteRune(rune: number, asciiOnly = false): string {
  const valid = rune < 0 || rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff) ? 0xfffd : rune;
  return quoteWith(String.fromCodePoint(valid), "'", asciiOnly);
}

function quoteWith(text: string, quote: '"' | "'", asciiOnly: boolean): string {
  let out = quote;
  for (const char of text) {
    let cp = char.codePointAt(0) ?? 0xfffd;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (char === quote || char === '\\') {
      out += `\\${char}`;
      continue;
    }
    if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) {
      out += String.fromCodePoint(cp);
      continue;
    }
    const escape = C_ESCAPES.get(cp);
    if (escape !== undefined) out += escape;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return out + quote;
}

export interface UnquotedChar {
  /** A rune, or a single byte when `byte` (from \x and octal escapes). */
  readonly value: number;
  readonly byte: boolean;
  readonly rest: string;
}

type CharAt = { readonly value: number; readonly byte: boolean; readonly next: number };

const HEX_DIGITS = /^[0-9a-fA-F]*$/;

/**
 * unquoteChar at offset `i` of `s`, returning where the next character starts (no copy of the rest: linear over a long
 * literal).
 */
function unquoteCharAt(s: string, i: number, quote: string): CharAt | undefined {
  const first = s.codePointAt(i);
  if (first === undefined) return undefined;
  const c = String.fromCodePoint(first);
  if (c === quote && (quote === "'" || quote === '"')) return undefined;
  if (c !== '\\') return { value: first, byte: false, next: i + c.length };
  const kind = s[i + 1];
  if (kind === undefined) return undefined;
  const simple = SIMPLE_ESCAPES.get(kind);
  if (simple !== undefined) return { value: simple, byte: false, next: i + 2 };
  if (kind === "'" || kind === '"')
    return kind === quote ? { value: kind.charCodeAt(0), byte: false, next: i + 2 } : undefined;
  if (kind === 'x' || kind === 'u' || kind === 'U') {
    const size = kind === 'x' ? 2 : kind === 'u' ? 4 : 8;
    const digits = s.slice(i + 2, i + 2 + size);
    if (digits.length !== size || !HEX_DIGITS.test(digits)) return undefined;
    const value = Number.parseInt(digits, 16);
    if (kind === 'x') return { value, byte: true, next: i + 2 + size };
    if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return undefined;
    return { value, byte: false, next: i + 2 + size };
  }
  if (kind >= '0' && kind <= '7') {
    const digits = s.slice(i + 1, i + 4);
    if (!/^[0-7]{3}$/.test(digits)) return undefined;
    const value = Number.parseInt(digits, 8);
    if (value > 255) return undefined;
    return { value, byte: true, next: i + 4 };
  }
  return undefined;
}

/**
 * strconv.UnquoteChar: the first character or escape of `s`, inside a literal quoted by `quote`; undefined on a syntax
 * error.
 */
export function unquoteChar(s: string, quote: string): UnquotedChar | undefined {
  const char = unquoteCharAt(s, 0, quote);
  return char === undefined ? undefined : { value: char.value, byte: char.byte, rest: s.slice(char.next) };
}

export type Unquoted =
  | { readonly ok: true; readonly value: string }
  /** `invalidUtf8`: the literal is well formed, but its bytes are no UTF-8 (a JavaScript string cannot hold them). */
  | { readonly ok: false; readonly invalidUtf8: boolean };

/** strconv.Unquote for "...", `...` and '...' literals. */
export function unquote(literal: string): Unquoted {
  const refused = { ok: false, invalidUtf8: false } as const;
  const quote = literal[0];
  if (literal.length < 2 || literal[literal.length - 1] !== quote) return refused;
  const body = literal.slice(1, -1);
  if (quote === '`') {
    if (body.includes('`')) return refused;
    // Go drops carriage returns from raw strings, so a text edited on Windows means the same.
    return { ok: true, value: body.replaceAll('\r', '') };
  }
  if ((quote !== '"' && quote !== "'") || body.includes('\n')) return refused;
  const bytes: number[] = [];
  let count = 0;
  for (let i = 0; i < body.length; count++) {
    const next = unquoteCharAt(body, i, quote);
    if (next === undefined) return refused;
    if (next.byte) bytes.push(next.value);
    else appendRune(bytes, next.value);
    i = next.next;
  }
  if (quote === "'" && count !== 1) return refused;
  const value = decodeUtf8(bytes);
  return value === undefined ? { ok: false, invalidUtf8: true } : { ok: true, value };
}

/** strconv.ParseBool; undefined where Go returns ErrSyntax. */
export function parseBool(text: string): boolean | undefined {
  switch (text) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false;
    default:
      return undefined;
  }
}

/** Go's underscoreOK: underscores only between digits (or after a base prefix). */
function underscoreOK(text: string): boolean {
  let s = text;
  if (s[0] === '+' || s[0] === '-') s = s.slice(1);
  let saw = '^';
  let i = 0;
  let hexDigits = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1] ?? '')) {
    i = 2;
    saw = '0';
    hexDigits = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    if ((c >= '0' && c <= '9') || (hexDigits && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const UINT64_MAX = 0xffffffffffffffffn;

/** strconv.ParseUint(text, 0, 64), as a bigint; undefined on a syntax or range error. */
export function parseUint(text: string): bigint | undefined {
  if (text === '') return undefined;
  let base = 10;
  let digits = text;
  if (text[0] === '0') {
    const prefix = text[1]?.toLowerCase();
    if (text.length >= 3 && prefix === 'b') [base, digits] = [2, text.slice(2)];
    else if (text.length >= 3 && prefix === 'o') [base, digits] = [8, text.slice(2)];
    else if (text.length >= 3 && prefix === 'x') [base, digits] = [16, text.slice(2)];
    else [base, digits] = [8, text.slice(1)];
  }
  let value = 0n;
  let underscores = false;
  for (const c of digits) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const digit = Number.parseInt(c, 36);
    if (Number.isNaN(digit) || digit >= base) return undefined;
    value = value * BigInt(base) + BigInt(digit);
    if (value > UINT64_MAX) return undefined;
  }
  if (underscores && !underscoreOK(text)) return undefined;
  return value;
}

const isDecimalDigit = (c: string): boolean => (c >= '0' && c <= '9') || c === '_';
const isHexDigit = (c: string): boolean => isDecimalDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

/**
 * Whether a number's text has the shape of a Go float constant: what
 * `/^[+-]?(?:(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?|0[xX][0-9a-fA-F_]*\.?[0-9a-fA-F_]*[pP][+-]?[0-9_]+)$/`
 * accepts, read in one pass (that expression backtracks quadratically over a long `0x1111…`).
 */
export function hasFloatSyntax(text: string): boolean {
  let i = text[0] === '+' || text[0] === '-' ? 1 : 0;
  const hex = text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X');
  if (hex) i += 2;
  const start = i;
  let dot = -1;
  for (; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '.' && dot < 0) dot = i;
    else if (!(hex ? isHexDigit(c) : isDecimalDigit(c))) break;
  }
  // Before a point, a decimal mantissa starts with a digit, not an underscore.
  if (!hex && dot > start && text[start] === '_') return false;
  if (i === text.length) return !hex;
  const marker = text[i];
  if (hex ? marker !== 'p' && marker !== 'P' : marker !== 'e' && marker !== 'E') return false;
  i++;
  if (text[i] === '+' || text[i] === '-') i++;
  if (i === text.length) return false;
  for (; i < text.length; i++) if (!isDecimalDigit(text[i] as string)) return false;
  return true;
}
