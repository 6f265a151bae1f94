import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerEngineSource } from '../../src/docker/docker-source.ts';
import { explainTarget } from '../../src/docker/task-container.ts';
import { containerJson } from '../support/engine-json.ts';
import { FakeDockerEngine } from '../support/fake-docker-engine.ts';

// `explain` is asked about a name: a workload of the listing, else a Swarm task container (not a
// workload of its own, so never listed), which only the engine can still name.

function engine(): FakeDockerEngine {
  const fake = new FakeDockerEngine();
  fake.add(containerJson({ name: 'web' }));
  fake.add(containerJson({ name: 'front.1.x7k', labels: { 'com.docker.swarm.service.id': 'svc-1' } }));
  return fake;
}

describe('explainTarget over a fake engine', () => {
  it('finds a listed workload without asking the engine', async () => {
    const fake = engine();
    const workloads = await new DockerEngineSource(fake).listContainerWorkloads();
    fake.calls.length = 0;
    const found = await explainTarget(workloads, 'web', fake);
    assert.equal(found.target?.name, 'web');
    assert.deepStrictEqual(fake.calls, []);
  });

  it('finds a Swarm task container, which listings leave out, by asking the engine', async () => {
    const fake = engine();
    const workloads = await new DockerEngineSource(fake).listContainerWorkloads();
    const found = await explainTarget(workloads, 'front.1.x7k', fake);
    assert.equal(found.target?.name, 'front.1.x7k');
    assert.equal(found.target?.labels['com.docker.swarm.service.id'], 'svc-1');
  });

  it('names the closest workloads when neither the listing nor the engine knows the name, or the engine fails', async () => {
    const fake = engine();
    const workloads = await new DockerEngineSource(fake).listContainerWorkloads();
    assert.deepStrictEqual(await explainTarget(workloads, 'wbe', fake), { target: undefined, closest: ['web'] });
    fake.fail('inspectContainer', new Error('connection reset'));
    assert.deepStrictEqual(await explainTarget(workloads, 'front.1.x7k', fake), {
      target: undefined,
      closest: ['web'],
    });
  });

  it('asks no engine when there is none (explain --input)', async () => {
    const fake = engine();
    const workloads = await new DockerEngineSource(fake).listContainerWorkloads();
    assert.deepStrictEqual(await explainTarget(workloads, 'front.1.x7k', undefined), {
      target: undefined,
      closest: ['web'],
    });
  });
});
