// A unix-socket forwarder in front of the Docker engine: `cut()` drops every open connection (the
// event stream included) while the engine itself keeps running, as a proxy restart or a network
// blip would.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class SocketForwarder {
  readonly path: string;
  readonly #dir: string;
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  cuts = 0;

  private constructor(target: string) {
    this.#dir = mkdtempSync(join(tmpdir(), 'appproxy-fwd-'));
    this.path = join(this.#dir, 'docker.sock');
    this.#server = createServer((client) => {
      const upstream = createConnection(target);
      for (const socket of [client, upstream]) {
        this.#open.add(socket);
        socket.on('close', () => this.#open.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  static async start(target: string): Promise<SocketForwarder> {
    const forwarder = new SocketForwarder(target);
    await new Promise<void>((resolve, reject) => forwarder.#server.listen(forwarder.path, resolve).on('error', reject));
    return forwarder;
  }

  /** Destroys every connection open now; new ones are forwarded as before. */
  cut(): number {
    const count = this.#open.size;
    for (const socket of this.#open) socket.destroy();
    this.cuts += 1;
    return count;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
