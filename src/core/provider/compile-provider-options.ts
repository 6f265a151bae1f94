import { compileLabelPolicy, labelPolicyProblems, type CompiledLabelPolicy } from '../policy/label-policy.ts';
import { compileConstraints, type CompiledConstraints } from './constraints.ts';
import { compileDefaultRule, type CompiledRule } from './default-rule.ts';
import type { ProviderOptions } from './provider-options.ts';

export interface CompiledProviderOptions {
  readonly options: ProviderOptions;
  readonly defaultRule: Extract<CompiledRule, { ok: true }>;
  readonly constraints: Extract<CompiledConstraints, { ok: true }>;
  readonly policy: CompiledLabelPolicy;
}

/** Checks the options once, so that a bad default rule or constraint is reported before any work. */
export function compileProviderOptions(
  options: ProviderOptions,
): { ok: true; value: CompiledProviderOptions } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const defaultRule = compileDefaultRule(options.defaultRule);
  if (!defaultRule.ok) errors.push(`default rule ${JSON.stringify(options.defaultRule)}: ${defaultRule.error}`);
  const constraints = compileConstraints(options.constraints);
  if (!constraints.ok) errors.push(`constraints ${JSON.stringify(options.constraints)}: ${constraints.error}`);
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(options.prefix)) {
    errors.push(
      `label prefix ${JSON.stringify(options.prefix)}: use letters, digits, "-" and "_", with dots between words (for example "appproxy" or "traefik")`,
    );
  }
  errors.push(...labelPolicyProblems(options.policy));
  if (!defaultRule.ok || !constraints.ok || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { options, defaultRule, constraints, policy: compileLabelPolicy(options.policy) } };
}
