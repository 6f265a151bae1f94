import { createServer, request, type Server } from 'node:http';
import type { Logger } from 'pino';
import { DEFAULT_DOCKER_TIMEOUT_MS, DockerCallTimeoutError, dockerCallName } from '../docker/docker-call-limit.ts';
import { allowedRequest } from './read-only-rules.ts';

/**
 * A read-only Docker API proxy: forwards the GET requests appproxy needs to the engine's socket
 * (streaming, for the event stream) and refuses everything else with 403. It lets the sidecar run
 * without the Docker socket, which would give it root on the host.
 */
export function createDockerProxy(
  socketPath: string,
  logger: Logger,
  limitMs: number = DEFAULT_DOCKER_TIMEOUT_MS,
): Server {
  const server = createServer((incoming, outgoing) => {
    if (!allowedRequest(incoming.method, incoming.url)) {
      logger.warn({ method: incoming.method, url: incoming.url }, 'refused: not a read-only request appproxy needs');
      outgoing
        .writeHead(403, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: 'appproxy docker-proxy: read-only; this request is not allowed' }));
      return;
    }
    // The same limit as the client's: a plain call until its whole answer, the event stream until
    // its headers (a quiet stream is normal; the client pings the engine through us to tell).
    const streaming = isEventStream(incoming.url);
    const call = dockerCallName(incoming.method, incoming.url);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream.destroy(new DockerCallTimeoutError(call, limitMs));
    }, limitMs);
    const upstream = request(
      { socketPath, path: incoming.url, method: incoming.method, headers: incoming.headers },
      (response) => {
        if (streaming) clearTimeout(timer);
        else response.on('end', () => clearTimeout(timer));
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        // Node holds headers back until the first body byte; a quiet event stream has none for a
        // long time, and its client waits for the headers to know it is connected.
        if (streaming) outgoing.flushHeaders();
        response.pipe(outgoing);
      },
    );
    upstream.on('error', (error) => {
      clearTimeout(timer);
      logger.warn({ err: error }, 'Docker engine unreachable');
      const status = timedOut ? 504 : 502;
      if (!outgoing.headersSent)
        outgoing
          .writeHead(status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ message: `Docker engine unreachable: ${error.message}` }));
      else outgoing.destroy();
    });
    incoming.on('close', () => {
      clearTimeout(timer);
      upstream.destroy();
    });
    upstream.end();
  });
  // A client that connects and sends nothing is not waited on either.
  server.headersTimeout = 10_000;
  server.requestTimeout = limitMs + 10_000;
  return server;
}

function isEventStream(url: string | undefined): boolean {
  return /^(\/v\d+\.\d+)?\/events$/.test((url ?? '').split('?', 1)[0] ?? '');
}
