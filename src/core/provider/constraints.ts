import { isFailure } from '../../golang/failure.ts';
import { parsePredicate, type PredicateDefinition } from '../../golang/predicate.ts';
import { compileMatcher } from '../../golang/regexp.ts';

// Traefik's constraints over labels (pkg/provider/constraints/constraints_labels.go, MatchLabels):
// Label("name", "value") and LabelRegex("name", "regexp") combined with !, && and || by
// github.com/vulcand/predicate. Compiled once, so that what Traefik refuses is refused here too.

export type CompiledConstraints =
  | { readonly ok: true; readonly matches: (labels: Readonly<Record<string, string>>) => boolean }
  | { readonly ok: false; readonly error: string };

type Matcher = (labels: Readonly<Record<string, string>>) => boolean;

const GRAMMAR =
  'a constraint combines Label("name", "value") and LabelRegex("name", "regexp") with !, &&, || and parentheses';

// A missing label reads as "", like a missing key of a Go map.
const labelValue = (labels: Readonly<Record<string, string>>, name: string | undefined): string =>
  name !== undefined && Object.hasOwn(labels, name) ? (labels[name] ?? '') : '';

const CONSTRAINTS: PredicateDefinition<Matcher> = {
  and: (operands) => (labels) => operands.every((operand) => operand(labels)),
  or: (operands) => (labels) => operands.some((operand) => operand(labels)),
  not: (operand) => (labels) => !operand(labels),
  functions: {
    // A value that is not UTF-8 equals no label value.
    Label: {
      params: ['label name', 'value'],
      call:
        ([name, value]) =>
        (labels) =>
          value !== undefined && labelValue(labels, name) === value,
    },
    LabelRegex: {
      params: ['label name', 'regexp'],
      call: ([name, pattern]) => {
        // Traefik compiles the pattern at every match and treats a failure as no match.
        const matches = pattern === undefined ? undefined : compileMatcher(pattern);
        return (labels) => matches !== undefined && matches(labelValue(labels, name));
      },
    },
  },
  grammar: GRAMMAR,
};

/**
 * Compiles a Traefik constraint expression over labels. The empty expression matches everything;
 * anything Traefik would refuse (syntax, unknown function, wrong arguments) is an error.
 */
export function compileConstraints(expression: string): CompiledConstraints {
  if (expression === '') return { ok: true, matches: () => true };
  const parsed = parsePredicate(expression, CONSTRAINTS);
  if (isFailure(parsed)) return { ok: false, error: parsed.failure };
  // Traefik's type assertion: the expression must be a constraint, not a constant.
  if (parsed.kind === 'value')
    return { ok: false, error: `${parsed.position}: ${parsed.describe} is not a constraint: ${GRAMMAR}` };
  return { ok: true, matches: parsed.value };
}
