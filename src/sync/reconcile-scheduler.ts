import { retryForever, Wake } from '../retry/retry-forever.ts';

/**
 * Decides when the reconcile runs. A trigger starts a pass within `delayMs` (a few milliseconds,
 * so that a single event is not held back); triggers that arrive while a pass runs are coalesced
 * into one more pass right after it. In a burst (`burstTriggers` triggers or more within
 * `burstWindowMs`) a pass waits `burstDelayMs`, so that hundreds of events become a few
 * transactions: each transaction is one watch event, and Traefik's etcd provider reads its whole
 * tree on every one. The few events of one container (connect, start, health) are no burst.
 * A pass also waits while `holdMs` says the stores' readers are still applying the last commit
 * (write-pace.ts); `release()` says they are done, and a held pass starts at once.
 * A failed pass is retried with backoff and jitter until one succeeds (triggers meanwhile are
 * covered by it: each attempt reads what is pending then).
 */
export class ReconcileScheduler {
  readonly #run: () => Promise<void>;
  readonly #delayMs: number;
  readonly #onError: (error: unknown, retryInMs: number) => void;
  readonly #burstWindowMs: number;
  readonly #burstDelayMs: number;
  readonly #burstTriggers: number;
  readonly #holdMs: () => number;
  readonly #onHeld: ((heldMs: number) => void) | undefined;
  readonly #abort = new AbortController();
  readonly #wake = new Wake();
  /** When the last triggers came, newest last (at most `burstTriggers` of them). */
  #recent: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** The waiting pass's own delay (without the hold). */
  #timerDelay = 0;
  /** The waiting pass waits longer than its own delay because of the hold. */
  #held = false;
  /** When the held pass would have started without the hold. */
  #heldFrom = 0;
  #running: Promise<void> | undefined;
  #dirty = false;
  #stopped = false;

  constructor(
    run: () => Promise<void>,
    options: {
      delayMs?: number;
      burstWindowMs?: number;
      burstDelayMs?: number;
      burstTriggers?: number;
      /** How long a pass must wait yet for the last commit to be applied (0: none). */
      holdMs?: () => number;
      /** A held pass starts, after waiting this long beyond its own delay. */
      onHeld?: (heldMs: number) => void;
      onError: (error: unknown, retryInMs: number) => void;
    },
  ) {
    this.#run = run;
    this.#delayMs = options.delayMs ?? 2;
    this.#burstWindowMs = options.burstWindowMs ?? 200;
    this.#burstDelayMs = options.burstDelayMs ?? 50;
    this.#burstTriggers = options.burstTriggers ?? 10;
    this.#holdMs = options.holdMs ?? (() => 0);
    this.#onHeld = options.onHeld;
    this.#onError = options.onError;
  }

  #nextDelay(): number {
    const oldest = this.#recent.length >= this.#burstTriggers ? (this.#recent[0] ?? 0) : Number.NEGATIVE_INFINITY;
    return performance.now() - oldest < this.#burstWindowMs ? this.#burstDelayMs : this.#delayMs;
  }

  trigger(): void {
    if (this.#stopped) return;
    this.#recent.push(performance.now());
    if (this.#recent.length > this.#burstTriggers) this.#recent.shift();
    if (this.#running !== undefined) {
      this.#dirty = true;
      return;
    }
    const delay = this.#nextDelay();
    // A burst that begins while a short wait runs gets the longer wait instead (once: a stream of
    // triggers never pushes a waiting pass further out). A held pass waits for its hold anyway.
    if (this.#timer !== undefined && !this.#held && delay > this.#timerDelay) clearTimeout(this.#timer);
    else if (this.#timer !== undefined) return;
    this.#schedule(delay);
  }

  #schedule(delay: number): void {
    const hold = this.#holdMs();
    const now = performance.now();
    if (!this.#held && hold > delay) this.#heldFrom = now + delay;
    this.#held = hold > delay;
    this.#timerDelay = delay;
    this.#timer = setTimeout(() => this.#start(), Math.max(delay, hold));
  }

  /** The last commit is applied: a pass held for it starts now (after its own short delay). */
  release(): void {
    if (this.#timer === undefined || !this.#held || this.#stopped) return;
    clearTimeout(this.#timer);
    this.#held = false;
    this.#onHeld?.(Math.max(0, performance.now() - this.#heldFrom));
    this.#schedule(this.#nextDelay());
  }

  #start(): void {
    this.#timer = undefined;
    if (this.#held) this.#onHeld?.(Math.max(0, performance.now() - this.#heldFrom));
    this.#held = false;
    this.#dirty = false;
    this.#running = retryForever(() => this.#run(), {
      signal: this.#abort.signal,
      wake: this.#wake,
      onFailure: (error, retryInMs) => this.#onError(error, retryInMs),
    }).then(
      () => this.#finish(),
      () => this.#finish(), // only when stopped
    );
  }

  #finish(): void {
    this.#running = undefined;
    if (this.#stopped) return;
    if (this.#dirty) this.#schedule(this.#nextDelay());
  }

  /**
   * What made passes fail is back (the store answers again, a lease was granted, the event stream is
   * followed again): a pass waiting out its backoff runs now, so that routes return at once.
   */
  wake(): void {
    this.#wake.wake();
  }

  /** Stops scheduling and waits for a pass under way to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#abort.abort(new Error('stopped'));
    this.#wake.wake();
    await this.#running;
  }
}
