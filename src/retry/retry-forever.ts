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
}

/**
 * Runs `attempt` until it succeeds, waiting between failures with exponential backoff and jitter
 * (p-retry: factor 2, randomized between 1 and 2 times, capped). The one retry loop of the
 * daemon: the etcd connection, the Docker event stream, a lost lease and failed passes all use it,
 * so they back off alike and many instances that lost etcd at once do not return in step.
 */
export function retryForever<T>(attempt: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
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
      factor: 2,
      minTimeout: options.minMs ?? 100,
      maxTimeout: options.maxMs ?? 10_000,
      randomize: true,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onFailedAttempt: ({ error, attemptNumber, retryDelay }) => options.onFailure?.(error, retryDelay, attemptNumber),
    },
  );
}
