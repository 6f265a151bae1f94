import { RE2JS } from 're2js';
import { isFailure, MAX_NESTING, parseGoExpression, position, type Expr, type Failure } from './go-expression.ts';

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

/**
 * Go's regexp (RE2 syntax, linear time), as Traefik's LabelRegex uses it: re2js is Google's
 * JavaScript port of RE2. A pattern that does not compile makes the function false, as in Traefik.
 */
function compileRegexp(pattern: string): ((value: string) => boolean) | undefined {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch {
    return undefined;
  }
  return (value) => compiled.matcher(value).find();
}

// ---------------------------------------------------------------------------------------------

/**
 * Compiles a Traefik constraint expression over labels. The empty expression matches everything;
 * anything Traefik would refuse (syntax, unknown function, wrong arguments) is an error.
 */
export function compileConstraints(expression: string): CompiledConstraints {
  if (expression === '') return { ok: true, matches: () => true };
  const expr = parseGoExpression(expression, GRAMMAR);
  if (isFailure(expr)) return { ok: false, error: expr.failure };
  const built = buildMatcher(expression, expr);
  if (isFailure(built)) return { ok: false, error: built.failure };
  if (built.kind === 'value') {
    return { ok: false, error: `${position(expression, expr.pos)}: ${built.describe} is not a constraint: ${GRAMMAR}` };
  }
  return { ok: true, matches: built.matches };
}
