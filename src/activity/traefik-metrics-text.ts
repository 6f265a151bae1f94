/**
 * What one scrape of Traefik's Prometheus endpoint says about the apps, summed over the labels
 * that do not matter here (code, method, protocol):
 *
 * - `traefik_service_requests_total{service="<name>@<provider>"}`: requests a service answered
 *   (Traefik counts a request when it ends: a websocket only once it closes);
 * - `traefik_open_connections{entrypoint,protocol="TCP"}`: connections open now on an entry point,
 *   every one (an HTTP keep-alive connection waiting for its next request too).
 */
export interface TraefikActivitySample {
  /** By service name without its `@provider` suffix. */
  readonly serviceRequests: ReadonlyMap<string, number>;
  /** By entry point name. */
  readonly openConnections: ReadonlyMap<string, number>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function labelsOf(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const match of text.matchAll(LABEL))
    labels.set(
      match[1] ?? '',
      (match[2] ?? '').replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char)),
    );
  return labels;
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

/** Reads the two families from the text exposition format; every other line is skipped. */
export function parseTraefikMetrics(text: string): TraefikActivitySample {
  const serviceRequests = new Map<string, number>();
  const openConnections = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('traefik_service_requests_total') && !line.startsWith('traefik_open_connections')) continue;
    const match = SAMPLE.exec(line.trim());
    if (match === null) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    const labels = labelsOf(match[2] ?? '');
    if (match[1] === 'traefik_service_requests_total') {
      const service = labels.get('service');
      if (service !== undefined) add(serviceRequests, service.replace(/@[^@]*$/, ''), value);
    } else if (match[1] === 'traefik_open_connections') {
      const entryPoint = labels.get('entrypoint');
      if (entryPoint !== undefined) add(openConnections, entryPoint, value);
    }
  }
  return { serviceRequests, openConnections };
}
