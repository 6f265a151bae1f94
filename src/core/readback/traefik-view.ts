import { isConfigObject, type ConfigValue } from '../config-tree.ts';

/**
 * What Traefik's API shows, and what it should show, of one resource, and the judgement between
 * the two. Pure: the daemon's read-back (src/readback) fetches, this decides.
 */

/** The kinds Traefik's API answers one by one (`/api/<section>/<kind>/<name>@<provider>`). */
const READABLE: Readonly<Record<string, readonly string[]>> = {
  http: ['routers', 'services', 'middlewares'],
  tcp: ['routers', 'services', 'middlewares'],
  udp: ['routers', 'services'],
};

/** A resource as the read-back names it: `http/routers/chat`, spelled as written. */
export interface ReadableResource {
  readonly section: string;
  readonly kind: string;
  readonly name: string;
}

/** The parts of a resource path Traefik's API can answer for; undefined for the others (TLS stores, models). */
export function readableResource(resource: string): ReadableResource | undefined {
  const [section = '', kind = '', name = '', ...rest] = resource.split('/');
  if (rest.length > 0 || name === '') return undefined;
  return READABLE[section]?.includes(kind) === true ? { section, kind, name } : undefined;
}

/** Where Traefik's API answers for one resource of a provider (`etcd`, `redis`). */
export function apiPath(resource: ReadableResource, provider: string): string {
  return `/api/${resource.section}/${resource.kind}/${encodeURIComponent(`${resource.name}@${provider}`)}`;
}

/** What the store holds of a resource now (from the daemon's mirror). */
export interface StoredResource {
  readonly present: boolean;
  /** A load balancer's server targets (URL or address), sorted; only for services. */
  readonly servers?: readonly string[];
}

/** What one Traefik's API showed of a resource. */
export type TraefikView =
  | { readonly found: false }
  | {
      readonly found: true;
      /** enabled, warning or disabled. */
      readonly status: string;
      /** Traefik's own error texts (why it disabled the resource, or warned). */
      readonly errors: readonly string[];
      /** A load balancer's server targets, sorted. */
      readonly servers?: readonly string[];
    };

/** One answer of Traefik's API for a resource (404: not there). */
export function viewFromApi(status: number, body: unknown): TraefikView | undefined {
  if (status === 404) return { found: false };
  if (status !== 200 || !isConfigObject(body as ConfigValue)) return undefined;
  const object = body as Record<string, unknown>;
  const errors = Array.isArray(object['error']) ? object['error'].map(String) : [];
  const loadBalancer = object['loadBalancer'];
  const servers =
    typeof loadBalancer === 'object' &&
    loadBalancer !== null &&
    Array.isArray((loadBalancer as { servers?: unknown }).servers)
      ? ((loadBalancer as { servers: unknown[] }).servers
          .map((server) => {
            const entry = server as { url?: unknown; address?: unknown };
            return typeof entry.url === 'string' ? entry.url : typeof entry.address === 'string' ? entry.address : '';
          })
          .filter((target) => target !== '')
          .sort() as string[])
      : undefined;
  return {
    found: true,
    status: typeof object['status'] === 'string' ? object['status'] : 'enabled',
    errors,
    ...(servers === undefined ? {} : { servers }),
  };
}

export type Judgement =
  | { readonly state: 'live' }
  /** Not there yet (or still there), or other servers: Traefik has not applied the change. */
  | { readonly state: 'pending'; readonly why: string }
  /** Traefik has it and refused it: its own error text. */
  | { readonly state: 'refused'; readonly error: string };

/**
 * Whether a Traefik shows what the store holds: present and enabled (or warned: Traefik serves it)
 * with the same servers, or absent. A disabled resource is refused, with Traefik's words.
 */
export function judge(stored: StoredResource, view: TraefikView): Judgement {
  if (!stored.present) return view.found ? { state: 'pending', why: 'still there' } : { state: 'live' };
  if (!view.found) return { state: 'pending', why: 'not there yet' };
  if (view.status === 'disabled')
    return { state: 'refused', error: view.errors.length > 0 ? view.errors.join('; ') : 'disabled by Traefik' };
  if (stored.servers !== undefined && view.servers !== undefined) {
    const want = stored.servers.join('\n');
    if (want !== view.servers.join('\n'))
      return {
        state: 'pending',
        why: `other servers: ${view.servers.length} there, ${stored.servers.length} in the store`,
      };
  }
  return { state: 'live' };
}
