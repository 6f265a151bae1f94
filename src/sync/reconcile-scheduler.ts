import { retryForever } from '../retry/retry-forever.ts';

/**
 * Decides when the reconcile runs. A trigger starts a pass within `delayMs` (a few milliseconds,
 * so that a single event is not held back); triggers that arrive while a pass runs are coalesced
 * into one more pass right after it. A failed pass is retried with backoff and jitter until one
 * succeeds (triggers meanwhile are covered by it: each attempt reads what is pending then).
 */
export class ReconcileScheduler {
  readonly #run: () => Promise<void>;
  readonly #delayMs: number;
  readonly #onError: (error: unknown, retryInMs: number) => void;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;
  #stopped = false;

  constructor(run: () => Promise<void>, options: { delayMs?: number; onError: (error: unknown, retryInMs: number) => void }) {
    this.#run = run;
    this.#delayMs = options.delayMs ?? 2;
    this.#onError = options.onError;
  }

  trigger(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#dirty = true;
      return;
    }
    if (this.#timer === undefined) this.#timer = setTimeout(() => this.#start(), this.#delayMs);
  }

  #start(): void {
    this.#timer = undefined;
    this.#dirty = false;
    this.#running = retryForever(() => this.#run(), { signal: this.#abort.signal, onFailure: (error, retryInMs) => this.#onError(error, retryInMs) }).then(
      () => this.#finish(),
      () => this.#finish(), // only when stopped
    );
  }

  #finish(): void {
    this.#running = undefined;
    if (this.#stopped) return;
    if (this.#dirty) this.#timer = setTimeout(() => this.#start(), 0);
  }

  /** Stops scheduling and waits for a pass under way to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#abort.abort(new Error('stopped'));
    await this.#running;
  }
}
