import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Workload } from '../../src/core/workload.ts';
import { DockerEngineSource } from '../../src/docker/docker-source.ts';
import { containerJson, idOf } from '../support/engine-json.ts';
import { FakeDockerEngine } from '../support/fake-docker-engine.ts';

// A container in `container:<ref>` network mode has no addresses of its own: Traefik takes them
// (and the other container's labels) from the container whose network stack it shares. The source
// must find that container by every name Docker accepts, even when it is not in the listing, and
// must read the sharer again when the container it shares changes.

function named(workloads: readonly Workload[], name: string): Workload {
  const found = workloads.find((w) => w.name === name);
  assert.ok(found, `no workload ${name} in ${workloads.map((w) => w.name).join(', ')}`);
  return found;
}

function networkContainerOf(workload: Workload | undefined): Workload | undefined {
  return workload?.kind === 'container' ? workload.networkContainer : undefined;
}

describe('containers that share another container’s network stack', () => {
  for (const [how, ref] of [
    ['name', 'base'],
    ['full id', idOf('base')],
    ['unique id prefix', idOf('base').slice(0, 12)],
  ] as const) {
    it(`finds the container named by its ${how}`, async () => {
      const engine = new FakeDockerEngine();
      engine.add(containerJson({ name: 'base', networks: { bridge: '10.0.0.7' } }));
      engine.add(containerJson({ name: 'sidecar', networkMode: `container:${ref}` }));
      const workloads = await new DockerEngineSource(engine).listContainerWorkloads();
      const sidecar = named(workloads, 'sidecar');
      assert.deepStrictEqual(sidecar.networks, []);
      assert.deepStrictEqual(networkContainerOf(sidecar), named(workloads, 'base'));
    });
  }

  it('inspects on demand a shared container created after the listing, following chains', async () => {
    const engine = new FakeDockerEngine();
    engine.add(containerJson({ name: 'root', networks: { bridge: '10.0.0.9' } }), { listed: false });
    engine.add(containerJson({ name: 'middle', networkMode: 'container:root' }), { listed: false });
    engine.add(containerJson({ name: 'leaf', networkMode: 'container:middle' }));

    const workloads = await new DockerEngineSource(engine).listContainerWorkloads();

    assert.deepStrictEqual(
      workloads.map((w) => w.name),
      ['leaf'],
    );
    const middle = networkContainerOf(workloads[0]);
    assert.equal(middle?.name, 'middle');
    assert.equal(networkContainerOf(middle)?.name, 'root');
    assert.deepStrictEqual(networkContainerOf(middle)?.networks, [{ name: 'bridge', ip: '10.0.0.9' }]);
  });

  it('asks once, and shares nothing, when the named container does not exist', async () => {
    const engine = new FakeDockerEngine();
    engine.add(containerJson({ name: 'orphan', networkMode: 'container:gone' }));
    const [orphan] = await new DockerEngineSource(engine).listContainerWorkloads();
    assert.equal(networkContainerOf(orphan), undefined);
    assert.deepStrictEqual(
      engine.calls.filter((call) => call === 'inspectContainer gone'),
      ['inspectContainer gone'],
    );
  });

  it('reads the sharer again when an event names the container it shares', async () => {
    const engine = new FakeDockerEngine();
    engine.add(containerJson({ name: 'base', networks: { bridge: '10.0.0.7' } }));
    engine.add(containerJson({ name: 'sidecar', networkMode: 'container:base' }));
    engine.add(containerJson({ name: 'bystander' }));
    const source = new DockerEngineSource(engine);
    await source.listContainerWorkloads();
    // A restart gives the base a new address; the event names the base only.
    engine.update(idOf('base'), () => containerJson({ name: 'base', networks: { bridge: '10.0.0.8' } }));

    const refreshed = await source.refreshContainers([idOf('base')]);

    assert.deepStrictEqual([...refreshed.keys()].toSorted(), [idOf('base'), idOf('sidecar')].toSorted());
    assert.deepStrictEqual(networkContainerOf(refreshed.get(idOf('sidecar')))?.networks, [
      { name: 'bridge', ip: '10.0.0.8' },
    ]);
  });

  it('gives the sharer no network container once the shared one is gone', async () => {
    const engine = new FakeDockerEngine();
    engine.add(containerJson({ name: 'base' }));
    engine.add(containerJson({ name: 'sidecar', networkMode: 'container:base' }));
    const source = new DockerEngineSource(engine);
    await source.listContainerWorkloads();
    engine.remove(idOf('base'));
    const workloads = await source.listContainerWorkloads();
    assert.deepStrictEqual(
      workloads.map((w) => w.name),
      ['sidecar'],
    );
    assert.equal(networkContainerOf(workloads[0]), undefined);
  });
});
