/** How long one Docker call may take by default: long enough for an engine busy starting hundreds of containers. */
export const DEFAULT_DOCKER_TIMEOUT_MS = 30_000;

/**
 * A Docker call got no (complete) answer within its limit: the engine is wedged, overloaded or not what the socket
 * leads to.
 */
export class DockerCallTimeoutError extends Error {
  constructor(call: string, limitMs: number) {
    super(`${call}: no answer from the Docker engine within ${limitMs} ms`);
    this.name = 'DockerCallTimeoutError';
  }
}

/** A call as errors name it: method and path, without the query (`GET /containers/json`). */
export function dockerCallName(method: string | undefined, path: string | undefined): string {
  return `${method ?? 'GET'} ${(path ?? '').replace(/\?.*$/, '')}`;
}

/**
 * Holds one call to `limitMs`: it rejects with a DockerCallTimeoutError when the limit passes, and
 * the signal given to `run` aborts then, so that the request is destroyed rather than left to
 * answer nobody. docker-modem's own `timeout` is no substitute: it is a socket idle timer, which
 * would also cut an event stream that is quiet because nothing happens, and never cuts an answer
 * that trickles in. So `run` decides what the limit covers by when it resolves: a plain call once
 * its whole answer has arrived, a stream once its headers have.
 */
export async function limitCall<T>(
  call: string,
  limitMs: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = new DockerCallTimeoutError(call, limitMs);
      // Rejected first: the aborted request's own error must not be what the caller sees.
      reject(error);
      controller.abort(error);
    }, limitMs);
  });
  try {
    return await Promise.race([run(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
