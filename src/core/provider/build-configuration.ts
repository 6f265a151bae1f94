import { allocatePorts } from '../apps/allocate-ports.ts';
import { appFrontends, portRequests, type AppFrontend } from '../apps/app-frontends.ts';
import { decodeAppLabels } from '../apps/decode-app-labels.ts';
import { declareApps, type AppDeclaration } from '../apps/declare-apps.ts';
import { appOptionsProblems } from '../apps/entry-point-names.ts';
import { isConfigObject, type ConfigObject } from '../config-tree.ts';
import type { LabelProblem } from '../labels/decode-configuration.ts';
import { decodeProviderLabels, type ProviderLabels } from '../labels/decode-provider-labels.ts';
import { measureKeyValues } from '../kv/configuration-to-kv.ts';
import { formatCount, limitMessage, type LimitName, type WorkloadLimits } from '../limits.ts';
import { utf8Length } from '../utf8-length.ts';
import { compileLabelPolicy, labelPolicyProblems, type CompiledLabelPolicy } from '../policy/label-policy.ts';
import type { Workload } from '../workload.ts';
import { makeNamesKeySafe } from './key-safe-names.ts';
import { compileConstraints, type CompiledConstraints } from './constraints.ts';
import { compileDefaultRule, type CompiledRule } from './default-rule.ts';
import { mergeConfigurations, type MergeConflict, type NamedConfiguration } from './merge-configurations.ts';
import type { ProviderOptions } from './provider-options.ts';
import { rewriteReferences } from './rewrite-references.ts';
import { buildWorkloadConfiguration, defaultServiceName, type ServerOrigin } from './workload-configuration.ts';

/** Something about one workload that the user should fix; `error` means part of it is not routed. */
export interface BuildProblem {
  readonly severity: 'error' | 'warning';
  readonly workload: string;
  readonly label?: string | undefined;
  readonly message: string;
  /** Set when a limit (not a mistake in a label) left the workload out, for the refusal metric. */
  readonly limit?: LimitName | undefined;
}

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

export interface CompiledProviderOptions {
  readonly options: ProviderOptions;
  readonly defaultRule: Extract<CompiledRule, { ok: true }>;
  readonly constraints: Extract<CompiledConstraints, { ok: true }>;
  readonly policy: CompiledLabelPolicy;
}

/** Checks the options once, so that a bad default rule or constraint is reported before any work. */
export function compileProviderOptions(options: ProviderOptions): { ok: true; value: CompiledProviderOptions } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const defaultRule = compileDefaultRule(options.defaultRule);
  if (!defaultRule.ok) errors.push(`default rule ${JSON.stringify(options.defaultRule)}: ${defaultRule.error}`);
  const constraints = compileConstraints(options.constraints);
  if (!constraints.ok) errors.push(`constraints ${JSON.stringify(options.constraints)}: ${constraints.error}`);
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(options.prefix)) {
    errors.push(`label prefix ${JSON.stringify(options.prefix)}: use letters, digits, "-" and "_", with dots between words (for example "appproxy" or "traefik")`);
  }
  errors.push(...appOptionsProblems(options.apps));
  errors.push(...labelPolicyProblems(options.policy));
  if (!defaultRule.ok || !constraints.ok || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { options, defaultRule, constraints, policy: compileLabelPolicy(options.policy) } };
}

interface Candidates {
  readonly providerLabels: ProviderLabels;
  /** What serves traffic: the container, each running task of a Swarm service, or its VIP. */
  readonly serving: readonly Workload[];
}

/**
 * The longest label value under the prefix that is read. etcd refuses a request over 1.5 MiB by
 * default, Traefik has no use for a rule or a list that long, and a value of commas alone becomes
 * one key per comma: 64 KiB keeps every workload to a size one transaction can carry.
 */
export const MAX_LABEL_VALUE_BYTES = 64 * 1024;

const utf8 = new TextEncoder();

function oversizedLabels(workload: Workload, prefix: string): BuildProblem[] {
  const problems: BuildProblem[] = [];
  const start = `${prefix.toLowerCase()}.`;
  for (const [label, value] of Object.entries(workload.labels)) {
    if (value.length * 3 <= MAX_LABEL_VALUE_BYTES || !label.toLowerCase().startsWith(start)) continue;
    const bytes = utf8.encode(value).length;
    if (bytes > MAX_LABEL_VALUE_BYTES) {
      problems.push({ severity: 'error', workload: workload.name, label, message: `the value is ${bytes} bytes, more than the ${MAX_LABEL_VALUE_BYTES} appproxy writes to etcd for one label: the workload is left out; shorten it (split a long rule or list across routers or middlewares)` });
    }
  }
  return problems;
}

/**
 * The first limit on labels the workload passes, as its one problem: the number of its labels
 * under the prefix, the length of their names, their bytes. Checked before anything is decoded,
 * in one pass over the labels, so that a workload past them costs no more than reading it.
 */
function labelLimitProblem(workload: Workload, prefix: string, limits: WorkloadLimits): BuildProblem | undefined {
  const start = `${prefix.toLowerCase()}.`;
  let count = 0;
  let bytes = 0;
  const longNames: { label: string; bytes: number }[] = [];
  for (const [label, value] of Object.entries(workload.labels)) {
    if (!label.toLowerCase().startsWith(start)) continue;
    count += 1;
    const nameBytes = utf8Length(label);
    if (nameBytes > limits.labelNameBytes) longNames.push({ label, bytes: nameBytes });
    bytes += nameBytes + utf8Length(value);
  }
  const refusal = (limit: LimitName, label: string | undefined, message: string): BuildProblem => ({ severity: 'error', workload: workload.name, label, message, limit });
  if (count > limits.labels) {
    return refusal('labels', undefined, limitMessage('labels', `it has ${formatCount(count)} labels under "${prefix}."`, limits.labels, 'remove labels (or split the workload)'));
  }
  const [longest, ...others] = longNames.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  if (longest !== undefined) {
    const also = others.length === 0 ? '' : ` (and ${formatCount(others.length)} other label${others.length === 1 ? '' : 's'} of this workload)`;
    return refusal('label-name', longest.label.length > 200 ? `${longest.label.slice(0, 200)}…` : longest.label, limitMessage('label-name', `the label name is ${formatCount(longest.bytes)} bytes${also}`, limits.labelNameBytes, 'shorten the name'));
  }
  if (bytes > limits.labelBytes) {
    return refusal('label-bytes', undefined, limitMessage('label-bytes', `its labels under "${prefix}." are ${formatCount(bytes)} bytes (names and values)`, limits.labelBytes, 'shorten or remove labels'));
  }
  return undefined;
}

/**
 * The second limit: what its contributions would put in the store. A workload's tasks share its
 * routers and services, so they are measured merged, as the store would hold them.
 */
function keyLimitProblem(workload: Workload, contributions: readonly Contribution[], limits: WorkloadLimits): BuildProblem | undefined {
  const first = contributions[0];
  if (first === undefined) return undefined;
  const configuration = contributions.length === 1 ? first.configuration : mergeConfigurations(contributions).configuration;
  const size = measureKeyValues(configuration, contributions.flatMap((contribution) => contribution.servers), '', limits.keys, limits.bytes);
  if (!size.stopped) return undefined;
  // Counted only until past the limit: the workload is at least this large.
  const atLeast = (value: number): string => `at least ${formatCount(value)}`;
  if (size.keys > limits.keys) {
    return { severity: 'error', workload: workload.name, label: undefined, limit: 'workload-keys', message: limitMessage('workload-keys', `it would put ${atLeast(size.keys)} keys in the store`, limits.keys, 'define fewer routers, services, middlewares or list items') };
  }
  return { severity: 'error', workload: workload.name, label: undefined, limit: 'workload-bytes', message: limitMessage('workload-bytes', `it would put ${atLeast(size.bytes)} bytes of keys and values in the store`, limits.bytes, 'shorten its labels') };
}

/**
 * A Swarm service with labels under the prefix on its containers instead of the service, a common
 * slip in stack files (`labels:` beside `deploy:` instead of inside it). Traefik's Swarm provider
 * reads only service labels, and so does appproxy, which also hides task containers from the
 * container view (their service is what is routed): without this warning nothing would say why.
 */
function misplacedSwarmLabels(workload: Workload, prefix: string): BuildProblem | undefined {
  if (workload.kind !== 'swarm-service') return undefined;
  const start = `${prefix.toLowerCase()}.`;
  const misplaced = Object.keys(workload.containerLabels ?? {}).filter((label) => label.toLowerCase().startsWith(start)).sort();
  if (misplaced.length === 0) return undefined;
  const shown = misplaced.length > 3 ? `${misplaced.slice(0, 3).join(', ')} and ${misplaced.length - 3} more` : misplaced.join(', ');
  return {
    severity: 'warning',
    workload: workload.name,
    label: misplaced[0],
    message: `Swarm service "${workload.name}" has ${shown} on its containers, which are not read (a service is routed by its service labels): move them to deploy.labels in the stack file, or use --label instead of --container-label`,
  };
}

/** Containers stand for themselves; a Swarm service stands for its tasks, or for its VIP with lbswarm. */
function candidates(workload: Workload, prefix: string, limits: WorkloadLimits, problems: BuildProblem[]): Candidates | undefined {
  const misplaced = misplacedSwarmLabels(workload, prefix);
  if (misplaced !== undefined) problems.push(misplaced);
  // The value cap first: it names the label, where the total names none.
  const oversized = oversizedLabels(workload, prefix);
  if (oversized.length > 0) {
    problems.push(...oversized);
    return undefined;
  }
  const limited = labelLimitProblem(workload, prefix, limits);
  if (limited !== undefined) {
    problems.push(limited);
    return undefined;
  }
  const mode = workload.kind === 'container' ? 'docker' : 'swarm';
  const decoded = decodeProviderLabels(workload.labels, prefix, mode);
  if (!decoded.ok) {
    for (const problem of decoded.problems) problems.push({ severity: 'error', workload: workload.name, ...problem });
    return undefined;
  }
  const providerLabels = decoded.value;
  if (workload.kind !== 'swarm-service') return { providerLabels, serving: [workload] };
  if (providerLabels.lbSwarm) return { providerLabels, serving: workload.networks.length > 0 ? [workload] : [] };
  return { providerLabels, serving: workload.tasks ?? [] };
}

/** `optedIn`: the workload declares apps, which is an opt-in of its own (for the apps alone); enable=false still wins. */
function filterReason(workload: Workload, providerLabels: ProviderLabels, compiled: CompiledProviderOptions, optedIn: boolean): string | undefined {
  const { options } = compiled;
  if (!(providerLabels.enable ?? (optedIn || options.exposedByDefault))) {
    return providerLabels.enable === false ? `${options.prefix}.enable=false` : `not enabled (no ${options.prefix}.enable=true)`;
  }
  if (!compiled.constraints.matches(workload.labels)) return 'does not match the constraints';
  if (providerLabels.allowNonRunning) return undefined;
  if (workload.status !== '' && workload.status !== 'running') return `not running (${workload.status})`;
  if (!options.allowEmptyServices && workload.health !== undefined && workload.health !== '' && workload.health !== 'healthy') {
    return `health check ${workload.health}`;
  }
  return undefined;
}

/** What one routed container, task or service VIP contributes to the merge. */
export interface Contribution extends NamedConfiguration {
  /** Where each of its servers came from (for stable server keys). */
  readonly servers: readonly ServerOrigin[];
}

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
 * One Docker workload (a container, or a Swarm service with its tasks) to the configurations it
 * contributes, with the semantics of Traefik's Docker and Swarm providers, and the apps it
 * declares. Pure, and independent of every other workload: a sync engine keeps the result until
 * the workload or the options change.
 */
export function translateWorkload(source: Workload, compiled: CompiledProviderOptions): WorkloadTranslation {
  const problems: BuildProblem[] = [];
  const filtered: { workload: string; reason: string }[] = [];
  const contributions: Contribution[] = [];
  const prefix = compiled.options.prefix;
  const found = candidates(source, prefix, compiled.options.limits, problems);
  if (found === undefined) return { contributions, apps: [], problems, filtered };
  const { providerLabels } = found;
  const declared = decodeAppLabels(source.labels, prefix, compiled.options.apps.frontend);
  const hasApps = declared.apps.length > 0 || declared.errors.length > 0;
  const servingApps: Workload[] = [];
  for (const workload of found.serving) {
    const reason = filterReason(workload, providerLabels, compiled, false);
    const appReason = hasApps ? filterReason(workload, providerLabels, compiled, true) : reason;
    if (hasApps && appReason === undefined) servingApps.push(workload);
    if (reason !== undefined) {
      // A workload with apps and no enable=true serves its apps alone: that is no filtering to report.
      if (appReason !== undefined) filtered.push({ workload: workload.name, reason });
      continue;
    }
    const warnings: LabelProblem[] = [];
    const built = buildWorkloadConfiguration(workload, { options: compiled.options, defaultRule: compiled.defaultRule, providerLabels }, warnings);
    for (const warning of warnings) problems.push({ severity: 'warning', workload: workload.name, ...warning });
    if (built.kind === 'rejected') {
      for (const problem of built.problems) problems.push({ severity: 'error', workload: workload.name, ...problem });
      continue;
    }
    // Checked before the references are rewritten, so that messages quote what the labels say.
    const violations = compiled.policy.violations({ configuration: built.configuration, declared: built.declared, labels: workload.labels, prefix });
    if (violations.length > 0) {
      for (const problem of violations) problems.push({ severity: 'error', workload: workload.name, ...problem });
      continue;
    }
    rewriteReferences(built.configuration);
    const nameProblems = makeNamesKeySafe(built.configuration, prefix);
    for (const problem of nameProblems) problems.push({ severity: 'error', workload: workload.name, ...problem });
    // Names left out can take all a workload defined: then it routes nothing.
    if (nameProblems.length > 0 && !definesResources(built.configuration)) continue;
    contributions.push({ origin: `${defaultServiceName(workload)}-${workload.id}`, workload: workload.name, configuration: built.configuration, servers: built.servers });
  }
  const tooLarge = keyLimitProblem(source, contributions, compiled.options.limits);
  if (tooLarge !== undefined) {
    // Left out whole, apps included: a part of it would be a routing nobody asked for.
    problems.push(tooLarge);
    return { contributions: [], apps: [], problems, filtered };
  }
  if (servingApps.length === 0) return { contributions, apps: [], problems, filtered };
  for (const error of declared.errors) problems.push({ severity: 'error', workload: source.name, ...error });
  for (const warning of declared.warnings) problems.push({ severity: 'warning', workload: source.name, ...warning });
  const apps = declareApps(source, servingApps, declared.apps, providerLabels, compiled.options);
  for (const error of apps.errors) problems.push({ severity: 'error', workload: source.name, ...error });
  return { contributions, apps: apps.apps, problems, filtered };
}

function definesResources(configuration: ConfigObject): boolean {
  return Object.values(configuration).some((section) => isConfigObject(section) && Object.values(section).some((map) => (Array.isArray(map) ? map.length > 0 : isConfigObject(map) && Object.keys(map).length > 0)));
}

/** The error a merge conflict is reported as, to each workload involved. */
export function conflictProblems(conflict: MergeConflict): BuildProblem[] {
  const message =
    conflict.reason === 'case'
      ? `${conflict.kind} "${conflict.name}" differ only in case, and Traefik's etcd provider reads keys without regard to case: all are left out; rename one`
      : `${conflict.kind} "${conflict.name}" is defined differently by ${conflict.workloads.join(', ')}: it is left out (as Traefik does); make the definitions equal or rename one`;
  return [...new Set(conflict.workloads)].map((workload) => ({ severity: 'error', workload, message }));
}

/** Servers in the order of their contributions' origins: the first workload with a given target names its key. */
export function serversInMergeOrder(contributions: readonly Contribution[]): ServerOrigin[] {
  return [...contributions].sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0)).flatMap((contribution) => contribution.servers);
}

/**
 * Docker workloads to Traefik dynamic configuration, with the semantics of Traefik's Docker and
 * Swarm providers: each workload translated, the apps given their frontends, then all merged.
 * Pure: the same workloads, options and held ports always give the same result.
 *
 * `heldAppPorts` maps app keys to the ports they hold already (from a store); without it the
 * ports are allocated as an empty cluster would allocate them, which is what `render` shows.
 */
export function buildConfiguration(workloads: readonly Workload[], compiled: CompiledProviderOptions, heldAppPorts: ReadonlyMap<string, number> = new Map()): BuildResult {
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
  return { configuration, servers: serversInMergeOrder(contributions), problems, routed: [...new Set(contributions.map((entry) => entry.workload))], filtered, apps: served.frontends };
}
