import { DockerApiError } from '../../src/docker/docker-api-error.ts';
import { limitCall } from '../../src/docker/docker-call-limit.ts';
import type { CallOptions, DockerEngine, EventStream, EventSubscription } from '../../src/docker/docker-engine.ts';
import type {
  ContainerInspect,
  ContainerSummary,
  EngineEvent,
  EngineInfo,
  NetworkSummary,
  SwarmNode,
  SwarmService,
  SwarmTask,
} from '../../src/docker/inspect-types.ts';
import { summaryOf } from './engine-json.ts';

type Call = keyof DockerEngine;
interface SwarmState {
  clusterId: string;
  services: SwarmService[];
  tasks: SwarmTask[];
  networks: NetworkSummary[];
  nodes: SwarmNode[];
}

/** How the real adapter names each call in its errors. */
const CALLS: Record<Call, { operation: string; path: string }> = {
  ping: { operation: 'ping', path: 'GET /_ping' },
  info: { operation: 'get engine info', path: 'GET /info' },
  listContainers: { operation: 'list containers', path: 'GET /containers/json' },
  inspectContainer: { operation: 'inspect container', path: 'GET /containers/{id}/json' },
  listServices: { operation: 'list services', path: 'GET /services' },
  listRunningTasks: { operation: 'list tasks', path: 'GET /tasks' },
  listSwarmNetworks: { operation: 'list swarm networks', path: 'GET /networks' },
  listNodes: { operation: 'list nodes', path: 'GET /nodes' },
  followEvents: { operation: 'follow events', path: 'GET /events' },
};

/** What an injected fault does to the next call: fail with this cause, or never answer (until the limit). */
export type Fault = Error | 'no answer';

/** An engine error with the HTTP status the real one carries (`statusCode`, as docker-modem sets it). */
export function engineError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode });
}

/**
 * A hand-written Docker engine for unit tests of what sits behind the DockerEngine port (the
 * source, the change feed, the inspect cache, reconnects): containers, Swarm objects and events
 * are scripted, failures, unanswered calls and dropped streams injected, and every call recorded.
 * Like the real adapter, it holds each call to its limit and raises DockerApiErrors naming the call.
 */
export class FakeDockerEngine implements DockerEngine {
  /** Every container the engine has, by id; `listed: false` ones are inspected but not (yet) listed. */
  readonly #containers = new Map<string, { inspect: ContainerInspect; listed: boolean }>();
  #swarm: SwarmState | undefined;
  readonly #faults = new Map<Call, Fault[]>();
  readonly #afterCall = new Map<Call, (() => void)[]>();
  readonly #streams = new Set<{ subscription: EventSubscription; end: (error?: Error) => void }>();
  readonly #limitMs: number;
  readonly #answerMs: number;
  #inFlight = 0;

  /** Every call, in order: `listContainers`, `inspectContainer web-1`. */
  readonly calls: string[] = [];
  /** The most calls that were waiting for their answers at once. */
  maxInFlight = 0;

  /**
   * `limitMs` is the engine's limit, as --docker-timeout-seconds sets it for the real one; calls
   * answer after `answerMs` (0: in the next turn of the event loop), long enough to overlap when
   * concurrency is measured.
   */
  constructor(options: { limitMs?: number; answerMs?: number } = {}) {
    this.#limitMs = options.limitMs ?? 1_000;
    this.#answerMs = options.answerMs ?? 0;
  }

  // Scripting what the engine has.

  /** Creates (or replaces) a container; unlisted ones answer inspects but are missing from listings. */
  add(inspect: ContainerInspect, options: { listed?: boolean } = {}): ContainerInspect {
    this.#containers.set(inspect.Id, { inspect, listed: options.listed ?? true });
    return inspect;
  }

  /** Changes a container in place (a restart with a new address, a health change). */
  update(id: string, change: (inspect: ContainerInspect) => ContainerInspect): void {
    const known = this.#containers.get(id);
    if (known === undefined) throw new Error(`the fake engine has no container ${id}`);
    this.#containers.set(id, { ...known, inspect: change(known.inspect) });
  }

  remove(id: string): void {
    this.#containers.delete(id);
  }

  /** Makes the engine a Swarm manager with these objects; `undefined` makes it a plain engine. */
  setSwarm(
    swarm:
      | {
          clusterId: string;
          services?: SwarmService[];
          tasks?: SwarmTask[];
          networks?: NetworkSummary[];
          nodes?: SwarmNode[];
        }
      | undefined,
  ): void {
    this.#swarm = swarm === undefined ? undefined : { services: [], tasks: [], networks: [], nodes: [], ...swarm };
  }

  /** Runs `hook` once, right after the next `call` has computed its answer and before it is given (staging races). */
  afterNext(call: Call, hook: () => void): void {
    this.#afterCall.set(call, [...(this.#afterCall.get(call) ?? []), hook]);
  }

  /** The next calls of this kind meet these faults, one each. */
  fail(call: Call, ...faults: Fault[]): void {
    this.#faults.set(call, [...(this.#faults.get(call) ?? []), ...faults]);
  }

  // Events.

  /** Event streams open now. */
  get openStreams(): number {
    return this.#streams.size;
  }

  /** Sends an event to every open stream that asked for its type. */
  emit(event: EngineEvent): void {
    for (const { subscription } of this.#streams)
      if (subscription.types.includes(event.Type ?? '')) subscription.onEvent(event);
  }

  /** Sends a line that is not JSON, as a broken proxy might. */
  emitUnreadable(line: string): void {
    for (const { subscription } of this.#streams) subscription.onUnreadable(line);
  }

  /** Ends every open stream: cleanly (a proxy closing it) or with `error` (the engine restarting). */
  endStreams(error?: Error): void {
    for (const stream of [...this.#streams]) stream.end(error);
  }

  // The port.

  ping(options?: CallOptions): Promise<void> {
    return this.#answer('ping', undefined, options, () => undefined);
  }

  info(options?: CallOptions): Promise<EngineInfo> {
    return this.#answer('info', undefined, options, () =>
      this.#swarm === undefined
        ? { Swarm: { ControlAvailable: false } }
        : // A manager cut off from its quorum answers without its cluster (clusterId '').
          {
            Swarm: {
              ControlAvailable: true,
              ...(this.#swarm.clusterId === '' ? {} : { Cluster: { ID: this.#swarm.clusterId } }),
            },
          },
    );
  }

  listContainers(options?: CallOptions): Promise<ContainerSummary[]> {
    return this.#answer('listContainers', undefined, options, () =>
      [...this.#containers.values()].filter((known) => known.listed).map((known) => summaryOf(known.inspect)),
    );
  }

  inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect | undefined> {
    return this.#answer('inspectContainer', idOrName, options, () => this.#find(idOrName));
  }

  listServices(options?: CallOptions): Promise<SwarmService[]> {
    return this.#answer('listServices', undefined, options, () => this.#manager().services);
  }

  listRunningTasks(options?: CallOptions): Promise<SwarmTask[]> {
    return this.#answer('listRunningTasks', undefined, options, () =>
      this.#manager().tasks.filter((task) => task.DesiredState === 'running'),
    );
  }

  listSwarmNetworks(options?: CallOptions): Promise<NetworkSummary[]> {
    return this.#answer('listSwarmNetworks', undefined, options, () => this.#manager().networks);
  }

  listNodes(options?: CallOptions): Promise<SwarmNode[]> {
    return this.#answer('listNodes', undefined, options, () => this.#manager().nodes);
  }

  followEvents(subscription: EventSubscription, options?: CallOptions): Promise<EventStream> {
    return this.#answer('followEvents', undefined, options, () => {
      let ended = false;
      const stream = {
        subscription,
        end: (error?: Error) => {
          if (ended) return;
          ended = true;
          this.#streams.delete(stream);
          subscription.onEnd(error);
        },
      };
      this.#streams.add(stream);
      return { close: () => stream.end() };
    });
  }

  /** The engine as the real one looks a container up: full id, name (with or without `/`), or unique id prefix. */
  #find(ref: string): ContainerInspect | undefined {
    const all = [...this.#containers.values()].map((known) => known.inspect);
    const exact = all.find((inspect) => inspect.Id === ref || inspect.Name === `/${ref.replace(/^\//, '')}`);
    if (exact !== undefined) return exact;
    const byPrefix = all.filter((inspect) => inspect.Id.startsWith(ref));
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  #manager(): SwarmState {
    if (this.#swarm === undefined) throw engineError(503, 'This node is not a swarm manager.');
    return this.#swarm;
  }

  /** One call as the adapter makes it: recorded, held to its limit, its failure a DockerApiError naming it. */
  async #answer<T>(
    call: Call,
    argument: string | undefined,
    options: CallOptions | undefined,
    compute: () => T,
  ): Promise<T> {
    this.calls.push(argument === undefined ? call : `${call} ${argument}`);
    const { operation, path } = CALLS[call];
    const limitMs = Math.min(options?.limitMs ?? this.#limitMs, this.#limitMs);
    const fault = this.#faults.get(call)?.shift();
    this.#inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    try {
      return await limitCall(path.replace('{id}', argument ?? ''), limitMs, async (signal) => {
        if (fault === 'no answer')
          await new Promise((_resolve, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason as Error)),
          );
        if (fault !== undefined) throw fault;
        // Never at once, even when `answerMs` is 0: a real answer arrives in a later turn of the event loop.
        await new Promise((resolve) => setTimeout(resolve, this.#answerMs));
        const answer = compute();
        for (const hook of this.#afterCall.get(call)?.splice(0) ?? []) hook();
        return answer;
      });
    } catch (error) {
      throw new DockerApiError(argument === undefined ? operation : `${operation} ${argument}`, error);
    } finally {
      this.#inFlight--;
    }
  }
}
