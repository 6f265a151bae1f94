import type { Logger } from 'pino';
import type { WorkloadChange } from '../sync/workload-changes.ts';
import type { DockerEngine } from './docker-engine.ts';
import { managedSwarmCluster } from './swarm-cluster.ts';
import { DockerEventWatcher, type DockerEvent, type EventWatcherTimings } from './docker-events.ts';

/**
 * How often Swarm tasks are checked: task changes on other nodes send no event here. A task that
 * Swarm stops is marked for shutdown on the managers, then its node waits 2 s before sending it
 * SIGTERM (moby's `defaultGossipConvergeDelay`, after taking it out of Swarm's own load balancing):
 * the writer must see it, write and let Traefik apply within that window, wherever the task runs,
 * so that no request reaches a process that stopped listening. Hence well under 2 s.
 */
const SWARM_POLL_MS = 500;
/**
 * A large Swarm makes each listing dearer: the next one waits at least this many times as long as
 * the last one took, so that polling costs the engine and this process a tenth of their time at most.
 */
const SWARM_POLL_COST_FACTOR = 10;
/** Whether this engine is a Swarm manager is asked this often (it changes on promote and demote). */
const SWARM_ROLE_CHECK_MS = 2000;

/** How long after a Swarm poll that took `tookMs` the next one starts (see SWARM_POLL_MS). */
export function nextSwarmPollDelay(tookMs: number): number {
  return Math.max(SWARM_POLL_MS, SWARM_POLL_COST_FACTOR * tookMs) - tookMs;
}

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
  #stopped = false;
  /** The cluster's id while this engine is a manager (else undefined), as of `checkedAt`. */
  #manager: { clusterId: string | undefined; checkedAt: number } | undefined;

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
  }

  /** One poll, then the next one scheduled after it (never two at once). */
  async #pollSwarm(): Promise<void> {
    const started = performance.now();
    try {
      await this.#checkSwarm();
    } catch (error) {
      // The engine may have been demoted, or be another one now: ask its role again first.
      this.#manager = undefined;
      this.#log.debug({ err: error }, 'Swarm poll failed');
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#pollSwarm(), nextSwarmPollDelay(performance.now() - started));
  }

  async #checkSwarm(): Promise<void> {
    const now = performance.now();
    if (this.#manager === undefined || now - this.#manager.checkedAt >= SWARM_ROLE_CHECK_MS) {
      // Before the tasks are read: an engine demoted since the last check must stop the Swarm part.
      const clusterId = managedSwarmCluster(await this.#engine.info());
      this.#manager = { clusterId, checkedAt: now };
      this.#handlers.onSwarmManager?.(clusterId);
    }
    if (this.#manager.clusterId === undefined) return;
    const tasks = await this.#engine.listRunningTasks();
    const signature = tasks
      .map((task) => `${task.ID}:${task.Version?.Index ?? 0}`)
      .sort()
      .join(',');
    if (signature !== this.#swarmSignature) {
      this.#swarmSignature = signature;
      this.#handlers.onChange({ kind: 'swarm' });
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
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
