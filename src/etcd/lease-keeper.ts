import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import { retryForever } from '../retry/retry-forever.ts';

/**
 * Keeps this instance's lease alive. What the instance owns (its servers, its claims) is attached
 * to the lease, so that it leaves Traefik within the lease time when the instance or its host
 * dies. A lost lease (etcd unreachable for longer than its time) is replaced, and `onReplaced`
 * asks for everything leased to be written again on the new one.
 */
export class LeaseKeeper {
  readonly #client: Etcd3;
  readonly #ttl: number;
  readonly #log: Logger;
  readonly #onReplaced: () => void;
  #lease: Lease | undefined;
  #id = '';
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(client: Etcd3, ttlSeconds: number, logger: Logger, onReplaced: () => void) {
    this.#client = client;
    this.#ttl = ttlSeconds;
    this.#log = logger;
    this.#onReplaced = onReplaced;
  }

  leaseId(): string {
    return this.#id;
  }

  /** Grants the first lease; rejects when etcd cannot be reached (the caller retries). */
  async start(): Promise<string> {
    await this.#grant();
    return this.#id;
  }

  async #grant(): Promise<void> {
    const lease = this.#client.lease(this.#ttl, { autoKeepAlive: true });
    lease.on('lost', (error) => {
      if (this.#stopped || lease !== this.#lease) return;
      this.#log.warn({ err: error, lease: this.#id }, 'lease lost; granting a new one');
      void this.#replace();
    });
    try {
      this.#id = await lease.grant();
    } catch (error) {
      lease.release();
      throw error;
    }
    this.#lease = lease;
  }

  async #replace(): Promise<void> {
    try {
      // Short waits, whatever the backoff elsewhere: the lost lease may still be alive in etcd (a new
      // leader refreshes leases), and its keys go when it expires; the new one must be granted, and
      // the keys moved onto it, before that. A grant a second is no load on an etcd that is down.
      await retryForever(() => this.#grant(), {
        minMs: 200,
        maxMs: Math.max(200, Math.min(1000, (this.#ttl * 1000) / 3)),
        signal: this.#abort.signal,
        onFailure: (error, retryInMs) => this.#log.warn({ err: error, retryInMs }, 'lease grant failed'),
      });
    } catch {
      return; // released
    }
    this.#log.info({ lease: this.#id }, 'new lease granted');
    this.#onReplaced();
  }

  /** Stops keeping the lease alive without revoking it: a restart takes over before it expires. */
  release(): void {
    this.#stopped = true;
    this.#abort.abort(new Error('released'));
    this.#lease?.release();
  }
}
