// A forwarder in front of the Docker engine's unix socket (or, with startTcp, of a TCP service such
// as etcd): `cut()` drops every open connection (the
// event stream included) while the engine itself keeps running, as a proxy restart or a network
// blip would. `wedge()` makes it look like a wedged engine: connections are accepted and kept open,
// and nothing is answered on them, old or new, until `unwedge()`. Nothing real is wedged.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class SocketForwarder {
  /** Where clients connect: a socket path, or `127.0.0.1:<port>` for a TCP forwarder. */
  path: string;
  readonly #dir: string;
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  #wedged = false;
  cuts = 0;

  private constructor(target: string | { host: string; port: number }) {
    this.#dir = mkdtempSync(join(tmpdir(), 'appproxy-fwd-'));
    this.path = join(this.#dir, 'docker.sock');
    this.#server = createServer((client) => {
      this.#open.add(client);
      client.on('close', () => this.#open.delete(client));
      client.on('error', () => undefined);
      if (this.#wedged) {
        // Accepted, read, never answered: what a client of a wedged engine sees.
        client.resume();
        return;
      }
      const upstream =
        typeof target === 'string' ? createConnection(target) : createConnection(target.port, target.host);
      this.#open.add(upstream);
      upstream.on('close', () => this.#open.delete(upstream));
      upstream.on('error', () => undefined);
      // Data passes only while not wedged: an open event stream goes silent, requests on kept-alive
      // connections get no answer.
      client.on('data', (chunk: Buffer) => {
        if (!this.#wedged) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!this.#wedged) client.write(chunk);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  static async start(target: string): Promise<SocketForwarder> {
    const forwarder = new SocketForwarder(target);
    await new Promise<void>((resolve, reject) => forwarder.#server.listen(forwarder.path, resolve).on('error', reject));
    return forwarder;
  }

  /** A TCP forwarder on a free loopback port in front of `host:port`. */
  static async startTcp(host: string, port: number): Promise<SocketForwarder> {
    const forwarder = new SocketForwarder({ host, port });
    await new Promise<void>((resolve, reject) => forwarder.#server.listen(0, '127.0.0.1', resolve).on('error', reject));
    forwarder.path = `127.0.0.1:${(forwarder.#server.address() as { port: number }).port}`;
    return forwarder;
  }

  /** Destroys every connection open now; new ones are forwarded as before. */
  cut(): number {
    const count = this.#open.size;
    for (const socket of this.#open) socket.destroy();
    this.cuts += 1;
    return count;
  }

  /** From now on nothing is answered: open connections go silent, new ones are accepted and ignored. */
  wedge(): void {
    this.#wedged = true;
  }

  /** Answers again: connections opened from now on are forwarded (the silent ones stay silent until closed). */
  unwedge(): void {
    this.#wedged = false;
    for (const socket of this.#open) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
