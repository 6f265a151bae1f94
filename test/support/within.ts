// Every wait in the tests has a limit, and a limit that is hit says what was awaited: the
// operation, the thing it was about, and for how long. A test that hangs is a run that lands nothing.
import pTimeout from 'p-timeout';

/** Awaits `work`, or fails after `ms` with "<what>: no answer within <ms> ms". */
export function within<T>(what: string, ms: number, work: Promise<T> | (() => Promise<T>)): Promise<T> {
  const promise = typeof work === 'function' ? work() : work;
  return pTimeout(promise, { milliseconds: ms, message: `${what}: no answer within ${ms} ms` });
}

/**
 * Polls `condition` every 5 ms until it holds; fails naming what was awaited once `ms` have passed (for logic behind a
 * port, in unit tests).
 */
export async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Default limit of one HTTP request made by a test (Traefik's API, a daemon's /readyz, a route). */
export const HTTP_LIMIT_MS = 10_000;

/**
 * fetch with a limit on the whole exchange, body included; the error names the method, the URL
 * and the limit (fetch's own says only "This operation was aborted").
 */
export async function fetchWithin(url: string, init: RequestInit = {}, ms = HTTP_LIMIT_MS): Promise<Response> {
  const what = `${init.method ?? 'GET'} ${url}`;
  const limit = AbortSignal.timeout(ms);
  // A caller's own signal still counts, beside the limit.
  const signal = init.signal ? AbortSignal.any([init.signal, limit]) : limit;
  try {
    const response = await fetch(url, { ...init, signal });
    // Read the body now, under the same limit, so that a caller's .text() or .json() cannot hang.
    const body = await response.arrayBuffer();
    const bodiless = [101, 204, 205, 304].includes(response.status);
    return new Response(bodiless ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  } catch (error) {
    if (limit.aborted) throw new Error(`${what}: no answer within ${ms} ms`, { cause: error });
    throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
  }
}
