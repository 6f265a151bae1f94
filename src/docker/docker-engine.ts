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

/** What one call may ask of the engine beyond the call itself. */
export interface CallOptions {
  /**
   * A shorter limit for this call than the engine's own (the event watcher's ping). It can only
   * shorten: the engine's limit is what the operator set with --docker-timeout-seconds.
   */
  readonly limitMs?: number;
}

/** What the engine's event stream is asked for, and where what it sends goes. */
export interface EventSubscription {
  /** Event types to receive (`container`, `network`, ...): the engine filters the rest out. */
  readonly types: readonly string[];
  readonly onEvent: (event: EngineEvent) => void;
  /** A line that is not JSON: skipped, but worth a log line. */
  readonly onUnreadable: (line: string) => void;
  /**
   * Called once when the stream is over: it ended, failed (`error`), or was closed. Events missed
   * after this are the caller's to recover (a full listing).
   */
  readonly onEnd: (error?: Error) => void;
}

/** An open event stream. */
export interface EventStream {
  /** Ends the stream; `onEnd` follows. */
  close(): void;
}

/**
 * The Docker engine as appproxy uses it: exactly the calls it makes, over the project's own types
 * (inspect-types.ts), so that nothing past this port knows dockerode and unit tests can stand a
 * hand-written engine in for the real one (test/support/fake-docker-engine.ts).
 *
 * Every call has a time limit (the engine's, or a shorter one in CallOptions): a plain call until
 * its whole answer has arrived, the event stream until the engine accepts it. Every failure is a
 * DockerApiError naming the operation; one caused by the limit carries a DockerCallTimeoutError.
 */
export interface DockerEngine {
  /** `GET /_ping`: the engine answers at all. */
  ping(options?: CallOptions): Promise<void>;
  /** `GET /info`. */
  info(options?: CallOptions): Promise<EngineInfo>;
  /** `GET /containers/json?all=1`: every container, running or not. */
  listContainers(options?: CallOptions): Promise<ContainerSummary[]>;
  /** `GET /containers/{id}/json` by id, name or unique id prefix; undefined when there is no such container. */
  inspectContainer(idOrName: string, options?: CallOptions): Promise<ContainerInspect | undefined>;
  /** `GET /services` (Swarm managers only). */
  listServices(options?: CallOptions): Promise<SwarmService[]>;
  /** `GET /tasks` whose desired state is running (Swarm managers only). */
  listRunningTasks(options?: CallOptions): Promise<SwarmTask[]>;
  /** `GET /networks` of Swarm scope. */
  listSwarmNetworks(options?: CallOptions): Promise<NetworkSummary[]>;
  /** `GET /nodes` (Swarm managers only). */
  listNodes(options?: CallOptions): Promise<SwarmNode[]>;
  /** `GET /events`: resolves once the engine has accepted the stream. */
  followEvents(subscription: EventSubscription, options?: CallOptions): Promise<EventStream>;
}
