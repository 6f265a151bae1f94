import type { Logger } from 'pino';
import type { WorkloadChange } from '../sync/workload-changes.ts';
import type { DockerEngine } from './docker-engine.ts';
import { DockerEventWatcher, type DockerEvent, type EventWatcherTimings } from './docker-events.ts';

/** How often Swarm services and tasks are checked: task changes on other nodes send no event here. */
const SWARM_POLL_MS = 2000;

export interface DockerChangeHandlers {
  /** Something changed; `change` says what to read again. */
  readonly onChange: (change: WorkloadChange) => void;
  /** Whether the engine's event stream is followed (and the engine answers). */
  readonly onConnection: (connected: boolean) => void;
  readonly onEvent?: (event: DockerEvent) => void;
  /** After each Swarm poll: the cluster's id when this engine is a Swarm manager, else undefined. */
  readonly onSwarmManager?: (clusterId: string | undefined) => void;
}

/**
 * What changes on a Docker engine, as the sync engine needs to know it: the event stream (a
 * container event names that container, a network event the container it is about, a service or
 * node event the Swarm part) and a cheap poll of Swarm task versions, which is the only way to see
 * tasks change on other nodes. A (re)connected stream may have missed events: that is `all`.
 */
export class DockerChanges {
  readonly #engine: DockerEngine;
  readonly #log: Logger;
  readonly #handlers: DockerChangeHandlers;
  readonly #events: DockerEventWatcher;
  #timer: NodeJS.Timeout | undefined;
  #swarmSignature = '';
  #polling = false;

  constructor(engine: DockerEngine, logger: Logger, handlers: DockerChangeHandlers, timings?: EventWatcherTimings) {
    this.#engine = engine;
    this.#log = logger;
    this.#handlers = handlers;
    this.#events = new DockerEventWatcher(
      engine,
      logger.child({ component: 'docker-events' }),
      (event) => {
        handlers.onEvent?.(event);
        this.#handlers.onChange(changeOf(event));
      },
      (connected) => {
        handlers.onConnection(connected);
        if (connected) handlers.onChange({ kind: 'all' });
      },
      timings,
    );
  }

  start(): void {
    this.#events.start();
    void this.#pollSwarm();
    this.#timer = setInterval(() => void this.#pollSwarm(), SWARM_POLL_MS);
  }

  async #pollSwarm(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const info = await this.#engine.info();
      const manager = info.Swarm?.ControlAvailable === true;
      this.#handlers.onSwarmManager?.(manager ? (info.Swarm?.Cluster?.ID ?? '') : undefined);
      if (!manager) return;
      const tasks = await this.#engine.listRunningTasks();
      const signature = tasks
        .map((task) => `${task.ID}:${task.Version?.Index ?? 0}`)
        .sort()
        .join(',');
      if (signature !== this.#swarmSignature) {
        this.#swarmSignature = signature;
        this.#handlers.onChange({ kind: 'swarm' });
      }
    } catch (error) {
      this.#log.debug({ err: error }, 'Swarm poll failed');
    } finally {
      this.#polling = false;
    }
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#events.stop();
  }
}

function changeOf(event: DockerEvent): WorkloadChange {
  // A task container is routed through its service: the Swarm part is read again.
  if (event.type === 'container')
    return event.swarmService === undefined ? { kind: 'containers', ids: [event.id] } : { kind: 'swarm' };
  if (event.type === 'network')
    return event.container === undefined ? { kind: 'all' } : { kind: 'containers', ids: [event.container] };
  return { kind: 'swarm' };
}
