import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Workload } from '../../src/core/workload.ts';
import type { NetworkSummary, SwarmNode, SwarmService, SwarmTask } from '../../src/docker/inspect-types.ts';
import { swarmServiceToWorkload } from '../../src/docker/swarm-to-workloads.ts';

// Captured from a one-node Swarm on Docker Engine 20.10 (API 1.41): GET /services, GET /tasks with
// desired-state=running, GET /networks with scope=swarm, GET /nodes, trimmed. `apfx-svc` has 2
// replicas on the overlay `apfx-overlay`; `apfx-global` is global with endpoint mode dnsrr;
// `apfx-noep` was created through the API with no EndpointSpec.
function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/docker/${name}`, import.meta.url), 'utf8')) as T;
}

const services = fixture<SwarmService[]>('swarm-services.json');
const noEndpointSpec = fixture<SwarmService>('swarm-service-no-endpoint-spec.json');
const tasks = fixture<SwarmTask[]>('swarm-tasks.json');
const networks = new Map(fixture<NetworkSummary[]>('swarm-networks.json').map((n) => [n.Id, n.Name]));
const nodes = new Map(fixture<SwarmNode[]>('swarm-nodes.json').map((n) => [n.ID, n.Status?.Addr ?? '']));

const SVC_ID = 'vdcqtge725bwfl8ae1cgpdygr';
const GLOBAL_ID = 'i2nqifljhb3r07a7gl4x9il7p';
const OVERLAY_ID = 'y0ku31s9ksd0hhvi2t0tm0nh1';
const INGRESS_ID = 'j6fpbns5bmbzyq9rtlxqan1f8';

function service(id: string): SwarmService {
  const found = services.find((s) => s.ID === id);
  assert.ok(found, `fixture has no service ${id}`);
  return found;
}

function tasksOf(id: string): SwarmTask[] {
  return tasks.filter((t) => t.ServiceID === id);
}

const svcLabels = { 'traefik.enable': 'true', 'traefik.http.services.apfx.loadbalancer.server.port': '80' };

function svcTask(id: string, slot: number, ip: string): Workload {
  return {
    kind: 'task',
    id,
    name: `apfx-svc.${slot}`,
    serviceName: 'apfx-svc',
    labels: svcLabels,
    status: 'running',
    ports: [],
    networks: [{ name: 'apfx-overlay', ip }],
    nodeIp: '127.0.0.1',
  };
}

const svcTasks = [
  svcTask('vrdc2x0rnfl3giw7mwc3mvm83', 1, '10.0.1.3'),
  svcTask('jiydxi6xc84lr6o0h5q9rp6yp', 2, '10.0.1.4'),
];

const svcWorkload: Workload = {
  kind: 'swarm-service',
  id: SVC_ID,
  name: 'apfx-svc',
  serviceName: 'apfx-svc',
  labels: svcLabels,
  status: 'running',
  ports: [],
  networks: [{ name: 'apfx-overlay', ip: '10.0.1.2' }],
  tasks: svcTasks,
};

interface Case {
  readonly title: string;
  readonly service: SwarmService;
  readonly tasks: readonly SwarmTask[];
  readonly nodes?: ReadonlyMap<string, string>;
  readonly expected: Workload;
}

function withState(task: SwarmTask, state: string, desired = 'running'): SwarmTask {
  return { ...task, DesiredState: desired, Status: { ...task.Status, State: state } };
}

const [firstSvcTask, secondSvcTask] = tasksOf(SVC_ID) as [SwarmTask, SwarmTask];

const cases: readonly Case[] = [
  {
    title: 'replicated vip service on an overlay: its VIP, and one task per running replica named and ordered by slot',
    service: service(SVC_ID),
    tasks: tasksOf(SVC_ID),
    expected: svcWorkload,
  },
  {
    title: 'tasks of other services in the list are ignored',
    service: service(SVC_ID),
    tasks,
    expected: svcWorkload,
  },
  {
    title: 'global dnsrr service: no VIP, tasks named by task id (the engine omits their Slot)',
    service: service(GLOBAL_ID),
    tasks: tasksOf(GLOBAL_ID),
    expected: {
      kind: 'swarm-service',
      id: GLOBAL_ID,
      name: 'apfx-global',
      serviceName: 'apfx-global',
      labels: { app: 'global' },
      status: 'running',
      ports: [],
      networks: [],
      tasks: [
        {
          kind: 'task',
          id: 'cipt7233ugczgg7hwiufhb2e3',
          name: 'apfx-global.cipt7233ugczgg7hwiufhb2e3',
          serviceName: 'apfx-global',
          labels: { app: 'global' },
          status: 'running',
          ports: [],
          networks: [{ name: 'apfx-overlay', ip: '10.0.1.6' }],
          nodeIp: '127.0.0.1',
        },
      ],
    },
  },
  {
    // Swarm allocates a VIP, but Traefik's parseService reads VIPs only under an explicit `vip` mode.
    title: 'service created with no EndpointSpec: its VIP is not taken',
    service: noEndpointSpec,
    tasks: [],
    expected: {
      kind: 'swarm-service',
      id: 'ymlje3h3y1dyvtbs7frf8sf1p',
      name: 'apfx-noep',
      serviceName: 'apfx-noep',
      labels: { app: 'noep' },
      status: 'running',
      ports: [],
      networks: [],
      tasks: [],
    },
  },
  {
    title: 'VIPs on several swarm networks, sorted by name; VIPs on unknown networks skipped',
    service: {
      ...service(SVC_ID),
      Endpoint: {
        VirtualIPs: [
          { NetworkID: OVERLAY_ID, Addr: '10.0.1.2/24' },
          { NetworkID: 'not-a-swarm-network', Addr: '172.18.0.2/16' },
          { NetworkID: INGRESS_ID, Addr: '10.0.0.5/24' },
        ],
      },
    },
    tasks: [],
    expected: {
      ...svcWorkload,
      networks: [
        { name: 'apfx-overlay', ip: '10.0.1.2' },
        { name: 'ingress', ip: '10.0.0.5' },
      ],
      tasks: [],
    },
  },
  {
    title: 'tasks not running, or running but meant to stop, are left out',
    service: service(SVC_ID),
    tasks: [withState(firstSvcTask, 'starting'), withState(secondSvcTask, 'running', 'shutdown')],
    expected: { ...svcWorkload, tasks: [] },
  },
  {
    title: 'a task whose only network is not a known swarm network yields no task',
    service: service(SVC_ID),
    tasks: [
      { ...firstSvcTask, NetworksAttachments: [{ Network: { ID: 'other' }, Addresses: ['10.9.0.3/24'] }] },
      secondSvcTask,
    ],
    expected: { ...svcWorkload, tasks: [svcTask('vrdc2x0rnfl3giw7mwc3mvm83', 1, '10.0.1.3')] },
  },
  {
    title: 'a task on an unknown node has no node address',
    service: service(SVC_ID),
    tasks: [secondSvcTask],
    nodes: new Map(),
    expected: {
      ...svcWorkload,
      tasks: [{ ...svcTask('vrdc2x0rnfl3giw7mwc3mvm83', 1, '10.0.1.3'), nodeIp: undefined }],
    },
  },
];

describe('swarmServiceToWorkload', () => {
  for (const c of cases) {
    it(c.title, () => {
      assert.deepStrictEqual(swarmServiceToWorkload(c.service, c.tasks, networks, c.nodes ?? nodes), c.expected);
    });
  }

  it('a task on several swarm networks has them all, sorted by name', () => {
    const task: SwarmTask = {
      ...secondSvcTask,
      NetworksAttachments: [
        { Network: { ID: OVERLAY_ID }, Addresses: ['10.0.1.3/24'] },
        { Network: { ID: INGRESS_ID }, Addresses: ['10.0.0.9/24'] },
      ],
    };
    const workload = swarmServiceToWorkload(service(SVC_ID), [task], networks, nodes);
    assert.deepStrictEqual(workload.tasks?.[0]?.networks, [
      { name: 'apfx-overlay', ip: '10.0.1.3' },
      { name: 'ingress', ip: '10.0.0.9' },
    ]);
  });

  it('leaves out the tasks of a node Swarm reports down or disconnected (it still says they run), and keeps the others', () => {
    const all = tasksOf(SVC_ID);
    const lostNode = all[0]?.NodeID ?? '';
    const moved: SwarmTask[] = [
      all[0] as SwarmTask,
      { ...secondSvcTask, ID: 'task-elsewhere', NodeID: 'another-node' },
    ];
    const reachable = swarmServiceToWorkload(service(SVC_ID), moved, networks, nodes);
    assert.equal(reachable.tasks?.length, 2);
    const lost = swarmServiceToWorkload(service(SVC_ID), moved, networks, nodes, new Set([lostNode]));
    assert.deepStrictEqual(
      lost.tasks?.map((task) => task.id),
      ['task-elsewhere'],
    );
  });
});
