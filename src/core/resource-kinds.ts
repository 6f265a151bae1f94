import { isConfigObject, type ConfigObject, type ConfigValue } from './config-tree.ts';
import { foldCase } from './fold-case.ts';

/**
 * The named resources of Traefik's dynamic configuration, by section: what workloads contribute,
 * what merges across workloads, what is claimed in the store. Everything else in the
 * configuration lives inside one of them. The one list of kinds: the merge, the key layout and the
 * metrics read it from here.
 */
export const RESOURCE_KINDS = {
  http: ['routers', 'services', 'middlewares', 'models', 'serversTransports'],
  tcp: ['routers', 'services', 'middlewares', 'models', 'serversTransports'],
  udp: ['routers', 'services'],
  tls: ['stores'],
} as const;

/** The field that identifies a server of a load balancer, by protocol. */
export const SERVER_TARGET_FIELD: Readonly<Record<string, 'url' | 'address'>> = {
  http: 'url',
  tcp: 'address',
  udp: 'address',
};

/** `http/routers/chat`: the resource's path under the root key, spelled as written. */
export function resourcePath(section: string, kind: string, name: string): string {
  return `${section}/${kind}/${name}`;
}

/**
 * The identity of a resource as Traefik sees it in a store: key segments are matched without
 * regard to case, so `http/routers/Chat` and `http/routers/chat` are one resource.
 */
export function claimIdOf(resource: string): string {
  return foldCase(resource);
}

export interface ParsedTreeKey {
  /** `http/services/chat`, as spelled in the key. */
  readonly resource: string;
  /** `http/services/chat/loadBalancer/servers/<id>` when the key belongs to one server. */
  readonly server?: string;
}

const PROTOCOLS = new Set(['http', 'tcp', 'udp']);

/**
 * Which resource (and server) a key relative to the root belongs to; undefined for keys outside
 * any resource (the root marker). Keys are read the way Traefik reads them: a server's path is
 * matched without regard to case; any `<protocol>/<kind>/<name>` counts as a resource, so that
 * keys nobody claims (an unknown kind written by hand) can be found and cleared.
 */
export function parseTreeKey(relative: string): ParsedTreeKey | undefined {
  // Segment ends found with indexOf, not split: the mirror parses every key it holds, 100,000 in a
  // first sync of 10,000 workloads, and only the first six segments matter.
  const ends: number[] = [];
  for (let from = 0; ends.length < 6;) {
    const slash = relative.indexOf('/', from);
    ends.push(slash < 0 ? relative.length : slash);
    if (slash < 0) break;
    from = slash + 1;
  }
  const [sectionEnd = 0, kindEnd = 0, nameEnd = 0] = ends;
  if (ends.length < 3 || sectionEnd === 0 || kindEnd === sectionEnd + 1 || nameEnd === kindEnd + 1) return undefined;
  const section = relative.slice(0, sectionEnd);
  const kind = relative.slice(sectionEnd + 1, kindEnd);
  const resource = relative.slice(0, nameEnd);
  const segment = (index: number) => relative.slice((ends[index - 1] ?? 0) + 1, ends[index]);
  if (
    ends.length === 6 &&
    PROTOCOLS.has(section.toLowerCase()) &&
    kind.toLowerCase() === 'services' &&
    segment(3).toLowerCase() === 'loadbalancer' &&
    segment(4).toLowerCase() === 'servers' &&
    segment(5) !== ''
  ) {
    return { resource, server: relative.slice(0, ends[5]) };
  }
  if (PROTOCOLS.has(section) || (section === 'tls' && kind === 'stores')) return { resource };
  return undefined;
}

/** Routers are written after what they point to and removed before it: no moment with a router to nothing. */
export function isRouter(resource: string): boolean {
  const [section = '', kind = ''] = resource.split('/', 2);
  return PROTOCOLS.has(section.toLowerCase()) && kind.toLowerCase() === 'routers';
}

/** Every named resource of a configuration, in the schema's order of sections and kinds. */
export function* resourcesIn(
  configuration: ConfigObject,
): Generator<{ section: string; kind: string; name: string; definition: ConfigValue }> {
  for (const [section, kinds] of Object.entries(RESOURCE_KINDS)) {
    const part = configuration[section];
    if (!isConfigObject(part)) continue;
    for (const kind of kinds) {
      const resources = part[kind];
      if (!isConfigObject(resources)) continue;
      for (const [name, definition] of Object.entries(resources)) yield { section, kind, name, definition };
    }
  }
}
