import { allocatePorts } from '../apps/allocate-ports.ts';
import { appFrontends, portRequests, type AppFrontend } from '../apps/app-frontends.ts';
import type { AppDeclaration } from '../apps/declare-apps.ts';
import type { ConfigObject } from '../config-tree.ts';
import { conflictProblems, type BuildProblem } from '../provider/build-problem.ts';
import { serversInMergeOrder, type Contribution } from '../provider/contribution.ts';
import { mergeConfigurations } from '../provider/merge-configurations.ts';
import type { ServerOrigin } from '../provider/workload-configuration.ts';
import type { Workload } from '../workload.ts';
import type { CompiledTranslateOptions } from './translate-options.ts';
import { translateWorkload } from './translate-workload.ts';

export interface BuildResult {
  /** The merged Traefik dynamic configuration. */
  readonly configuration: ConfigObject;
  /** Where each server came from (for stable server keys). */
  readonly servers: readonly ServerOrigin[];
  readonly problems: readonly BuildProblem[];
  /** Workloads that contributed configuration. */
  readonly routed: readonly string[];
  /** Workloads left out on purpose (not enabled, constraints, not running, unhealthy), with why. */
  readonly filtered: readonly { readonly workload: string; readonly reason: string }[];
  /** Where users reach each app that is served (`<prefix>.apps.*`). */
  readonly apps: readonly AppFrontend[];
}

/**
 * Docker workloads to Traefik dynamic configuration, with the semantics of Traefik's Docker and
 * Swarm providers: each workload translated, the apps given their frontends, then all merged.
 * Pure: the same workloads, options and held ports always give the same result.
 *
 * `heldAppPorts` maps app keys to the ports they hold already (from a store); without it the
 * ports are allocated as an empty cluster would allocate them, which is what `render` shows.
 */
export function buildConfiguration(
  workloads: readonly Workload[],
  compiled: CompiledTranslateOptions,
  heldAppPorts: ReadonlyMap<string, number> = new Map(),
): BuildResult {
  const problems: BuildProblem[] = [];
  const filtered: { workload: string; reason: string }[] = [];
  const contributions: Contribution[] = [];
  const apps: AppDeclaration[] = [];
  for (const workload of workloads) {
    const translation = translateWorkload(workload, compiled);
    problems.push(...translation.problems);
    filtered.push(...translation.filtered);
    contributions.push(...translation.contributions);
    apps.push(...translation.apps);
  }
  const allocation = allocatePorts(portRequests(apps), heldAppPorts, compiled.options.apps.portRange);
  const served = appFrontends(apps, allocation, compiled.options);
  problems.push(...served.problems);
  contributions.push(...served.contributions);
  const { configuration, conflicts } = mergeConfigurations(contributions);
  for (const conflict of conflicts) problems.push(...conflictProblems(conflict));
  return {
    configuration,
    servers: serversInMergeOrder(contributions),
    problems,
    routed: [...new Set(contributions.map((entry) => entry.workload))],
    filtered,
    apps: served.frontends,
  };
}
