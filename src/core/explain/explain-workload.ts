import { configurationToKeyValues } from '../kv/configuration-to-kv.ts';
import { serverKey } from '../kv/server-key.ts';
import { decodeProviderLabels } from '../labels/decode-provider-labels.ts';
import { prefixMatch, readLabels } from '../labels/workload-labels.ts';
import type { BuildProblem } from '../provider/build-problem.ts';
import { buildConfiguration } from '../translate/build-configuration.ts';
import type { CompiledTranslateOptions } from '../translate/translate-options.ts';
import { translateWorkload } from '../translate/translate-workload.ts';
import { isConfigObject, type ConfigObject } from '../config-tree.ts';
import { foldCase } from '../fold-case.ts';
import { claimIdOf, RESOURCE_KINDS, resourcePath, resourcesIn } from '../resource-kinds.ts';
import { chooseServerPort, workloadAddress } from '../provider/server-address.ts';
import type { Workload } from '../workload.ts';

export type LabelFate = 'used' | 'refused' | 'ignored';

export interface LabelExplanation {
  readonly label: string;
  readonly value: string;
  readonly fate: LabelFate;
  /** The resource it went into, the setting it is, the error and its fix, or why it was ignored. */
  readonly detail: string;
}

export interface ResourceExplanation {
  readonly resource: string;
  /**
   * routed: in the configuration as this workload defines it; merged: shared with other workloads; left out: a
   * conflict.
   */
  readonly status: 'routed' | 'merged' | 'left out';
  /** The other workloads that define it. */
  readonly with: readonly string[];
  readonly detail: string;
}

/** Everything appproxy decided about one workload, in the order it decided it. */
export interface Explanation {
  readonly workload: { readonly name: string; readonly id: string; readonly kind: Workload['kind'] };
  readonly routed: boolean;
  /** Why it is not routed (or only partly), every reason that applies, in the order they are checked. */
  readonly reasons: readonly string[];
  /** What appproxy warns about (it is routed nonetheless). */
  readonly warnings: readonly string[];
  /** How its servers' addresses were chosen: network and address, port. */
  readonly addresses: readonly string[];
  readonly labels: readonly LabelExplanation[];
  readonly resources: readonly ResourceExplanation[];
  /** The keys it owns or shares, as `render --format kv` prints them. */
  readonly keys: readonly string[];
}

const SWARM_SERVICE_LABEL = 'com.docker.swarm.service.name';

/** `http/routers/chat` for a label `<prefix>.http.routers.chat.rule` (kinds and sections without regard to case). */
function labelResource(label: string, prefix: string): string | undefined {
  const [section = '', kind = '', name = ''] = label.slice(prefix.length + 1).split('.');
  // Own sections only: a label `<prefix>.__proto__.x.y` names no section, not Object's prototype.
  const kinds = Object.hasOwn(RESOURCE_KINDS, section.toLowerCase())
    ? (RESOURCE_KINDS as Record<string, readonly string[]>)[section.toLowerCase()]
    : undefined;
  const canonical = kinds?.find((candidate) => candidate.toLowerCase() === kind.toLowerCase());
  return canonical === undefined || name === '' ? undefined : resourcePath(section.toLowerCase(), canonical, name);
}

function resourcesOf(configuration: ConfigObject): string[] {
  return [...resourcesIn(configuration)].map(({ section, kind, name }) => resourcePath(section, kind, name));
}

function lookup(configuration: ConfigObject, resource: string): boolean {
  const [section = '', kind = '', ...rest] = resource.split('/');
  const part = configuration[section];
  const kinds = isConfigObject(part) ? part[kind] : undefined;
  return isConfigObject(kinds) && Object.hasOwn(kinds, rest.join('/'));
}

/**
 * Why `target` is, or is not, routed, given everything else that runs (`all`, which may include it):
 * the filters it passed or failed, how its addresses were chosen, what became of each of its
 * labels, the resources it contributes with the other workloads that share them, and its keys.
 * Pure: the same input always gives the same explanation.
 */
export function explainWorkload(
  target: Workload,
  all: readonly Workload[],
  compiled: CompiledTranslateOptions,
  kv: { rootKey: string; ownerId: string },
): Explanation {
  const { options } = compiled;
  const prefix = options.prefix;
  const mode = target.kind === 'container' ? 'docker' : 'swarm';
  const reasons: string[] = [];
  const addresses: string[] = [];

  const isTaskContainer = target.kind === 'container' && target.labels['com.docker.swarm.service.id'] !== undefined;
  // A task container never reaches the merge on its own: appproxy reads its service instead.
  const own = isTaskContainer
    ? { contributions: [], apps: [], problems: [], filtered: [] }
    : translateWorkload(target, compiled);
  const others = all.filter((workload) => workload.id !== target.id);
  const whole = buildConfiguration(isTaskContainer ? others : [...others, target], compiled);
  const ownNames = new Set([target.name, ...(target.tasks ?? []).map((task) => task.name)]);
  const problems = whole.problems.filter((problem) => ownNames.has(problem.workload));

  const read = readLabels(target.labels, prefix);
  const provider = decodeProviderLabels(read, mode);
  const enable = provider.ok ? provider.value.enable : undefined;
  const prefixLabels = read.underPrefix.map((entry) => entry.label);
  if (isTaskContainer) {
    reasons.push(
      `a task container of the Swarm service "${target.labels[SWARM_SERVICE_LABEL] ?? ''}": appproxy routes Swarm services by their service labels (deploy.labels in a stack file), not by their containers' labels; move the labels to deploy.labels`,
    );
  }
  // Apps opt in by themselves: a workload with apps and no enable=true is routed through them.
  const hasApps = own.apps.length > 0;
  if (!(enable ?? (options.exposedByDefault || hasApps))) {
    const hint =
      target.kind === 'swarm-service'
        ? `; a Swarm service is read by its service labels: labels written outside deploy: in a stack file go to its containers, where appproxy does not look (move them to deploy.labels)`
        : '';
    reasons.push(
      enable === false
        ? `${prefix}.enable=false`
        : `not enabled: no ${prefix}.enable=true label, and exposed-by-default is off (--exposed-by-default)${hint}`,
    );
  }
  if (!compiled.constraints.matches(target.labels))
    reasons.push(`does not match the constraints ${JSON.stringify(options.constraints)}`);
  const allowNonRunning = provider.ok && provider.value.allowNonRunning;
  if (!allowNonRunning && target.status !== '' && target.status !== 'running')
    reasons.push(`not running (state ${target.status}); only running workloads are routed`);
  if (
    !options.allowEmptyServices &&
    target.health !== undefined &&
    target.health !== '' &&
    target.health !== 'healthy'
  ) {
    reasons.push(
      `health check ${target.health}: routed once healthy (--allow-empty-services keeps its services, without servers)`,
    );
  }
  if (target.kind === 'swarm-service' && (target.tasks ?? []).length === 0 && !(provider.ok && provider.value.lbSwarm))
    reasons.push('no running task');
  const errors = problems.filter((problem) => problem.severity === 'error');
  for (const error of errors)
    reasons.push(`error${error.label === undefined ? '' : ` in ${error.label}`}: ${error.message}`);
  const warnings = problems
    .filter((problem) => problem.severity === 'warning')
    .map((problem) => `${problem.label === undefined ? '' : `${problem.label}: `}${problem.message}`);

  // How addresses are chosen, for each container, task or VIP that would be a server.
  const network = (provider.ok ? provider.value.network : undefined) ?? options.network;
  const serving =
    target.kind === 'swarm-service' && !(provider.ok && provider.value.lbSwarm) ? (target.tasks ?? []) : [target];
  for (const workload of serving) {
    const named = network === '' ? undefined : workload.networks.find((candidate) => candidate.name === network);
    const how =
      network !== '' && named === undefined
        ? `network "${network}" (${provider.ok && provider.value.network !== undefined ? `${prefix}.docker.network` : '--network'}) is not one of ${workload.networks.map((n) => n.name).join(', ') || 'its networks (none)'}; the first one is used`
        : network !== ''
          ? `network "${network}" (${provider.ok && provider.value.network !== undefined ? `${prefix}.docker.network` : '--network'})`
          : workload.networkMode === 'host'
            ? 'host network mode'
            : (workload.networkMode ?? '').startsWith('container:')
              ? `the network stack of ${workload.networkMode}`
              : `its first network by name, "${workload.networks[0]?.name ?? '(none)'}"`;
    const ip = workloadAddress(workload, network, options) || '(no address)';
    const targets = own.contributions
      .flatMap((contribution) => contribution.servers)
      .filter((server) => server.workloadId === workload.id)
      .map((server) => `${server.service}: ${server.target}`);
    const port = chooseServerPort(workload, undefined);
    const ports =
      targets.length > 0
        ? `servers ${targets.join(', ')}`
        : port === ''
          ? `port: none exposed (set ${prefix}.http.services.<name>.loadbalancer.server.port)`
          : `port ${port} (the lowest exposed; a service's loadbalancer.server.port overrides it)`;
    addresses.push(`${workload.name}: ${how} → ${ip}; ${ports}`);
  }

  // What became of each resource it defines.
  const contributed = [
    ...new Set(own.contributions.flatMap((contribution) => resourcesOf(contribution.configuration))),
  ];
  const contributors = new Map<string, Set<string>>();
  for (const workload of others) {
    for (const contribution of translateWorkload(workload, compiled).contributions) {
      for (const resource of resourcesOf(contribution.configuration)) {
        const id = claimIdOf(resource);
        const names = contributors.get(id);
        if (names === undefined) contributors.set(id, new Set([workload.name]));
        else names.add(workload.name);
      }
    }
  }
  const quoted = problemsByQuotedName(problems);
  const resources: ResourceExplanation[] = contributed.sort().map((resource) => {
    const sharers = [...(contributors.get(claimIdOf(resource)) ?? [])];
    if (!lookup(whole.configuration, resource)) {
      const name = resource.split('/').slice(2).join('/');
      // A name with a quote in it can match across quotes: only then is every message searched.
      const conflict = name.includes('"')
        ? problems.find((problem) => problem.message.includes(`"${name}"`))
        : quoted.get(name);
      return {
        resource,
        status: 'left out',
        with: sharers,
        detail: conflict?.message ?? 'left out: defined differently by another workload',
      };
    }
    if (sharers.length > 0)
      return {
        resource,
        status: 'merged',
        with: sharers,
        detail: `also defined, identically, by ${sharers.join(', ')}${resource.includes('/services/') ? ': servers from all of them' : ''}`,
      };
    return { resource, status: 'routed', with: [], detail: 'as this workload defines it' };
  });

  // What became of each label under the prefix.
  const routedNow = own.contributions.length > 0 || hasApps;
  const notRoutedBecause = reasons.find((reason) => !reason.startsWith('error')) ?? 'the workload is not routed';
  // Looked up by label, resource and app rather than searched for each label: a workload may have
  // thousands of labels, and as many problems and resources.
  const problemOf = new Map<string, BuildProblem>();
  for (const problem of problems)
    if (problem.label !== undefined && !problemOf.has(problem.label)) problemOf.set(problem.label, problem);
  const explainedOf = new Map<string, ResourceExplanation>();
  for (const resource of resources)
    if (!explainedOf.has(claimIdOf(resource.resource))) explainedOf.set(claimIdOf(resource.resource), resource);
  const frontendOf = new Map<string, (typeof whole.apps)[number]>();
  for (const frontend of whole.apps)
    if (frontend.workload === target.name && !frontendOf.has(frontend.app)) frontendOf.set(frontend.app, frontend);
  const labels: LabelExplanation[] = prefixLabels.sort().map((label) => {
    const value = target.labels[label] ?? '';
    if (isTaskContainer)
      return { label, value, fate: 'ignored', detail: 'a task container: its service is what is routed' };
    const problem = problemOf.get(label);
    if (problem !== undefined)
      return { label, value, fate: problem.severity === 'error' ? 'refused' : 'ignored', detail: problem.message };
    if (prefixMatch(label, prefix) === 'other-case') {
      const given = label.slice(0, prefix.length);
      return {
        label,
        value,
        fate: 'ignored',
        detail: `not read: "${given}" is not the prefix "${prefix}", which is matched in its exact case (Traefik refuses a container for such a label); write ${prefix}${label.slice(prefix.length)}`,
      };
    }
    const rest = label.slice(prefix.length + 1).toLowerCase();
    if (rest === 'enable' || /^(docker|swarm|sidecar)\./.test(rest))
      return { label, value, fate: 'used', detail: 'a provider setting of this workload' };
    const app = /^apps\.([^.]+)\./.exec(rest)?.[1];
    if (app !== undefined) {
      const frontend = frontendOf.get(app);
      return frontend === undefined
        ? { label, value, fate: 'ignored', detail: `app "${app}" is not served` }
        : {
            label,
            value,
            fate: 'used',
            detail: `app "${app}" → ${frontend.mode === 'port' ? `port ${frontend.port}` : frontend.host} (${frontend.resourceName})`,
          };
    }
    const resource = labelResource(label, prefix);
    if (!routedNow) return { label, value, fate: 'ignored', detail: notRoutedBecause };
    if (resource === undefined) return { label, value, fate: 'used', detail: 'part of its configuration' };
    const explained = explainedOf.get(claimIdOf(resource));
    if (explained === undefined) return { label, value, fate: 'used', detail: `→ ${resource}` };
    if (explained.status === 'left out')
      return { label, value, fate: 'ignored', detail: `${resource} is left out: ${explained.detail}` };
    return { label, value, fate: 'used', detail: `→ ${explained.resource}` };
  });

  // Its keys: every key of the resources it contributes that are routed, and of its own servers only.
  const ownServers = new Set(
    [...serving.map((workload) => workload.id), target.id].map((id) => serverKey(kv.ownerId, id)),
  );
  const pairs = configurationToKeyValues(whole.configuration, whole.servers, kv);
  const wanted = new Set(
    resources.filter((resource) => resource.status !== 'left out').map((resource) => claimIdOf(resource.resource)),
  );
  const keys: string[] = [];
  for (const [key, value] of pairs) {
    const relative = key.slice(kv.rootKey.length + 1);
    const [section = '', kind = '', name = '', ...rest] = relative.split('/');
    if (!wanted.has(claimIdOf(resourcePath(section, kind, name)))) continue;
    const serverAt = rest.findIndex((segment) => segment === 'servers');
    if (serverAt >= 0 && !ownServers.has(rest[serverAt + 1] ?? '')) continue;
    keys.push(`${key}=${value}`);
  }

  if (!routedNow && reasons.length === 0)
    reasons.push('it contributes nothing: no label under the prefix gives it a router or a service');
  return {
    workload: { name: target.name, id: target.id, kind: target.kind },
    routed: routedNow && reasons.length === 0,
    reasons,
    warnings,
    addresses,
    labels,
    resources,
    keys,
  };
}

/**
 * The first problem whose message holds `"<name>"`, by name, for names without a quote: such a
 * name can only sit between two quotes that follow each other, so each message is read once.
 */
function problemsByQuotedName(problems: readonly BuildProblem[]): Map<string, BuildProblem> {
  const byName = new Map<string, BuildProblem>();
  for (const problem of problems) {
    const message = problem.message;
    for (let open = message.indexOf('"'); open >= 0;) {
      const close = message.indexOf('"', open + 1);
      if (close < 0) break;
      const name = message.slice(open + 1, close);
      if (!byName.has(name)) byName.set(name, problem);
      open = close;
    }
  }
  return byName;
}

/**
 * Workloads that `query` names: an exact name, a Swarm service name, or a unique id prefix; otherwise the closest
 * names.
 */
export function findWorkload(
  workloads: readonly Workload[],
  query: string,
  distance: (a: string, b: string) => number,
): { found: Workload } | { found: undefined; closest: string[] } {
  const byName = workloads.find((workload) => workload.name === query || workload.name === query.replace(/^\//, ''));
  if (byName !== undefined) return { found: byName };
  const byId = query.length >= 3 ? workloads.filter((workload) => workload.id.startsWith(query)) : [];
  if (byId.length === 1 && byId[0] !== undefined) return { found: byId[0] };
  const names = [...new Set(workloads.map((workload) => workload.name))];
  const closest = names
    .map((name) => ({
      name,
      score: distance(foldCase(query), foldCase(name)) - (foldCase(name).includes(foldCase(query)) ? 100 : 0),
    }))
    .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : 1))
    .slice(0, 3)
    .map((entry) => entry.name);
  return { found: undefined, closest };
}
