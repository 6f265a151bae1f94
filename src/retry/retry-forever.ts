import pRetry, { AbortError } from 'p-retry';

export interface RetryOptions {
  /** First delay (default 100 ms); each failure doubles it, with jitter, up to `maxMs`. */
  readonly minMs?: number;
  /** Longest delay between attempts (default 10 s). */
  readonly maxMs?: number;
  /** Ends the retrying: the returned promise then rejects with the abort reason. */
  readonly signal?: AbortSignal;
  /** Told about each failure before the wait (a log line, a metric). */
  readonly onFailure?: (error: unknown, retryInMs: number, attempt: number) => void;
  /** An error retrying cannot cure: the promise rejects with it at once. */
  readonly isFatal?: (error: unknown) => boolean;
  /** Cuts the wait short: the next attempt runs as soon as it is woken (what failed is back). */
  readonly wake?: Wake;
}

/** A wait that ends at its time, or earlier when woken. */
export class Wake {
  #resolve: (() => void) | undefined;

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.#resolve === done) this.#resolve = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#resolve = done;
    });
  }

  /** Ends the wait under way, if any. */
  wake(): void {
    this.#resolve?.();
  }
}

/** The delay before attempt `attempt + 1`: exponential, randomized between 1 and 2 times, capped. */
function backoffMs(attempt: number, minMs: number, maxMs: number): number {
  return Math.round(Math.min(maxMs, minMs * 2 ** (attempt - 1) * (1 + Math.random())));
}

/**
 * Runs `attempt` until it succeeds, waiting between failures with exponential backoff and jitter
 * (factor 2, randomized between 1 and 2 times, capped), the loop itself p-retry's. The one retry
 * loop of the daemon: the etcd connection, the Docker event stream, a lost lease and failed passes
 * all use it, so they back off alike and many instances that lost etcd at once do not return in
 * step. The wait is this module's (p-retry's own is zero), so that a `wake` can cut it short.
 */
export function retryForever<T>(attempt: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const minMs = options.minMs ?? 100;
  const maxMs = options.maxMs ?? 10_000;
  const wake = options.wake ?? new Wake();
  return pRetry(
    async () => {
      try {
        return await attempt();
      } catch (error) {
        if (options.isFatal?.(error) === true) throw new AbortError(error as Error);
        // p-retry gives up at once on a TypeError (a bug, to it); a loop that must not end retries it too.
        if (error instanceof TypeError) throw new Error(error.message, { cause: error });
        throw error instanceof Error ? error : new Error(String(error));
      }
    },
    {
      retries: Infinity,
      minTimeout: 0,
      maxTimeout: 0,
      randomize: false,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onFailedAttempt: async ({ error, attemptNumber }) => {
        const delay = backoffMs(attemptNumber, minMs, maxMs);
        options.onFailure?.(error, delay, attemptNumber);
        if (options.signal?.aborted === true) return;
        await wake.wait(delay);
      },
    },
  );
}
