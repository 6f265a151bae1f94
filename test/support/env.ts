// Addresses of the real test environment that `bash scripts/test-env.sh up` starts (keep in step
// with that script), and a guard that makes tests fail loudly when it is not running.
import { request } from 'node:http';
import { fetchWithin } from './within.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface TraefikEndpoints {
  /** Traefik API (insecure, on its own `traefik` entry point). */
  readonly api: string;
  /** Entry point `web`. */
  readonly web: string;
  /** Entry point `websecure` (plain TCP listener; TLS comes from routers). */
  readonly websecure: string;
  /** Entry point `tcpep` (TCP routers). */
  readonly tcp: HostPort;
  /** Entry point `udpep` (UDP routers). */
  readonly udp: HostPort;
}

export interface TestEnv {
  /** etcd client endpoint, host:port (no scheme). */
  readonly etcdEndpoint: string;
  /** Unix socket of the test's own Docker engine. */
  readonly dockerSocket: string;
  /** Local busybox image (no registry is reachable). */
  readonly busyboxImage: string;
  /** Traefik with the etcd provider, root key `traefik`. */
  readonly traefikEtcd: TraefikEndpoints;
  /** Traefik with its own Docker provider on `dockerSocket` (exposedByDefault=false). */
  readonly traefikDocker: TraefikEndpoints;
  /** Traefik with its own Swarm provider on `dockerSocket` (exposedByDefault=false, refreshSeconds=1). */
  readonly traefikSwarm: TraefikEndpoints;
  /** Redis (no persistence, keyspace notifications on), for the Redis store. */
  readonly redisUrl: string;
  /** Traefik with the Redis provider, root key `traefik`. */
  readonly traefikRedis: TraefikEndpoints;
  /** The Swarm provider's `constraints` (TRAEFIK_SWARM_CONSTRAINTS in the script). */
  readonly swarmConstraints: string;
  /**
   * The key under which both Traefiks load the project's local plugin (test/fixtures/traefik-plugins,
   * module github.com/appproxy/optionstamp): middlewares use it as `plugin.<key>.<option>`.
   */
  readonly pluginKey: string;
}

function traefik(api: number, web: number, websecure: number, tcp: number, udp: number): TraefikEndpoints {
  return Object.freeze({
    api: `http://127.0.0.1:${api}`,
    web: `http://127.0.0.1:${web}`,
    websecure: `https://127.0.0.1:${websecure}`,
    tcp: Object.freeze({ host: '127.0.0.1', port: tcp }),
    udp: Object.freeze({ host: '127.0.0.1', port: udp }),
  });
}

export const testEnv: TestEnv = Object.freeze({
  etcdEndpoint: '127.0.0.1:23790',
  dockerSocket: '/run/appproxy-test/docker.sock',
  busyboxImage: 'appproxy-test/busybox:latest',
  traefikEtcd: traefik(18081, 18080, 18443, 18444, 18053),
  traefikDocker: traefik(18091, 18090, 18453, 18454, 18063),
  traefikSwarm: traefik(18101, 18100, 18463, 18464, 18073),
  swarmConstraints: '!Label(`parity.excluded`, `true`)',
  redisUrl: 'redis://127.0.0.1:16379',
  traefikRedis: traefik(18111, 18110, 18473, 18474, 18083),
  pluginKey: 'optionstamp',
});

const FIX = 'run `bash scripts/test-env.sh up`';
const TIMEOUT_MS = 3000;

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** GET over HTTP; resolves with status and body, or rejects on a connection error or timeout. */
function httpGet(options: { url?: string; socketPath?: string; path?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = options.url === undefined
      ? request({ socketPath: options.socketPath, path: options.path, method: 'GET', timeout: TIMEOUT_MS })
      : request(options.url, { method: 'GET', timeout: TIMEOUT_MS });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.end();
  });
}

async function checkEtcd(): Promise<void> {
  const { status, body } = await httpGet({ url: `http://${testEnv.etcdEndpoint}/health` });
  if (status !== 200) throw new Error(`HTTP ${status}: ${body.trim()}`);
  const health = JSON.parse(body) as { health?: unknown };
  if (health.health !== 'true' && health.health !== true) throw new Error(`unhealthy: ${body.trim()}`);
}

async function checkDocker(): Promise<void> {
  const { status, body } = await httpGet({ socketPath: testEnv.dockerSocket, path: '/_ping' });
  if (status !== 200 || body.trim() !== 'OK') throw new Error(`/_ping answered HTTP ${status}: ${body.trim()}`);
}

async function checkRedis(): Promise<void> {
  const { Socket } = await import('node:net');
  const url = new URL(testEnv.redisUrl);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = new Socket();
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    socket.once('error', reject);
    socket.connect(Number(url.port), url.hostname, () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString().trim());
    });
  });
  if (answer !== '+PONG') throw new Error(`PING answered ${answer}`);
}

async function checkTraefik(endpoints: TraefikEndpoints): Promise<void> {
  const response = await fetchWithin(`${endpoints.api}/api/rawdata`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  await response.json();
}

/**
 * Checks that every component of the test environment answers. Throws one Error that names each
 * missing component and the fix. Tests call it first and must fail, never skip, when it throws.
 */
export async function requireTestEnv(): Promise<void> {
  const checks: ReadonlyArray<readonly [string, () => Promise<void>]> = [
    [`etcd (http://${testEnv.etcdEndpoint}/health)`, checkEtcd],
    [`docker engine (unix://${testEnv.dockerSocket} /_ping)`, checkDocker],
    [`traefik-etcd (${testEnv.traefikEtcd.api}/api/rawdata)`, () => checkTraefik(testEnv.traefikEtcd)],
    [`traefik-docker (${testEnv.traefikDocker.api}/api/rawdata)`, () => checkTraefik(testEnv.traefikDocker)],
    [`traefik-swarm (${testEnv.traefikSwarm.api}/api/rawdata)`, () => checkTraefik(testEnv.traefikSwarm)],
    [`traefik-redis (${testEnv.traefikRedis.api}/api/rawdata)`, () => checkTraefik(testEnv.traefikRedis)],
    [`redis (${testEnv.redisUrl} PING)`, checkRedis],
  ];
  const results = await Promise.allSettled(checks.map(([, check]) => check()));
  const missing: string[] = [];
  results.forEach((result, index) => {
    if (result.status === 'rejected') missing.push(`  - ${checks[index]?.[0]}: ${describeError(result.reason)}`);
  });
  if (missing.length > 0) {
    throw new Error(`Test environment is not running; ${FIX}. Missing:\n${missing.join('\n')}`);
  }
}
