import { cloneConfig, configEqual, isConfigObject, type ConfigObject, type ConfigValue } from '../config-tree.ts';
import { foldCase } from '../fold-case.ts';

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

const RESOURCE_KINDS: Record<string, readonly string[]> = {
  http: ['routers', 'services', 'middlewares', 'models', 'serversTransports'],
  tcp: ['routers', 'services', 'middlewares', 'models', 'serversTransports'],
  udp: ['routers', 'services'],
  tls: ['stores'],
};

const SERVER_KEY: Record<string, string> = { http: 'url', tcp: 'address', udp: 'address' };

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
  const key = SERVER_KEY[protocol] ?? 'url';
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

/**
 * Merges workloads' configurations the way Traefik's providers do: in the order of their origin
 * names; a resource defined by several workloads is kept when the definitions are equal (services
 * merge their servers) and dropped, with an error, when they differ. One rule is added because the
 * result goes to etcd, whose keys Traefik reads without regard to case: two resources whose names
 * differ only in case would silently become one, so both are dropped and reported.
 */
export function mergeConfigurations(configurations: readonly NamedConfiguration[]): { configuration: ConfigObject; conflicts: MergeConflict[] } {
  const sorted = [...configurations].sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
  const merged: ConfigObject = {};
  const conflicts: MergeConflict[] = [];

  for (const [protocol, kinds] of Object.entries(RESOURCE_KINDS)) {
    for (const kind of kinds) {
      const target: ConfigObject = {};
      const origins = new Map<string, string[]>();
      const spellings = new Map<string, Set<string>>();
      const different = new Set<string>();
      for (const { workload, configuration } of sorted) {
        const part = configuration[protocol];
        const source = isConfigObject(part) ? part[kind] : undefined;
        if (!isConfigObject(source)) continue;
        for (const [name, resource] of Object.entries(source)) {
          origins.set(name, [...(origins.get(name) ?? []), workload]);
          const folded = foldCase(name);
          spellings.set(folded, (spellings.get(folded) ?? new Set()).add(name));
          // Own properties only, and defined rather than assigned: a resource may be named
          // `constructor` or `__proto__`, which a plain object would otherwise answer for itself.
          const current = Object.hasOwn(target, name) ? target[name] : undefined;
          if (current === undefined) {
            Object.defineProperty(target, name, { value: cloneConfig(resource), enumerable: true, writable: true, configurable: true });
            continue;
          }
          const same =
            kind === 'services' && isConfigObject(current) && isConfigObject(resource)
              ? mergeService(current, resource, protocol)
              : configEqual(current, resource);
          if (!same) different.add(name);
        }
      }
      for (const name of different) {
        delete target[name];
        conflicts.push({ kind: `${protocol} ${kind}`, name, workloads: origins.get(name) ?? [], reason: 'different' });
      }
      for (const names of spellings.values()) {
        if (names.size < 2) continue;
        const all = [...names];
        for (const name of all) delete target[name];
        conflicts.push({ kind: `${protocol} ${kind}`, name: all.join(' / '), workloads: all.flatMap((name) => origins.get(name) ?? []), reason: 'case' });
      }
      if (Object.keys(target).length > 0) {
        const part = isConfigObject(merged[protocol]) ? merged[protocol] : (merged[protocol] = {});
        part[kind] = target;
      }
    }
  }
  return { configuration: merged, conflicts };
}
