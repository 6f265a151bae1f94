import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { TraefikConfigAnswer } from './traefik-config-page.ts';

/** What /readyz asks (readiness.ts keeps it). */
export interface ReadinessReasons {
  /** Why the daemon is not ready, or an empty list when it is. */
  reasons(): string[];
}

/** Answers GET /explain/<name>: a status and a JSON body. */
export type Explainer = (name: string) => Promise<{ status: number; body: unknown }>;

/** Answers GET /apps: every app under the root key, where it is reached and how it is used. */
export type AppLister = () => unknown;

export interface HealthServerPages {
  readonly explain?: Explainer;
  readonly apps?: AppLister;
  /** GET /traefiks (with --traefik-api-urls). */
  readonly traefiks?: () => unknown;
  /** GET /status: an HTML page. */
  readonly status?: () => string;
  /** GET /traefik/dynamic: Traefik's dynamic configuration as the store holds it, for Traefik's HTTP provider. */
  readonly traefikConfig?: () => TraefikConfigAnswer;
  /**
   * The bearer token (--http-token) that opens the pages above to clients other than loopback;
   * without one they answer loopback alone.
   */
  readonly token?: string | undefined;
}

/**
 * Explains at once, at most: each lists Docker and translates every workload, so a few parallel
 * requests would starve the lease keep-alive; more get 429.
 */
const EXPLAINS_IN_FLIGHT = 2;

/** A container or Swarm service name, or an id prefix, as Docker allows them: nothing else reaches Docker. */
const WORKLOAD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * /livez (the process answers), /readyz (first sync done, Docker and the store reachable) and
 * /metrics for everyone; /explain/<name>, /apps, /traefiks, /status and /traefik/dynamic, which show
 * labels, keys and routes and cost work, for loopback (`docker exec` into the daemon's container) and for clients
 * with the bearer token alone.
 */
export async function startHealthServer(
  listen: string,
  readiness: ReadinessReasons,
  registry: Registry,
  pages: HealthServerPages = {},
): Promise<FastifyInstance> {
  // A client that opens a connection and sends nothing (or sends slowly) is cut off, not waited on.
  const server = Fastify({
    logger: false,
    connectionTimeout: 10_000,
    requestTimeout: 10_000,
    keepAliveTimeout: 5_000,
    // A workload name of up to 255 characters reaches the name check below (Fastify's default is 100).
    routerOptions: { maxParamLength: 256 },
  });
  server.get('/livez', async () => 'ok\n');
  server.get('/readyz', async (_request, reply) => {
    const reasons = readiness.reasons();
    if (reasons.length > 0) return reply.code(503).send(`not ready: ${reasons.join('; ')}\n`);
    return 'ok\n';
  });
  server.get('/metrics', async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
  const token = pages.token === undefined ? undefined : digest(pages.token);
  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (LOOPBACK.test(request.socket.remoteAddress ?? '')) return;
    const given = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token !== undefined && given !== undefined && timingSafeEqual(digest(given), token)) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({
        error:
          token === undefined
            ? `${request.url.split('?')[0] ?? ''} answers loopback alone (docker exec into appproxy's container), or clients with the token of --http-token (APPPROXY_HTTP_TOKEN_FILE)`
            : 'a bearer token is needed (Authorization: Bearer <the token of --http-token>)',
      });
  };
  const { explain, apps, traefiks, status, traefikConfig } = pages;
  if (explain !== undefined) {
    let inFlight = 0;
    server.get<{ Params: { name: string } }>('/explain/:name', { preHandler: guard }, async (request, reply) => {
      const { name } = request.params;
      if (!WORKLOAD_NAME.test(name))
        return reply.code(400).send({
          error: `not a container or Swarm service name, nor an id prefix: ${JSON.stringify(name.slice(0, 100))}; use letters, digits, ".", "_" and "-" (up to 255, starting with a letter or digit)`,
        });
      if (inFlight >= EXPLAINS_IN_FLIGHT)
        return reply
          .code(429)
          .header('retry-after', '1')
          .send({
            error: `${EXPLAINS_IN_FLIGHT} explains are under way (each reads Docker and translates every workload): ask again in a second`,
          });
      inFlight += 1;
      try {
        const { status: code, body } = await explain(name);
        return await reply.code(code).send(body);
      } finally {
        inFlight -= 1;
      }
    });
  }
  if (apps !== undefined) server.get('/apps', { preHandler: guard }, async () => apps());
  if (traefiks !== undefined) server.get('/traefiks', { preHandler: guard }, async () => traefiks());
  if (status !== undefined)
    server.get('/status', { preHandler: guard }, async (_request, reply) =>
      reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(status()),
    );
  if (traefikConfig !== undefined)
    server.get('/traefik/dynamic', { preHandler: guard }, async (request, reply) => {
      const answer = traefikConfig();
      reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store');
      const { etag } = answer;
      if (etag === undefined) return reply.code(answer.status).send(answer.body);
      // Traefik's HTTP provider sends no If-None-Match (it hashes what it gets); other pollers may.
      if (request.headers['if-none-match'] === etag) return reply.code(304).header('etag', etag).send();
      return reply.code(answer.status).header('etag', etag).send(answer.body);
    });
  const colon = listen.lastIndexOf(':');
  await server.listen({ host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(listen.slice(colon + 1)) });
  return server;
}
