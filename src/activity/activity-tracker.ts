import type { AppFrontend } from '../core/apps/app-frontends.ts';
import type { AppActivity } from '../core/apps/app-record.ts';
import type { ActivitySource } from '../sync/app-serving.ts';
import type { TraefikActivitySample } from './traefik-metrics-text.ts';

interface Seen {
  /** What the app is measured by; a change (a new port) starts it over. */
  readonly measure: string;
  /** Its request count at each Traefik's last scrape. */
  readonly requests: Map<string, number>;
  /** Its open connections at each Traefik's last scrape. */
  readonly open: Map<string, number>;
  lastActivityMs: number | undefined;
}

/**
 * Each app's last activity and open connections, from scrapes of every Traefik that serves it.
 * A scrape is compared with the same Traefik's previous one: a request count that moved, or a
 * connection open on the app's own entry point, is activity at the time of the scrape (so its
 * resolution is the scrape interval). A Traefik that did not answer keeps its last values; one
 * that restarted (its counts went down) counts as activity once, which errs on the side of
 * "in use".
 *
 * - HTTP apps: requests per service (every mode); open connections only in port mode, where
 *   the entry point is the app's own (a wildcard entry point is shared by every app).
 * - TCP apps: Traefik counts no TCP requests; open connections on its entry point are all there
 *   is, so a connection that opened and closed between two scrapes is not seen.
 */
export class ActivityTracker implements ActivitySource {
  readonly #apps = new Map<string, Seen>();

  /** One Traefik's scrape, for the apps served now (others are forgotten). */
  observe(traefik: string, sample: TraefikActivitySample, frontends: readonly AppFrontend[], nowMs: number): void {
    const current = new Set<string>();
    for (const frontend of frontends) {
      current.add(frontend.key);
      const measure = `${frontend.resourceName} ${frontend.mode === 'port' ? frontend.entryPoint : ''}`;
      let seen = this.#apps.get(frontend.key);
      if (seen === undefined || seen.measure !== measure) {
        seen = { measure, requests: new Map(), open: new Map(), lastActivityMs: seen?.lastActivityMs };
        this.#apps.set(frontend.key, seen);
      }
      if (frontend.protocol === 'http') {
        const requests = sample.serviceRequests.get(frontend.resourceName) ?? 0;
        const before = seen.requests.get(traefik);
        if (before !== undefined && before !== requests) seen.lastActivityMs = nowMs;
        // First seen with requests already counted: in use before this instance looked.
        if (before === undefined && requests > 0 && seen.lastActivityMs === undefined) seen.lastActivityMs = nowMs;
        seen.requests.set(traefik, requests);
      }
      if (frontend.mode === 'port') {
        const open = sample.openConnections.get(frontend.entryPoint) ?? 0;
        seen.open.set(traefik, open);
        if (open > 0) seen.lastActivityMs = nowMs;
      }
    }
    for (const key of [...this.#apps.keys()]) if (!current.has(key)) this.#apps.delete(key);
  }

  activity(frontend: AppFrontend): AppActivity | undefined {
    const seen = this.#apps.get(frontend.key);
    if (seen === undefined)
      return { lastActivityMs: undefined, openConnections: frontend.mode === 'port' ? 0 : undefined };
    const open = frontend.mode === 'port' ? [...seen.open.values()].reduce((sum, count) => sum + count, 0) : undefined;
    return { lastActivityMs: seen.lastActivityMs, openConnections: open };
  }
}
