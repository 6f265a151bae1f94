import type Dockerode from 'dockerode';
import pTimeout from 'p-timeout';
import type { Logger } from 'pino';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { retryForever } from '../retry/retry-forever.ts';

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
  readonly #docker: Dockerode;
  readonly #log: Logger;
  readonly #onEvent: (event: DockerEvent) => void;
  readonly #onConnection: (connected: boolean) => void;
  #stream: NodeJS.ReadableStream | undefined;
  #stopped = false;
  readonly #abort = new AbortController();

  readonly #timings: EventWatcherTimings;

  constructor(
    docker: Dockerode,
    logger: Logger,
    onEvent: (event: DockerEvent) => void,
    onConnection: (connected: boolean) => void,
    timings: EventWatcherTimings = DEFAULT_TIMINGS,
  ) {
    this.#docker = docker;
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
      let stream: NodeJS.ReadableStream;
      try {
        stream = await retryForever(() => this.#connect(), {
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
      await this.#follow(stream);
      if (this.#stopped) return;
      this.#log.warn('Docker event stream ended; reconnecting');
      this.#onConnection(false);
      // A stream that ends as soon as it opens (a proxy that closes it) must not spin.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async #connect(): Promise<NodeJS.ReadableStream> {
    const stream = (await this.#docker.getEvents({ filters: JSON.stringify({ type: Object.keys(RELEVANT) }) })) as NodeJS.ReadableStream;
    if (this.#stopped) (stream as Readable).destroy();
    this.#stream = stream;
    return stream;
  }

  #follow(stream: NodeJS.ReadableStream): Promise<void> {
    return new Promise((resolve) => {
      const readable = stream as Readable;
      // readline decodes UTF-8 across chunk boundaries: a character cut in two by the transport stays whole.
      const lines = createInterface({ input: readable, crlfDelay: Infinity });
      const heartbeat = setInterval(() => void this.#ping(readable), this.#timings.pingIntervalMs);
      const done = () => {
        clearInterval(heartbeat);
        lines.close();
        resolve();
      };
      // readline re-emits the stream's errors; the stream's own handler below reports them.
      lines.on('error', () => undefined);
      lines.on('line', (line) => {
        if (line.trim() !== '') this.#handle(line.trim());
      });
      readable.on('end', done);
      readable.on('close', done);
      readable.on('error', (error: Error) => {
        this.#log.warn({ err: error }, 'Docker event stream failed');
        done();
      });
    });
  }

  async #ping(stream: Readable): Promise<void> {
    const { pingLimitMs } = this.#timings;
    try {
      await pTimeout(this.#docker.ping(), { milliseconds: pingLimitMs, message: `GET /_ping: no answer from the Docker engine within ${pingLimitMs} ms` });
    } catch (error) {
      if (this.#stopped || stream.destroyed) return;
      this.#log.warn({ err: error }, 'Docker engine stopped answering; the event stream is no longer trusted, reconnecting');
      stream.destroy();
    }
  }

  #handle(line: string): void {
    let event: { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      this.#log.warn({ line: line.slice(0, 200) }, 'unreadable Docker event skipped');
      return;
    }
    const type = event.Type ?? '';
    const action = (event.Action ?? '').split(':')[0] ?? '';
    const wanted = RELEVANT[type];
    if (wanted === undefined || (wanted !== 'all' && !wanted.includes(action))) return;
    const container = event.Actor?.Attributes?.['container'];
    const swarmService = type === 'container' ? event.Actor?.Attributes?.['com.docker.swarm.service.id'] : undefined;
    this.#onEvent({ type, action, id: event.Actor?.ID ?? '', ...(container === undefined ? {} : { container }), ...(swarmService === undefined ? {} : { swarmService }) });
  }

  stop(): void {
    this.#stopped = true;
    this.#abort.abort(new Error('stopped'));
    const stream = this.#stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    stream?.destroy?.();
  }
}
