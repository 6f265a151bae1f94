import { decodeAppLabels } from '../apps/decode-app-labels.ts';
import { declareApps, type AppDeclaration } from '../apps/declare-apps.ts';
import type { BuildProblem } from '../provider/build-problem.ts';
import type { Contribution } from '../provider/contribution.ts';
import { filterReason, workloadContributions } from '../provider/workload-contributions.ts';
import type { Workload } from '../workload.ts';
import type { CompiledTranslateOptions } from './translate-options.ts';

/** One workload translated on its own, before the merge across workloads. */
export interface WorkloadTranslation {
  readonly contributions: readonly Contribution[];
  /**
   * Its apps (`<prefix>.apps.*`), declared but without frontends: their ports depend on the other
   * apps and on what a store holds, so they are given in a step of their own (appFrontends) and
   * this translation stays a function of the workload alone, safe to cache by its fingerprint.
   */
  readonly apps: readonly AppDeclaration[];
  readonly problems: readonly BuildProblem[];
  readonly filtered: readonly { readonly workload: string; readonly reason: string }[];
}

/**
 * One Docker workload to what Traefik's provider semantics make of it, plus the apps it declares.
 * Declaring apps is an opt-in of its own: a workload with apps and no `<prefix>.enable=true`
 * serves its apps alone (`enable=false` still wins), and that is no filtering to report. Pure, and
 * independent of every other workload: a sync engine keeps the result until the workload or the
 * options change.
 */
export function translateWorkload(source: Workload, compiled: CompiledTranslateOptions): WorkloadTranslation {
  const provided = workloadContributions(source, compiled);
  const problems = [...provided.problems];
  const { read } = provided;
  if (read === undefined) return { contributions: provided.contributions, apps: [], problems, filtered: [] };
  const declared = decodeAppLabels(read.labels, compiled.options.apps.frontend);
  const hasApps = declared.apps.length > 0 || declared.errors.length > 0;
  const servingApps = hasApps
    ? read.serving.filter((workload) => filterReason(workload, read, compiled.options, true) === undefined)
    : [];
  const servesApps = new Set(servingApps);
  const filtered = provided.filtered
    .filter((entry) => !servesApps.has(entry.workload))
    .map((entry) => ({ workload: entry.workload.name, reason: entry.reason }));
  // Left out whole, apps included: a part of it would be a routing nobody asked for.
  if (provided.tooLarge || servingApps.length === 0)
    return { contributions: provided.contributions, apps: [], problems, filtered };
  for (const error of declared.errors) problems.push({ severity: 'error', workload: source.name, ...error });
  for (const warning of declared.warnings) problems.push({ severity: 'warning', workload: source.name, ...warning });
  const apps = declareApps(source, servingApps, declared.apps, read.providerLabels, compiled.options);
  for (const error of apps.errors) problems.push({ severity: 'error', workload: source.name, ...error });
  return { contributions: provided.contributions, apps: apps.apps, problems, filtered };
}
