import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import Dockerode from 'dockerode';
import type { Workload } from '../../src/core/workload.ts';
import { DockerApiError } from '../../src/docker/docker-api-error.ts';
import { dockerConnectionFromEnv } from '../../src/docker/docker-connection.ts';
import type { DockerEngine } from '../../src/docker/docker-engine.ts';
import { DockerEngineSource } from '../../src/docker/docker-source.ts';
import { DockerodeEngine } from '../../src/docker/dockerode-engine.ts';
import { testEnv } from '../support/env.ts';
import { limitDockerCalls } from '../support/limited-dockerode.ts';
import { ensureSwarmManager } from '../support/swarm-tasks.ts';

// Runs against the project's test engine (scripts/test-env.sh up), never the machine's own Docker.
const DOCKER_HOST = process.env['APPPROXY_TEST_DOCKER_HOST'] ?? `unix://${testEnv.dockerSocket}`;
const IMAGE = testEnv.busyboxImage;
const RUN = `apx-ds-${randomBytes(4).toString('hex')}`;
/** Every object this test creates carries this label, so that other users of the engine are ignored. */
const RUN_LABEL = 'appproxy.test.run';

const docker = limitDockerCalls(new Dockerode(dockerConnectionFromEnv({ DOCKER_HOST })));
/** The product's view of the same client: its requests pass through the same modem. */
const engine = new DockerodeEngine(docker);
const created = { containers: [] as string[], services: [] as string[], networks: [] as string[] };
let swarmInitialisedHere = false;

/** Request paths docker-modem sent, to check that no API version is pinned. */
const requestPaths: string[] = [];
{
  const modem = docker.modem as { dial: (options: { path: string }, callback: unknown) => unknown };
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    requestPaths.push(options.path);
    return dial(options, callback);
  };
}

async function createContainer(
  name: string,
  options: Partial<Dockerode.ContainerCreateOptions> = {},
  start = true,
): Promise<Dockerode.Container> {
  const container = await docker.createContainer({
    name: `${RUN}-${name}`,
    Image: IMAGE,
    Cmd: ['sleep', '300'],
    Labels: { [RUN_LABEL]: RUN, 'test.name': name },
    ...options,
  });
  created.containers.push(container.id);
  if (start) {
    await container.start();
  }
  return container;
}

function ours(workloads: readonly Workload[]): Map<string, Workload> {
  return new Map(workloads.filter((w) => w.labels[RUN_LABEL] === RUN).map((w) => [w.labels['test.name'] ?? w.name, w]));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(500);
  }
}

before(async () => {
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(`The test Docker engine at ${DOCKER_HOST} does not answer: run \`bash scripts/test-env.sh up\``, {
      cause: error,
    });
  }
  await docker
    .getImage(IMAGE)
    .inspect()
    .catch((error: unknown) => {
      throw new Error(`Image ${IMAGE} is missing on the test engine: run \`bash scripts/test-env.sh up\``, {
        cause: error,
      });
    });
});

after(async () => {
  // Force removal kills at once; services first, since their task containers hold overlay networks.
  for (const id of created.services) {
    await docker
      .getService(id)
      .remove()
      .catch(() => undefined);
    // Swarm removes the task containers on its own, a moment later.
    await waitFor(
      `removal of the task containers of service ${id}`,
      async () => {
        const left = await docker.listContainers({
          all: true,
          filters: { label: [`com.docker.swarm.service.id=${id}`] },
        });
        return left.length === 0 ? true : undefined;
      },
      30_000,
    ).catch((error: unknown) => console.error(error));
  }
  await Promise.all(
    created.containers.map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  for (const id of created.networks) {
    // A removed service's task containers take a moment to go and to release the network.
    await waitFor(
      `removal of network ${id}`,
      async () =>
        docker
          .getNetwork(id)
          .remove()
          .then(
            () => true,
            (error: unknown) => (DockerApiError.statusCodeOf(error) === 404 ? true : undefined),
          ),
      30_000,
    ).catch((error: unknown) => console.error(error));
  }
  if (swarmInitialisedHere) {
    // Leave the swarm only if nobody else started using it meanwhile: the engine is shared.
    const services = await docker.listServices().catch(() => [{}]);
    if (services.length === 0) {
      await docker.swarmLeave({ force: true }).catch((error: unknown) => console.error(error));
      // swarm init created this bridge for task containers; leaving does not remove it.
      await docker
        .getNetwork('docker_gwbridge')
        .remove()
        .catch((error: unknown) => console.error(error));
    }
  }
});

describe('DockerEngineSource over dockerode against a real engine', { timeout: 180_000 }, () => {
  it('lists containers as Workloads, as docker inspect describes them', async () => {
    const network = await docker.createNetwork({ Name: `${RUN}-net`, Labels: { [RUN_LABEL]: RUN } });
    created.networks.push(network.id);

    const plain = await createContainer('plain', {
      Labels: { [RUN_LABEL]: RUN, 'test.name': 'plain', 'traefik.enable': 'true' },
    });
    const twoNets = await createContainer('two-nets', { HostConfig: { NetworkMode: `${RUN}-net` } }, false);
    await network.connect({ Container: twoNets.id });
    await docker.getNetwork('bridge').connect({ Container: twoNets.id });
    await twoNets.start();
    await createContainer('shared', { HostConfig: { NetworkMode: `container:${RUN}-plain` } });
    const stopped = await createContainer('stopped', {}, false);
    const ports = await createContainer('ports', {
      ExposedPorts: { '80/tcp': {}, '9000/tcp': {} },
      HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    });
    const health = await createContainer('health', {
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 1_000_000_000, StartPeriod: 60_000_000_000 },
    });

    const source = new DockerEngineSource(engine);
    const byName = ours(await source.listWorkloads());

    const plainInspect = await plain.inspect();
    const plainIp = plainInspect.NetworkSettings.Networks['bridge']?.IPAddress ?? '';
    assert.match(plainIp, /^\d+\.\d+\.\d+\.\d+$/);
    const plainWorkload = byName.get('plain');
    assert.deepStrictEqual(plainWorkload, {
      kind: 'container',
      id: plain.id,
      name: `${RUN}-plain`,
      serviceName: `${RUN}-plain`,
      labels: { [RUN_LABEL]: RUN, 'test.name': 'plain', 'traefik.enable': 'true' },
      status: 'running',
      health: undefined,
      networkMode: 'default',
      ports: [],
      networks: [{ name: 'bridge', ip: plainIp }],
      networkContainer: undefined,
    });

    const twoNetsInspect = await twoNets.inspect();
    assert.deepStrictEqual(
      byName.get('two-nets')?.networks,
      [`${RUN}-net`, 'bridge']
        .sort()
        .map((name) => ({ name, ip: twoNetsInspect.NetworkSettings.Networks[name]?.IPAddress })),
    );

    const sharedWorkload = byName.get('shared');
    assert.equal(sharedWorkload?.networkMode, `container:${plain.id}`);
    assert.deepStrictEqual(sharedWorkload?.networks, []);
    assert.deepStrictEqual(sharedWorkload?.networkContainer, plainWorkload);

    assert.equal(byName.get('stopped')?.id, stopped.id);
    assert.equal(byName.get('stopped')?.status, 'created');

    const portsInspect = await ports.inspect();
    const hostPort = portsInspect.NetworkSettings.Ports['80/tcp']?.[0]?.HostPort ?? '';
    assert.match(hostPort, /^\d+$/);
    assert.deepStrictEqual(byName.get('ports')?.ports, [
      { name: '80/tcp', bindings: [{ hostIp: '127.0.0.1', hostPort }] },
      { name: '9000/tcp', bindings: [] },
    ]);

    assert.equal(byName.get('health')?.id, health.id);
    assert.match(byName.get('health')?.health ?? '', /^(starting|healthy)$/);
    const healthy = await waitFor('health check to pass', async () => {
      const workload = ours(await source.listWorkloads()).get('health');
      return workload?.health === 'healthy' ? workload : undefined;
    });
    assert.equal(healthy.status, 'running');
  });

  it('resolves a network container created after the listing by inspecting it on demand', async () => {
    const base = await createContainer('late-base');
    const sharing = await createContainer('late-sharing', { HostConfig: { NetworkMode: `container:${base.id}` } });
    const source = new DockerEngineSource(
      withOverrides({
        // Lists as if the base container were not there yet.
        listContainers: async (options) => (await engine.listContainers(options)).filter((c) => c.Id !== base.id),
      }),
    );
    const byName = ours(await source.listWorkloads());
    assert.equal(byName.get('late-base'), undefined);
    assert.equal(byName.get('late-sharing')?.id, sharing.id);
    assert.equal(byName.get('late-sharing')?.networkContainer?.id, base.id);
  });

  it('skips a container that vanished between list and inspect (a real 404 from the engine)', async () => {
    const doomed = await createContainer('doomed');
    const source = new DockerEngineSource(
      withOverrides({
        listContainers: async (options) => {
          const list = await engine.listContainers(options);
          await doomed.remove({ force: true });
          return list;
        },
      }),
    );
    const ids = (await source.listWorkloads()).map((w) => w.id);
    assert.ok(!ids.includes(doomed.id));
  });

  it('inspects at most 8 containers at a time', async () => {
    await Promise.all(Array.from({ length: 12 }, (_, i) => createContainer(`many-${i}`, {}, false)));
    let inFlight = 0;
    let maxInFlight = 0;
    const source = new DockerEngineSource(
      withOverrides({
        inspectContainer: async (id, options) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          try {
            return await engine.inspectContainer(id, options);
          } finally {
            inFlight--;
          }
        },
      }),
    );
    const byName = ours(await source.listWorkloads());
    assert.ok(byName.has('many-11'));
    assert.ok(maxInFlight <= 8 && maxInFlight >= 2, `max in flight ${maxInFlight}`);
  });

  it('fails with a DockerApiError naming the operation when the engine cannot be reached', async () => {
    const source = new DockerEngineSource(
      DockerodeEngine.fromEnv({ DOCKER_HOST: 'unix:///nonexistent/appproxy-test.sock' }),
    );
    await assert.rejects(source.listWorkloads(), (error: unknown) => {
      assert.ok(error instanceof DockerApiError);
      assert.match(error.operation, /^(list containers|get engine info)$/);
      return true;
    });
  });

  it('adds one Workload per Swarm service with its running tasks, and hides the task containers', async () => {
    if (await ensureSwarmManager(docker)) swarmInitialisedHere = true;
    const overlay = await docker.createNetwork({
      Name: `${RUN}-overlay`,
      Driver: 'overlay',
      Labels: { [RUN_LABEL]: RUN },
    });
    created.networks.push(overlay.id);
    // The engine API never resolves images against a registry (only the CLI does), so a local image works.
    const service = await docker.createService({
      Name: `${RUN}-svc`,
      Labels: { [RUN_LABEL]: RUN, 'test.name': 'svc', 'traefik.enable': 'true' },
      TaskTemplate: {
        // busybox `sleep` ignores SIGTERM as PID 1: a short grace period keeps removal quick.
        ContainerSpec: { Image: IMAGE, Args: ['sleep', '300'], StopGracePeriod: 1_000_000_000 },
        Networks: [{ Target: overlay.id }],
      },
      Mode: { Replicated: { Replicas: 2 } },
      EndpointSpec: { Mode: 'vip' },
    });
    created.services.push(service.id);

    const tasks = await waitFor('2 running tasks', async () => {
      const list = (await docker.listTasks({ filters: { service: [service.id], 'desired-state': ['running'] } })) as {
        ID: string;
        Slot: number;
        NodeID: string;
        Status: { State: string };
        NetworksAttachments?: { Network: { ID: string }; Addresses: string[] }[];
      }[];
      const running = list.filter((t) => t.Status.State === 'running');
      return running.length === 2 ? running : undefined;
    });
    const inspected = (await service.inspect()) as {
      Endpoint?: { VirtualIPs?: { NetworkID: string; Addr: string }[] };
    };
    const vip = inspected.Endpoint?.VirtualIPs?.find((v) => v.NetworkID === overlay.id)?.Addr.split('/')[0];
    assert.ok(vip, 'the service has a VIP on its overlay');
    const node = (await docker.getNode(tasks[0]?.NodeID ?? '').inspect()) as { Status: { Addr: string } };

    const workloads = await new DockerEngineSource(engine).listWorkloads();
    const workload = ours(workloads).get('svc');
    const labels = { [RUN_LABEL]: RUN, 'test.name': 'svc', 'traefik.enable': 'true' };
    assert.deepStrictEqual(workload, {
      kind: 'swarm-service',
      id: service.id,
      name: `${RUN}-svc`,
      serviceName: `${RUN}-svc`,
      labels,
      status: 'running',
      ports: [],
      networks: [{ name: `${RUN}-overlay`, ip: vip }],
      tasks: tasks
        .toSorted((a, b) => a.Slot - b.Slot)
        .map((task) => ({
          kind: 'task',
          id: task.ID,
          name: `${RUN}-svc.${task.Slot}`,
          serviceName: `${RUN}-svc`,
          labels,
          status: 'running',
          ports: [],
          networks: [
            {
              name: `${RUN}-overlay`,
              ip: task.NetworksAttachments?.find((a) => a.Network.ID === overlay.id)?.Addresses[0]?.split('/')[0],
            },
          ],
          nodeIp: node.Status.Addr,
        })),
    });
    // The task containers carry the Swarm labels, not the service's: they must not appear as containers.
    const taskContainers = workloads.filter((w) => w.kind === 'container' && w.name.startsWith(`${RUN}-svc.`));
    assert.deepStrictEqual(taskContainers, []);
  });

  it('sends unversioned request paths, so the engine answers at its own API version', async () => {
    assert.ok(requestPaths.length > 0);
    assert.deepStrictEqual(
      requestPaths.filter((path) => /^\/v\d/.test(path)),
      [],
    );
    const version = (await docker.version()) as { ApiVersion: string };
    assert.match(version.ApiVersion, /^1\.\d+$/);
  });
});

/** The real engine with some calls replaced, to stage races that the engine cannot be asked for. */
function withOverrides(overrides: Partial<DockerEngine>): DockerEngine {
  return new Proxy(engine, {
    get: (target, key) => {
      const value = overrides[key as keyof DockerEngine] ?? (target[key as keyof DockerEngine] as unknown);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
