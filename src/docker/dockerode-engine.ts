import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import Dockerode from 'dockerode';
import { DockerApiError } from './docker-api-error.ts';
import { DEFAULT_DOCKER_TIMEOUT_MS, limitCall } from './docker-call-limit.ts';
import { dockerConnectionFromEnv } from './docker-connection.ts';
import type { CallOptions, DockerEngine, EventStream, EventSubscription } from './docker-engine.ts';
import type {
  ContainerInspect,
  ContainerSummary,
  EngineEvent,
  EngineInfo,
  NetworkSummary,
  SwarmNode,
  SwarmService,
  SwarmTask,
} from './inspect-types.ts';

/**
 * dockerode's ping and info take options (and pass `abortSignal` on) like its other calls, but
 * @types/dockerode declares them without.
 */
interface WithOptions {
  ping(options: { abortSignal: AbortSignal }): Promise<unknown>;
  info(options: { abortSignal: AbortSignal }): Promise<EngineInfo>;
}

/**
 * The DockerEngine port over dockerode: the one module that knows dockerode. dockerode's answers
 * are the engine's JSON as it came, so they are handed on as the project's structural types.
 *
 * Each call is held to its limit with an AbortSignal of its own (dockerode passes `abortSignal`
 * down to the request), so no private part of docker-modem is touched.
 */
export class DockerodeEngine implements DockerEngine {
  readonly #docker: Dockerode;
  readonly #limitMs: number;

  /** `docker` is used as it is; tests give one they also use for their own calls. */
  constructor(docker: Dockerode, limitMs: number = DEFAULT_DOCKER_TIMEOUT_MS) {
    this.#docker = docker;
    this.#limitMs = limitMs;
  }

  /** The engine the environment names (see dockerConnectionFromEnv), every call limited to `limitMs`. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, limitMs: number = DEFAULT_DOCKER_TIMEOUT_MS): DockerodeEngine {
    return new DockerodeEngine(new Dockerode(dockerConnectionFromEnv(env)), limitMs);
  }

  async ping(options?: CallOptions): Promise<void> {
    await this.#call('ping', 'GET /_ping', options, (abortSignal) =>
      (this.#docker as WithOptions).ping({ abortSignal }),
    );
  }

  info(options?: CallOptions): Promise<EngineInfo> {
    return this.#call('get engine info', 'GET /info', options, (abortSignal) =>
      (this.#docker as WithOptions).info({ abortSignal }),
    );
  }

  listContainers(options?: CallOptions): Promise<ContainerSummary[]> {
    return this.#call('list containers', 'GET /containers/json', options, (abortSignal) =>
      this.#docker.listContainers({ all: true, abortSignal }),
    );
  }

  async inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect | undefined> {
    try {
      return await this.#call(
        `inspect container ${idOrName}`,
        `GET /containers/${idOrName}/json`,
        options,
        (abortSignal) => this.#docker.getContainer(idOrName).inspect({ abortSignal }),
      );
    } catch (error) {
      if (error instanceof DockerApiError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  listServices(options?: CallOptions): Promise<SwarmService[]> {
    return this.#call(
      'list services',
      'GET /services',
      options,
      async (abortSignal) => (await this.#docker.listServices({ abortSignal })) as unknown as SwarmService[],
    );
  }

  listRunningTasks(options?: CallOptions): Promise<SwarmTask[]> {
    return this.#call(
      'list tasks',
      'GET /tasks',
      options,
      async (abortSignal) =>
        (await this.#docker.listTasks({ filters: { 'desired-state': ['running'] }, abortSignal })) as SwarmTask[],
    );
  }

  listSwarmNetworks(options?: CallOptions): Promise<NetworkSummary[]> {
    return this.#call(
      'list swarm networks',
      'GET /networks',
      options,
      async (abortSignal) =>
        (await this.#docker.listNetworks({ filters: { scope: ['swarm'] }, abortSignal })) as NetworkSummary[],
    );
  }

  listNodes(options?: CallOptions): Promise<SwarmNode[]> {
    return this.#call(
      'list nodes',
      'GET /nodes',
      options,
      async (abortSignal) => (await this.#docker.listNodes({ abortSignal })) as SwarmNode[],
    );
  }

  async followEvents(subscription: EventSubscription, options?: CallOptions): Promise<EventStream> {
    const filters = JSON.stringify({ type: subscription.types });
    // The signal stays with the request, but it aborts only when the limit passes before the headers.
    const stream = (await this.#call('follow events', 'GET /events', options, (abortSignal) =>
      this.#docker.getEvents({ filters, abortSignal }),
    )) as Readable;
    // readline decodes UTF-8 across chunk boundaries: a character cut in two by the transport stays whole.
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    let ended = false;
    const end = (error?: Error) => {
      if (ended) return;
      ended = true;
      lines.close();
      subscription.onEnd(error);
    };
    // readline re-emits the stream's errors; the stream's own handler below reports them.
    lines.on('error', () => undefined);
    lines.on('line', (line) => {
      const text = line.trim();
      if (text === '') return;
      let event: EngineEvent;
      try {
        event = JSON.parse(text) as EngineEvent;
      } catch {
        subscription.onUnreadable(text);
        return;
      }
      subscription.onEvent(event);
    });
    stream.on('end', () => end());
    stream.on('close', () => end());
    stream.on('error', (error: Error) => end(error));
    return { close: () => stream.destroy() };
  }

  /** One call under the limit, its failure a DockerApiError naming `operation`. */
  async #call<T>(
    operation: string,
    call: string,
    options: CallOptions | undefined,
    run: (abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const limitMs = Math.min(options?.limitMs ?? this.#limitMs, this.#limitMs);
    try {
      return await limitCall(call, limitMs, run);
    } catch (error) {
      throw new DockerApiError(operation, error);
    }
  }
}
