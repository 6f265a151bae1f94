/**
 * Go's expression syntax as go/parser's ParseExpr reads it (with go/scanner's semicolon insertion,
 * comments, string escapes and trailing commas), for what a predicate language holds: calls of
 * named functions on constants, combined with unary and binary operators and parentheses. Callers
 * give the hint (`grammar`) that ends the messages of what they cannot hold.
 */
import { isFailure, type Failure } from './failure.ts';
import { scan, type GoString, type Token } from './go-scanner.ts';

export type { GoString } from './go-scanner.ts';

// go/parser allows deeper nesting; recursion that deep would exhaust the JavaScript stack, so
// deeper expressions are refused.
export const MAX_NESTING = 500;

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

/**
 * Parses `source` as go/parser's ParseExpr does, or says why not (`grammar` ends the messages of what the caller cannot
 * hold).
 */
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
        // A predicate ignores a final "...", so f("a", "b"...) is f("a", "b").
        ellipsis = true;
        index++;
      }
      if (isOp(',')) {
        index++;
        continue;
      }
      if (!isOp(')'))
        return fail(tok().pos, `missing ','${tok().newline === true ? ' before newline' : ''} in argument list`);
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
        return fail(
          tok().pos,
          `${isOp('[') ? 'index expressions' : 'composite literals'} are not supported: ${grammar}`,
        );
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
