import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerEngineSource } from '../../src/docker/docker-source.ts';
import type { ContainerInspect } from '../../src/docker/inspect-types.ts';
import { containerJson, idOf } from '../support/engine-json.ts';
import { FakeDockerEngine } from '../support/fake-docker-engine.ts';

// The source keeps each container's last inspect while its list entry stays the same: a burst of
// starts must not cost an inspect of every container on every pass. These tests count the
// inspects the fake engine was asked for.

function inspects(engine: FakeDockerEngine): string[] {
  return engine.calls
    .filter((call) => call.startsWith('inspectContainer'))
    .map((call) => call.slice('inspectContainer '.length));
}

function withHealth(status: string): (inspect: ContainerInspect) => ContainerInspect {
  return (inspect) => ({ ...inspect, State: { ...inspect.State, Health: { Status: status } } });
}

function engineWith(...names: string[]): FakeDockerEngine {
  const engine = new FakeDockerEngine();
  for (const name of names) engine.add(containerJson({ name }));
  return engine;
}

describe('the inspect cache of the Docker source', () => {
  it('inspects each container once while its list entry stays the same', async () => {
    const engine = engineWith('a', 'b', 'c');
    const source = new DockerEngineSource(engine);
    const first = await source.listContainerWorkloads();
    engine.calls.length = 0;
    const second = await source.listContainerWorkloads();
    assert.deepStrictEqual(engine.calls, ['listContainers']);
    assert.deepStrictEqual(second, first);
  });

  it('inspects again only the container whose state changed', async () => {
    const engine = engineWith('a', 'b');
    const source = new DockerEngineSource(engine);
    await source.listContainerWorkloads();
    engine.calls.length = 0;
    engine.update(idOf('b'), (inspect) => ({ ...inspect, State: { Status: 'exited' } }));
    const workloads = await source.listContainerWorkloads();
    assert.deepStrictEqual(inspects(engine), [idOf('b')]);
    const b = workloads.find((w) => w.name === 'b');
    assert.equal(b?.kind === 'container' ? b.status : undefined, 'exited');
  });

  it('inspects again a container whose health changed: the list shows it only in the status text', async () => {
    const engine = new FakeDockerEngine();
    engine.add(containerJson({ name: 'web', health: 'starting' }));
    const source = new DockerEngineSource(engine);
    await source.listContainerWorkloads();
    engine.calls.length = 0;
    engine.update(idOf('web'), withHealth('healthy'));
    const [workload] = await source.listContainerWorkloads();
    assert.deepStrictEqual(inspects(engine), [idOf('web')]);
    assert.equal(workload?.kind === 'container' ? workload.health : undefined, 'healthy');
  });

  it('forgets a container that is no longer listed: one created again under the same id is inspected anew', async () => {
    const engine = engineWith('a');
    const source = new DockerEngineSource(engine);
    await source.listContainerWorkloads();
    engine.remove(idOf('a'));
    assert.deepStrictEqual(await source.listContainerWorkloads(), []);
    engine.add(containerJson({ name: 'a', labels: { 'traefik.enable': 'true' } }));
    engine.calls.length = 0;
    const [workload] = await source.listContainerWorkloads();
    assert.deepStrictEqual(inspects(engine), [idOf('a')]);
    assert.deepStrictEqual(workload?.labels, { 'traefik.enable': 'true' });
  });

  it('refreshes the containers an event names, and says undefined for one that is gone or a task container', async () => {
    const engine = engineWith('a', 'b');
    engine.add(containerJson({ name: 'task', labels: { 'com.docker.swarm.service.id': 'svc' } }));
    const source = new DockerEngineSource(engine);
    await source.listContainerWorkloads();
    engine.update(idOf('a'), withHealth('unhealthy'));
    engine.remove(idOf('b'));
    engine.calls.length = 0;

    const refreshed = await source.refreshContainers([idOf('a'), idOf('b'), idOf('task')]);

    assert.deepStrictEqual(inspects(engine).toSorted(), [idOf('a'), idOf('b'), idOf('task')].toSorted());
    const a = refreshed.get(idOf('a'));
    assert.equal(a?.kind === 'container' ? a.health : undefined, 'unhealthy');
    assert.ok(refreshed.has(idOf('b')) && refreshed.get(idOf('b')) === undefined);
    assert.ok(refreshed.has(idOf('task')) && refreshed.get(idOf('task')) === undefined);
  });

  it('inspects a refreshed container once more at the next full listing, whose list entry it did not know', async () => {
    const engine = engineWith('a', 'b');
    const source = new DockerEngineSource(engine);
    await source.listContainerWorkloads();
    await source.refreshContainers([idOf('a')]);
    engine.calls.length = 0;
    await source.listContainerWorkloads();
    assert.deepStrictEqual(inspects(engine), [idOf('a')]);
    engine.calls.length = 0;
    await source.listContainerWorkloads();
    assert.deepStrictEqual(inspects(engine), []);
  });

  it('keeps what it knew when an inspect fails, and tries again at the next listing', async () => {
    const engine = engineWith('a', 'b');
    const source = new DockerEngineSource(engine);
    const before = await source.listContainerWorkloads();
    engine.update(idOf('a'), withHealth('healthy'));
    engine.fail('inspectContainer', new Error('connection reset'));
    await assert.rejects(source.listContainerWorkloads(), /inspect container/);
    engine.calls.length = 0;
    const after = await source.listContainerWorkloads();
    assert.deepStrictEqual(inspects(engine), [idOf('a')]);
    assert.equal(after.length, before.length);
  });
});
