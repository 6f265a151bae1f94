import type Dockerode from 'dockerode';
import {
  DEFAULT_DOCKER_TIMEOUT_MS,
  DockerCallTimeoutError,
  dockerCallName,
} from '../../src/docker/docker-call-limit.ts';

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
 * Gives every request of a test's own dockerode client a time limit. The product's calls go
 * through the DockerEngine port, whose adapter limits each one with public means (an AbortSignal
 * per call). Tests also create, start and remove containers, services and networks through the
 * whole dockerode API, and the one place all of those pass through is docker-modem's private
 * `dial`, so the limit goes there. As in the product, it covers a plain call until its whole answer
 * has arrived and a stream until its headers have. A caller that passes its own `abortSignal` (the
 * product's adapter; a `container.wait()` that may rightly take minutes) sets its own limit instead.
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
