import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { DEFAULT_DOCKER_TIMEOUT_MS, DockerCallTimeoutError, dockerCallName } from '../docker/docker-call-limit.ts';
import { readRoute } from './read-only-rules.ts';

/** A redacted answer is read whole first: larger ones (a cluster's task list is megabytes) are refused past this. */
const MAX_REDACTED_BYTES = 64 * 1024 * 1024;

function refuse(outgoing: ServerResponse, status: number, message: string): void {
  outgoing
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ message: `appproxy docker-proxy: ${message}` }));
}

/**
 * A read-only Docker API proxy: forwards the GET requests appproxy needs to the engine's socket
 * (streaming, for the event stream) and refuses everything else. It lets the sidecar run without
 * the Docker socket, which would give it root on the host. What it forwards is rebuilt, not
 * passed on: the checked path and query, no body, no header of the client's, one connection per
 * request (no pooled keep-alive a client could poison); what it answers has the fields appproxy
 * never reads removed (read-only-rules.ts).
 */
export function createDockerProxy(
  socketPath: string,
  logger: Logger,
  limitMs: number = DEFAULT_DOCKER_TIMEOUT_MS,
): Server {
  const server = createServer((incoming, outgoing) => {
    const route = readRoute(incoming.method, incoming.url);
    if ('refused' in route) {
      logger.warn(
        { method: incoming.method, url: incoming.url, why: route.refused },
        'refused: not a read appproxy needs',
      );
      refuse(outgoing, 403, `read-only; this request is not allowed (${route.refused})`);
      return;
    }
    // A GET has no body: one announced is refused (forwarded, it would hang the engine's reader).
    if (incoming.headers['transfer-encoding'] !== undefined || Number(incoming.headers['content-length'] ?? 0) > 0) {
      // Its body is not read: the connection closes after the answer instead of waiting for it.
      outgoing.setHeader('connection', 'close');
      outgoing.on('finish', () => incoming.socket.destroy());
      refuse(outgoing, 400, 'a request body is not allowed');
      return;
    }
    const url = new URL(incoming.url ?? '/', 'http://docker');
    const path = `${url.pathname}${url.search}`;
    // The same limit as the client's: a plain call until its whole answer, the event stream until
    // its headers (a quiet stream is normal; the client pings the engine through us to tell).
    const streaming = /^(\/v\d+\.\d+)?\/events$/.test(url.pathname);
    const call = dockerCallName(incoming.method, path);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream.destroy(new DockerCallTimeoutError(call, limitMs));
    }, limitMs);
    const upstream = request(
      {
        socketPath,
        path,
        method: incoming.method,
        headers: { host: 'docker', 'user-agent': 'appproxy-docker-proxy' },
        agent: false,
      },
      (response) => {
        if (streaming) clearTimeout(timer);
        else response.on('end', () => clearTimeout(timer));
        if (route.redact !== undefined && response.statusCode === 200 && incoming.method === 'GET') {
          redacted(response, outgoing, route.redact, logger);
          return;
        }
        outgoing.writeHead(response.statusCode ?? 502, passedHeaders(response));
        // Node holds headers back until the first body byte; a quiet event stream has none for a
        // long time, and its client waits for the headers to know it is connected.
        if (streaming) outgoing.flushHeaders();
        response.pipe(outgoing);
      },
    );
    upstream.on('error', (error) => {
      clearTimeout(timer);
      logger.warn({ err: error }, 'Docker engine unreachable');
      if (!outgoing.headersSent) refuse(outgoing, timedOut ? 504 : 502, `Docker engine unreachable: ${error.message}`);
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

/** The engine's answer headers, but its connection handling: each request has a connection of its own. */
function passedHeaders(response: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers))
    if (value !== undefined && name !== 'connection' && name !== 'keep-alive') headers[name] = value;
  return headers;
}

/** A JSON answer read whole, with what appproxy never reads removed. */
function redacted(
  response: IncomingMessage,
  outgoing: ServerResponse,
  redact: (body: unknown) => unknown,
  logger: Logger,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  response.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_REDACTED_BYTES) {
      response.destroy();
      if (!outgoing.headersSent)
        refuse(outgoing, 502, `the engine's answer is larger than ${MAX_REDACTED_BYTES} bytes`);
      return;
    }
    chunks.push(chunk);
  });
  response.on('end', () => {
    if (outgoing.headersSent) return;
    let body: string;
    try {
      body = JSON.stringify(redact(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    } catch (error) {
      logger.warn({ err: error }, "the engine's answer is not JSON");
      refuse(outgoing, 502, "the engine's answer is not JSON");
      return;
    }
    outgoing
      .writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...(response.headers['api-version'] === undefined ? {} : { 'api-version': response.headers['api-version'] }),
      })
      .end(body);
  });
  response.on('error', () => outgoing.destroy());
}
