import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type Dockerode from 'dockerode';
import { parseKv } from '../support/etcd-kv.ts';
import { testStore, type TestStore } from '../support/test-store.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { caseView } from '../support/parity-view.ts';
import { runCli } from '../support/run-cli.ts';
import { ensureSwarmManager } from '../support/swarm-tasks.ts';
import { forEachLimited, testDocker } from '../support/test-docker.ts';
import { rawData, waitFor, type RawData } from '../support/traefik-api.ts';
import {
  swarmParityCases,
  type SwarmParityCase,
  type SwarmParityNetwork,
  type SwarmParityService,
} from './swarm-parity-cases.ts';

// Parity with Traefik's own Swarm provider: the same Swarm services, on one real engine made a
// one-node Swarm, carry the same service labels under `traefik.` and `appproxy.`. One Traefik reads
// them with `--providers.swarm`; another reads what `appproxy render` writes to the store (etcd;
// Redis with APPPROXY_TEST_STORE=redis: test-stores: etcd redis). Their
// /api/rawdata must agree. Task addresses are on overlay networks the host cannot reach, so only the
// APIs' views are compared: no request and no Traefik health check is sent to a task.

const docker = testDocker();
const RUN = 'appproxy-swarm-parity';
const NETWORKS: readonly SwarmParityNetwork[] = ['swp-a', 'swp-b'];
/** lbswarm with a VIP needs no running task: once Traefik shows it, its last poll saw every service before it. */
const SENTINEL = 'w99-sentinel';
const CONVERGE_MS = 90_000;

let store: TestStore;
let initialisedHere = false;
const networkIds = new Map<SwarmParityNetwork, string>();
let problems = '';

function prefixed(suffixes: Record<string, string> | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [suffix, value] of Object.entries(suffixes ?? {})) {
    labels[`traefik.${suffix}`] = value;
    labels[`appproxy.${suffix}`] = value;
  }
  return labels;
}

function serviceSpec(service: SwarmParityService): Dockerode.CreateServiceOptions {
  const networks = service.networks ?? ['swp-a'];
  const health =
    service.health === undefined
      ? undefined
      : service.health === 'healthy'
        ? { Test: ['CMD', 'true'], Interval: 500_000_000, Retries: 1, StartPeriod: 0 }
        : { Test: ['CMD', 'true'], Interval: 60_000_000_000, Retries: 1, StartPeriod: 60_000_000_000 };
  return {
    Name: service.name,
    Labels: { [RUN]: 'true', ...service.raw, ...prefixed(service.labels) },
    TaskTemplate: {
      ContainerSpec: {
        Image: testEnv.busyboxImage,
        Args: ['sleep', '600'],
        StopGracePeriod: 1_000_000_000,
        Labels: { [RUN]: 'true', ...prefixed(service.containerLabels) },
        ...(health === undefined ? {} : { HealthCheck: health }),
      },
      Networks: networks.map((name) => ({ Target: networkIds.get(name) ?? name })),
    },
    Mode: service.replicas === 'global' ? { Global: {} } : { Replicated: { Replicas: service.replicas ?? 1 } },
    EndpointSpec: { Mode: service.vip === true ? 'vip' : 'dnsrr' },
  } as Dockerode.CreateServiceOptions;
}

interface TaskInfo {
  Status: { State: string };
  DesiredState: string;
  NetworksAttachments?: { Network: { ID: string }; Addresses: string[] }[];
}

/** `http://<address>:<port>` of every running task of the services, on one network, sorted. */
async function taskUrls(names: readonly string[], network: SwarmParityNetwork, port: number): Promise<string[]> {
  const tasks = (await docker.listTasks({
    filters: { service: [...names], 'desired-state': ['running'] },
  })) as TaskInfo[];
  return tasks
    .filter((task) => task.Status.State === 'running')
    .flatMap((task) =>
      (task.NetworksAttachments ?? []).filter((attachment) => attachment.Network.ID === networkIds.get(network)),
    )
    .map((attachment) => `http://${attachment.Addresses[0]?.split('/')[0] ?? ''}:${port}`)
    .sort();
}

async function taskStates(name: string): Promise<string[]> {
  const tasks = (await docker.listTasks({ filters: { service: [name], 'desired-state': ['running'] } })) as TaskInfo[];
  return tasks.map((task) => task.Status.State).sort();
}

/** What the engine must show for a service before anyone reads it: its running tasks, or its one task starting. */
async function settled(service: SwarmParityService): Promise<boolean> {
  const states = await taskStates(service.name);
  if (service.health === 'starting') return states.length === 1 && states[0] === 'starting';
  const want = service.replicas === 'global' ? 1 : (service.replicas ?? 1);
  return states.length === want && states.every((state) => state === 'running');
}

async function removeServices(filter: (name: string) => boolean): Promise<void> {
  const services = (
    (await docker.listServices({ filters: { label: [RUN] } })) as { ID: string; Spec: { Name: string } }[]
  ).filter((service) => filter(service.Spec.Name));
  // A few at a time, each batch's task containers gone before the next: Debian's engine can wedge
  // when many containers are force-removed at once.
  for (let start = 0; start < services.length; start += 4) {
    const batch = services.slice(start, start + 4);
    await Promise.all(
      batch.map((service) =>
        docker
          .getService(service.ID)
          .remove()
          .catch(() => undefined),
      ),
    );
    const names = batch.map((service) => service.Spec.Name);
    await waitFor(
      `task containers of ${names.join(', ')} gone`,
      async () => {
        const left = await docker.listContainers({
          all: true,
          filters: { label: names.map((name) => `com.docker.swarm.service.name=${name}`) },
        });
        return left.length === 0 ? true : undefined;
      },
      60_000,
    );
  }
}

async function removeOurs(): Promise<void> {
  await removeServices(() => true);
  for (const name of NETWORKS) {
    for (const leftover of await docker.listNetworks({ filters: { name: [name] } }))
      await docker
        .getNetwork(leftover.Id)
        .remove()
        .catch(() => undefined);
  }
}

/** `appproxy render` of everything on the engine, written to the store; returns its standard error. */
async function renderToStore(): Promise<string> {
  const rendered = await runCli(
    ['render', '--format', 'kv', '--owner', 'swarm-parity', '--constraints', testEnv.swarmConstraints],
    '',
    {
      ...process.env,
      DOCKER_HOST: `unix://${testEnv.dockerSocket}`,
    },
  );
  assert.equal(rendered.code, 0, rendered.stderr);
  await store.replaceTree('traefik', parseKv(rendered.stdout));
  return rendered.stderr;
}

const belongsTo = (id: string) => (name: string) => name.includes(id);

/**
 * Both Traefiks' views of one case, once they agree (or the limit passes: then the last views, for the assertion to
 * show).
 */
async function views(
  id: string,
  what: string,
): Promise<{ swarm: Record<string, unknown>; etcd: Record<string, unknown> }> {
  let last = { swarm: {} as Record<string, unknown>, etcd: {} as Record<string, unknown> };
  await waitFor(
    `${what}: Traefik's Swarm provider and appproxy's ${store.name} tree to agree on ${id}`,
    async () => {
      const [fromSwarm, fromEtcd]: [RawData, RawData] = await Promise.all([
        rawData(testEnv.traefikSwarm.api),
        rawData(store.traefik.api),
      ]);
      last = { swarm: caseView(fromSwarm, belongsTo(id)), etcd: caseView(fromEtcd, belongsTo(id)) };
      return JSON.stringify(last.swarm) === JSON.stringify(last.etcd) ? true : undefined;
    },
    20_000,
  ).catch(() => undefined);
  return last;
}

function caseById(id: string): SwarmParityCase {
  const found = swarmParityCases.find((entry) => entry.id === id);
  assert.ok(found, `no Swarm parity case ${id}`);
  return found;
}

/**
 * Scales or relabels one service, then waits until the engine, Traefik's Swarm provider and a fresh render all show it.
 */
async function update(name: string, change: { replicas?: number; labels?: Record<string, string> }): Promise<void> {
  const service = docker.getService(name);
  const current = (await service.inspect()) as {
    Version: { Index: number };
    Spec: Dockerode.CreateServiceOptions & { Labels: Record<string, string> };
  };
  const spec = { ...current.Spec, version: current.Version.Index };
  if (change.labels !== undefined) spec.Labels = { ...current.Spec.Labels, ...prefixed(change.labels) };
  if (change.replicas !== undefined) spec.Mode = { Replicated: { Replicas: change.replicas } };
  await service.update(spec);
  const want = change.replicas;
  if (want !== undefined) {
    await waitFor(
      `${name} at ${want} running tasks`,
      async () => {
        const states = await taskStates(name);
        return states.length === want && states.every((state) => state === 'running') ? true : undefined;
      },
      CONVERGE_MS,
    );
  }
}

before(async () => {
  await requireTestEnv();
  store = testStore();
  initialisedHere = await ensureSwarmManager(docker);
  await removeOurs();
  for (const name of NETWORKS) {
    const network = await docker.createNetwork({
      Name: name,
      Driver: 'overlay',
      Attachable: true,
      Labels: { [RUN]: 'true' },
    });
    networkIds.set(name, network.id);
  }
  const services = swarmParityCases.flatMap((entry) => entry.services);
  await forEachLimited(services, (service) => docker.createService(serviceSpec(service)));
  await waitFor(
    "every parity service's tasks to settle (running, or starting where the health check waits)",
    async () => {
      const states = await Promise.all(services.map(settled));
      return states.every(Boolean) ? true : undefined;
    },
    CONVERGE_MS,
  );
  await docker.createService(
    serviceSpec({
      name: SENTINEL,
      vip: true,
      labels: {
        enable: 'true',
        'swarm.lbswarm': 'true',
        ...{ 'http.services.w99-sentinel.loadbalancer.server.port': '80' },
      },
    }),
  );
  await waitFor(
    `${SENTINEL} in Traefik's Swarm provider`,
    async () =>
      (await rawData(testEnv.traefikSwarm.api)).routers?.[`${SENTINEL}@swarm`] === undefined ? undefined : true,
    30_000,
  );
  problems = await renderToStore();
  await waitFor(
    `${SENTINEL} in Traefik's ${store.name} provider`,
    async () =>
      (await rawData(store.traefik.api)).routers?.[`${SENTINEL}${store.suffix}`] === undefined ? undefined : true,
    30_000,
  );
});

after(async () => {
  if (store !== undefined) {
    await store.clearTree('traefik');
    store.close();
  }
  await removeOurs();
  if (initialisedHere && (await docker.listServices()).length === 0) {
    await docker.swarmLeave({ force: true }).catch(() => undefined);
    await docker
      .getNetwork('docker_gwbridge')
      .remove()
      .catch(() => undefined);
  }
});

test("Swarm parity cases: at least 15, each with Traefik's result checked", () => {
  assert.ok(swarmParityCases.length >= 15);
});

for (const entry of swarmParityCases) {
  test(`Swarm parity ${entry.id}: ${entry.desc}`, async () => {
    const { swarm, etcd: fromEtcd } = await views(entry.id, 'after the start');
    assert.equal(
      Object.keys(swarm).length === 0,
      entry.routesNothing === true,
      `Traefik's Swarm provider result for ${entry.id}: ${JSON.stringify(swarm)}`,
    );
    if (entry.servers !== undefined) {
      const { resource, network, port } = entry.servers;
      const servers =
        (swarm[resource] as { loadBalancer?: { servers?: { url: string }[] } } | undefined)?.loadBalancer?.servers?.map(
          (server) => server.url,
        ) ?? [];
      const expected = await taskUrls(
        entry.services.map((service) => service.name),
        network,
        port,
      );
      assert.ok(expected.length > 0, `running tasks of ${entry.id} on ${network}`);
      assert.deepEqual(
        servers,
        expected,
        `Traefik's Swarm provider: ${resource} has the running tasks' addresses on ${network}`,
      );
    }
    assert.deepEqual(fromEtcd, swarm);
    if (entry.reports !== undefined) {
      assert.ok(
        problems.split('\n').some((line) => line.includes(entry.id) && line.includes(entry.reports as string)),
        `appproxy reports "${entry.reports}" for ${entry.id}; stderr was:\n${problems}`,
      );
    }
  });
}

test('Swarm parity w09: scaled 1 → 3 → 1, equal after each step', async () => {
  const [service] = caseById('w09').services as [SwarmParityService];
  for (const replicas of [3, 1]) {
    await update(service.name, { replicas });
    await waitFor(
      `Traefik's Swarm provider to show ${replicas} servers for w09-s`,
      async () => {
        const info = (await rawData(testEnv.traefikSwarm.api)).services?.['w09-s@swarm'] as
          { loadBalancer?: { servers?: unknown[] } } | undefined;
        return info?.loadBalancer?.servers?.length === replicas ? true : undefined;
      },
      30_000,
    );
    await renderToStore();
    const { swarm, etcd: fromEtcd } = await views('w09', `at ${replicas} replicas`);
    const servers =
      (swarm['services/w09-s'] as { loadBalancer?: { servers?: unknown[] } } | undefined)?.loadBalancer?.servers ?? [];
    assert.equal(
      servers.length,
      replicas,
      `Traefik's Swarm provider at ${replicas} replicas: ${JSON.stringify(swarm)}`,
    );
    assert.deepEqual(fromEtcd, swarm, `at ${replicas} replicas`);
  }
});

test('Swarm parity w10: a label changed by a service update, equal after it', async () => {
  const [service] = caseById('w10').services as [SwarmParityService];
  await update(service.name, { labels: { 'http.routers.w10-r.rule': 'Host(`w10.after`)' } });
  await waitFor(
    "Traefik's Swarm provider to show the new rule of w10-r",
    async () =>
      (await rawData(testEnv.traefikSwarm.api)).routers?.['w10-r@swarm']?.['rule'] === 'Host(`w10.after`)'
        ? true
        : undefined,
    30_000,
  );
  await renderToStore();
  const { swarm, etcd: fromEtcd } = await views('w10', 'after the update');
  assert.equal((swarm['routers/w10-r'] as { rule?: string } | undefined)?.rule, 'Host(`w10.after`)');
  assert.deepEqual(fromEtcd, swarm);
});
