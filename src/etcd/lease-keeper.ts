import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import pTimeout from 'p-timeout';
import { retryForever } from '../retry/retry-forever.ts';

/** How often the keep-alive's answers are looked at, and how long a rescue keep-alive may take. */
const WATCHDOG_MS = 1000;
const RESCUE_LIMIT_MS = 2000;

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
  /** When a keep-alive was last answered (or the lease granted). */
  #answeredAt = Date.now();
  #stalled = false;
  #rescue: Promise<unknown> | undefined;
  #watchdog: NodeJS.Timeout | undefined;

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
    this.#watchdog = setInterval(() => this.#watch(), WATCHDOG_MS);
    this.#watchdog.unref();
    return this.#id;
  }

  /**
   * etcd3 keeps the lease alive on one stream and gives it up only after a whole TTL without an
   * answer, when etcd has already dropped the lease and its keys. A stream on a member that went
   * away without a word (its node cut off, its task stopped and its address gone) is such a stall:
   * on three nodes every instance connected to a demoted manager's member lost its lease so. So
   * when no keep-alive has been answered for half the TTL, one is sent on a new stream (the pool
   * picks a member again), limited, every second until one is answered.
   */
  #watch(): void {
    const lease = this.#lease;
    if (this.#stopped || lease === undefined || this.#rescue !== undefined) return;
    const silentMs = Date.now() - this.#answeredAt;
    if (silentMs < (this.#ttl * 1000) / 2) return;
    if (!this.#stalled) {
      this.#stalled = true;
      this.#log.warn(
        { lease: this.#id, silentMs },
        'lease keep-alive unanswered for half its time; sending one on a new etcd stream',
      );
    }
    this.#rescue = lease
      .keepaliveOnce({ deadline: Date.now() + RESCUE_LIMIT_MS })
      .then(
        () => this.#answered(lease),
        () => undefined,
      )
      .finally(() => {
        this.#rescue = undefined;
      });
  }

  #answered(lease: Lease): void {
    if (lease !== this.#lease) return;
    this.#answeredAt = Date.now();
    if (this.#stalled) {
      this.#stalled = false;
      this.#log.info({ lease: this.#id }, 'lease keep-alive answered again');
    }
  }

  async #grant(): Promise<void> {
    const lease = this.#client.lease(this.#ttl, { autoKeepAlive: true });
    lease.on('keepaliveSucceeded', () => this.#answered(lease));
    lease.on('lost', (error) => {
      if (this.#stopped || lease !== this.#lease) return;
      this.#log.warn({ err: error, lease: this.#id }, 'lease lost; granting a new one');
      void this.#replace();
    });
    try {
      // Bounded here too: on three nodes, after a partition healed, one grant of the retry loop below
      // never settled (deadlines and all) and the instance wrote nothing again until Swarm replaced it.
      const limitMs = Math.max(2000, Math.min(5000, (this.#ttl * 1000) / 3));
      this.#id = await pTimeout(lease.grant(), {
        milliseconds: limitMs,
        message: `etcd lease grant: no answer within ${limitMs} ms`,
      });
    } catch (error) {
      lease.release();
      throw error;
    }
    this.#lease = lease;
    this.#answeredAt = Date.now();
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
    clearInterval(this.#watchdog);
    this.#abort.abort(new Error('released'));
    this.#lease?.release();
  }
}
