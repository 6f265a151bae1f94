import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Workload } from '../../src/core/workload.ts';
import { containerToWorkload } from '../../src/docker/container-to-workload.ts';
import type { ContainerInspect } from '../../src/docker/inspect-types.ts';

// Captured with `docker inspect` from Docker Engine 20.10 (API 1.41) and trimmed to the fields that
// matter; see test/fixtures/docker. The arrays are exactly what the CLI prints.
function fixture(name: string): ContainerInspect[] {
  return JSON.parse(readFileSync(new URL(`../fixtures/docker/${name}`, import.meta.url), 'utf8')) as ContainerInspect[];
}

const containers = fixture('containers.json');
const [healthStarting] = fixture('container-health-starting.json');

function byName(name: string): ContainerInspect {
  const found = containers.find((c) => c.Name === `/${name}`);
  assert.ok(found, `fixture has no container ${name}`);
  return found;
}

function lookupIn(set: readonly ContainerInspect[]): (ref: string) => ContainerInspect | undefined {
  return (ref) => set.find((c) => c.Id === ref);
}

const BRIDGE_ID = '13dab783efeb709df61b87aea1045afeab3807898d36716e464db1ebdd2f3a55';

const bridgeWorkload: Workload = {
  kind: 'container',
  id: BRIDGE_ID,
  name: 'apfx-bridge',
  serviceName: 'apfx-bridge',
  labels: { app: 'bridge' },
  status: 'running',
  health: undefined,
  // The engine reports the default bridge as `default`, not `bridge`.
  networkMode: 'default',
  ports: [],
  networks: [{ name: 'bridge', ip: '10.213.213.2' }],
  networkContainer: undefined,
};

interface Case {
  readonly title: string;
  readonly inspect: ContainerInspect;
  readonly lookup?: (ref: string) => ContainerInspect | undefined;
  readonly expected: Workload;
}

/** `apfx-shared` (`--network container:apfx-bridge`), before its network container is resolved. */
const sharedWorkload: Workload = {
  kind: 'container',
  id: 'a49a874d4b678514cf5f26a28d07bd08a05268d52c839dee88cca4baf8821cc3',
  name: 'apfx-shared',
  serviceName: 'apfx-shared',
  labels: { app: 'shared' },
  status: 'running',
  health: undefined,
  // `--network container:apfx-bridge` is stored with the full id, not the name given.
  networkMode: `container:${BRIDGE_ID}`,
  ports: [],
  networks: [],
};

const cases: readonly Case[] = [
  {
    title: 'container on the default bridge',
    inspect: byName('apfx-bridge'),
    expected: bridgeWorkload,
  },
  {
    title: 'container on a user network and the bridge: both, sorted by name',
    inspect: byName('apfx-two-nets'),
    expected: {
      kind: 'container',
      id: 'd28c950aae23fed3d9b2dd98a5bcd75319d8703d824caae30366fb16b6847f24',
      name: 'apfx-two-nets',
      serviceName: 'apfx-two-nets',
      labels: { app: 'two' },
      status: 'running',
      health: undefined,
      networkMode: 'apfx-net',
      ports: [],
      networks: [
        { name: 'apfx-net', ip: '10.214.0.2' },
        { name: 'bridge', ip: '10.213.213.3' },
      ],
      networkContainer: undefined,
    },
  },
  ...(['starting', 'healthy'] as const).map((health): Case => ({
    title: `container with a health check, ${health}`,
    inspect: health === 'starting' ? (healthStarting as ContainerInspect) : byName('apfx-health'),
    expected: {
      kind: 'container',
      id: '9b4a243ec2649acdb2bc4be88ed390907291c1e8e89d02ff545cf4b03834b808',
      name: 'apfx-health',
      serviceName: 'apfx-health',
      labels: { app: 'health' },
      status: 'running',
      health,
      networkMode: 'default',
      ports: [],
      networks: [{ name: 'bridge', ip: '10.213.213.4' }],
      networkContainer: undefined,
    },
  })),
  {
    title: 'stopped container: keeps its network, with no address',
    inspect: byName('apfx-stopped'),
    expected: {
      kind: 'container',
      id: '60acdd38b942e7056ba3262f087083db4eb1c523d95c52b6b0d5f11e6d6f3faa',
      name: 'apfx-stopped',
      serviceName: 'apfx-stopped',
      labels: { app: 'stopped' },
      status: 'exited',
      health: undefined,
      networkMode: 'default',
      ports: [],
      networks: [{ name: 'bridge', ip: '' }],
      networkContainer: undefined,
    },
  },
  {
    title: 'container on the host network: a `host` network with no address',
    inspect: byName('apfx-host'),
    expected: {
      kind: 'container',
      id: '62f50367cc9365d0e3c11a9dd7edf3bad226388b5f374d2f2999c497006f11fe',
      name: 'apfx-host',
      serviceName: 'apfx-host',
      labels: { app: 'host' },
      status: 'running',
      health: undefined,
      networkMode: 'host',
      ports: [],
      networks: [{ name: 'host', ip: '' }],
      networkContainer: undefined,
    },
  },
  {
    title: 'container sharing another one’s network stack: resolved through lookup',
    inspect: byName('apfx-shared'),
    lookup: lookupIn(containers),
    expected: { ...sharedWorkload, networkContainer: bridgeWorkload },
  },
  {
    title: 'container sharing a network stack, without lookup: left unresolved',
    inspect: byName('apfx-shared'),
    expected: { ...sharedWorkload, networkContainer: undefined },
  },
  {
    title: 'container with published, exposed-only and UDP ports, sorted by number',
    inspect: byName('apfx-ports'),
    expected: {
      kind: 'container',
      id: '0e74c4d0003c06b75489f92de4be3151d105e0d8b912da1bdf320ab19f398376',
      name: 'apfx-ports',
      serviceName: 'apfx-ports',
      labels: { app: 'ports' },
      status: 'running',
      health: undefined,
      networkMode: 'default',
      ports: [
        { name: '53/udp', bindings: [{ hostIp: '127.0.0.1', hostPort: '5353' }] },
        {
          name: '80/tcp',
          // The engine binds a published port on both address families.
          bindings: [
            { hostIp: '0.0.0.0', hostPort: '8080' },
            { hostIp: '::', hostPort: '8080' },
          ],
        },
        { name: '9000/tcp', bindings: [] },
      ],
      networks: [{ name: 'bridge', ip: '10.213.213.5' }],
      networkContainer: undefined,
    },
  },
];

describe('containerToWorkload', () => {
  for (const { title, inspect, lookup, expected } of cases) {
    it(title, () => {
      assert.deepStrictEqual(containerToWorkload(inspect, lookup), expected);
    });
  }

  it('leaves the network container undefined when lookup does not find it', () => {
    const workload = containerToWorkload(byName('apfx-shared'), () => undefined);
    assert.equal(workload.networkContainer, undefined);
  });

  it('stops at a cycle of shared network stacks instead of recursing forever', () => {
    const shared = byName('apfx-shared');
    const bridge: ContainerInspect = {
      ...byName('apfx-bridge'),
      HostConfig: { NetworkMode: `container:${shared.Id}` },
    };
    const workload = containerToWorkload(shared, lookupIn([shared, bridge]));
    assert.equal(workload.networkContainer?.id, BRIDGE_ID);
    assert.equal(workload.networkContainer?.networkContainer, undefined);
  });

  it('takes the global IPv6 address when there is no IPv4 address', () => {
    const inspect: ContainerInspect = {
      ...byName('apfx-bridge'),
      NetworkSettings: { Networks: { v6only: { NetworkID: 'n', IPAddress: '', GlobalIPv6Address: 'fd00:1::2' } } },
    };
    assert.deepStrictEqual(containerToWorkload(inspect).networks, [{ name: 'v6only', ip: 'fd00:1::2' }]);
  });

  it('accepts an inspect with only an id, as a minimal engine answer', () => {
    assert.deepStrictEqual(containerToWorkload({ Id: 'x' }), {
      kind: 'container',
      id: 'x',
      name: '',
      serviceName: '',
      labels: {},
      status: '',
      health: undefined,
      networkMode: undefined,
      ports: [],
      networks: [],
      networkContainer: undefined,
    });
  });

  it('does not share the inspect’s label object', () => {
    const inspect = byName('apfx-bridge');
    assert.notEqual(containerToWorkload(inspect).labels, inspect.Config?.Labels);
  });
});
