import type { Logger } from 'pino';
import { retryForever } from '../retry/retry-forever.ts';
import type { DockerEngine, EventStream } from './docker-engine.ts';
import type { EngineEvent } from './inspect-types.ts';

/** The Docker events that can change what is routed. */
const RELEVANT: Record<string, readonly string[] | 'all'> = {
  container: ['start', 'die', 'stop', 'kill', 'destroy', 'rename', 'update', 'pause', 'unpause', 'health_status'],
  network: ['connect', 'disconnect'],
  service: 'all',
  node: 'all',
};

export interface DockerEvent {
  readonly type: string;
  readonly action: string;
  readonly id: string;
  /** The container a network event is about (`Actor.Attributes.container`). */
  readonly container?: string;
  /** A container event of a Swarm task: its service (container labels come with the event). */
  readonly swarmService?: string;
}

export interface EventWatcherTimings {
  /** How often the engine is asked `GET /_ping` while the stream is quiet. */
  readonly pingIntervalMs: number;
  /** How long that ping may take before the engine counts as gone. */
  readonly pingLimitMs: number;
}

const DEFAULT_TIMINGS: EventWatcherTimings = { pingIntervalMs: 10_000, pingLimitMs: 5_000 };

/**
 * Follows the engine's event stream. When the stream ends or fails (engine restart, a proxy
 * closing it), it reconnects with backoff and reports `connected` again, so that the caller
 * resyncs: events missed in between are covered by the full reconcile.
 *
 * An open stream proves nothing by itself: a wedged engine keeps its sockets open and sends
 * nothing, which looks exactly like a quiet one. So while the stream is open the engine is pinged;
 * a ping that gets no answer in time ends the stream, reports `disconnected`, and reconnects.
 */
export class DockerEventWatcher {
  readonly #engine: DockerEngine;
  readonly #log: Logger;
  readonly #onEvent: (event: DockerEvent) => void;
  readonly #onConnection: (connected: boolean) => void;
  #stream: EventStream | undefined;
  #stopped = false;
  readonly #abort = new AbortController();

  readonly #timings: EventWatcherTimings;

  constructor(
    engine: DockerEngine,
    logger: Logger,
    onEvent: (event: DockerEvent) => void,
    onConnection: (connected: boolean) => void,
    timings: EventWatcherTimings = DEFAULT_TIMINGS,
  ) {
    this.#engine = engine;
    this.#timings = timings;
    this.#log = logger;
    this.#onEvent = onEvent;
    this.#onConnection = onConnection;
  }

  start(): void {
    void this.#loop();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      let followed: { stream: EventStream; ended: Promise<void> };
      try {
        followed = await retryForever(() => this.#connect(), {
          signal: this.#abort.signal,
          onFailure: (error, retryInMs) => {
            this.#log.warn({ err: error, retryInMs }, 'Docker event stream unavailable');
            this.#onConnection(false);
          },
        });
      } catch {
        return; // stopped
      }
      this.#onConnection(true);
      await this.#follow(followed.stream, followed.ended);
      if (this.#stopped) return;
      this.#log.warn('Docker event stream ended; reconnecting');
      this.#onConnection(false);
      // A stream that ends as soon as it opens (a proxy that closes it) must not spin.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async #connect(): Promise<{ stream: EventStream; ended: Promise<void> }> {
    let onEnd!: (error?: Error) => void;
    const ended = new Promise<void>((resolve) => {
      onEnd = (error) => {
        if (error !== undefined) this.#log.warn({ err: error }, 'Docker event stream failed');
        resolve();
      };
    });
    const stream = await this.#engine.followEvents({
      types: Object.keys(RELEVANT),
      onEvent: (event) => this.#handle(event),
      onUnreadable: (line) => this.#log.warn({ line: line.slice(0, 200) }, 'unreadable Docker event skipped'),
      onEnd,
    });
    if (this.#stopped) stream.close();
    this.#stream = stream;
    return { stream, ended };
  }

  async #follow(stream: EventStream, ended: Promise<void>): Promise<void> {
    let over = false;
    const heartbeat = setInterval(() => void this.#ping(stream, () => over), this.#timings.pingIntervalMs);
    try {
      await ended;
    } finally {
      over = true;
      clearInterval(heartbeat);
    }
  }

  async #ping(stream: EventStream, over: () => boolean): Promise<void> {
    try {
      await this.#engine.ping({ limitMs: this.#timings.pingLimitMs });
    } catch (error) {
      if (this.#stopped || over()) return;
      this.#log.warn(
        { err: error },
        'Docker engine stopped answering; the event stream is no longer trusted, reconnecting',
      );
      stream.close();
    }
  }

  #handle(event: EngineEvent): void {
    const type = event.Type ?? '';
    const action = (event.Action ?? '').split(':')[0] ?? '';
    const wanted = RELEVANT[type];
    if (wanted === undefined || (wanted !== 'all' && !wanted.includes(action))) return;
    const container = event.Actor?.Attributes?.['container'];
    const swarmService = type === 'container' ? event.Actor?.Attributes?.['com.docker.swarm.service.id'] : undefined;
    this.#onEvent({
      type,
      action,
      id: event.Actor?.ID ?? '',
      ...(container === undefined ? {} : { container }),
      ...(swarmService === undefined ? {} : { swarmService }),
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#abort.abort(new Error('stopped'));
    this.#stream?.close();
  }
}
