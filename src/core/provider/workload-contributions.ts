import { isConfigObject, type ConfigObject } from '../config-tree.ts';
import { decodeConfigurationLabels, type DecodeResult, type LabelProblem } from '../labels/decode-configuration.ts';
import { decodeProviderLabels, type ProviderLabels } from '../labels/decode-provider-labels.ts';
import { readLabels, type WorkloadLabels } from '../labels/workload-labels.ts';
import type { Workload } from '../workload.ts';
import type { BuildProblem } from './build-problem.ts';
import type { CompiledProviderOptions } from './compile-provider-options.ts';
import type { Contribution } from './contribution.ts';
import { makeNamesKeySafe } from './key-safe-names.ts';
import type { ProviderOptions } from './provider-options.ts';
import { misplacedSwarmLabels } from './misplaced-swarm-labels.ts';
import { rewriteReferences } from './rewrite-references.ts';
import { buildWorkloadConfiguration, defaultServiceName } from './workload-configuration.ts';
import { keyLimitProblem, labelLimitProblems } from './workload-limit-problems.ts';

/** What a workload's labels say to the provider, read once, and what serves its traffic. */
export interface ReadWorkload {
  readonly labels: WorkloadLabels;
  readonly providerLabels: ProviderLabels;
  /** What serves traffic: the container, each running task of a Swarm service, or its VIP. */
  readonly serving: readonly Workload[];
  /** Whether its labels match the constraints: asked once, and only of a workload that is enabled. */
  readonly matchesConstraints: () => boolean;
}

/** What one workload contributes under Traefik's Docker and Swarm providers, before the merge across workloads. */
export interface WorkloadContributions {
  readonly contributions: readonly Contribution[];
  readonly problems: readonly BuildProblem[];
  /** Serving workloads left out on purpose (not enabled, constraints, not running, unhealthy), with why. */
  readonly filtered: readonly { readonly workload: Workload; readonly reason: string }[];
  /**
   * Undefined when the workload was refused before anything serving it was looked at (a label limit, a bad provider
   * label).
   */
  readonly read: ReadWorkload | undefined;
  /** Set when the keys it would write are past a limit: then none of it is routed. */
  readonly tooLarge: boolean;
}

/**
 * Reads the labels once, checks their limits and provider settings. Containers stand for
 * themselves; a Swarm service stands for its tasks, or for its VIP with lbswarm. A task carries its
 * service's labels (as Traefik's Swarm provider gives them), so what is read of the service holds
 * for each of its tasks.
 */
function readWorkload(
  workload: Workload,
  compiled: CompiledProviderOptions,
  problems: BuildProblem[],
): ReadWorkload | undefined {
  const { prefix, limits } = compiled.options;
  const misplaced = misplacedSwarmLabels(workload, prefix);
  if (misplaced !== undefined) problems.push(misplaced);
  const labels = readLabels(workload.labels, prefix);
  const limited = labelLimitProblems(workload.name, labels, limits);
  if (limited.length > 0) {
    problems.push(...limited);
    return undefined;
  }
  const decoded = decodeProviderLabels(labels, workload.kind === 'container' ? 'docker' : 'swarm');
  if (!decoded.ok) {
    for (const problem of decoded.problems) problems.push({ severity: 'error', workload: workload.name, ...problem });
    return undefined;
  }
  const providerLabels = decoded.value;
  let matches: boolean | undefined;
  const matchesConstraints = (): boolean => (matches ??= compiled.constraints.matches(labels.all));
  const serving =
    workload.kind !== 'swarm-service'
      ? [workload]
      : providerLabels.lbSwarm
        ? workload.networks.length > 0
          ? [workload]
          : []
        : (workload.tasks ?? []);
  return { labels, providerLabels, serving, matchesConstraints };
}

/**
 * Why Traefik would leave out a serving workload, or undefined when it is routed. `exposedByDefault`
 * decides a workload without `<prefix>.enable`: the option's value for Traefik's own labels; a
 * caller that knows the workload opted in by other means (appproxy's apps) passes true.
 */
export function filterReason(
  workload: Workload,
  read: ReadWorkload,
  options: ProviderOptions,
  exposedByDefault: boolean,
): string | undefined {
  const { providerLabels } = read;
  if (!(providerLabels.enable ?? exposedByDefault)) {
    return providerLabels.enable === false
      ? `${options.prefix}.enable=false`
      : `not enabled (no ${options.prefix}.enable=true)`;
  }
  if (!read.matchesConstraints()) return 'does not match the constraints';
  if (providerLabels.allowNonRunning) return undefined;
  if (workload.status !== '' && workload.status !== 'running') return `not running (${workload.status})`;
  if (
    !options.allowEmptyServices &&
    workload.health !== undefined &&
    workload.health !== '' &&
    workload.health !== 'healthy'
  ) {
    return `health check ${workload.health}`;
  }
  return undefined;
}

/**
 * One Docker workload (a container, or a Swarm service with its tasks) to the configurations it
 * contributes, with the semantics of Traefik's Docker and Swarm providers and appproxy's limits
 * and label policy. Pure, and independent of every other workload.
 */
export function workloadContributions(source: Workload, compiled: CompiledProviderOptions): WorkloadContributions {
  const problems: BuildProblem[] = [];
  const filtered: { workload: Workload; reason: string }[] = [];
  const contributions: Contribution[] = [];
  const { options } = compiled;
  const { prefix } = options;
  const read = readWorkload(source, compiled, problems);
  if (read === undefined) return { contributions, problems, filtered, read, tooLarge: false };
  const { providerLabels } = read;
  let decoded: DecodeResult | undefined;
  for (const workload of read.serving) {
    const reason = filterReason(workload, read, options, options.exposedByDefault);
    if (reason !== undefined) {
      filtered.push({ workload, reason });
      continue;
    }
    // Decoded for the first workload routed and kept for the others: a service's tasks share its labels.
    decoded ??= decodeConfigurationLabels(read.labels, options.traefikMinVersion, options.limits.listItems);
    if (!decoded.ok) {
      for (const problem of decoded.problems) problems.push({ severity: 'error', workload: workload.name, ...problem });
      continue;
    }
    const warnings: LabelProblem[] = [];
    const built = buildWorkloadConfiguration(
      workload,
      { options, defaultRule: compiled.defaultRule, providerLabels, declared: decoded.configuration },
      warnings,
    );
    for (const warning of warnings) problems.push({ severity: 'warning', workload: workload.name, ...warning });
    if (built.kind === 'rejected') {
      for (const problem of built.problems) problems.push({ severity: 'error', workload: workload.name, ...problem });
      continue;
    }
    // Checked before the references are rewritten, so that messages quote what the labels say.
    const violations = compiled.policy.violations({
      configuration: built.configuration,
      declared: built.declared,
      labels: read.labels.all,
      prefix,
    });
    if (violations.length > 0) {
      for (const problem of violations) problems.push({ severity: 'error', workload: workload.name, ...problem });
      continue;
    }
    rewriteReferences(built.configuration);
    const nameProblems = makeNamesKeySafe(built.configuration, prefix);
    for (const problem of nameProblems) problems.push({ severity: 'error', workload: workload.name, ...problem });
    // Names left out can take all a workload defined: then it routes nothing.
    if (nameProblems.length > 0 && !definesResources(built.configuration)) continue;
    contributions.push({
      origin: `${defaultServiceName(workload)}-${workload.id}`,
      workload: workload.name,
      configuration: built.configuration,
      servers: built.servers,
    });
  }
  const tooLarge = keyLimitProblem(source, contributions, options.limits);
  if (tooLarge !== undefined) {
    problems.push(tooLarge);
    return { contributions: [], problems, filtered, read, tooLarge: true };
  }
  return { contributions, problems, filtered, read, tooLarge: false };
}

function definesResources(configuration: ConfigObject): boolean {
  return Object.values(configuration).some(
    (section) =>
      isConfigObject(section) &&
      Object.values(section).some((map) =>
        Array.isArray(map) ? map.length > 0 : isConfigObject(map) && Object.keys(map).length > 0,
      ),
  );
}
