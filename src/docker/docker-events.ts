import type Dockerode from 'dockerode';
import type { Logger } from 'pino';

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
}

/**
 * Follows the engine's event stream. When the stream ends or fails (engine restart, a proxy
 * closing it), it reconnects with backoff and reports `connected` again, so that the caller
 * resyncs: events missed in between are covered by the full reconcile.
 */
export class DockerEventWatcher {
  readonly #docker: Dockerode;
  readonly #log: Logger;
  readonly #onEvent: (event: DockerEvent) => void;
  readonly #onConnection: (connected: boolean) => void;
  #stream: NodeJS.ReadableStream | undefined;
  #stopped = false;

  constructor(docker: Dockerode, logger: Logger, onEvent: (event: DockerEvent) => void, onConnection: (connected: boolean) => void) {
    this.#docker = docker;
    this.#log = logger;
    this.#onEvent = onEvent;
    this.#onConnection = onConnection;
  }

  start(): void {
    void this.#loop();
  }

  async #loop(): Promise<void> {
    for (let delay = 100; !this.#stopped; ) {
      try {
        const stream = (await this.#docker.getEvents({ filters: JSON.stringify({ type: Object.keys(RELEVANT) }) })) as NodeJS.ReadableStream;
        this.#stream = stream;
        this.#onConnection(true);
        delay = 100;
        await this.#follow(stream);
        if (!this.#stopped) this.#log.warn('Docker event stream ended; reconnecting');
      } catch (error) {
        if (this.#stopped) return;
        this.#log.warn({ err: error, retryInMs: delay }, 'Docker event stream unavailable');
      }
      if (this.#stopped) return;
      this.#onConnection(false);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }

  #follow(stream: NodeJS.ReadableStream): Promise<void> {
    return new Promise((resolve) => {
      let buffer = '';
      stream.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line !== '') this.#handle(line);
          newline = buffer.indexOf('\n');
        }
      });
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', (error: Error) => {
        this.#log.warn({ err: error }, 'Docker event stream failed');
        resolve();
      });
    });
  }

  #handle(line: string): void {
    let event: { Type?: string; Action?: string; Actor?: { ID?: string } };
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
    this.#onEvent({ type, action, id: event.Actor?.ID ?? '' });
  }

  stop(): void {
    this.#stopped = true;
    const stream = this.#stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    stream?.destroy?.();
  }
}
