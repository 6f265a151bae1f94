// What every fault scenario shares: routes that must not change (polled through Traefik the whole
// time), containers started and stopped continuously, and the final check that etcd holds exactly
// what the core computes from what Docker runs, and that Traefik serves it.
import type Dockerode from 'dockerode';
import type { Etcd3 } from 'etcd3';
import type { TestStore } from './test-store.ts';
import { configurationToKeyValues } from '../../src/core/kv/configuration-to-kv.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import {
  compileTranslateOptions,
  type CompiledTranslateOptions,
  defaultTranslateOptions,
} from '../../src/core/translate/translate-options.ts';
import { DockerEngineSource } from '../../src/docker/docker-source.ts';
import { DockerodeEngine } from '../../src/docker/dockerode-engine.ts';
import { PLACEHOLDER_RESOURCE } from '../../src/sync/key-layout.ts';
import { testEnv } from './env.ts';
import { httpGet } from './http-get.ts';
import { removeLabelled, TEST_DOCKER_LIMIT_MS } from './test-docker.ts';

export const FAULT_LABEL = 'appproxy-fault-test';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates (does not start) a busybox web server that answers its own name on a Host route; `extra` adds or overrides
 * labels.
 */
export async function createWeb(
  docker: Dockerode,
  name: string,
  extra: Record<string, string> = {},
  hostConfig: Dockerode.HostConfig = {},
): Promise<Dockerode.Container> {
  return docker.createContainer({
    name,
    Image: testEnv.busyboxImage,
    Cmd: ['sh', '-c', `mkdir -p /www && echo ${name} > /www/index.html && exec httpd -f -p 80 -h /www`],
    Labels: {
      [FAULT_LABEL]: 'true',
      'appproxy.enable': 'true',
      [`appproxy.http.routers.${name}.rule`]: `Host(\`${name}\`)`,
      ...extra,
    },
    ExposedPorts: { '80/tcp': {} },
    StopSignal: 'SIGKILL',
    HostConfig: hostConfig,
  });
}

export async function startWeb(
  docker: Dockerode,
  name: string,
  extra: Record<string, string> = {},
): Promise<Dockerode.Container> {
  const container = await createWeb(docker, name, extra);
  await container.start();
  return container;
}

export async function removeFaultContainers(docker: Dockerode): Promise<void> {
  await removeLabelled(docker, [FAULT_LABEL]);
}

/** Which of `names` the engine runs now (an engine restart stops containers without a restart policy). */
export async function running(docker: Dockerode, names: readonly string[]): Promise<string[]> {
  const containers = await docker.listContainers({ filters: { label: [FAULT_LABEL], status: ['running'] } });
  const up = new Set(containers.flatMap((info) => info.Names.map((name) => name.replace(/^\//, ''))));
  return names.filter((name) => up.has(name));
}

export async function answers(web: string, host: string): Promise<boolean> {
  const reply = await httpGet(web, '/', { host }, 2000).catch(() => undefined);
  return reply?.status === 200 && reply.body.trim() === host;
}

/**
 * Requests the routes that must not change, one after another through one Traefik entry point,
 * for as long as the scenario runs; every answer other than the route's own page is a failure.
 */
export class StablePoller {
  requests = 0;
  readonly failures: { host: string; atMs: number; status: number | string }[] = [];
  #running = true;
  readonly #done: Promise<void>;
  readonly #start = performance.now();

  constructor(web: string, hosts: readonly string[]) {
    this.#done = (async () => {
      for (let index = 0; this.#running; index += 1) {
        const host = hosts[index % hosts.length] as string;
        const reply = await httpGet(web, '/', { host }, 2000).then(
          (response) => response,
          (error: Error) => ({ status: error.message, body: '' }),
        );
        this.requests += 1;
        if (reply.status !== 200 || reply.body.trim() !== host)
          this.failures.push({ host, atMs: Math.round(performance.now() - this.#start), status: reply.status });
        await sleep(10);
      }
    })();
  }

  /** Milliseconds since the poller started (the time base of `failures`). */
  elapsedMs(): number {
    return Math.round(performance.now() - this.#start);
  }

  async stop(): Promise<{ requests: number; failed: number; firstFailures: string[] }> {
    this.#running = false;
    await this.#done;
    return {
      requests: this.requests,
      failed: this.failures.length,
      firstFailures: this.failures.slice(0, 5).map((f) => `${f.host} at ${f.atMs} ms: ${f.status}`),
    };
  }
}

/**
 * Starts a labelled container every `intervalMs` and kills and removes the oldest once more than
 * `keep` run: a steady stream of route changes. Docker errors (an engine restarting) are counted
 * and the loop goes on.
 */
export class Churn {
  readonly alive: string[] = [];
  started = 0;
  removed = 0;
  errors = 0;
  #running = true;
  readonly #done: Promise<void>;

  constructor(
    docker: Dockerode,
    prefix: string,
    options: { keep?: number; intervalMs?: number; labels?: (name: string) => Record<string, string> } = {},
  ) {
    const keep = options.keep ?? 3;
    this.#done = (async () => {
      for (let index = 0; this.#running; index += 1) {
        const name = `${prefix}-${index}`;
        try {
          await startWeb(docker, name, options.labels?.(name));
          this.alive.push(name);
          this.started += 1;
          if (this.alive.length > keep) {
            const oldest = this.alive.shift() as string;
            await docker.getContainer(oldest).remove({ force: true });
            this.removed += 1;
          }
        } catch {
          this.errors += 1;
        }
        await sleep(options.intervalMs ?? 300);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}

export interface Owner {
  readonly owner: string;
  readonly constraints?: string;
}

/** Compiled once per constraint expression: the convergence check asks every 50 ms. */
const compiledOptions = new Map<string, CompiledTranslateOptions>();
function compiledFor(constraints: string): CompiledTranslateOptions {
  let compiled = compiledOptions.get(constraints);
  if (compiled === undefined) {
    const result = compileTranslateOptions({ ...defaultTranslateOptions, constraints });
    if (!result.ok) throw new Error(result.errors.join('\n'));
    compiled = result.value;
    compiledOptions.set(constraints, compiled);
  }
  return compiled;
}

/**
 * The tree etcd must hold: what the core computes from what the engine runs now, for each live
 * owner (their shared resources agree, their servers differ), plus the root marker; the placeholder
 * when nothing is routed.
 */
export async function desiredTree(
  docker: Dockerode,
  owners: readonly Owner[],
  rootKey = 'traefik',
): Promise<Map<string, string>> {
  const workloads = await new DockerEngineSource(new DockerodeEngine(docker, TEST_DOCKER_LIMIT_MS)).listWorkloads();
  const tree = new Map<string, string>([[rootKey, 'appproxy']]);
  for (const { owner, constraints } of owners) {
    const build = buildConfiguration(workloads, compiledFor(constraints ?? ''));
    for (const [key, value] of configurationToKeyValues(build.configuration, build.servers, {
      rootKey,
      ownerId: owner,
    }))
      tree.set(key, value);
  }
  if (tree.size === 1) tree.set(`${rootKey}/${PLACEHOLDER_RESOURCE}/loadBalancer/passHostHeader`, 'true');
  return tree;
}

export async function etcdTree(etcd: Etcd3, rootKey = 'traefik'): Promise<Map<string, string>> {
  const tree = new Map(Object.entries(await etcd.getAll().prefix(`${rootKey}/`).strings()));
  // Only the root key's presence matters to Traefik; its value is whoever wrote it first.
  const marker = await etcd.get(rootKey).string();
  if (marker !== null) tree.set(rootKey, 'appproxy');
  return tree;
}

export function treeDifference(want: ReadonlyMap<string, string>, have: ReadonlyMap<string, string>): string[] {
  const lines: string[] = [];
  for (const [key, value] of want)
    if (have.get(key) !== value)
      lines.push(`missing or different: ${key}=${value} (etcd: ${have.get(key) ?? 'absent'})`);
  for (const [key, value] of have) if (!want.has(key)) lines.push(`unexpected: ${key}=${value}`);
  return lines;
}

/** The tree as a store holds it (the same form as etcdTree), through the product's port. */
export async function storeTree(store: TestStore, rootKey = 'traefik'): Promise<Map<string, string>> {
  const tree = await store.read(`${rootKey}/`);
  if ((await store.kv.get(rootKey)) !== undefined) tree.set(rootKey, 'appproxy');
  return tree;
}

/**
 * Waits until the store (etcd, or a reader of another) holds exactly the desired tree (checked every 50 ms) and every
 * running
 * container of `hosts` answers through Traefik. Returns the time that took from `since`, or the
 * differences left at the deadline.
 */
export async function waitConverged(
  store: Etcd3 | (() => Promise<Map<string, string>>),
  docker: Dockerode,
  options: {
    owners: readonly Owner[];
    since: number;
    web: string;
    hosts: () => Promise<readonly string[]>;
    timeoutMs?: number;
  },
): Promise<{ converged: boolean; etcdMs: number; traefikMs: number; difference: string[]; unserved: string[] }> {
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  let difference: string[] = ['not checked yet'];
  let etcdMs = Number.NaN;
  while (performance.now() < deadline) {
    const read = typeof store === 'function' ? store() : etcdTree(store);
    const [want, have] = await Promise.all([
      desiredTree(docker, options.owners).catch(() => undefined),
      read.catch(() => undefined),
    ]);
    if (want !== undefined && have !== undefined) {
      difference = treeDifference(want, have);
      if (difference.length === 0) {
        etcdMs = Math.round(performance.now() - options.since);
        break;
      }
    }
    await sleep(50);
  }
  let unserved = [...(await options.hosts())];
  while (unserved.length > 0 && performance.now() < deadline + 30_000) {
    const results = await Promise.all(
      unserved.map(async (host) => ((await answers(options.web, host)) ? undefined : host)),
    );
    unserved = results.filter((host): host is string => host !== undefined);
    if (unserved.length > 0) await sleep(50);
  }
  const traefikMs = Math.round(performance.now() - options.since);
  return {
    converged: difference.length === 0 && unserved.length === 0,
    etcdMs,
    traefikMs,
    difference: difference.slice(0, 10),
    unserved,
  };
}
