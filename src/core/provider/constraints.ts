// Traefik's constraints over labels (pkg/provider/constraints/constraints_labels.go, MatchLabels):
// a Go expression, parsed by go/parser and evaluated by github.com/vulcand/predicate, combining
// Label("name", "value") and LabelRegex("name", "regexp") with !, &&, || and parentheses.
//
// The expression is compiled once: the Go syntax (with its semicolon insertion, comments, string
// escapes, trailing commas) is checked like go/parser does, then the tree is checked like predicate
// does, so what Traefik refuses is refused here too. LabelRegex uses Go's RE2 syntax, which is not
// JavaScript's: the pattern is parsed with Go's rules (regexp/syntax, Perl flags) and run by an
// automaton without backtracking, like Go's, so that matching takes time proportional to the value's
// length times the pattern's size and a label value can never make it explode. A pattern that Go
// would not compile makes LabelRegex false, as in Traefik.

export type CompiledConstraints =
  | { readonly ok: true; readonly matches: (labels: Readonly<Record<string, string>>) => boolean }
  | { readonly ok: false; readonly error: string };

type Labels = Readonly<Record<string, string>>;
type Matcher = (labels: Labels) => boolean;

const GRAMMAR =
  'a constraint combines Label("name", "value") and LabelRegex("name", "regexp") with !, &&, || and parentheses';
// go/parser allows deeper nesting (and RE2 deeper groups); recursion that deep would exhaust the
// JavaScript stack, so deeper expressions are refused.
const MAX_NESTING = 500;

interface Failure {
  readonly failure: string;
}

function isFailure(value: unknown): value is Failure {
  return typeof value === 'object' && value !== null && 'failure' in value;
}

// ---------------------------------------------------------------------------------------------
// Go string literals: go/scanner's validation, then strconv.Unquote's value.

/** A Go string: its text, or undefined when its bytes are not UTF-8 (no label can be equal to it). */
interface GoString {
  readonly text: string | undefined;
}

function appendRune(bytes: number[], rune: number): void {
  const cp = rune >= 0xd800 && rune <= 0xdfff ? 0xfffd : rune;
  if (cp < 0x80) bytes.push(cp);
  else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

function decodeUtf8(bytes: readonly number[]): string | undefined {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b0 = bytes[i] ?? 0;
    let cp: number;
    let size: number;
    if (b0 < 0x80) [cp, size] = [b0, 1];
    else if (b0 >= 0xc2 && b0 <= 0xdf) [cp, size] = [b0 & 0x1f, 2];
    else if (b0 >= 0xe0 && b0 <= 0xef) [cp, size] = [b0 & 0x0f, 3];
    else if (b0 >= 0xf0 && b0 <= 0xf4) [cp, size] = [b0 & 0x07, 4];
    else return undefined;
    if (i + size > bytes.length) return undefined;
    for (let k = 1; k < size; k++) {
      const b = bytes[i + k] ?? 0;
      if ((b & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (b & 0x3f);
    }
    const min = size === 2 ? 0x80 : size === 3 ? 0x800 : size === 4 ? 0x10000 : 0;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    out += String.fromCodePoint(cp);
    i += size;
  }
  return out;
}

const GRAPHIC = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's %#U: `U+0023 '#'`. */
function formatRune(cp: number): string {
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const printable = cp === 0x20 || (cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) && GRAPHIC.test(String.fromCodePoint(cp)));
  return printable ? `${code} '${String.fromCodePoint(cp)}'` : code;
}

const SIMPLE_ESCAPES = new Map<string, number>([
  ['a', 0x07],
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
  ['v', 0x0b],
  ['\\', 0x5c],
]);

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
      const newline = source.indexOf('\n', i);
      i = end + 2;
      // A general comment with a newline in it acts as that newline.
      if (insertSemi && newline >= 0 && newline < end) push({ kind: 'semicolon', text: '\n', pos: newline, newline: true }, false);
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
// Parser: the Go expression grammar (go/parser's ParseExpr) for what a constraint can contain.

type Expr =
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
function position(source: string, pos: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf('\n'); i >= 0 && i < pos && i + 1 < source.length; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `${line}:${new TextEncoder().encode(source.slice(lineStart, pos)).length + 1}`;
}

function parseExpression(source: string): Expr | Failure {
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
          return fail(token.pos, `${token.text} expressions are not supported: ${GRAMMAR}`);
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
        return fail(tok().pos, `${isOp('[') ? 'index expressions' : 'composite literals'} are not supported: ${GRAMMAR}`);
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

// ---------------------------------------------------------------------------------------------
// The predicate's evaluation, done once: what it refuses becomes the compile error.

type Built = { readonly kind: 'matcher'; readonly matches: Matcher } | { readonly kind: 'value'; readonly describe: string } | Failure;

const FUNCTIONS = new Set(['Label', 'LabelRegex']);

function describe(expr: Expr): string {
  switch (expr.kind) {
    case 'string':
    case 'literal':
      return expr.text;
    case 'ident':
      return expr.name;
    case 'selector':
      return selectorName(expr) ?? 'a selector';
    case 'paren':
      return 'a parenthesized expression';
    case 'call':
      return `a call of ${describe(expr.fun)}`;
    case 'unary':
    case 'binary':
      return `an expression with ${expr.op}`;
  }
}

function buildMatcher(source: string, expr: Expr, depth = 0): Built {
  const fail = (pos: number, message: string): Failure => ({ failure: `${position(source, pos)}: ${message}` });
  const operand = (built: Built, at: Expr, op: string): Matcher | Failure => {
    if (isFailure(built)) return built;
    if (built.kind === 'value') return fail(at.pos, `the operand of ${op} must be a Label or LabelRegex expression, not ${built.describe}: ${GRAMMAR}`);
    return built.matches;
  };
  if (depth > MAX_NESTING) return fail(expr.pos, 'expression nests too deeply');
  switch (expr.kind) {
    case 'binary': {
      if (expr.op === '&&' || expr.op === '||') return buildChain(source, expr, depth);
      // predicate evaluates both sides before it looks at the operator.
      const x = buildMatcher(source, expr.x, depth + 1);
      if (isFailure(x)) return x;
      const y = buildMatcher(source, expr.y, depth + 1);
      if (isFailure(y)) return y;
      return fail(expr.pos, `operator ${expr.op} is not supported: ${GRAMMAR}`);
    }
    case 'unary': {
      if (expr.op !== '!') return fail(expr.pos, `operator ${expr.op} is not supported: ${GRAMMAR}`);
      const inner = operand(buildMatcher(source, expr.x, depth + 1), expr.x, '!');
      if (isFailure(inner)) return inner;
      return { kind: 'matcher', matches: (labels) => !inner(labels) };
    }
    case 'paren':
      return buildMatcher(source, expr.x, depth + 1);
    default:
      return evaluate(source, expr, fail);
  }

  /**
   * a && b && c is a tree leaning left, as deep as the chain is long: it is walked without recursion
   * and matched with a loop, in predicate's order (each operator checks its operands once both are built).
   */
  function buildChain(source: string, chain: Expr & { kind: 'binary' }, depth: number): Built {
    const operands: Expr[] = [];
    let node: Expr = chain;
    while (node.kind === 'binary' && node.op === chain.op) {
      operands.push(node.y);
      node = node.x;
    }
    operands.push(node);
    operands.reverse();
    const matchers: Matcher[] = [];
    let previous: Built | undefined;
    for (const [i, operandExpr] of operands.entries()) {
      const built = buildMatcher(source, operandExpr, depth + 1);
      if (isFailure(built)) return built;
      if (previous !== undefined) {
        const left = operand(previous, operands[i - 1] ?? operandExpr, chain.op);
        if (isFailure(left)) return left;
        const right = operand(built, operandExpr, chain.op);
        if (isFailure(right)) return right;
        if (i === 1) matchers.push(left);
        matchers.push(right);
      }
      previous = built;
    }
    const matches: Matcher = chain.op === '&&' ? (labels) => matchers.every((m) => m(labels)) : (labels) => matchers.some((m) => m(labels));
    return { kind: 'matcher', matches };
  }
}

/** `a.b.c` for a chain of selectors on an identifier. */
function selectorName(expr: Expr): string | undefined {
  if (expr.kind === 'ident') return expr.name;
  if (expr.kind !== 'selector') return undefined;
  const base = selectorName(expr.x);
  return base === undefined ? undefined : `${base}.${expr.name}`;
}

/** predicate's evaluateExpr: literals are values, calls are Label/LabelRegex with two strings. */
function evaluate(source: string, expr: Expr, fail: (pos: number, message: string) => Failure): Built {
  switch (expr.kind) {
    case 'string':
      return { kind: 'value', describe: `the string ${expr.text}` };
    case 'literal':
      return { kind: 'value', describe: expr.text };
    case 'ident':
      return fail(expr.pos, `${expr.name} is not defined: ${GRAMMAR}`);
    case 'selector': {
      const name = selectorName(expr);
      return fail(expr.pos, name === undefined ? `unsupported selector: ${GRAMMAR}` : `${name} is not defined: ${GRAMMAR}`);
    }
    case 'call':
      break;
    default:
      return fail(expr.pos, `${describe(expr)} is not supported here: ${GRAMMAR}`);
  }
  const name = expr.fun.kind === 'ident' ? expr.fun.name : expr.fun.kind === 'selector' && expr.fun.x.kind === 'ident' ? selectorName(expr.fun) : undefined;
  if (name === undefined) return fail(expr.pos, `a function name is expected before (: ${GRAMMAR}`);
  if (!FUNCTIONS.has(name)) return fail(expr.pos, `unsupported function ${name}: ${GRAMMAR}`);
  const args: (string | undefined)[] = [];
  const strings: boolean[] = [];
  for (const arg of expr.args) {
    if (arg.kind === 'call') {
      const nested = evaluate(source, arg, fail);
      if (isFailure(nested)) return nested;
      args.push(undefined);
      strings.push(false);
    } else if (arg.kind === 'string' || arg.kind === 'literal') {
      args.push(arg.kind === 'string' ? arg.value.text : undefined);
      strings.push(arg.kind === 'string');
    } else if (arg.kind === 'ident' || arg.kind === 'selector') {
      const built = evaluate(source, arg, fail);
      if (isFailure(built)) return built;
    } else {
      return fail(arg.pos, `the arguments of ${name} must be string constants, not ${describe(arg)}`);
    }
  }
  const second = name === 'Label' ? 'value' : 'regexp';
  if (args.length !== 2) return fail(expr.pos, `${name} takes 2 arguments (label name, ${second}), not ${args.length}`);
  const notString = strings.indexOf(false);
  if (notString >= 0) {
    const arg = expr.args[notString];
    return fail(arg?.pos ?? expr.pos, `the arguments of ${name} must be string constants, not ${arg === undefined ? '' : describe(arg)}`);
  }
  const [labelName, operand] = args;
  const valueOf = (labels: Labels): string => (labelName !== undefined && Object.hasOwn(labels, labelName) ? (labels[labelName] ?? '') : '');
  if (name === 'Label') {
    // A missing label reads as "", like a missing key of a Go map; a non-UTF-8 constant equals no label value.
    return { kind: 'matcher', matches: (labels) => operand !== undefined && valueOf(labels) === operand };
  }
  const regexp = operand === undefined ? undefined : compileRegexp(operand);
  // Traefik compiles the pattern at every match and treats a failure as no match.
  return { kind: 'matcher', matches: (labels) => regexp !== undefined && regexp(valueOf(labels)) };
}

// ---------------------------------------------------------------------------------------------
// Go regular expressions (regexp/syntax with syntax.Perl flags): parsed with Go's rules into a
// tree, compiled to an automaton and run without backtracking. Character classes become
// JavaScript `v`-mode classes that test one character at a time: with the `i` flag, `v` mode
// closes sets under simple case folding before complementing them, as Go does.

type CharTest =
  | { readonly kind: 'any' }
  | { readonly kind: 'notNewline' }
  | { readonly kind: 'rune'; readonly rune: number }
  | { readonly kind: 'class'; readonly regexp: RegExp; readonly cache: Map<number, boolean> };

type Assertion = 'beginText' | 'endText' | 'beginLine' | 'endLine' | 'wordBoundary' | 'noWordBoundary';

type Re =
  | { readonly op: 'empty' }
  | { readonly op: 'char'; readonly test: CharTest }
  | { readonly op: 'assert'; readonly assertion: Assertion }
  | { readonly op: 'concat'; readonly subs: readonly Re[] }
  | { readonly op: 'alternate'; readonly subs: readonly Re[] }
  | { readonly op: 'capture'; readonly sub: Re }
  | { readonly op: 'repeat'; readonly sub: Re; readonly min: number; readonly max: number; readonly counted: boolean };

interface Flags {
  readonly foldCase: boolean;
  readonly dotNewline: boolean;
  readonly oneLine: boolean;
}

const MAX_REPEAT = 1000;
const MAX_SIZE = Math.floor((128 << 20) / 40);
const MAX_GROUP_DEPTH = MAX_NESTING;

type Ranges = readonly (readonly [number, number])[];

const PERL_GROUPS = new Map<string, Ranges>([
  ['d', [[0x30, 0x39]]],
  ['s', [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]]],
  ['w', [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]],
]);

const POSIX_GROUPS = new Map<string, Ranges>([
  ['alnum', [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]]],
  ['alpha', [[0x41, 0x5a], [0x61, 0x7a]]],
  ['ascii', [[0x00, 0x7f]]],
  ['blank', [[0x09, 0x09], [0x20, 0x20]]],
  ['cntrl', [[0x00, 0x1f], [0x7f, 0x7f]]],
  ['digit', [[0x30, 0x39]]],
  ['graph', [[0x21, 0x7e]]],
  ['lower', [[0x61, 0x7a]]],
  ['print', [[0x20, 0x7e]]],
  ['punct', [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]]],
  ['space', [[0x09, 0x0d], [0x20, 0x20]]],
  ['upper', [[0x41, 0x5a]]],
  ['word', [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]]],
  ['xdigit', [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]]],
]);

// Go's unicode.Categories; Go's "C" is Cc, Cf, Co and Cs (JavaScript's also has unassigned code points).
const CATEGORIES = new Map<string, string>([
  ['C', '\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}'],
  ...['Cc', 'Cf', 'Cn', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs'].map(
    (name): [string, string] => [name, `\\p{${name}}`],
  ),
  ['Lc', '\\p{LC}'],
]);

// Go's unicode.CategoryAliases (the long names of general categories), by Go's canonical name.
const CATEGORY_ALIASES = new Map<string, string>(
  (
    'Cased_Letter LC Close_Punctuation Pe Combining_Mark M Connector_Punctuation Pc Control Cc Currency_Symbol Sc ' +
    'Dash_Punctuation Pd Decimal_Number Nd Enclosing_Mark Me Final_Punctuation Pf Format Cf Initial_Punctuation Pi ' +
    'Letter L Letter_Number Nl Line_Separator Zl Lowercase_Letter Ll Mark M Math_Symbol Sm Modifier_Letter Lm ' +
    'Modifier_Symbol Sk Nonspacing_Mark Mn Number N Open_Punctuation Ps Other C Other_Letter Lo Other_Number No ' +
    'Other_Punctuation Po Other_Symbol So Paragraph_Separator Zp Private_Use Co Punctuation P Separator Z ' +
    'Space_Separator Zs Spacing_Mark Mc Surrogate Cs Symbol S Titlecase_Letter Lt Unassigned Cn Uppercase_Letter Lu ' +
    'cntrl Cc digit Nd punct P'
  )
    .split(' ')
    .flatMap((word, i, words): [string, string][] => (i % 2 === 0 ? [[canonicalName(word), words[i + 1] === 'LC' ? 'Lc' : (words[i + 1] ?? '')]] : [])),
);

// Go's unicode.Scripts (Unicode 15.0).
const SCRIPTS = (
  'Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali Bhaiksuki Bopomofo ' +
  'Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham Cherokee Chorasmian Common ' +
  'Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs ' +
  'Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Greek Gujarati Gunjala_Gondi Gurmukhi Han Hangul ' +
  'Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana Imperial_Aramaic Inherited Inscriptional_Pahlavi ' +
  'Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki ' +
  'Khudawadi Lao Latin Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean ' +
  'Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi ' +
  'Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong ' +
  'Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian ' +
  'Old_Turkic Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi ' +
  'Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian Sora_Sompeng Soyombo ' +
  'Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut Telugu Thaana ' +
  'Thai Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi Yi Zanabazar_Square'
).split(' ');

/** regexp/syntax's canonicalName: first letter upper case, the rest lower case, no _ - or space. */
function canonicalName(name: string): string {
  const letters = name.replace(/[_\- ]/g, '');
  return letters.slice(0, 1).toUpperCase() + letters.slice(1).toLowerCase();
}

// Go 1.26 looks scripts up by the canonical name itself, so \p{Old_Italic} and \p{SignWriting}, whose
// names are not canonical, are unknown (an error) there; only the others can be named.
const CANONICAL_SCRIPTS = new Set(SCRIPTS.filter((name) => canonicalName(name) === name));

/** The class fragment of a Go Unicode class name, or undefined when Go does not know the name. */
function unicodeClass(name: string): string | undefined {
  const canonical = canonicalName(name);
  if (canonical === 'Any') return '\\u{0}-\\u{10ffff}';
  if (canonical === 'Assigned') return '\\P{Cn}';
  if (canonical === 'Ascii') return '\\u{0}-\\u{7f}';
  const category = CATEGORIES.get(canonical);
  if (category !== undefined) return category;
  if (CANONICAL_SCRIPTS.has(canonical)) return `\\p{Script=${canonical}}`;
  const alias = CATEGORY_ALIASES.get(canonical);
  return alias === undefined ? undefined : CATEGORIES.get(alias);
}

const escapeRune = (cp: number): string => `\\u{${cp.toString(16)}}`;

function rangesFragment(ranges: Ranges): string {
  return ranges.map(([lo, hi]) => (lo === hi ? escapeRune(lo) : `${escapeRune(lo)}-${escapeRune(hi)}`)).join('');
}

function classTest(fragments: readonly string[], negated: boolean, flags: Flags): CharTest {
  const regexp = new RegExp(`^[${negated ? '^' : ''}${fragments.join('')}]$`, flags.foldCase ? 'vi' : 'v');
  return { kind: 'class', regexp, cache: new Map() };
}

function isAlnum(cp: number): boolean {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
}

function hexValue(cp: number | undefined): number {
  if (cp === undefined) return -1;
  if (cp >= 0x30 && cp <= 0x39) return cp - 0x30;
  if (cp >= 0x41 && cp <= 0x46) return cp - 0x41 + 10;
  if (cp >= 0x61 && cp <= 0x66) return cp - 0x61 + 10;
  return -1;
}

// Not String.fromCodePoint(...runes): spreading a long pattern would overflow the stack.
const textOf = (runes: readonly number[]): string => runes.map((cp) => String.fromCodePoint(cp)).join('');

const REGEXP_CONTROL_ESCAPES = new Map([
  [0x61, 0x07],
  [0x66, 0x0c],
  [0x6e, 0x0a],
  [0x72, 0x0d],
  [0x74, 0x09],
  [0x76, 0x0b],
]);

/** Parses a Go regular expression; undefined when Go's regexp.Compile would return an error. */
function parseGoRegexp(pattern: string): Re | undefined {
  if (!pattern.isWellFormed()) return undefined;
  const cps = Array.from(pattern, (char) => char.codePointAt(0) ?? 0);
  let pos = 0;
  let flags: Flags = { foldCase: false, dotNewline: false, oneLine: true };
  let depth = 0;
  const at = (i: number): number | undefined => cps[i];
  const is = (i: number, char: string): boolean => cps[i] === char.codePointAt(0);

  /** parseEscape: one escaped character, or undefined for an invalid escape. */
  const parseEscape = (): number | undefined => {
    pos++;
    const c = at(pos);
    if (c === undefined) return undefined;
    pos++;
    if (c < 0x80 && !isAlnum(c)) return c;
    if (c >= 0x31 && c <= 0x37 && !(at(pos) !== undefined && (at(pos) ?? 0) >= 0x30 && (at(pos) ?? 0) <= 0x37)) {
      return undefined; // a backreference, which RE2 does not have
    }
    if (c >= 0x30 && c <= 0x37) {
      let value = c - 0x30;
      for (let k = 1; k < 3; k++) {
        const d = at(pos);
        if (d === undefined || d < 0x30 || d > 0x37) break;
        value = value * 8 + d - 0x30;
        pos++;
      }
      return value;
    }
    if (c === 0x78) {
      if (at(pos) === undefined) return undefined;
      if (is(pos, '{')) {
        pos++;
        let value = 0;
        let digits = 0;
        for (;;) {
          const d = at(pos);
          if (d === undefined) return undefined;
          pos++;
          if (d === 0x7d) break;
          const v = hexValue(d);
          if (v < 0) return undefined;
          value = value * 16 + v;
          if (value > 0x10ffff) return undefined;
          digits++;
        }
        return digits === 0 ? undefined : value;
      }
      const x = hexValue(at(pos));
      const y = hexValue(at(pos + 1));
      pos += 2;
      return x < 0 || y < 0 ? undefined : x * 16 + y;
    }
    // \a \f \n \r \t \v; RE2 has no \b escape (that is a word boundary) and no \e.
    return REGEXP_CONTROL_ESCAPES.get(c);
  };

  /** \pN, \p{Name}, \PN, \P{^Name}: a class fragment, undefined when invalid. */
  const parseUnicodeClass = (): string | undefined => {
    let negated = is(pos + 1, 'P');
    pos += 2;
    let name: string;
    if (is(pos, '{')) {
      const end = cps.indexOf(0x7d, pos);
      if (end < 0) return undefined;
      name = textOf(cps.slice(pos + 1, end));
      pos = end + 1;
    } else {
      const c = at(pos);
      name = c === undefined ? '' : String.fromCodePoint(c);
      if (c !== undefined) pos++;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const fragment = unicodeClass(name);
    if (fragment === undefined) return undefined;
    return negated ? `[^${fragment}]` : fragment;
  };

  const perlGroup = (): string | undefined => {
    const c = at(pos + 1);
    if (!is(pos, '\\') || c === undefined) return undefined;
    const group = PERL_GROUPS.get(String.fromCodePoint(c).toLowerCase());
    if (group === undefined || !'dDsSwW'.includes(String.fromCodePoint(c))) return undefined;
    pos += 2;
    return c >= 0x61 ? rangesFragment(group) : `[^${rangesFragment(group)}]`;
  };

  const parseClass = (): Re | undefined => {
    pos++;
    let negated = false;
    if (is(pos, '^')) {
      negated = true;
      pos++;
    }
    const fragments: string[] = [];
    let first = true;
    while (at(pos) === undefined || !is(pos, ']') || first) {
      first = false;
      if (is(pos, '[') && is(pos + 1, ':') && at(pos + 2) !== undefined) {
        let end = -1;
        for (let k = pos + 2; k + 1 < cps.length; k++) {
          if (is(k, ':') && is(k + 1, ']')) {
            end = k;
            break;
          }
        }
        if (end >= 0) {
          const name = textOf(cps.slice(pos + 2, end));
          const group = POSIX_GROUPS.get(name.replace(/^\^/, ''));
          if (group === undefined) return undefined;
          fragments.push(name.startsWith('^') ? `[^${rangesFragment(group)}]` : rangesFragment(group));
          pos = end + 2;
          continue;
        }
      }
      if (is(pos, '\\') && (is(pos + 1, 'p') || is(pos + 1, 'P'))) {
        const fragment = parseUnicodeClass();
        if (fragment === undefined) return undefined;
        fragments.push(fragment);
        continue;
      }
      const perl = perlGroup();
      if (perl !== undefined) {
        fragments.push(perl);
        continue;
      }
      const lo = parseClassChar();
      if (lo === undefined) return undefined;
      let hi = lo;
      if (is(pos, '-') && at(pos + 1) !== undefined && !is(pos + 1, ']')) {
        pos++;
        const end = parseClassChar();
        if (end === undefined || end < lo) return undefined;
        hi = end;
      }
      fragments.push(rangesFragment([[lo, hi]]));
    }
    pos++;
    return { op: 'char', test: classTest(fragments, negated, flags) };
  };

  const parseClassChar = (): number | undefined => {
    const c = at(pos);
    if (c === undefined) return undefined;
    if (c === 0x5c) return parseEscape();
    pos++;
    return c;
  };

  const literal = (cp: number): Re => ({
    op: 'char',
    test: flags.foldCase ? classTest([escapeRune(cp)], false, flags) : { kind: 'rune', rune: cp },
  });

  /** parseRepeat: {n}, {n,}, {n,m}; undefined when the text is not a repetition (then { is literal). */
  const parseRepeat = (): { min: number; max: number; end: number } | undefined => {
    let i = pos + 1;
    const readInt = (): number | undefined => {
      const start = i;
      const d0 = at(i);
      if (d0 === undefined || d0 < 0x30 || d0 > 0x39) return undefined;
      if (d0 === 0x30 && (at(i + 1) ?? 0) >= 0x30 && (at(i + 1) ?? 0) <= 0x39) return undefined;
      while ((at(i) ?? 0) >= 0x30 && (at(i) ?? 0) <= 0x39) i++;
      const digits = textOf(cps.slice(start, i));
      // Go gives up at 1e8 and reports the count as too large.
      return digits.length > 8 ? -1 : Number(digits);
    };
    const min = readInt();
    if (min === undefined || at(i) === undefined) return undefined;
    let max = min;
    let tooLarge = min === -1;
    if (is(i, ',')) {
      i++;
      if (at(i) === undefined) return undefined;
      if (is(i, '}')) max = -1;
      else {
        const parsed = readInt();
        if (parsed === undefined) return undefined;
        tooLarge ||= parsed === -1;
        max = parsed;
      }
    }
    if (!is(i, '}')) return undefined;
    // A count too large is a repetition all the same, which Go then refuses.
    return { min: tooLarge ? -1 : min, max: tooLarge ? 0 : max, end: i + 1 };
  };

  const repeatIsValid = (re: Re, n: number): boolean => {
    let budget = n;
    if (re.op === 'repeat' && re.counted) {
      let m = re.max;
      if (m === 0) return true;
      if (m < 0) m = re.min;
      if (m > budget) return false;
      if (m > 0) budget = Math.floor(budget / m);
    }
    if (re.op === 'concat' || re.op === 'alternate') return re.subs.every((sub) => repeatIsValid(sub, budget));
    if (re.op === 'capture' || re.op === 'repeat') return repeatIsValid(re.sub, budget);
    return true;
  };

  const parseConcat = (): Re | undefined => {
    const items: Re[] = [];
    let lastRepeat = false;
    while (at(pos) !== undefined && !is(pos, '|') && !is(pos, ')')) {
      const c = at(pos) ?? 0;
      let repeated = false;
      if (c === 0x28) {
        const group = parseGroup();
        if (group === undefined) return undefined;
        if (group !== 'flags') items.push(group);
      } else if (c === 0x5e) {
        items.push({ op: 'assert', assertion: flags.oneLine ? 'beginText' : 'beginLine' });
        pos++;
      } else if (c === 0x24) {
        items.push({ op: 'assert', assertion: flags.oneLine ? 'endText' : 'endLine' });
        pos++;
      } else if (c === 0x2e) {
        items.push({ op: 'char', test: flags.dotNewline ? { kind: 'any' } : { kind: 'notNewline' } });
        pos++;
      } else if (c === 0x5b) {
        const cls = parseClass();
        if (cls === undefined) return undefined;
        items.push(cls);
      } else if (c === 0x2a || c === 0x2b || c === 0x3f || c === 0x7b) {
        let min: number;
        let max: number;
        let end: number;
        const counted = c === 0x7b;
        if (counted) {
          const repeat = parseRepeat();
          if (repeat === undefined) {
            items.push(literal(c));
            pos++;
            lastRepeat = false;
            continue;
          }
          ({ min, max, end } = repeat);
          if (min < 0 || min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) return undefined;
        } else {
          [min, max, end] = c === 0x2a ? [0, -1, pos + 1] : c === 0x2b ? [1, -1, pos + 1] : [0, 1, pos + 1];
        }
        pos = end;
        if (is(pos, '?')) pos++; // non-greedy: irrelevant to whether there is a match
        const sub = items.pop();
        if (lastRepeat || sub === undefined) return undefined;
        const re: Re = { op: 'repeat', sub, min, max, counted };
        if (counted && (min >= 2 || max >= 2) && !repeatIsValid(re, MAX_REPEAT)) return undefined;
        items.push(re);
        repeated = true;
      } else if (c === 0x5c) {
        const next = at(pos + 1);
        if (next === 0x41 || next === 0x7a || next === 0x62 || next === 0x42) {
          const assertion: Assertion = next === 0x41 ? 'beginText' : next === 0x7a ? 'endText' : next === 0x62 ? 'wordBoundary' : 'noWordBoundary';
          items.push({ op: 'assert', assertion });
          pos += 2;
        } else if (next === 0x43) {
          return undefined; // \C, any byte: not supported by Go either
        } else if (next === 0x51) {
          // \Q...\E: everything up to \E (or the end) is literal.
          pos += 2;
          while (at(pos) !== undefined && !(is(pos, '\\') && is(pos + 1, 'E'))) {
            items.push(literal(at(pos) ?? 0));
            pos++;
          }
          if (at(pos) !== undefined) pos += 2;
        } else if (next === 0x70 || next === 0x50) {
          const fragment = parseUnicodeClass();
          if (fragment === undefined) return undefined;
          items.push({ op: 'char', test: classTest([fragment], false, flags) });
        } else {
          const perl = perlGroup();
          if (perl !== undefined) items.push({ op: 'char', test: classTest([perl], false, flags) });
          else {
            const escaped = parseEscape();
            if (escaped === undefined) return undefined;
            items.push(literal(escaped));
          }
        }
      } else {
        items.push(literal(c));
        pos++;
      }
      lastRepeat = repeated;
    }
    if (items.length === 0) return { op: 'empty' };
    return items.length === 1 ? items[0] : { op: 'concat', subs: items };
  };

  const parseAlternate = (): Re | undefined => {
    const branches: Re[] = [];
    for (;;) {
      const branch = parseConcat();
      if (branch === undefined) return undefined;
      branches.push(branch);
      if (!is(pos, '|')) break;
      pos++;
    }
    return branches.length === 1 ? branches[0] : { op: 'alternate', subs: branches };
  };

  /** A group; 'flags' for (?flags), which only changes the flags of what follows in the group. */
  const parseGroup = (): Re | 'flags' | undefined => {
    const saved = flags;
    let capture = true;
    pos++;
    if (is(pos, '?')) {
      const named = is(pos + 1, 'P') && is(pos + 2, '<') ? pos + 3 : is(pos + 1, '<') ? pos + 2 : -1;
      if (named >= 0) {
        const end = cps.indexOf(0x3e, named);
        if (end < 0) return undefined;
        const name = textOf(cps.slice(named, end));
        if (!/^[A-Za-z0-9_]+$/.test(name)) return undefined;
        pos = end + 1;
      } else {
        pos++;
        let next: Flags = flags;
        let negate = false;
        let sawFlag = false;
        for (;;) {
          const c = at(pos);
          if (c === undefined) return undefined;
          pos++;
          const char = String.fromCodePoint(c);
          if (char === 'i') next = { ...next, foldCase: !negate };
          else if (char === 'm') next = { ...next, oneLine: negate };
          else if (char === 's') next = { ...next, dotNewline: !negate };
          else if (char === 'U') next = next; // non-greedy by default: irrelevant to whether there is a match
          else if (char === '-') {
            if (negate) return undefined;
            negate = true;
            sawFlag = false;
            continue;
          } else if (char === ':' || char === ')') {
            if (negate && !sawFlag) return undefined;
            flags = next;
            if (char === ')') return 'flags';
            capture = false;
            break;
          } else {
            return undefined;
          }
          sawFlag = true;
        }
      }
    }
    if (++depth > MAX_GROUP_DEPTH) return undefined;
    const sub = parseAlternate();
    depth--;
    if (sub === undefined || !is(pos, ')')) return undefined;
    pos++;
    // Flags set inside a group end with it.
    flags = saved;
    return capture ? { op: 'capture', sub } : sub;
  };

  const re = parseAlternate();
  // Anything left is an unmatched ')'.
  if (re === undefined || pos < cps.length) return undefined;
  return re;
}

/** Go's estimate of the compiled size of a regexp, which it caps. */
function regexpSize(re: Re): number {
  let size: number;
  switch (re.op) {
    case 'concat':
      size = re.subs.reduce((total, sub) => total + regexpSize(sub), 0);
      break;
    case 'alternate':
      size = re.subs.reduce((total, sub) => total + regexpSize(sub), 0) + re.subs.length - 1;
      break;
    case 'capture':
      size = 2 + regexpSize(re.sub);
      break;
    case 'repeat': {
      const sub = regexpSize(re.sub);
      if (re.max === -1) size = re.min === 0 ? 2 + sub : 1 + re.min * sub;
      else size = re.max * sub + (re.max - re.min);
      break;
    }
    default:
      size = 1;
  }
  return Math.max(1, size);
}

type Inst =
  | { readonly op: 'char'; readonly test: CharTest; readonly next: number }
  | { op: 'split'; x: number; y: number }
  | { readonly op: 'assert'; readonly assertion: Assertion; readonly next: number }
  | { readonly op: 'match' };

/** Thompson construction, built backwards from the match instruction. */
function compileProgram(root: Re): { readonly program: readonly Inst[]; readonly start: number } {
  const program: Inst[] = [{ op: 'match' }];
  const push = (inst: Inst): number => program.push(inst) - 1;
  const split = (x: number, y: number): number => push({ op: 'split', x, y });
  const star = (sub: Re, next: number): number => {
    const loop = { op: 'split' as const, x: -1, y: next };
    const at = push(loop);
    loop.x = emit(sub, at);
    return at;
  };
  const emit = (re: Re, next: number): number => {
    switch (re.op) {
      case 'empty':
        return next;
      case 'char':
        return push({ op: 'char', test: re.test, next });
      case 'assert':
        return push({ op: 'assert', assertion: re.assertion, next });
      case 'capture':
        return emit(re.sub, next);
      case 'concat': {
        let at = next;
        for (let i = re.subs.length - 1; i >= 0; i--) {
          const sub = re.subs[i];
          if (sub !== undefined) at = emit(sub, at);
        }
        return at;
      }
      case 'alternate': {
        const last = re.subs[re.subs.length - 1];
        let at = last === undefined ? next : emit(last, next);
        for (let i = re.subs.length - 2; i >= 0; i--) {
          const sub = re.subs[i];
          if (sub !== undefined) at = split(emit(sub, next), at);
        }
        return at;
      }
      case 'repeat': {
        let at = next;
        if (re.max === -1) at = star(re.sub, next);
        else for (let k = 0; k < re.max - re.min; k++) at = split(emit(re.sub, at), next);
        for (let k = 0; k < re.min; k++) at = emit(re.sub, at);
        return at;
      }
    }
  };
  const start = emit(root, 0);
  return { program, start };
}

function isWordChar(cp: number): boolean {
  return isAlnum(cp) || cp === 0x5f;
}

function testChar(test: CharTest, cp: number): boolean {
  switch (test.kind) {
    case 'any':
      return true;
    case 'notNewline':
      return cp !== 0x0a;
    case 'rune':
      return cp === test.rune;
    case 'class': {
      const cached = test.cache.get(cp);
      if (cached !== undefined) return cached;
      const result = test.regexp.test(String.fromCodePoint(cp));
      test.cache.set(cp, result);
      return result;
    }
  }
}

/** Go's regexp.Compile(pattern).MatchString: an unanchored search. Undefined when Go refuses the pattern. */
function compileRegexp(pattern: string): ((value: string) => boolean) | undefined {
  const re = parseGoRegexp(pattern);
  if (re === undefined || regexpSize(re) > MAX_SIZE) return undefined;
  const { program, start } = compileProgram(re);
  return (value) => {
    // A lone surrogate cannot come from Go, which would have decoded U+FFFD in its place.
    const input = Array.from(value.toWellFormed(), (char) => char.codePointAt(0) ?? 0xfffd);
    const marks = new Int32Array(program.length).fill(-1);
    let matched = false;
    const holds = (assertion: Assertion, i: number): boolean => {
      const before = i > 0 ? (input[i - 1] ?? -1) : -1;
      const after = i < input.length ? (input[i] ?? -1) : -1;
      switch (assertion) {
        case 'beginText':
          return i === 0;
        case 'endText':
          return i === input.length;
        case 'beginLine':
          return i === 0 || before === 0x0a;
        case 'endLine':
          return i === input.length || after === 0x0a;
        case 'wordBoundary':
          return isWordChar(before) !== isWordChar(after);
        case 'noWordBoundary':
          return isWordChar(before) === isWordChar(after);
      }
    };
    // Follows the empty transitions from pc at position i, adding the character instructions reached.
    const add = (list: number[], pc: number, i: number, generation: number): void => {
      const stack = [pc];
      while (stack.length > 0 && !matched) {
        const at = stack.pop() ?? 0;
        if (marks[at] === generation) continue;
        marks[at] = generation;
        const inst = program[at];
        if (inst === undefined) continue;
        switch (inst.op) {
          case 'match':
            matched = true;
            break;
          case 'split':
            stack.push(inst.y, inst.x);
            break;
          case 'assert':
            if (holds(inst.assertion, i)) stack.push(inst.next);
            break;
          case 'char':
            list.push(at);
            break;
        }
      }
    };
    let list: number[] = [];
    add(list, start, 0, 0);
    for (let i = 0; i < input.length && !matched; i++) {
      const cp = input[i] ?? 0;
      const next: number[] = [];
      for (const pc of list) {
        const inst = program[pc];
        if (inst?.op === 'char' && testChar(inst.test, cp)) add(next, inst.next, i + 1, i + 1);
        if (matched) return true;
      }
      // Unanchored: a match may also start at the next position.
      add(next, start, i + 1, i + 1);
      list = next;
    }
    return matched;
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * Compiles a Traefik constraint expression over labels. The empty expression matches everything;
 * anything Traefik would refuse (syntax, unknown function, wrong arguments) is an error.
 */
export function compileConstraints(expression: string): CompiledConstraints {
  if (expression === '') return { ok: true, matches: () => true };
  const expr = parseExpression(expression);
  if (isFailure(expr)) return { ok: false, error: expr.failure };
  const built = buildMatcher(expression, expr);
  if (isFailure(built)) return { ok: false, error: built.failure };
  if (built.kind === 'value') {
    return { ok: false, error: `${position(expression, expr.pos)}: ${built.describe} is not a constraint: ${GRAMMAR}` };
  }
  return { ok: true, matches: built.matches };
}
