import { isIP } from 'node:net';
import type { Workload, WorkloadNetwork } from '../core/workload.ts';
import type { SwarmService, SwarmTask } from './inspect-types.ts';

/**
 * Builds the core's view of one Swarm service and its running tasks, taking the same data Traefik's
 * Swarm provider takes (parseService, listTasks, parseTasks).
 *
 * @param networks network id -> name, for swarm-scoped networks only: addresses on any other network
 *   are ignored, as Traefik ignores them.
 * @param nodeAddresses node id -> the node's `Status.Addr`.
 * @param unreachableNodes ids of nodes Swarm reports `down` or `disconnected`. Their tasks are left
 *   out, where Traefik's provider keeps them: Swarm still says "running" for a lost node's tasks
 *   until it reschedules them (about 50 s on three nodes here), and every Traefik reload in between
 *   sends requests to them again until its health check fails them once more (seen: timeouts 20 s
 *   after a node was cut). A task that does run there returns when its node is ready again.
 */
export function swarmServiceToWorkload(
  service: SwarmService,
  tasks: readonly SwarmTask[],
  networks: ReadonlyMap<string, string>,
  nodeAddresses: ReadonlyMap<string, string>,
  unreachableNodes: ReadonlySet<string> = new Set(),
): Workload {
  const name = service.Spec.Name;
  const labels = { ...(service.Spec.Labels ?? {}) };
  const containerLabels = service.Spec.TaskTemplate?.ContainerSpec?.Labels ?? {};
  const isGlobal = service.Spec.Mode?.Global != null;
  return {
    kind: 'swarm-service',
    id: service.ID,
    name,
    serviceName: name,
    labels,
    ...(Object.keys(containerLabels).length > 0 ? { containerLabels: { ...containerLabels } } : {}),
    status: 'running',
    ports: [],
    networks: serviceNetworks(service, networks),
    tasks: tasks
      .filter((task) => isRunningTaskOf(task, service.ID) && !unreachableNodes.has(task.NodeID ?? ''))
      // The engine lists tasks in id order; replica order reads better and is just as stable.
      .toSorted((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0) || compareText(a.ID, b.ID))
      .map((task): Workload => ({
        kind: 'task',
        id: task.ID,
        name: isGlobal ? `${name}.${task.ID}` : `${name}.${task.Slot ?? 0}`,
        serviceName: name,
        labels,
        status: 'running',
        ports: [],
        networks: taskNetworks(task, networks),
        nodeIp: task.NodeID ? nodeAddresses.get(task.NodeID) : undefined,
      }))
      // Traefik drops a task with no address on a swarm network before it reads any label, so a task
      // that would yield no server must not reach the core either.
      .filter((task) => task.networks.length > 0),
  };
}

function isRunningTaskOf(task: SwarmTask, serviceId: string): boolean {
  return (
    task.Status?.State === 'running' &&
    (task.DesiredState == null || task.DesiredState === 'running') &&
    (task.ServiceID == null || task.ServiceID === serviceId)
  );
}

/**
 * The service's virtual IPs. Traefik reads them only when the spec says `vip` explicitly: with no
 * endpoint spec at all (a service created through the API without one) it takes none, even though
 * Swarm still allocates VIPs, and `dnsrr` services have none.
 */
function serviceNetworks(service: SwarmService, networks: ReadonlyMap<string, string>): WorkloadNetwork[] {
  if (service.Spec.EndpointSpec?.Mode !== 'vip') {
    return [];
  }
  const byName = new Map<string, string>();
  for (const vip of service.Endpoint?.VirtualIPs ?? []) {
    const networkName = vip.NetworkID ? networks.get(vip.NetworkID) : undefined;
    const ip = stripPrefix(vip.Addr);
    if (networkName !== undefined && ip !== '') {
      byName.set(networkName, ip);
    }
  }
  return sortedNetworks(byName);
}

function taskNetworks(task: SwarmTask, networks: ReadonlyMap<string, string>): WorkloadNetwork[] {
  const byName = new Map<string, string>();
  for (const attachment of task.NetworksAttachments ?? []) {
    const id = attachment.Network?.ID;
    const networkName = id ? networks.get(id) : undefined;
    if (networkName === undefined) {
      continue;
    }
    // Traefik keeps the last address when a task has several on one network; an attachment with no
    // address at all adds no network.
    for (const address of attachment.Addresses ?? []) {
      byName.set(networkName, stripPrefix(address));
    }
  }
  return sortedNetworks(byName);
}

/** `10.0.1.5/24` -> `10.0.1.5`; anything that is not an address -> ''. */
function stripPrefix(address: string | null | undefined): string {
  const ip = (address ?? '').split('/', 1)[0] ?? '';
  return isIP(ip) !== 0 ? ip : '';
}

function sortedNetworks(byName: ReadonlyMap<string, string>): WorkloadNetwork[] {
  return [...byName].map(([name, ip]) => ({ name, ip })).sort((a, b) => compareText(a.name, b.name));
}

/** Code-point order, like Go's sort of strings, independent of the process locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
