import { appendRune, decodeUtf8, formatRune, SIMPLE_ESCAPES } from './go-text.ts';

// Go's expression syntax as go/parser reads it (with go/scanner's semicolon insertion, comments,
// string escapes and trailing commas), for what github.com/vulcand/predicate evaluates: calls of
// named functions on string constants, combined with !, && and || and parentheses. Traefik reads
// both its constraints and its router rules through predicate; this module knows neither: callers
// give the hint (`grammar`) that ends the messages of what the syntax refuses.

// go/parser allows deeper nesting (and RE2 deeper groups); recursion that deep would exhaust the
// JavaScript stack, so deeper expressions are refused.
export const MAX_NESTING = 500;

/** Why a text is not an expression: Go's `line:column: message`. */
export interface Failure {
  readonly failure: string;
}

export function isFailure(value: unknown): value is Failure {
  return typeof value === 'object' && value !== null && 'failure' in value;
}

// ---------------------------------------------------------------------------------------------
// Go string literals: go/scanner's validation, then strconv.Unquote's value.

/** A Go string: its text, or undefined when its bytes are not UTF-8 (no label can be equal to it). */
export interface GoString {
  readonly text: string | undefined;
}


type Scanned = { readonly end: number; readonly value: GoString } | { readonly end: number; readonly error: string; readonly at: number };

/** Scans the interpreted string literal starting at `start` (a '"'), as go/scanner does. */
function scanInterpreted(source: string, start: number): Scanned {
  const bytes: number[] = [];
  let i = start + 1;
  for (;;) {
    const cp = source.codePointAt(i);
    if (cp === undefined || cp === 0x0a) return { end: i, error: 'string literal not terminated', at: start };
    const width = cp > 0xffff ? 2 : 1;
    if (cp === 0x22) return { end: i + 1, value: { text: decodeUtf8(bytes) } };
    if (cp !== 0x5c) {
      appendRune(bytes, cp);
      i += width;
      continue;
    }
    const escapeAt = i + 1;
    const kind = source[i + 1];
    if (kind === undefined) return { end: i + 1, error: 'escape sequence not terminated', at: escapeAt };
    const simple = kind === '"' ? 0x22 : SIMPLE_ESCAPES.get(kind);
    if (simple !== undefined) {
      bytes.push(simple);
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
    // \x and octal escapes are bytes, \u and \U runes: "\xc3\xa9" is é, "\xff" no UTF-8 at all.
    if (kind === 'u' || kind === 'U') appendRune(bytes, value);
    else bytes.push(value);
    i = from + digits;
  }
}

// ---------------------------------------------------------------------------------------------
// Scanner: go/scanner's tokens, with its automatic semicolons (a newline after an identifier, a
// literal or a closing parenthesis ends the expression, which go/parser then rejects).

type TokenKind = 'ident' | 'keyword' | 'string' | 'number' | 'char' | 'op' | 'semicolon' | 'eof' | 'illegal';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: number;
  /** A semicolon inserted at a newline (or the end), which Go's errors call "newline". */
  readonly newline?: boolean;
  readonly value?: GoString;
  readonly error?: { readonly message: string; readonly at: number };
}

const GO_KEYWORDS = new Set([
  'break', 'case', 'chan', 'const', 'continue', 'default', 'defer', 'else', 'fallthrough', 'for', 'func', 'go', 'goto',
  'if', 'import', 'interface', 'map', 'package', 'range', 'return', 'select', 'struct', 'switch', 'type', 'var',
]);
// Longest first, so that the longest operator is taken.
const OPERATORS = [
  '&^=', '<<=', '>>=', '...', '&&', '||', '<-', '++', '--', '==', '!=', '<=', '>=', ':=', '+=', '-=', '*=', '/=', '%=',
  '&=', '|=', '^=', '<<', '>>', '&^', '+', '-', '*', '/', '%', '&', '|', '^', '<', '>', '=', '!', '(', ')', '[', ']',
  '{', '}', ',', ';', '.', ':', '~',
];
const LETTER = /^[\p{L}_]$/u;
const DIGIT = /^\p{Nd}$/u;

function isLetter(cp: number): boolean {
  return (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) || cp === 0x5f || (cp >= 0x80 && LETTER.test(String.fromCodePoint(cp)));
}

function isDigit(cp: number): boolean {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x80 && DIGIT.test(String.fromCodePoint(cp)));
}

function scan(source: string): Token[] {
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
      i = end < 0 ? source.length : end;
      continue;
    }
    if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) {
        push({ kind: 'illegal', text: source.slice(i), pos: i, error: { message: 'comment not terminated', at: i } }, insertSemi);
        i = source.length;
        continue;
      }
      // Searched within the comment only: a search to the end of the text for each comment was
      // quadratic in an expression of many comments.
      let newline = -1;
      for (let k = i + 2; k < end && newline < 0; k++) if (source[k] === '\n') newline = k;
      i = end + 2;
      // A general comment with a newline in it acts as that newline.
      if (insertSemi && newline >= 0) push({ kind: 'semicolon', text: '\n', pos: newline, newline: true }, false);
      continue;
    }
    if (isLetter(cp)) {
      while (i < source.length) {
        const c = source.codePointAt(i) ?? 0;
        if (!isLetter(c) && !isDigit(c)) break;
        i += c > 0xffff ? 2 : 1;
      }
      const word = source.slice(start, i);
      if (GO_KEYWORDS.has(word)) push({ kind: 'keyword', text: word, pos: start }, ['break', 'continue', 'fallthrough', 'return'].includes(word));
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
      if ('error' in scanned) push({ kind: 'string', text, pos: start, error: { message: scanned.error, at: scanned.at } }, true);
      else push({ kind: 'string', text, pos: start, value: scanned.value }, true);
      continue;
    }
    if (cp === 0x60) {
      const end = source.indexOf('`', i + 1);
      if (end < 0) {
        push({ kind: 'string', text: source.slice(i), pos: start, error: { message: 'raw string literal not terminated', at: start } }, true);
        i = source.length;
        continue;
      }
      i = end + 1;
      // Go drops carriage returns from raw strings.
      push({ kind: 'string', text: source.slice(start, i), pos: start, value: { text: source.slice(start + 1, end).replaceAll('\r', '') } }, true);
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
    const message = cp === 0 ? 'illegal character NUL' : cp === 0xfeff ? 'illegal byte order mark' : `illegal character ${formatRune(cp)}`;
    push({ kind: 'illegal', text: source.slice(start, i), pos: start, error: { message, at: start } }, insertSemi);
  }
}

// ---------------------------------------------------------------------------------------------
// Parser: the Go expression grammar (go/parser's ParseExpr) for what a predicate can contain.

/** A parsed Go expression; `pos` is the offset of its first character in the source. */
export type Expr =
  | { readonly kind: 'binary'; readonly op: string; readonly x: Expr; readonly y: Expr; readonly pos: number }
  | { readonly kind: 'unary'; readonly op: string; readonly x: Expr; readonly pos: number }
  | { readonly kind: 'paren'; readonly x: Expr; readonly pos: number }
  | { readonly kind: 'call'; readonly fun: Expr; readonly args: readonly Expr[]; readonly pos: number }
  | { readonly kind: 'ident'; readonly name: string; readonly pos: number }
  | { readonly kind: 'selector'; readonly x: Expr; readonly name: string; readonly pos: number }
  | { readonly kind: 'string'; readonly value: GoString; readonly text: string; readonly pos: number }
  | { readonly kind: 'literal'; readonly text: string; readonly pos: number };

const PRECEDENCE = new Map<string, number>([
  ['||', 1],
  ['&&', 2],
  ...['==', '!=', '<', '<=', '>', '>='].map((op): [string, number] => [op, 3]),
  ...['+', '-', '|', '^'].map((op): [string, number] => [op, 4]),
  ...['*', '/', '%', '<<', '>>', '&', '&^'].map((op): [string, number] => [op, 5]),
]);
const UNARY = new Set(['+', '-', '!', '^', '&', '~', '<-', '*']);

/** Go's line:column, the column in bytes; a newline that ends the text starts no line (go/token). */
export function position(source: string, pos: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf('\n'); i >= 0 && i < pos && i + 1 < source.length; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `${line}:${new TextEncoder().encode(source.slice(lineStart, pos)).length + 1}`;
}

/** Parses `source` as go/parser's ParseExpr does, or says why not (`grammar` ends the messages of what predicate cannot hold). */
export function parseGoExpression(source: string, grammar: string): Expr | Failure {
  const tokens = scan(source);
  let index = 0;
  let depth = 0;
  const eof: Token = { kind: 'eof', text: '', pos: source.length };
  const tok = (): Token => tokens[index] ?? eof;
  const fail = (pos: number, message: string): Failure => ({ failure: `${position(source, pos)}: ${message}` });
  const found = (token: Token): string => {
    if (token.newline === true) return 'newline';
    if (token.kind === 'eof') return "'EOF'";
    if (token.kind === 'illegal') return "'ILLEGAL'";
    if (token.kind === 'op' || token.kind === 'keyword' || token.kind === 'semicolon') return `'${token.text}'`;
    return token.text;
  };
  const expected = (what: string): Failure => fail(tok().pos, `expected ${what}, found ${found(tok())}`);
  // A token the scanner could not read is reported with the scanner's message, as Go does.
  const next = (): Token | Failure => {
    const token = tok();
    if (token.error !== undefined) return fail(token.error.at, token.error.message);
    index++;
    return token;
  };
  const scanError = (): Failure | undefined => {
    const error = tok().error;
    return error === undefined ? undefined : fail(error.at, error.message);
  };
  const isOp = (text: string): boolean => tok().kind === 'op' && tok().text === text;

  const parseOperand = (): Expr | Failure => {
    const refused = scanError();
    if (refused !== undefined) return refused;
    const token = tok();
    switch (token.kind) {
      case 'ident':
        index++;
        return { kind: 'ident', name: token.text, pos: token.pos };
      case 'string':
        index++;
        return { kind: 'string', value: token.value ?? { text: undefined }, text: token.text, pos: token.pos };
      case 'number':
      case 'char':
        index++;
        return { kind: 'literal', text: token.text, pos: token.pos };
      case 'op':
        if (token.text === '(') {
          index++;
          const x = parseExpr();
          if (isFailure(x)) return x;
          if (!isOp(')')) return expected("')'");
          index++;
          return { kind: 'paren', x, pos: token.pos };
        }
        break;
      case 'keyword':
        if (['func', 'map', 'chan', 'struct', 'interface'].includes(token.text)) {
          return fail(token.pos, `${token.text} expressions are not supported: ${grammar}`);
        }
        break;
    }
    return expected('operand');
  };

  const parseCall = (fun: Expr): Expr | Failure => {
    index++;
    const args: Expr[] = [];
    let ellipsis = false;
    while (!isOp(')') && tok().kind !== 'eof' && !ellipsis) {
      const arg = parseExpr();
      if (isFailure(arg)) return arg;
      args.push(arg);
      if (isOp('...')) {
        // predicate ignores a final "...", so Label("a", "b"...) is Label("a", "b").
        ellipsis = true;
        index++;
      }
      if (isOp(',')) {
        index++;
        continue;
      }
      if (!isOp(')')) return fail(tok().pos, `missing ','${tok().newline === true ? ' before newline' : ''} in argument list`);
      break;
    }
    if (!isOp(')') && tok().newline === true) return fail(tok().pos, "missing ',' before newline in argument list");
    if (!isOp(')')) return expected("')'");
    index++;
    return { kind: 'call', fun, args, pos: fun.pos };
  };

  const parsePrimary = (): Expr | Failure => {
    let x = parseOperand();
    for (;;) {
      if (isFailure(x)) return x;
      const refused = scanError();
      if (refused !== undefined) return refused;
      if (isOp('.')) {
        index++;
        const token = tok();
        if (token.kind !== 'ident') return expected('selector or type assertion');
        index++;
        x = { kind: 'selector', x, name: token.text, pos: x.pos };
      } else if (isOp('(')) {
        x = parseCall(x);
      } else if (isOp('[') || isOp('{')) {
        return fail(tok().pos, `${isOp('[') ? 'index expressions' : 'composite literals'} are not supported: ${grammar}`);
      } else {
        return x;
      }
    }
  };

  const parseUnary = (): Expr | Failure => {
    const refused = scanError();
    if (refused !== undefined) return refused;
    const token = tok();
    if (token.kind === 'op' && UNARY.has(token.text)) {
      index++;
      if (++depth > MAX_NESTING) return fail(token.pos, 'expression nests too deeply');
      const x = parseUnary();
      depth--;
      if (isFailure(x)) return x;
      return { kind: 'unary', op: token.text, x, pos: token.pos };
    }
    if (++depth > MAX_NESTING) return fail(token.pos, 'expression nests too deeply');
    const x = parsePrimary();
    depth--;
    return x;
  };

  const parseBinary = (minPrecedence: number): Expr | Failure => {
    let x = parseUnary();
    for (;;) {
      if (isFailure(x)) return x;
      const token = tok();
      const precedence = token.kind === 'op' ? (PRECEDENCE.get(token.text) ?? 0) : 0;
      if (precedence < minPrecedence) return x;
      index++;
      const y = parseBinary(precedence + 1);
      if (isFailure(y)) return y;
      x = { kind: 'binary', op: token.text, x, y, pos: token.pos };
    }
  };

  function parseExpr(): Expr | Failure {
    return parseBinary(1);
  }

  const expr = parseExpr();
  if (isFailure(expr)) return expr;
  // The semicolon inserted at the end of the last line is part of the expression's text.
  if (tok().kind === 'semicolon' && tok().newline === true) {
    const consumed = next();
    if (isFailure(consumed)) return consumed;
  }
  const refused = scanError();
  if (refused !== undefined) return refused;
  if (tok().kind !== 'eof') return expected("'EOF'");
  return expr;
}
