import type { Logger } from 'pino';
import type { StoreFullError } from '../sync/kv-store.ts';
import type { Metrics } from './metrics.ts';
import { StoreFullState } from './store-full-state.ts';

/**
 * Whether the daemon is ready, and why not: the first pass done, Docker and the store reachable,
 * the store not full. Each dependency's state is kept here as the parts that see it report it,
 * with its `appproxy_dependency_up` gauge; /readyz reads `reasons()`.
 */
export class Readiness {
  readonly #metrics: Metrics;
  readonly #store: string;
  readonly #storeFull: StoreFullState;
  #firstSync = false;
  #dockerListed = false;
  #eventsFollowed = false;
  #storeOk = false;
  #ownerTaken: string | undefined;

  constructor(metrics: Metrics, logger: Logger, store: string) {
    this.#metrics = metrics;
    this.#store = store;
    this.#storeFull = new StoreFullState(metrics, logger, store);
    this.#showDocker();
    this.storeAnswers(false);
  }

  get storeOk(): boolean {
    return this.#storeOk;
  }

  /**
   * Docker counts as reachable while the event stream is followed (and its engine answers pings)
   * and the last listing got its answers: either alone can be true of a wedged engine.
   */
  dockerListing(ok: boolean): void {
    this.#dockerListed = ok;
    this.#showDocker();
  }

  dockerEvents(followed: boolean): void {
    this.#eventsFollowed = followed;
    this.#showDocker();
  }

  storeAnswers(ok: boolean): void {
    this.#storeOk = ok;
    this.#metrics.reachable.set({ dependency: this.#store }, ok ? 1 : 0);
  }

  /** The store refused a write for want of space: it is full (whether it answers is told apart). */
  storeFull(error: StoreFullError): void {
    this.#storeFull.refused(error);
  }

  /** A pass wrote what it had to (or the owner connected): the store answers and takes writes. */
  storeWrote(): void {
    this.storeAnswers(true);
    this.#storeFull.wrote();
  }

  /** Another instance took this instance's owner id: it writes nothing any more. */
  ownerTaken(message: string): void {
    this.#ownerTaken = message;
  }

  firstSyncDone(): void {
    this.#firstSync = true;
  }

  reasons(): string[] {
    const reasons: string[] = [];
    if (this.#ownerTaken !== undefined) reasons.push(this.#ownerTaken);
    if (!this.#firstSync) reasons.push('first sync not done');
    if (!this.#dockerListed) reasons.push('Docker unreachable (its last listing failed)');
    else if (!this.#eventsFollowed) reasons.push('Docker unreachable (event stream not followed)');
    if (!this.#storeOk) reasons.push(`${this.#store} unreachable`);
    const full = this.#storeFull.reason();
    if (full !== undefined) reasons.push(full);
    return reasons;
  }

  #showDocker(): void {
    this.#metrics.reachable.set({ dependency: 'docker' }, this.#dockerListed && this.#eventsFollowed ? 1 : 0);
  }
}
