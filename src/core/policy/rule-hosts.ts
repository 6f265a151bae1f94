import { isFailure } from '../../golang/failure.ts';
import { parseGoExpression, type Expr } from '../../golang/go-expression.ts';

/**
 * What a router rule says about hosts, read the way Traefik reads a rule (a Go expression of
 * matcher calls joined by &&, || and !, through github.com/vulcand/predicate). Matcher names are
 * compared without regard to case: Traefik accepts `Host`, `host`, `HOST` and `Host` (title case).
 */
export type RuleHosts =
  | { readonly readable: false; readonly error: string }
  | {
      readonly readable: true;
      /** Hosts named by Host, HostHeader (rule syntax v2) and HostSNI where they grant a match (never under `!`). */
      readonly hosts: readonly { readonly matcher: string; readonly host: string }[];
      /** HostRegexp and HostSNIRegexp matchers where they grant a match: their hosts cannot be listed. */
      readonly regexps: readonly string[];
      /**
       * Every way the rule can match goes through a host matcher: each alternative of `||` has one,
       * joined by `&&`. A rule of other matchers alone (PathPrefix), or with a host only under `!`
       * or beside `||`, matches requests for any host.
       */
      readonly bounded: boolean;
    };

const GRAMMAR =
  'a rule combines matchers such as Host(`example.com`) and PathPrefix(`/api`) with !, &&, || and parentheses';
const HOST_MATCHERS = new Set(['host', 'hostheader', 'hostsni']);
const REGEXP_MATCHERS = new Set(['hostregexp', 'hostsniregexp']);

interface Found {
  readonly hosts: { matcher: string; host: string }[];
  readonly regexps: string[];
}

/**
 * The operands of a chain of one operator (a && b && c leans left as deep as it is long): gathered without recursion.
 */
function chainOperands(expr: Expr & { kind: 'binary' }): Expr[] {
  const operands: Expr[] = [];
  let node: Expr = expr;
  while (node.kind === 'binary' && node.op === expr.op) {
    operands.push(node.y);
    node = node.x;
  }
  operands.push(node);
  return operands.reverse();
}

/**
 * Whether every match of `expr` goes through a host matcher; hosts and regexps that grant a match are gathered into
 * `found`.
 */
function bounded(expr: Expr, found: Found): boolean | string {
  switch (expr.kind) {
    case 'paren':
      return bounded(expr.x, found);
    case 'unary':
      // A negated matcher narrows, never grants: its hosts are not the rule's, and it bounds nothing.
      return expr.op === '!' ? false : `operator ${expr.op} is not supported: ${GRAMMAR}`;
    case 'binary': {
      if (expr.op !== '&&' && expr.op !== '||') return `operator ${expr.op} is not supported: ${GRAMMAR}`;
      const results = chainOperands(expr).map((operand) => bounded(operand, found));
      const error = results.find((result) => typeof result === 'string');
      if (error !== undefined) return error;
      return expr.op === '&&' ? results.some((result) => result === true) : results.every((result) => result === true);
    }
    case 'call': {
      if (expr.fun.kind !== 'ident') return `a matcher name is expected before (: ${GRAMMAR}`;
      const matcher = expr.fun.name;
      const strings: string[] = [];
      for (const arg of expr.args) {
        if (arg.kind !== 'string' || arg.value.text === undefined) return `the arguments of ${matcher} must be strings`;
        strings.push(arg.value.text);
      }
      const lower = matcher.toLowerCase();
      if (REGEXP_MATCHERS.has(lower)) {
        found.regexps.push(matcher);
        return true;
      }
      if (!HOST_MATCHERS.has(lower)) return false;
      for (const host of strings) found.hosts.push({ matcher, host });
      return strings.length > 0;
    }
    default:
      return `a matcher call is expected: ${GRAMMAR}`;
  }
}

/** Reads the hosts of a router rule; a rule Traefik could not read is reported as such. */
export function ruleHosts(rule: string): RuleHosts {
  const expr = parseGoExpression(rule, GRAMMAR);
  if (isFailure(expr)) return { readable: false, error: expr.failure };
  const found: Found = { hosts: [], regexps: [] };
  const result = bounded(expr, found);
  if (typeof result === 'string') return { readable: false, error: result };
  return { readable: true, hosts: found.hosts, regexps: found.regexps, bounded: result };
}
