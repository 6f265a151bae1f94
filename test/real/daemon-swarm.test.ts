import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Dockerode from 'dockerode';
import type { Etcd3 } from 'etcd3';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { clearTree, testEtcd } from '../support/etcd-kv.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { rawData, serviceServerUrls, waitFor } from '../support/traefik-api.ts';
import { ensureSwarmManager, runningTaskUrls } from '../support/swarm-tasks.ts';
import { testDocker } from '../support/test-docker.ts';

// `appproxy run` on a one-node Swarm: a service's tasks become its servers, scaling and label
// updates follow. Task addresses live on an overlay network that the host cannot reach here, so
// this test reads Traefik's view of the servers rather than sending traffic to them.

const docker = testDocker();
const RUN = 'appproxy-swarm-test';
let etcd: Etcd3;
let appproxy: DaemonProcess | undefined;
let initialisedHere = false;
let service: Dockerode.Service | undefined;
let networkId = '';

const taskAddresses = () => runningTaskUrls(docker, 'dm-swarm', networkId);
const traefikServers = (name: string) => serviceServerUrls(testEnv.traefikEtcd.api, `${name}@etcd`);

async function scale(replicas: number, labels?: Record<string, string>): Promise<void> {
  const current = (await service!.inspect()) as {
    Version: { Index: number };
    Spec: Record<string, unknown> & { Mode: unknown; Labels: Record<string, string> };
  };
  await service!.update({
    ...current.Spec,
    version: current.Version.Index,
    Mode: { Replicated: { Replicas: replicas } },
    Labels: labels ?? current.Spec.Labels,
  });
}

async function serversFollow(replicas: number): Promise<void> {
  await waitFor(
    `${replicas} running tasks as Traefik's servers`,
    async () => {
      const addresses = await taskAddresses();
      if (addresses.length !== replicas) return undefined;
      return JSON.stringify(await traefikServers('dm-swarm')) === JSON.stringify(addresses) ? true : undefined;
    },
    45_000,
  );
}

before(async () => {
  await requireTestEnv();
  etcd = testEtcd(testEnv.etcdEndpoint);
  await clearTree(etcd, 'traefik');
  initialisedHere = await ensureSwarmManager(docker);
  // What a run that was killed left behind (fixed names): the service first, then its network.
  await docker
    .getService('dm-swarm')
    .remove()
    .catch(() => undefined);
  await waitFor(
    'leftover dm-swarm tasks gone',
    async () =>
      (await docker.listContainers({ all: true, filters: { label: ['com.docker.swarm.service.name=dm-swarm'] } }))
        .length === 0
        ? true
        : undefined,
    30_000,
  );
  for (const leftover of await docker.listNetworks({ filters: { name: ['dm-overlay'] } }))
    await docker
      .getNetwork(leftover.Id)
      .remove()
      .catch(() => undefined);
  const network = await docker.createNetwork({ Name: 'dm-overlay', Driver: 'overlay', Labels: { [RUN]: 'true' } });
  networkId = network.id;
  appproxy = await startDaemon({ owner: 'swarm-manager', port: 19183 });
});

after(async () => {
  await appproxy?.kill('SIGTERM');
  await service?.remove().catch(() => undefined);
  await waitFor(
    'tasks gone',
    async () =>
      (await docker.listContainers({ all: true, filters: { label: ['com.docker.swarm.service.name=dm-swarm'] } }))
        .length === 0
        ? true
        : undefined,
    30_000,
  ).catch(() => undefined);
  if (networkId !== '')
    await docker
      .getNetwork(networkId)
      .remove()
      .catch(() => undefined);
  if (initialisedHere && (await docker.listServices()).length === 0) {
    await docker.swarmLeave({ force: true }).catch(() => undefined);
    await docker
      .getNetwork('docker_gwbridge')
      .remove()
      .catch(() => undefined);
  }
  if (etcd !== undefined) {
    await clearTree(etcd, 'traefik');
    etcd.close();
  }
});

test("swarm: a service scales 1 → 3 → 1 and Traefik's servers follow; a label update changes the route", async () => {
  service = await docker.createService({
    Name: 'dm-swarm',
    Labels: {
      [RUN]: 'true',
      'appproxy.enable': 'true',
      'appproxy.http.routers.dm-swarm.rule': 'Host(`dm-swarm.one`)',
      'appproxy.http.services.dm-swarm.loadbalancer.server.port': '80',
    },
    TaskTemplate: {
      ContainerSpec: { Image: testEnv.busyboxImage, Args: ['sleep', '600'], StopGracePeriod: 1_000_000_000 },
      Networks: [{ Target: networkId }],
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'dnsrr' },
  });
  await serversFollow(1);
  await scale(3);
  await serversFollow(3);
  await scale(1);
  await serversFollow(1);

  const labels = ((await service.inspect()) as { Spec: { Labels: Record<string, string> } }).Spec.Labels;
  await scale(1, { ...labels, 'appproxy.http.routers.dm-swarm.rule': 'Host(`dm-swarm.two`)' });
  await waitFor(
    'the new rule in Traefik',
    async () =>
      (await rawData(testEnv.traefikEtcd.api)).routers?.['dm-swarm@etcd']?.['rule'] === 'Host(`dm-swarm.two`)'
        ? true
        : undefined,
    30_000,
  );
  assert.equal((await rawData(testEnv.traefikEtcd.api)).routers?.['dm-swarm@etcd']?.['status'], 'enabled');
});
