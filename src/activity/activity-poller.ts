import type { Logger } from 'pino';
import type { AppFrontend } from '../core/apps/app-frontends.ts';
import type { ActivityTracker } from './activity-tracker.ts';
import { parseTraefikMetrics } from './traefik-metrics-text.ts';

export interface ActivityPollerOptions {
  /** Traefik's Prometheus endpoints (`http://traefik:8082/metrics`), one per Traefik. */
  readonly urls: readonly string[];
  readonly intervalMs: number;
  readonly tracker: ActivityTracker;
  /** The apps served now, by every owner this instance writes for. */
  readonly frontends: () => readonly AppFrontend[];
  /** After each round: the records may have changed (the daemon runs a pass, which writes only what differs). */
  readonly onPolled: () => void;
  /** A Traefik answered (true) or not (false). */
  readonly onScrape: (url: string, ok: boolean) => void;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
}

/**
 * Reads every Traefik's metrics each interval, one request each with a time limit, never two
 * rounds at once: the apps' activity without a request per user request, and without a plugin
 * inside Traefik.
 */
export class ActivityPoller {
  readonly #o: ActivityPollerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  readonly #failing = new Set<string>();

  constructor(options: ActivityPollerOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.poll(), this.#o.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One round (also what the timer runs). */
  async poll(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const frontends = this.#o.frontends();
      const get = this.#o.fetch ?? fetch;
      await Promise.all(
        this.#o.urls.map(async (url) => {
          try {
            const response = await get(url, { signal: AbortSignal.timeout(Math.max(1000, this.#o.intervalMs - 500)) });
            if (!response.ok) throw new Error(`HTTP ${response.status}`);
            const text = await response.text();
            this.#o.tracker.observe(url, parseTraefikMetrics(text), frontends, Date.now());
            if (this.#failing.delete(url)) this.#o.logger.info({ url }, "Traefik's metrics answer again");
            this.#o.onScrape(url, true);
          } catch (error) {
            if (!this.#failing.has(url)) {
              this.#o.logger.warn(
                { url, err: error },
                "Traefik's metrics could not be read: the apps' activity is not updated from it; check --traefik-metrics-urls and Traefik's --metrics.prometheus (entry point and address)",
              );
              this.#failing.add(url);
            }
            this.#o.onScrape(url, false);
          }
        }),
      );
      this.#o.onPolled();
    } finally {
      this.#running = false;
    }
  }
}
