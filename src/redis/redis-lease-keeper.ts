import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { StoreLease } from '../sync/kv-store.ts';

/** What the keeper needs of the store: granting and refreshing one lease. */
export interface LeaseBackend {
  grant(leaseId: string, ttlSeconds: number): Promise<void>;
  refresh(leaseId: string): Promise<boolean>;
}

/**
 * Keeps one Redis lease alive (Redis has none of its own: see redis-scripts.ts), three refreshes a
 * lease time. A refresh that finds the lease gone (Redis unreachable for longer than the lease,
 * and a sweep revoked it; or Redis lost its data) grants a new one and calls `onReplaced`, so that
 * everything leased is written again, as with etcd's LeaseKeeper.
 */
export class RedisLeaseKeeper implements StoreLease {
  readonly #store: LeaseBackend;
  readonly #ttl: number;
  readonly #log: Logger;
  readonly #onReplaced: () => void;
  #id = '';
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #stopped = false;

  constructor(store: LeaseBackend, ttlSeconds: number, logger: Logger, onReplaced: () => void) {
    this.#store = store;
    this.#ttl = ttlSeconds;
    this.#log = logger;
    this.#onReplaced = onReplaced;
  }

  leaseId(): string {
    return this.#id;
  }

  /** Grants the first lease; rejects when Redis cannot be reached (the caller retries). */
  async start(): Promise<string> {
    this.#id = await this.#grant();
    this.#timer = setInterval(() => void this.#tick(), Math.max(100, (this.#ttl * 1000) / 3));
    this.#timer.unref();
    return this.#id;
  }

  async #grant(): Promise<string> {
    // Random ids: two instances never share one, and a lease id says nothing about its holder.
    const id = randomBytes(8).toString('hex');
    await this.#store.grant(id, this.#ttl);
    return id;
  }

  async #tick(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    try {
      if (await this.#store.refresh(this.#id)) return;
      this.#log.warn({ lease: this.#id }, 'lease lost; granting a new one');
      const id = await this.#grant();
      if (this.#stopped) return;
      this.#id = id;
      this.#log.info({ lease: id }, 'new lease granted');
      this.#onReplaced();
    } catch (error) {
      // Redis unreachable: the next tick tries again; the lease may outlive the outage.
      this.#log.warn({ err: error, lease: this.#id }, 'lease keep-alive failed');
    } finally {
      this.#busy = false;
    }
  }

  /** Stops keeping the lease alive without revoking it: a restart takes over before it expires. */
  release(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}
