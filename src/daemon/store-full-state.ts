import type { Logger } from 'pino';
import type { StoreFullError } from '../sync/kv-store.ts';
import type { Metrics } from './metrics.ts';

/**
 * Whether the store refuses this instance's writes for want of space. A full store is a state,
 * not a failure to shout about on every pass: one line when it fills, one when a write goes
 * through again; meanwhile a readiness reason, `appproxy_store_full` at 1, and each refused write
 * counted. What is routed is left as it is (a full store still serves reads and keep-alives).
 */
export class StoreFullState {
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #store: string;
  #full: StoreFullError | undefined;

  constructor(metrics: Metrics, logger: Logger, store: string) {
    this.#metrics = metrics;
    this.#log = logger;
    this.#store = store;
    // Present from the start, at 0: an alert can compare with it.
    metrics.storeFull.set({ store }, 0);
    metrics.storeWritesRefused.inc({ store }, 0);
  }

  get full(): boolean {
    return this.#full !== undefined;
  }

  /** A write was refused for want of space. */
  refused(error: StoreFullError): void {
    this.#metrics.storeWritesRefused.inc({ store: this.#store });
    if (this.#full === undefined) {
      this.#metrics.storeFull.set({ store: this.#store }, 1);
      this.#log.error(
        { store: this.#store, err: error, fix: error.fix },
        'the store is full and refuses writes; what is routed stays, changes wait until space is freed',
      );
    }
    this.#full = error;
  }

  /** A pass wrote what it had to: the store takes writes (again). */
  wrote(): void {
    if (this.#full === undefined) return;
    this.#full = undefined;
    this.#metrics.storeFull.set({ store: this.#store }, 0);
    this.#log.info({ store: this.#store }, 'the store takes writes again; pending changes written');
  }

  /** The readiness reason while full. */
  reason(): string | undefined {
    const error = this.#full;
    if (error === undefined) return undefined;
    const cause = (error.cause as Error | undefined)?.message ?? String(error.cause);
    return `${this.#store} is full and refuses writes (${cause}); what is routed stays, changes wait: ${error.fix}`;
  }
}
