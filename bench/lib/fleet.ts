// Labelled busybox containers for the benchmarks: each serves its own name over HTTP and carries
// the same route under `traefik.*` (Traefik's Docker provider) and `appproxy.*` (appproxy → etcd).
import Dockerode from 'dockerode';
import type { Etcd3 } from 'etcd3';
import { startDaemon, type DaemonProcess } from '../../test/support/daemon-process.ts';
import { clearTree, testEtcd } from '../../test/support/etcd-kv.ts';
import { requireTestEnv, testEnv } from '../../test/support/env.ts';
import { httpGet } from '../../test/support/http-get.ts';
import { mapLimit, sleep } from './stats.ts';
import { forEachLimited, removeLabelled, testDocker } from '../../test/support/test-docker.ts';
import { fetchWithin } from '../../test/support/within.ts';

const BENCH_LABEL = 'appproxy-bench';

/**
 * A clean start on the test environment (no bench container, an empty tree) with one `appproxy run`
 * (owner `bench`); `finish` stops it and cleans up again.
 */
export async function benchSetup(
  dockerLimitMs?: number,
  daemonArgs: readonly string[] = [],
): Promise<{ docker: Dockerode; etcd: Etcd3; daemon: DaemonProcess; finish: () => Promise<void> }> {
  await requireTestEnv();
  const docker = testDocker(dockerLimitMs);
  const etcd = testEtcd(testEnv.etcdEndpoint);
  await removeBenchContainers(docker);
  await clearTree(etcd, 'traefik');
  const daemon = await startDaemon({ owner: 'bench', port: 19199, args: ['--log-level', 'warn', ...daemonArgs] });
  const finish = async () => {
    await daemon.kill('SIGTERM');
    await removeBenchContainers(docker);
    await clearTree(etcd, 'traefik');
    etcd.close();
  };
  return { docker, etcd, daemon, finish };
}

function routeLabels(name: string): Record<string, string> {
  const labels: Record<string, string> = { [BENCH_LABEL]: 'true' };
  for (const prefix of ['traefik', 'appproxy']) {
    labels[`${prefix}.enable`] = 'true';
    labels[`${prefix}.http.routers.${name}.rule`] = `Host(\`${name}\`)`;
  }
  return labels;
}

const BENCH_NETWORK = 'appproxy-bench';

/** The engine's default bridge is a /24 or smaller: hundreds of containers need a larger network. */
async function ensureNetwork(docker: Dockerode): Promise<void> {
  const existing = await docker.listNetworks({ filters: { name: [BENCH_NETWORK] } });
  if (existing.some((network) => network.Name === BENCH_NETWORK)) return;
  await docker.createNetwork({
    Name: BENCH_NETWORK,
    Driver: 'bridge',
    IPAM: { Config: [{ Subnet: '10.251.0.0/20' }] },
    Labels: { [BENCH_LABEL]: 'true' },
  });
}

/** Creates (does not start) a busybox web server answering its own name, with `routeLabels(name)`. */
export function createBenchContainer(
  docker: Dockerode,
  name: string,
  hostConfig: Dockerode.HostConfig = {},
): Promise<Dockerode.Container> {
  return docker.createContainer({
    name,
    Image: testEnv.busyboxImage,
    Cmd: ['sh', '-c', `mkdir -p /www && echo ${name} > /www/index.html && exec httpd -f -p 80 -h /www`],
    Labels: routeLabels(name),
    ExposedPorts: { '80/tcp': {} },
    StopSignal: 'SIGKILL',
    HostConfig: hostConfig,
  });
}

/** Creates (does not start) `count` containers named `<prefix>-<i>`. */
export async function createFleet(
  docker: Dockerode,
  prefix: string,
  count: number,
): Promise<{ names: string[]; containers: Dockerode.Container[] }> {
  await ensureNetwork(docker);
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const containers = await forEachLimited(names, (name) =>
    createBenchContainer(docker, name, { Memory: 16 * 1024 * 1024, NetworkMode: BENCH_NETWORK }),
  );
  return { names, containers };
}

export async function removeBenchContainers(docker: Dockerode): Promise<void> {
  await removeLabelled(docker, [BENCH_LABEL]);
}

/**
 * Watches one Traefik's router list (one request at a time, back to back) and records when each
 * router named `<name><suffix>` first shows as enabled, and when it is gone again. One shared poller
 * instead of one per route keeps the load on Traefik the same at any concurrency.
 */
export class RouterWatch {
  readonly seen = new Map<string, number>();
  readonly gone = new Map<string, number>();
  #running = true;
  readonly #done: Promise<void>;

  constructor(api: string, suffix: string, search: string) {
    this.#done = (async () => {
      while (this.#running) {
        const response = await fetchWithin(
          `${api}/api/http/routers?per_page=100000&search=${encodeURIComponent(search)}`,
        ).catch(() => undefined);
        const at = performance.now();
        if (response?.ok) {
          const routers = (await response.json()) as { name: string; status: string }[];
          const present = new Set<string>();
          for (const router of routers) {
            if (!router.name.endsWith(suffix) || router.status !== 'enabled') continue;
            const name = router.name.slice(0, -suffix.length);
            present.add(name);
            if (!this.seen.has(name)) this.seen.set(name, at);
          }
          for (const name of this.seen.keys()) if (!present.has(name) && !this.gone.has(name)) this.gone.set(name, at);
        }
        await sleep(2);
      }
    })();
  }

  /** When the poller first saw `name` enabled; rejects after `timeoutMs`, naming the router. */
  async seenAt(name: string, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const at = this.seen.get(name);
      if (at !== undefined) return at;
      await sleep(2);
    }
    throw new Error(`${name} never showed as enabled in Traefik's API within ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}

/**
 * Requests every host through one Traefik entry point, again and again (32 at a time), until each
 * answers with its own name (or, with `gone`, with 404); returns when that happened for each host.
 */
export async function sweepUntil(
  base: string,
  hosts: readonly string[],
  options: { gone?: boolean; timeoutMs: number },
): Promise<Map<string, number>> {
  const done = new Map<string, number>();
  const deadline = performance.now() + options.timeoutMs;
  while (done.size < hosts.length && performance.now() < deadline) {
    const pending = hosts.filter((host) => !done.has(host));
    await mapLimit(pending, 32, async (host) => {
      const reply = await httpGet(base, '/', { host }, 2000).catch(() => undefined);
      const ok = options.gone === true ? reply?.status === 404 : reply?.status === 200 && reply.body.trim() === host;
      if (ok) done.set(host, performance.now());
    });
    if (done.size < hosts.length) await sleep(5);
  }
  return done;
}
