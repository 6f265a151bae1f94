import { cloneConfig, configEqual, isConfigObject, type ConfigObject, type ConfigValue } from '../config-tree.ts';
import { claimIdOf, RESOURCE_KINDS, resourcePath, resourcesIn, SERVER_TARGET_FIELD } from '../resource-kinds.ts';

/** One workload's configuration, named as Traefik names it for merging (`<service>-<id>`). */
export interface NamedConfiguration {
  readonly origin: string;
  readonly workload: string;
  readonly configuration: ConfigObject;
}

/** A resource left out because workloads define it differently. */
export interface MergeConflict {
  readonly kind: string;
  readonly name: string;
  readonly workloads: readonly string[];
  readonly reason: 'different' | 'case';
}

function withoutServers(loadBalancer: ConfigObject): ConfigObject {
  const { servers: _servers, ...rest } = loadBalancer;
  return rest;
}

/**
 * Traefik's Merge for a service: two load balancers that agree on everything but their servers
 * become one with the union of the servers (by URL or address); anything else must be equal.
 */
function mergeService(existing: ConfigObject, incoming: ConfigObject, protocol: string): boolean {
  const a = existing['loadBalancer'];
  const b = incoming['loadBalancer'];
  if (!isConfigObject(a) || !isConfigObject(b)) return configEqual(existing, incoming);
  if (!configEqual(withoutServers(a), withoutServers(b))) return false;
  const key = SERVER_TARGET_FIELD[protocol] ?? 'url';
  const servers = Array.isArray(a['servers']) ? [...(a['servers'] as ConfigValue[])] : [];
  const seen = new Set(servers.map((server) => (isConfigObject(server) ? server[key] : undefined)));
  for (const server of Array.isArray(b['servers']) ? (b['servers'] as ConfigValue[]) : []) {
    if (isConfigObject(server) && !seen.has(server[key])) {
      servers.push(server);
      seen.add(server[key]);
    }
  }
  if (servers.length > 0) a['servers'] = servers;
  return true;
}

/** One workload's definition of one resource, for the merge of the resources that share its name. */
export interface ResourceContribution {
  /** The contributing configuration's origin (`<service>-<id>`): the merge goes in this order. */
  readonly origin: string;
  readonly workload: string;
  /** The resource's name as the workload spells it. */
  readonly name: string;
  readonly resource: ConfigValue;
}

/**
 * Merges the definitions of the resources of one kind whose names fold to the same text, given in
 * origin order: the one rule of Traefik's providers, plus one for etcd. A resource defined by
 * several workloads is kept when the definitions are equal (services merge their servers) and
 * dropped, with an error, when they differ. Keys in etcd are read without regard to case, so two
 * resources whose names differ only in case would silently become one: both are dropped and
 * reported.
 */
export function mergeResourceGroup(
  section: string,
  kind: string,
  contributions: readonly ResourceContribution[],
): { kept: Map<string, ConfigValue>; conflicts: MergeConflict[] } {
  const kept = new Map<string, ConfigValue>();
  const origins = new Map<string, string[]>();
  const different = new Set<string>();
  for (const { workload, name, resource } of contributions) {
    const named = origins.get(name);
    if (named === undefined) origins.set(name, [workload]);
    else named.push(workload);
    const current = kept.get(name);
    if (current === undefined) {
      kept.set(name, cloneConfig(resource));
      continue;
    }
    const same =
      kind === 'services' && isConfigObject(current) && isConfigObject(resource)
        ? mergeService(current, resource, section)
        : configEqual(current, resource);
    if (!same) different.add(name);
  }
  const conflicts: MergeConflict[] = [];
  for (const name of different) {
    kept.delete(name);
    conflicts.push({ kind: `${section} ${kind}`, name, workloads: origins.get(name) ?? [], reason: 'different' });
  }
  if (origins.size > 1) {
    const all = [...origins.keys()];
    for (const name of all) kept.delete(name);
    conflicts.push({
      kind: `${section} ${kind}`,
      name: all.join(' / '),
      workloads: all.flatMap((name) => origins.get(name) ?? []),
      reason: 'case',
    });
  }
  return { kept, conflicts };
}

function sortedByOrigin<T extends { readonly origin: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
}

/**
 * The contributions of each resource of `configurations`, grouped by section, kind and folded name, in origin order.
 */
function resourceContributions(
  configurations: readonly NamedConfiguration[],
): Map<string, { section: string; kind: string; contributions: ResourceContribution[] }> {
  const groups = new Map<string, { section: string; kind: string; contributions: ResourceContribution[] }>();
  for (const { origin, workload, configuration } of sortedByOrigin(configurations)) {
    for (const { section, kind, name, definition } of resourcesIn(configuration)) {
      const id = claimIdOf(resourcePath(section, kind, name));
      let group = groups.get(id);
      if (group === undefined) {
        group = { section, kind, contributions: [] };
        groups.set(id, group);
      }
      group.contributions.push({ origin, workload, name, resource: definition });
    }
  }
  return groups;
}

/** Conflicts in a fixed order (by kind as the schema lists them, then name), whatever order the merge found them in. */
function sortConflicts(conflicts: MergeConflict[]): MergeConflict[] {
  const order = new Map(
    Object.entries(RESOURCE_KINDS)
      .flatMap(([section, kinds]) => kinds.map((kind) => `${section} ${kind}`))
      .map((kind, index) => [kind, index]),
  );
  return conflicts.sort(
    (a, b) =>
      (order.get(a.kind) ?? 0) - (order.get(b.kind) ?? 0) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
      a.reason.localeCompare(b.reason),
  );
}

/**
 * Merges workloads' configurations the way Traefik's providers do (see mergeResourceGroup), all
 * names at once.
 */
export function mergeConfigurations(configurations: readonly NamedConfiguration[]): {
  configuration: ConfigObject;
  conflicts: MergeConflict[];
} {
  const merged: ConfigObject = {};
  const conflicts: MergeConflict[] = [];
  // Sections and kinds in the schema's order, names in the order the merge first met them.
  const byKind = new Map<string, { section: string; kind: string; contributions: ResourceContribution[] }[]>();
  for (const group of resourceContributions(configurations).values()) {
    const key = `${group.section}/${group.kind}`;
    const list = byKind.get(key);
    if (list === undefined) byKind.set(key, [group]);
    else list.push(group);
  }
  for (const [section, kinds] of Object.entries(RESOURCE_KINDS)) {
    for (const kind of kinds) {
      for (const group of byKind.get(`${section}/${kind}`) ?? []) {
        const result = mergeResourceGroup(section, kind, group.contributions);
        conflicts.push(...result.conflicts);
        for (const [name, resource] of result.kept) {
          const part = isConfigObject(merged[section]) ? merged[section] : (merged[section] = {});
          const target = isConfigObject(part[kind]) ? part[kind] : (part[kind] = {});
          // Defined rather than assigned: a resource may be named `constructor` or `__proto__`.
          Object.defineProperty(target, name, {
            value: resource,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }
    }
  }
  return { configuration: merged, conflicts: sortConflicts(conflicts) };
}
