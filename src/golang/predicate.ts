/**
 * github.com/vulcand/predicate: a Go expression (go-expression.ts) evaluated over a definition of
 * operators and functions, into a value of the caller's type. The expression is evaluated once,
 * when it is compiled: what predicate refuses (an unknown function or identifier, an operator the
 * definition lacks, an argument that is no string constant) becomes the compile error, named by
 * its position.
 */
import { isFailure, type Failure } from './failure.ts';
import { MAX_NESTING, parseGoExpression, position, type Expr } from './go-expression.ts';

export interface PredicateFunction<T> {
  /** What each string argument means, in order, for the message of a call with too few or too many. */
  readonly params: readonly string[];
  /**
   * Called with the arguments' texts; undefined for a constant whose bytes are not UTF-8 (equal to no JavaScript
   * string).
   */
  readonly call: (args: readonly (string | undefined)[]) => T;
}

/**
 * predicate.Def: the operators and functions. `and` and `or` take a whole chain of operands
 * (predicate calls them pair by pair), so that a chain of thousands is matched by a loop rather
 * than by thousands of nested calls.
 */
export interface PredicateDefinition<T> {
  readonly and: (operands: readonly T[]) => T;
  readonly or: (operands: readonly T[]) => T;
  readonly not: (operand: T) => T;
  readonly functions: Readonly<Record<string, PredicateFunction<T>>>;
  /** Ends the messages of what the definition does not hold: what an expression is made of. */
  readonly grammar: string;
}

/**
 * What an expression evaluates to: the definition's type, or a constant (described, with its position), which the
 * caller may refuse.
 */
export type Evaluated<T> =
  | { readonly kind: 'predicate'; readonly value: T }
  | { readonly kind: 'value'; readonly describe: string; readonly position: string };

type Built<T> =
  { readonly kind: 'predicate'; readonly value: T } | { readonly kind: 'value'; readonly describe: string } | Failure;

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

/** `a.b.c` for a chain of selectors on an identifier. */
function selectorName(expr: Expr): string | undefined {
  if (expr.kind === 'ident') return expr.name;
  if (expr.kind !== 'selector') return undefined;
  const base = selectorName(expr.x);
  return base === undefined ? undefined : `${base}.${expr.name}`;
}

class Evaluator<T> {
  private readonly source: string;
  private readonly def: PredicateDefinition<T>;
  private readonly functions: ReadonlyMap<string, PredicateFunction<T>>;
  private readonly operandKinds: string;

  constructor(source: string, def: PredicateDefinition<T>) {
    this.source = source;
    this.def = def;
    // A map, not the record: a function named like an object property (constructor) must not be found.
    this.functions = new Map(Object.entries(def.functions));
    this.operandKinds = [...this.functions.keys()].join(' or ');
  }

  private fail(pos: number, message: string): Failure {
    return { failure: `${position(this.source, pos)}: ${message}` };
  }

  private operand(built: Built<T>, at: Expr, op: string): T | Failure {
    if (isFailure(built)) return built;
    if (built.kind === 'value') {
      return this.fail(
        at.pos,
        `the operand of ${op} must be a ${this.operandKinds} expression, not ${built.describe}: ${this.def.grammar}`,
      );
    }
    return built.value;
  }

  build(expr: Expr, depth = 0): Built<T> {
    const { grammar } = this.def;
    if (depth > MAX_NESTING) return this.fail(expr.pos, 'expression nests too deeply');
    switch (expr.kind) {
      case 'binary': {
        if (expr.op === '&&' || expr.op === '||') return this.buildChain(expr, depth);
        // predicate evaluates both sides before it looks at the operator.
        const x = this.build(expr.x, depth + 1);
        if (isFailure(x)) return x;
        const y = this.build(expr.y, depth + 1);
        if (isFailure(y)) return y;
        return this.fail(expr.pos, `operator ${expr.op} is not supported: ${grammar}`);
      }
      case 'unary': {
        if (expr.op !== '!') return this.fail(expr.pos, `operator ${expr.op} is not supported: ${grammar}`);
        const inner = this.operand(this.build(expr.x, depth + 1), expr.x, '!');
        if (isFailure(inner)) return inner;
        return { kind: 'predicate', value: this.def.not(inner) };
      }
      case 'paren':
        return this.build(expr.x, depth + 1);
      default:
        return this.evaluate(expr);
    }
  }

  /**
   * a && b && c is a tree leaning left, as deep as the chain is long: it is walked without recursion,
   * in predicate's order (each operator checks its operands once both are built).
   */
  private buildChain(chain: Expr & { kind: 'binary' }, depth: number): Built<T> {
    const operands: Expr[] = [];
    let node: Expr = chain;
    while (node.kind === 'binary' && node.op === chain.op) {
      operands.push(node.y);
      node = node.x;
    }
    operands.push(node);
    operands.reverse();
    const values: T[] = [];
    let previous: Built<T> | undefined;
    for (const [i, operandExpr] of operands.entries()) {
      const built = this.build(operandExpr, depth + 1);
      if (isFailure(built)) return built;
      if (previous !== undefined) {
        const left = this.operand(previous, operands[i - 1] ?? operandExpr, chain.op);
        if (isFailure(left)) return left;
        const right = this.operand(built, operandExpr, chain.op);
        if (isFailure(right)) return right;
        if (i === 1) values.push(left);
        values.push(right);
      }
      previous = built;
    }
    return { kind: 'predicate', value: chain.op === '&&' ? this.def.and(values) : this.def.or(values) };
  }

  /** predicate's evaluateExpr: literals are values, calls are the definition's functions with string constants. */
  private evaluate(expr: Expr): Built<T> {
    const { grammar } = this.def;
    switch (expr.kind) {
      case 'string':
        return { kind: 'value', describe: `the string ${expr.text}` };
      case 'literal':
        return { kind: 'value', describe: expr.text };
      case 'ident':
        return this.fail(expr.pos, `${expr.name} is not defined: ${grammar}`);
      case 'selector': {
        const name = selectorName(expr);
        return this.fail(
          expr.pos,
          name === undefined ? `unsupported selector: ${grammar}` : `${name} is not defined: ${grammar}`,
        );
      }
      case 'call':
        break;
      default:
        return this.fail(expr.pos, `${describe(expr)} is not supported here: ${grammar}`);
    }
    const name =
      expr.fun.kind === 'ident'
        ? expr.fun.name
        : expr.fun.kind === 'selector' && expr.fun.x.kind === 'ident'
          ? selectorName(expr.fun)
          : undefined;
    if (name === undefined) return this.fail(expr.pos, `a function name is expected before (: ${grammar}`);
    const fn = this.functions.get(name);
    if (fn === undefined) return this.fail(expr.pos, `unsupported function ${name}: ${grammar}`);
    const args: (string | undefined)[] = [];
    const strings: boolean[] = [];
    for (const arg of expr.args) {
      if (arg.kind === 'call') {
        const nested = this.evaluate(arg);
        if (isFailure(nested)) return nested;
        args.push(undefined);
        strings.push(false);
      } else if (arg.kind === 'string' || arg.kind === 'literal') {
        args.push(arg.kind === 'string' ? arg.value.text : undefined);
        strings.push(arg.kind === 'string');
      } else if (arg.kind === 'ident' || arg.kind === 'selector') {
        const built = this.evaluate(arg);
        if (isFailure(built)) return built;
      } else {
        return this.fail(arg.pos, `the arguments of ${name} must be string constants, not ${describe(arg)}`);
      }
    }
    if (args.length !== fn.params.length) {
      return this.fail(
        expr.pos,
        `${name} takes ${fn.params.length} arguments (${fn.params.join(', ')}), not ${args.length}`,
      );
    }
    const notString = strings.indexOf(false);
    if (notString >= 0) {
      const arg = expr.args[notString];
      return this.fail(
        arg?.pos ?? expr.pos,
        `the arguments of ${name} must be string constants, not ${arg === undefined ? '' : describe(arg)}`,
      );
    }
    return { kind: 'predicate', value: fn.call(args) };
  }
}

/** predicate's Parser.Parse: the expression evaluated over `def`, or why predicate would refuse it. */
export function parsePredicate<T>(source: string, def: PredicateDefinition<T>): Evaluated<T> | Failure {
  const expr = parseGoExpression(source, def.grammar);
  if (isFailure(expr)) return expr;
  const built = new Evaluator(source, def).build(expr);
  if (isFailure(built) || built.kind === 'predicate') return built;
  return { ...built, position: position(source, expr.pos) };
}
