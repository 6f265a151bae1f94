import { createHash } from 'node:crypto';

/**
 * The etcd tree split the way ownership works. A *resource* (`http/routers/chat`,
 * `http/services/chat`, `tls/stores/default`) is shared: every instance that serves it writes the
 * same keys. A *server* (`http/services/chat/loadBalancer/servers/<id>`) belongs to exactly one
 * instance, because its id is derived from that instance's owner id.
 */
export interface TreeParts {
  /** Resource id → its keys (full etcd keys) and values, servers excluded. */
  readonly resources: Map<string, Map<string, string>>;
  /** Server id (`http/services/chat/loadBalancer/servers/<id>`) → its keys and values. */
  readonly servers: Map<string, Map<string, string>>;
  /** The resource each server belongs to. */
  readonly serverResource: Map<string, string>;
}

const SERVER = /^((?:http|tcp|udp)\/services\/[^/]+)\/loadBalancer\/servers\/[^/]+/i;
const RESOURCE = /^((?:http|tcp|udp)\/[^/]+\/[^/]+|tls\/stores\/[^/]+)/;

/** The resource id and, for a server key, the server id of a key relative to the root. */
export function classifyKey(relative: string): { resource: string; server?: string } | undefined {
  const server = SERVER.exec(relative);
  if (server?.[1] !== undefined) return { resource: server[1], server: server[0] };
  const resource = RESOURCE.exec(relative);
  return resource?.[1] === undefined ? undefined : { resource: resource[1] };
}

function add(map: Map<string, Map<string, string>>, id: string, key: string, value: string): void {
  let entries = map.get(id);
  if (entries === undefined) {
    entries = new Map();
    map.set(id, entries);
  }
  entries.set(key, value);
}

/** Splits key/value pairs under `rootKey/` into resources and servers; other keys are ignored. */
export function partitionTree(pairs: ReadonlyMap<string, string>, rootKey: string): TreeParts {
  const parts: TreeParts = { resources: new Map(), servers: new Map(), serverResource: new Map() };
  const prefix = `${rootKey}/`;
  for (const [key, value] of pairs) {
    if (!key.startsWith(prefix)) continue;
    const kind = classifyKey(key.slice(prefix.length));
    if (kind === undefined) continue;
    if (kind.server !== undefined) {
      add(parts.servers, kind.server, key, value);
      parts.serverResource.set(kind.server, kind.resource);
    } else {
      add(parts.resources, kind.resource, key, value);
    }
  }
  return parts;
}

/** A digest of a resource's definition, so that instances can see whether they agree on it. */
export function resourceDigest(entries: ReadonlyMap<string, string>, rootKey: string): string {
  const hash = createHash('sha256');
  for (const key of [...entries.keys()].sort()) {
    hash.update(key.slice(rootKey.length)).update('\u0000').update(entries.get(key) ?? '').update('\u0000');
  }
  return hash.digest('hex').slice(0, 32);
}
