import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerApiError } from '../../src/docker/docker-api-error.ts';
import { DockerCallTimeoutError } from '../../src/docker/docker-call-limit.ts';
import { DockerEngineSource, NotSwarmManagerError } from '../../src/docker/docker-source.ts';
import type { SwarmService, SwarmTask } from '../../src/docker/inspect-types.ts';
import { containerJson, idOf } from '../support/engine-json.ts';
import { engineError, FakeDockerEngine } from '../support/fake-docker-engine.ts';

// The source over a scripted engine: what the real-engine test (test/real/docker-source.test.ts)
// checks against Docker itself, plus the races and failures an engine cannot be asked for.

const TASK_LABELS = { 'com.docker.swarm.service.id': 'svc-1', 'com.docker.swarm.task.id': 'task-1' };

describe('DockerEngineSource over a fake engine', () => {
  it('lists every container, running or not, as a Workload', async () => {
    const engine = new FakeDockerEngine();
    engine.add(containerJson({ name: 'web', labels: { 'traefik.enable': 'true' }, networks: { bridge: '10.0.0.5' } }));
    engine.add(containerJson({ name: 'stopped', status: 'exited', networks: {} }));

    const workloads = await new DockerEngineSource(engine).listWorkloads();

    assert.deepStrictEqual(
      workloads.map((w) => [w.name, w.kind === 'container' ? w.status : '', w.networks]),
      [
        ['web', 'running', [{ name: 'bridge', ip: '10.0.0.5' }]],
        ['stopped', 'exited', []],
      ],
    );
    assert.equal(workloads[0]?.id, idOf('web'));
  });

  it('leaves Swarm task containers out: they reach the core through their service', async () => {
    const engine = new FakeDockerEngine();
    engine.add(containerJson({ name: 'svc.1.abc', labels: TASK_LABELS }));
    engine.add(containerJson({ name: 'plain' }));
    assert.deepStrictEqual(
      (await new DockerEngineSource(engine).listWorkloads()).map((w) => w.name),
      ['plain'],
    );
  });

  it('skips a container that vanished between list and inspect', async () => {
    const engine = new FakeDockerEngine();
    engine.add(containerJson({ name: 'doomed' }));
    engine.add(containerJson({ name: 'stays' }));
    engine.afterNext('listContainers', () => engine.remove(idOf('doomed')));
    assert.deepStrictEqual(
      (await new DockerEngineSource(engine).listWorkloads()).map((w) => w.name),
      ['stays'],
    );
  });

  it('skips a container without state or name, as Traefik does', async () => {
    const engine = new FakeDockerEngine();
    engine.add({ ...containerJson({ name: 'nameless' }), Name: '' });
    engine.add({ ...containerJson({ name: 'stateless' }), State: null });
    engine.add(containerJson({ name: 'whole' }));
    assert.deepStrictEqual(
      (await new DockerEngineSource(engine).listWorkloads()).map((w) => w.name),
      ['whole'],
    );
  });

  it('inspects at most 8 containers at a time', async () => {
    const engine = new FakeDockerEngine({ answerMs: 5 });
    for (let i = 0; i < 20; i++) engine.add(containerJson({ name: `many-${i}` }));
    const workloads = await new DockerEngineSource(engine).listContainerWorkloads();
    assert.equal(workloads.length, 20);
    assert.equal(engine.maxInFlight, 8);
  });

  it('asks nothing of Swarm on an engine that is not a manager', async () => {
    const engine = new FakeDockerEngine();
    assert.deepStrictEqual(await new DockerEngineSource(engine).listSwarmWorkloads(), []);
    assert.deepStrictEqual(engine.calls, ['info']);
  });

  it('refuses the Swarm writer an engine that manages no Swarm (demoted): an empty list would remove every service', async () => {
    const engine = new FakeDockerEngine();
    engine.setSwarm({ clusterId: 'cluster-1' });
    const source = new DockerEngineSource(engine);
    assert.deepStrictEqual(await source.listManagedSwarmWorkloads(), []);
    engine.setSwarm(undefined);
    assert.deepStrictEqual(await source.listSwarmWorkloads(), [], 'a listing of everything (render) gets no services');
    await assert.rejects(source.listManagedSwarmWorkloads(), (error: unknown) => {
      assert.ok(error instanceof NotSwarmManagerError);
      assert.match(error.message, /no Swarm manager \(demoted, or out of the Swarm\)/);
      return true;
    });
  });

  it('adds one Workload per Swarm service, with its running tasks, on a manager', async () => {
    const engine = new FakeDockerEngine();
    const service: SwarmService = {
      ID: 'svc-1',
      Spec: {
        Name: 'web',
        Labels: { 'traefik.enable': 'true' },
        Mode: { Replicated: { Replicas: 2 } },
        EndpointSpec: { Mode: 'vip' },
      },
      Endpoint: { VirtualIPs: [{ NetworkID: 'net-1', Addr: '10.0.1.2/24' }] },
    };
    const task = (id: string, slot: number, desired: string): SwarmTask => ({
      ID: id,
      ServiceID: 'svc-1',
      Slot: slot,
      NodeID: 'node-1',
      DesiredState: desired,
      Status: { State: desired },
      NetworksAttachments: [{ Network: { ID: 'net-1' }, Addresses: [`10.0.1.${slot + 10}/24`] }],
    });
    engine.setSwarm({
      clusterId: 'cluster-1',
      services: [service],
      tasks: [task('t1', 1, 'running'), task('t2', 2, 'running'), task('t0', 3, 'shutdown')],
      networks: [{ Id: 'net-1', Name: 'front', Scope: 'swarm' }],
      nodes: [{ ID: 'node-1', Status: { Addr: '192.168.1.10' } }],
    });

    const [workload, ...rest] = await new DockerEngineSource(engine).listSwarmWorkloads();

    assert.deepStrictEqual(rest, []);
    assert.equal(workload?.kind, 'swarm-service');
    assert.deepStrictEqual(workload?.networks, [{ name: 'front', ip: '10.0.1.2' }]);
    assert.deepStrictEqual(
      (workload?.tasks ?? []).map((t) => [t.name, t.networks, t.nodeIp]),
      [
        ['web.1', [{ name: 'front', ip: '10.0.1.11' }], '192.168.1.10'],
        ['web.2', [{ name: 'front', ip: '10.0.1.12' }], '192.168.1.10'],
      ],
    );
  });

  it('leaves out the tasks of nodes Swarm reports down or disconnected', async () => {
    const engine = new FakeDockerEngine();
    const task = (id: string, slot: number, node: string): SwarmTask => ({
      ID: id,
      ServiceID: 'svc-1',
      Slot: slot,
      NodeID: node,
      DesiredState: 'running',
      Status: { State: 'running' },
      NetworksAttachments: [{ Network: { ID: 'net-1' }, Addresses: [`10.0.1.${slot + 10}/24`] }],
    });
    engine.setSwarm({
      clusterId: 'cluster-1',
      services: [{ ID: 'svc-1', Spec: { Name: 'web', Mode: { Replicated: { Replicas: 3 } } } }],
      tasks: [task('t1', 1, 'ready-node'), task('t2', 2, 'down-node'), task('t3', 3, 'cut-node')],
      networks: [{ Id: 'net-1', Name: 'front', Scope: 'swarm' }],
      nodes: [
        { ID: 'ready-node', Status: { Addr: '192.168.1.10', State: 'ready' } },
        { ID: 'down-node', Status: { Addr: '192.168.1.11', State: 'down' } },
        { ID: 'cut-node', Status: { Addr: '192.168.1.12', State: 'disconnected' } },
      ],
    });
    const [workload] = await new DockerEngineSource(engine).listSwarmWorkloads();
    assert.deepStrictEqual(
      (workload?.tasks ?? []).map((t) => t.name),
      ['web.1'],
    );
  });

  it('fails with the DockerApiError that names the call when the engine refuses it', async () => {
    const engine = new FakeDockerEngine();
    engine.add(containerJson({ name: 'web' }));
    engine.fail('inspectContainer', engineError(500, 'server error'));
    await assert.rejects(new DockerEngineSource(engine).listContainerWorkloads(), (error: unknown) => {
      assert.ok(error instanceof DockerApiError);
      assert.equal(error.operation, `inspect container ${idOf('web')}`);
      assert.equal(error.statusCode, 500);
      assert.match(error.message, /^Docker API: inspect container \w+ failed: \(HTTP code 500\) server error$/);
      return true;
    });
  });

  it('gives up on a call the engine never answers, within the limit, naming the call and the limit', async () => {
    const engine = new FakeDockerEngine({ limitMs: 50 });
    engine.fail('listContainers', 'no answer');
    const started = Date.now();
    await assert.rejects(new DockerEngineSource(engine).listContainerWorkloads(), (error: unknown) => {
      assert.ok(error instanceof DockerApiError);
      assert.ok(error.cause instanceof DockerCallTimeoutError);
      assert.equal(
        error.message,
        'Docker API: list containers failed: GET /containers/json: no answer from the Docker engine within 50 ms',
      );
      return true;
    });
    assert.ok(Date.now() - started < 2_000);
  });
});
