/**
 * Go's scanner (go/scanner) for expressions: its tokens, its automatic semicolons (a newline after
 * an identifier, a literal or a closing parenthesis ends the expression, which the parser then
 * rejects), comments, and its checks of string literals with their positions and messages.
 */
import { formatRune } from './fmt.ts';
import { SIMPLE_ESCAPES, unquote } from './strconv.ts';
import { isDigit as isUnicodeDigit, isLetter as isUnicodeLetter } from './unicode.ts';

/**
 * A Go string constant: its text, or undefined when its bytes are not UTF-8 (no JavaScript string can be equal to it).
 */
export interface GoString {
  readonly text: string | undefined;
}

type Scanned = { readonly end: number } | { readonly end: number; readonly error: string; readonly at: number };

/**
 * go/scanner refuses NUL and a byte order mark (but at the very start) everywhere, comments and literals included: the
 * first of them in [from, to).
 */
function illegalCharacter(
  source: string,
  from: number,
  to: number,
): { readonly message: string; readonly at: number } | undefined {
  for (let k = from; k < to; k++) {
    const c = source.charCodeAt(k);
    if (c === 0) return { message: 'illegal character NUL', at: k };
    if (c === 0xfeff) return { message: 'illegal byte order mark', at: k };
  }
  return undefined;
}

/**
 * Checks the interpreted string literal starting at `start` (a '"') as go/scanner does; its value is strconv.Unquote's.
 */
function scanInterpreted(source: string, start: number): Scanned {
  let i = start + 1;
  for (;;) {
    const cp = source.codePointAt(i);
    if (cp === undefined || cp === 0x0a) return { end: i, error: 'string literal not terminated', at: start };
    if (cp === 0x22) return { end: i + 1 };
    if (cp === 0) return { end: i + 1, error: 'illegal character NUL', at: i };
    if (cp === 0xfeff) return { end: i + 1, error: 'illegal byte order mark', at: i };
    if (cp !== 0x5c) {
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const escapeAt = i + 1;
    const kind = source[i + 1];
    if (kind === undefined) return { end: i + 1, error: 'escape sequence not terminated', at: escapeAt };
    if (kind === '"' || SIMPLE_ESCAPES.has(kind)) {
      i += 2;
      continue;
    }
    let digits: number;
    let base: number;
    let max: number;
    let from: number;
    if (kind >= '0' && kind <= '7') [digits, base, max, from] = [3, 8, 255, i + 1];
    else if (kind === 'x') [digits, base, max, from] = [2, 16, 255, i + 2];
    else if (kind === 'u') [digits, base, max, from] = [4, 16, 0x10ffff, i + 2];
    else if (kind === 'U') [digits, base, max, from] = [8, 16, 0x10ffff, i + 2];
    else return { end: i + 2, error: 'unknown escape sequence', at: escapeAt };
    let value = 0;
    for (let k = 0; k < digits; k++) {
      const c = source.codePointAt(from + k);
      if (c === undefined) return { end: from + k, error: 'escape sequence not terminated', at: escapeAt };
      const digit = Number.parseInt(String.fromCodePoint(c), base);
      if (Number.isNaN(digit)) {
        return { end: from + k, error: `illegal character ${formatRune(c)} in escape sequence`, at: from + k };
      }
      value = value * base + digit;
    }
    if (value > max || (value >= 0xd800 && value < 0xe000)) {
      return { end: from + digits, error: 'escape sequence is invalid Unicode code point', at: escapeAt };
    }
    i = from + digits;
  }
}

/** The value of a string literal the scanner accepted. */
function stringValue(literal: string): GoString {
  const unquoted = unquote(literal);
  return { text: unquoted.ok ? unquoted.value : undefined };
}

export type TokenKind = 'ident' | 'keyword' | 'string' | 'number' | 'char' | 'op' | 'semicolon' | 'eof' | 'illegal';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: number;
  /** A semicolon inserted at a newline (or the end), which Go's errors call "newline". */
  readonly newline?: boolean;
  readonly value?: GoString;
  readonly error?: { readonly message: string; readonly at: number };
}

const GO_KEYWORDS = new Set([
  'break',
  'case',
  'chan',
  'const',
  'continue',
  'default',
  'defer',
  'else',
  'fallthrough',
  'for',
  'func',
  'go',
  'goto',
  'if',
  'import',
  'interface',
  'map',
  'package',
  'range',
  'return',
  'select',
  'struct',
  'switch',
  'type',
  'var',
]);
// Longest first, so that the longest operator is taken.
const OPERATORS = [
  '&^=',
  '<<=',
  '>>=',
  '...',
  '&&',
  '||',
  '<-',
  '++',
  '--',
  '==',
  '!=',
  '<=',
  '>=',
  ':=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '<<',
  '>>',
  '&^',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '^',
  '<',
  '>',
  '=',
  '!',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ';',
  '.',
  ':',
  '~',
];
// go/scanner's letters include the underscore.
const isLetter = (cp: number): boolean => cp === 0x5f || isUnicodeLetter(cp);

/** The tokens of `source`, ending with an `eof` token; a token the scanner refused carries its error. */
export function scan(source: string): Token[] {
  const tokens: Token[] = [];
  let i = source.startsWith('\ufeff') ? 1 : 0;
  let insertSemi = false;
  const push = (token: Token, semi: boolean): void => {
    tokens.push(token);
    insertSemi = semi;
  };
  for (;;) {
    while (i < source.length) {
      const c = source[i];
      if (c === ' ' || c === '\t' || c === '\r' || (c === '\n' && !insertSemi)) i++;
      else break;
    }
    const cp = source.codePointAt(i);
    if (cp === undefined) {
      if (insertSemi) tokens.push({ kind: 'semicolon', text: '\n', pos: i, newline: true });
      tokens.push({ kind: 'eof', text: '', pos: i });
      return tokens;
    }
    const start = i;
    if (cp === 0x0a) {
      push({ kind: 'semicolon', text: '\n', pos: i, newline: true }, false);
      i++;
      continue;
    }
    if (source.startsWith('//', i)) {
      // A line comment ends at the newline, which then counts as usual.
      const end = source.indexOf('\n', i);
      const illegal = illegalCharacter(source, i + 2, end < 0 ? source.length : end);
      if (illegal !== undefined)
        push(
          { kind: 'illegal', text: source.slice(i, end < 0 ? source.length : end), pos: i, error: illegal },
          insertSemi,
        );
      i = end < 0 ? source.length : end;
      continue;
    }
    if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) {
        push(
          { kind: 'illegal', text: source.slice(i), pos: i, error: { message: 'comment not terminated', at: i } },
          insertSemi,
        );
        i = source.length;
        continue;
      }
      // Searched within the comment only: a search to the end of the text for each comment was
      // quadratic in an expression of many comments.
      let newline = -1;
      for (let k = i + 2; k < end && newline < 0; k++) if (source[k] === '\n') newline = k;
      const illegal = illegalCharacter(source, i + 2, end);
      if (illegal !== undefined)
        push({ kind: 'illegal', text: source.slice(i, end + 2), pos: i, error: illegal }, insertSemi);
      i = end + 2;
      // A general comment with a newline in it acts as that newline.
      if (insertSemi && newline >= 0) push({ kind: 'semicolon', text: '\n', pos: newline, newline: true }, false);
      continue;
    }
    if (isLetter(cp)) {
      while (i < source.length) {
        const c = source.codePointAt(i) ?? 0;
        if (!isLetter(c) && !isUnicodeDigit(c)) break;
        i += c > 0xffff ? 2 : 1;
      }
      const word = source.slice(start, i);
      if (GO_KEYWORDS.has(word))
        push(
          { kind: 'keyword', text: word, pos: start },
          ['break', 'continue', 'fallthrough', 'return'].includes(word),
        );
      else push({ kind: 'ident', text: word, pos: start }, true);
      continue;
    }
    if ((cp >= 0x30 && cp <= 0x39) || (cp === 0x2e && /[0-9]/.test(source[i + 1] ?? ''))) {
      // Any number is refused later; its extent only matters for the error's position.
      i++;
      while (i < source.length) {
        const c = source[i] ?? '';
        if (/[0-9A-Za-z_.]/.test(c)) i++;
        else if ((c === '+' || c === '-') && /[eEpP]/.test(source[i - 1] ?? '')) i++;
        else break;
      }
      push({ kind: 'number', text: source.slice(start, i), pos: start }, true);
      continue;
    }
    if (cp === 0x22) {
      const scanned = scanInterpreted(source, i);
      i = scanned.end;
      const text = source.slice(start, i);
      if ('error' in scanned)
        push({ kind: 'string', text, pos: start, error: { message: scanned.error, at: scanned.at } }, true);
      else push({ kind: 'string', text, pos: start, value: stringValue(text) }, true);
      continue;
    }
    if (cp === 0x60) {
      const end = source.indexOf('`', i + 1);
      if (end < 0) {
        push(
          {
            kind: 'string',
            text: source.slice(i),
            pos: start,
            error: { message: 'raw string literal not terminated', at: start },
          },
          true,
        );
        i = source.length;
        continue;
      }
      i = end + 1;
      const illegal = illegalCharacter(source, start + 1, end);
      if (illegal !== undefined)
        push({ kind: 'string', text: source.slice(start, i), pos: start, error: illegal }, true);
      else
        push(
          { kind: 'string', text: source.slice(start, i), pos: start, value: stringValue(source.slice(start, i)) },
          true,
        );
      continue;
    }
    if (cp === 0x27) {
      i++;
      while (i < source.length && source[i] !== "'" && source[i] !== '\n') i += source[i] === '\\' ? 2 : 1;
      if (source[i] === "'") i++;
      push({ kind: 'char', text: source.slice(start, i), pos: start }, true);
      continue;
    }
    const op = OPERATORS.find((candidate) => source.startsWith(candidate, i));
    if (op !== undefined) {
      i += op.length;
      push({ kind: 'op', text: op, pos: start }, [')', ']', '}', '++', '--'].includes(op));
      continue;
    }
    i += cp > 0xffff ? 2 : 1;
    const message =
      cp === 0
        ? 'illegal character NUL'
        : cp === 0xfeff
          ? 'illegal byte order mark'
          : `illegal character ${formatRune(cp)}`;
    push({ kind: 'illegal', text: source.slice(start, i), pos: start, error: { message, at: start } }, insertSemi);
  }
}
