import { createServer, request, type Server } from 'node:http';
import type { Logger } from 'pino';
import { allowedRequest } from './read-only-rules.ts';

/**
 * A read-only Docker API proxy: forwards the GET requests appproxy needs to the engine's socket
 * (streaming, for the event stream) and refuses everything else with 403. It lets the sidecar run
 * without the Docker socket, which would give it root on the host.
 */
export function createDockerProxy(socketPath: string, logger: Logger): Server {
  return createServer((incoming, outgoing) => {
    if (!allowedRequest(incoming.method, incoming.url)) {
      logger.warn({ method: incoming.method, url: incoming.url }, 'refused: not a read-only request appproxy needs');
      outgoing.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'appproxy docker-proxy: read-only; this request is not allowed' }));
      return;
    }
    const upstream = request({ socketPath, path: incoming.url, method: incoming.method, headers: incoming.headers }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    upstream.on('error', (error) => {
      logger.warn({ err: error }, 'Docker engine unreachable');
      if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `Docker engine unreachable: ${error.message}` }));
      else outgoing.destroy();
    });
    incoming.on('close', () => upstream.destroy());
    upstream.end();
  });
}
