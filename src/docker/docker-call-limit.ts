import type Dockerode from 'dockerode';

/** How long one Docker call may take by default: long enough for an engine busy starting hundreds of containers. */
export const DEFAULT_DOCKER_TIMEOUT_MS = 30_000;

/** A Docker call got no (complete) answer within its limit: the engine is wedged, overloaded or not what the socket leads to. */
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

interface DialOptions {
  path?: string;
  method?: string;
  isStream?: boolean;
  hijack?: boolean;
  abortSignal?: AbortSignal;
}
type DialCallback = (error: unknown, data?: unknown) => void;
interface Dialer {
  dial(options: DialOptions, callback: DialCallback): void;
}

/**
 * Gives every request of this client a time limit, in the one place all of dockerode's calls pass
 * through (docker-modem's `dial`). docker-modem's own `timeout` is a socket idle timer, which would
 * also cut an event stream that is quiet because nothing happens; here the limit covers a plain
 * call until its whole answer has arrived, and a stream until its headers have (a stream's liveness
 * after that is its reader's job: see DockerEventWatcher). A caller that passes its own
 * `abortSignal` (a `container.wait()` that may rightly take minutes) sets its own limit instead.
 */
export function limitDockerCalls<T extends Dockerode>(docker: T, limitMs: number = DEFAULT_DOCKER_TIMEOUT_MS): T {
  const modem = docker.modem as unknown as Dialer;
  const dial = modem.dial.bind(modem);
  modem.dial = (options: DialOptions, callback: DialCallback) => {
    if (options.abortSignal !== undefined || options.hijack === true) {
      dial(options, callback);
      return;
    }
    const controller = new AbortController();
    const call = dockerCallName(options.method, options.path);
    let finished = false;
    const finish: DialCallback = (error, data) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      callback(error, data);
    };
    const timer = setTimeout(() => {
      const error = new DockerCallTimeoutError(call, limitMs);
      finish(error);
      controller.abort(error);
    }, limitMs);
    dial({ ...options, abortSignal: controller.signal }, finish);
  };
  return docker;
}
