import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a backend saw of one request. */
export interface EchoReply {
  readonly backend: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface EchoBackend {
  readonly id: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * HTTP servers on loopback that answer each request with their id and the path they received (status 200, or the one
 * `/status/<code>` asks for).
 */
export async function startEchoBackends(count: number): Promise<EchoBackend[]> {
  const backends: EchoBackend[] = [];
  for (let index = 0; index < count; index += 1) {
    const id = `backend-${index + 1}`;
    const server: Server = createServer((request, response) => {
      const reply: EchoReply = { backend: id, path: request.url ?? '', headers: request.headers };
      // `/status/<code>` answers with that status, for middlewares that act on a backend's errors.
      const status = /^\/status\/([1-5]\d\d)$/.exec(request.url ?? '')?.[1];
      if (status !== undefined) response.statusCode = Number(status);
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(reply));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    backends.push({ id, port, close: () => new Promise((resolve) => server.close(() => resolve())) });
  }
  return backends;
}
