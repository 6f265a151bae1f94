import { isIP } from 'node:net';
import { nameLookup } from '../net/name-lookup.ts';

/** One Traefik instance's API: an address a configured URL resolved to. */
export interface TraefikEndpoint {
  /** `http://10.0.1.5:8080`: where its API is read. */
  readonly id: string;
  /** The configured URL (`http://tasks.traefik:8080`). */
  readonly source: string;
}

/** Resolves a host name to every address it has now (Swarm's `tasks.<service>` has one a task). */
export type ResolveAll = (host: string, limitMs: number) => Promise<string[]>;

export const resolveAll: ResolveAll = async (host, limitMs) => [...(await nameLookup.resolve(host, limitMs))].sort();

/**
 * The instances behind the configured URLs: an address is one instance; a name is as many as it
 * resolves to, asked again each time (instances come and go). A name that does not resolve is
 * reported by the caller; the others are kept.
 */
export async function resolveEndpoints(
  urls: readonly string[],
  resolve: ResolveAll,
  limitMs: number,
): Promise<{ endpoints: TraefikEndpoint[]; failures: { url: string; error: string }[] }> {
  const endpoints: TraefikEndpoint[] = [];
  const failures: { url: string; error: string }[] = [];
  await Promise.all(
    urls.map(async (source) => {
      const url = new URL(source);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) !== 0 || host === 'localhost') {
        endpoints.push({ id: url.origin, source });
        return;
      }
      try {
        for (const address of await resolve(host, limitMs)) {
          const at = new URL(url.origin);
          at.hostname = isIP(address) === 6 ? `[${address}]` : address;
          endpoints.push({ id: at.origin, source });
        }
      } catch (error) {
        failures.push({ url: source, error: (error as Error).message });
      }
    }),
  );
  const unique = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
  return { endpoints: [...unique.values()].sort((a, b) => a.id.localeCompare(b.id)), failures };
}
