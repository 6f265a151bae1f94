import type { Etcd3, Watcher } from 'etcd3';
import pTimeout from 'p-timeout';
import type { Logger } from 'pino';

/** A watch that etcd does not confirm in this time counts as failed (the caller retries). */
const WATCH_CREATE_LIMIT_MS = 10_000;

/**
 * Watches Traefik's tree and the claims. A change made by someone else (another instance, an
 * operator, a lease that expired) triggers a reconcile, so that this instance's routes are put
 * back and dead owners' resources are cleared without waiting for the resync timer.
 */
export class EtcdWatcher {
  readonly #client: Etcd3;
  readonly #prefixes: readonly string[];
  readonly #log: Logger;
  readonly #isOwn: (revision: string) => boolean;
  readonly #onChange: () => void;
  #watchers: Watcher[] = [];

  constructor(client: Etcd3, prefixes: readonly string[], logger: Logger, isOwn: (revision: string) => boolean, onChange: () => void) {
    this.#client = client;
    this.#prefixes = prefixes;
    this.#log = logger;
    this.#isOwn = isOwn;
    this.#onChange = onChange;
  }

  async start(): Promise<void> {
    for (const prefix of this.#prefixes) {
      const watcher = await pTimeout(this.#client.watch().prefix(prefix).create(), {
        milliseconds: WATCH_CREATE_LIMIT_MS,
        message: `etcd watch of "${prefix}": not confirmed within ${WATCH_CREATE_LIMIT_MS} ms`,
      });
      watcher.on('data', (response) => {
        const foreign = response.events.some((event) => !this.#isOwn(String(event.kv.mod_revision)));
        if (foreign) this.#onChange();
      });
      // After a reconnection, events may have been missed: reconcile.
      watcher.on('connected', () => this.#onChange());
      watcher.on('error', (error) => this.#log.warn({ err: error, prefix }, 'etcd watch error'));
      this.#watchers.push(watcher);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.#watchers.map((watcher) => watcher.cancel().catch(() => undefined)));
  }
}
