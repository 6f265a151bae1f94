import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';

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
    for (let delay = 200; !this.#stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.#grant();
        this.#log.info({ lease: this.#id }, 'new lease granted');
        this.#onReplaced();
        return;
      } catch (error) {
        this.#log.warn({ err: error, retryInMs: delay }, 'lease grant failed');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Stops keeping the lease alive without revoking it: a restart takes over before it expires. */
  release(): void {
    this.#stopped = true;
    this.#lease?.release();
  }
}
