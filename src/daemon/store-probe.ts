import type { Logger } from 'pino';
import type { KvStore } from '../sync/kv-store.ts';
import type { Metrics } from './metrics.ts';
import type { Readiness } from './readiness.ts';

/** How often the store is asked one small read, to know whether it answers (and when it is back). */
const STORE_PROBE_MS = 2000;

export interface StoreProbeOptions {
  readonly store: KvStore;
  readonly storeName: string;
  /** The key read (this owner's record); undefined while the owner is not connected: no probe. */
  readonly key: () => string | undefined;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The store answers again. */
  readonly onBack: () => void;
}

/**
 * A pass with nothing to write reads nothing from the store (the mirror has it), so passes alone
 * would not notice a store that stopped answering: one small read, under the call limit, does.
 */
export class StoreProbe {
  readonly #o: StoreProbeOptions;
  #timer: NodeJS.Timeout | undefined;
  #probing = false;

  constructor(options: StoreProbeOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.probe(), STORE_PROBE_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async probe(): Promise<void> {
    const { store, storeName, readiness, logger } = this.#o;
    const key = this.#o.key();
    if (key === undefined || this.#probing) return;
    this.#probing = true;
    try {
      await store.get(key);
      if (!readiness.storeOk) {
        logger.info({ store: storeName }, 'the store answers again');
        this.#o.onBack();
      }
      readiness.storeAnswers(true);
    } catch (error) {
      if (readiness.storeOk)
        logger.warn({ err: error, store: storeName }, 'the store does not answer; what is routed stays as it is');
      readiness.storeAnswers(false);
      this.#o.metrics.errors.inc({ kind: storeName });
    } finally {
      this.#probing = false;
    }
  }
}
