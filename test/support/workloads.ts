import type { Workload } from '../../src/core/workload.ts';

/** A running container on one network, for core tests; override any field. */
export function container(overrides: Partial<Workload> & { name: string; labels?: Record<string, string> }): Workload {
  return {
    kind: 'container',
    id: `${overrides.name}-id`,
    serviceName: overrides.name,
    status: 'running',
    ports: [{ name: '80/tcp', bindings: [] }],
    networks: [{ name: 'bridge', ip: '172.17.0.2' }],
    labels: {},
    ...overrides,
  };
}

/** A Swarm service with running tasks on an overlay network, for core tests. */
export function swarmService(
  name: string,
  labels: Record<string, string>,
  taskIps: string[],
  overrides: Partial<Workload> = {},
): Workload {
  return {
    kind: 'swarm-service',
    id: `${name}-sid`,
    name,
    serviceName: name,
    labels,
    status: 'running',
    ports: [],
    networks: [{ name: 'overlay', ip: '10.0.1.2' }],
    tasks: taskIps.map((ip, index) => ({
      kind: 'task',
      id: `${name}-task-${index + 1}`,
      name: `${name}.${index + 1}`,
      serviceName: name,
      labels,
      status: 'running',
      ports: [],
      networks: [{ name: 'overlay', ip }],
    })),
    ...overrides,
  };
}
