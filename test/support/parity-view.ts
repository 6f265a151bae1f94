import type { RawData } from './traefik-api.ts';

/**
 * Provider suffixes of the Traefiks compared: their own (`@docker`, `@swarm`) and appproxy's (`@etcd`,
 * `@redis`, and `@http` for what it serves to Traefik's HTTP provider).
 */
const SUFFIX = /@(docker|swarm|etcd|redis|http)\b/g;

/** Does a resource name belong to the case? Resource names carry the case id (`p01-r`, `web-w03stack`). */
export type CaseMatch = (name: string) => boolean;

/**
 * A case's resources from Traefik's raw data, provider suffixes removed, servers sorted: what two
 * Traefiks (one reading a provider of its own, one reading what appproxy wrote) must agree on.
 */
export function caseView(data: RawData, belongs: CaseMatch): Record<string, unknown> {
  const strip = (text: string) => text.replace(SUFFIX, '');
  const normalize = (value: unknown): unknown => {
    if (typeof value === 'string') return strip(value);
    if (Array.isArray(value)) return value.map(normalize);
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>).map(
        ([key, inner]) => [strip(key), normalize(inner)] as const,
      );
      const result = Object.fromEntries(entries) as Record<string, unknown>;
      const loadBalancer = result['loadBalancer'] as { servers?: { url?: string; address?: string }[] } | undefined;
      loadBalancer?.servers?.sort((a, b) => String(a.url ?? a.address).localeCompare(String(b.url ?? b.address)));
      if (Array.isArray(result['usedBy'])) (result['usedBy'] as string[]).sort();
      return result;
    }
    return value;
  };
  const view: Record<string, unknown> = {};
  for (const [kind, map] of Object.entries(data)) {
    if (map === null || typeof map !== 'object') continue;
    for (const [name, info] of Object.entries(map as Record<string, unknown>)) {
      if (belongs(name.toLowerCase())) view[`${kind}/${strip(name)}`] = normalize(info);
    }
  }
  return view;
}
