/**
 * Decides when the reconcile runs. A trigger starts a pass within `delayMs` (a few milliseconds,
 * so that a single event is not held back); triggers that arrive while a pass runs are coalesced
 * into one more pass right after it. A failed pass is retried with exponential backoff.
 */
export class ReconcileScheduler {
  readonly #run: () => Promise<void>;
  readonly #delayMs: number;
  readonly #onError: (error: unknown, retryInMs: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;
  #failures = 0;
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
    this.#running = this.#run().then(
      () => {
        this.#failures = 0;
        this.#finish(0);
      },
      (error: unknown) => {
        this.#failures += 1;
        const retryInMs = Math.min(100 * 2 ** (this.#failures - 1), 10_000);
        this.#onError(error, retryInMs);
        this.#finish(retryInMs);
      },
    );
  }

  #finish(retryInMs: number): void {
    this.#running = undefined;
    if (this.#stopped) return;
    if (retryInMs > 0) this.#timer = setTimeout(() => this.#start(), retryInMs);
    else if (this.#dirty) this.#timer = setTimeout(() => this.#start(), 0);
  }

  /** Stops scheduling and waits for a pass under way to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
  }
}
