import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** What /readyz asks (readiness.ts keeps it). */
export interface ReadinessReasons {
  /** Why the daemon is not ready, or an empty list when it is. */
  reasons(): string[];
}

/** Answers GET /explain/<name>: a status and a JSON body. */
export type Explainer = (name: string) => Promise<{ status: number; body: unknown }>;

/** Answers GET /apps: every app under the root key, where it is reached and how it is used. */
export type AppLister = () => unknown;

/**
 * /livez (the process answers), /readyz (first sync done, Docker and the store reachable), /metrics, /explain/<name>,
 * /apps, /traefiks (the read-back's view of every Traefik, with --traefik-api-urls), /status (a page of both).
 */
export async function startHealthServer(
  listen: string,
  readiness: ReadinessReasons,
  registry: Registry,
  explain?: Explainer,
  pages: {
    readonly apps?: AppLister;
    /** GET /traefiks (with --traefik-api-urls). */
    readonly traefiks?: () => unknown;
    /** GET /status: an HTML page, served where explain is (it shows as much). */
    readonly status?: () => string;
  } = {},
): Promise<FastifyInstance> {
  const { apps, traefiks, status } = pages;
  // A client that opens a connection and sends nothing (or sends slowly) is cut off, not waited on.
  const server = Fastify({ logger: false, connectionTimeout: 10_000, requestTimeout: 10_000, keepAliveTimeout: 5_000 });
  server.get('/livez', async () => 'ok\n');
  server.get('/readyz', async (_request, reply) => {
    const reasons = readiness.reasons();
    if (reasons.length > 0) return reply.code(503).send(`not ready: ${reasons.join('; ')}\n`);
    return 'ok\n';
  });
  if (explain !== undefined) {
    server.get<{ Params: { name: string } }>('/explain/:name', async (request, reply) => {
      const { status, body } = await explain(request.params.name);
      return reply.code(status).send(body);
    });
  }
  if (apps !== undefined) server.get('/apps', async () => apps());
  if (traefiks !== undefined) server.get('/traefiks', async () => traefiks());
  if (status !== undefined && explain !== undefined)
    server.get('/status', async (_request, reply) =>
      reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(status()),
    );
  server.get('/metrics', async (_request, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
  const colon = listen.lastIndexOf(':');
  await server.listen({ host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(listen.slice(colon + 1)) });
  return server;
}
