import pLimit from 'p-limit';
import type { Workload } from '../core/workload.ts';
import type { WorkloadSource } from '../sync/workload-changes.ts';
import { containerToWorkload } from './container-to-workload.ts';
import type { DockerEngine } from './docker-engine.ts';
import type { ContainerInspect, ContainerSummary, SwarmTask } from './inspect-types.ts';
import { managedSwarmCluster } from './swarm-cluster.ts';
import { swarmServiceToWorkload } from './swarm-to-workloads.ts';

/** The Docker edge as the sync engine's workload source. */
export type DockerSource = WorkloadSource & {
  /** Standalone containers only (Swarm task containers reach the core through their service). */
  listContainerWorkloads(): Promise<Workload[]>;
  /** Swarm services with their running tasks; throws NotSwarmManagerError on an engine that manages no Swarm. */
  listManagedSwarmWorkloads(): Promise<Workload[]>;
};

/**
 * The Swarm writer asked for the services of an engine that is no Swarm manager (any more: demoted,
 * or left the Swarm). Not an empty list: written, that would remove every service from Traefik
 * while their tasks still run. The writer's pass fails instead, and the writer steps down.
 */
export class NotSwarmManagerError extends Error {
  constructor() {
    super(
      "Docker API: this engine is no Swarm manager (demoted, or out of the Swarm): its Swarm services cannot be read here; another manager's instance writes them",
    );
    this.name = 'NotSwarmManagerError';
  }
}

/** Inspects run this many at a time: fast with hundreds of containers, gentle on the engine. */
const INSPECT_CONCURRENCY = 8;
/** Docker sets this label on every container of a Swarm task. */
const SWARM_SERVICE_LABEL = 'com.docker.swarm.service.id';
const CONTAINER_MODE_PREFIX = 'container:';

/**
 * Reads containers (and, on a Swarm manager, services and their tasks) from a Docker engine the way
 * Traefik's Docker and Swarm providers do, and hands them to the core as Workloads. Failures are
 * the engine's DockerApiErrors, naming the call.
 */
export class DockerEngineSource implements DockerSource {
  readonly #engine: DockerEngine;
  /**
   * The last inspect of each container, kept while its list entry stays the same: a pass then
   * inspects only what changed instead of every container (500 inspects a pass, each slow while
   * the engine is busy starting containers, was the cost of a burst). Events also drop entries.
   */
  readonly #inspected = new Map<string, { signature: string; inspect: ContainerInspect }>();
  /** Container name → id, of what #inspected holds: `container:<name>` network modes are looked up here. */
  readonly #names = new Map<string, string>();
  /** Ids of containers in `container:<ref>` network mode: few, so an event need not look at all the others. */
  readonly #sharers = new Set<string>();

  constructor(engine: DockerEngine) {
    this.#engine = engine;
  }

  async listWorkloads(): Promise<Workload[]> {
    const [containers, services] = await Promise.all([this.listContainerWorkloads(), this.listSwarmWorkloads()]);
    return [...containers, ...services];
  }

  async refreshContainers(ids: Iterable<string>): Promise<Map<string, Workload | undefined>> {
    const wanted = new Set(ids);
    // A container that shares the network stack of a changed one takes its addresses from it.
    for (const id of this.#sharers) {
      const mode = this.#inspected.get(id)?.inspect.HostConfig?.NetworkMode ?? '';
      const target = this.#find(mode.slice(CONTAINER_MODE_PREFIX.length));
      if (target !== undefined && wanted.has(target.Id)) wanted.add(id);
    }
    const inspected = await mapWithConcurrency([...wanted], INSPECT_CONCURRENCY, async (id) => {
      const inspect = await this.#inspect(id);
      // Its list entry is not known here: the next full listing inspects it once more.
      if (inspect === undefined) this.#forget(id);
      else this.#remember(inspect, '');
      return [id, inspect] as const;
    });
    const found = inspected.flatMap(([, inspect]) => (inspect === undefined ? [] : [inspect]));
    await this.#inspectMissingNetworkContainers(found);
    const result = new Map<string, Workload | undefined>();
    for (const [id, inspect] of inspected) {
      const own = inspect !== undefined && inspect.Config?.Labels?.[SWARM_SERVICE_LABEL] === undefined;
      result.set(inspect?.Id ?? id, own ? containerToWorkload(inspect, (ref) => this.#find(ref)) : undefined);
    }
    return result;
  }

  #remember(inspect: ContainerInspect, signature: string): void {
    const previous = this.#inspected.get(inspect.Id);
    if (previous !== undefined) this.#names.delete(containerName(previous.inspect));
    this.#inspected.set(inspect.Id, { signature, inspect });
    this.#names.set(containerName(inspect), inspect.Id);
    if ((inspect.HostConfig?.NetworkMode ?? '').startsWith(CONTAINER_MODE_PREFIX)) this.#sharers.add(inspect.Id);
    else this.#sharers.delete(inspect.Id);
  }

  #forget(id: string): void {
    const previous = this.#inspected.get(id);
    if (previous === undefined) return;
    this.#inspected.delete(id);
    this.#sharers.delete(id);
    if (this.#names.get(containerName(previous.inspect)) === id) this.#names.delete(containerName(previous.inspect));
  }

  /** A container as `container:<ref>` names it: full id, name, or unique id prefix. */
  #find(ref: string): ContainerInspect | undefined {
    if (ref === '') return undefined;
    const exact = this.#inspected.get(ref) ?? this.#inspected.get(this.#names.get(ref.replace(/^\//, '')) ?? '');
    if (exact !== undefined) return exact.inspect;
    const byPrefix = [...this.#inspected.values()].filter((known) => known.inspect.Id.startsWith(ref));
    return byPrefix.length === 1 ? byPrefix[0]?.inspect : undefined;
  }

  async listContainerWorkloads(): Promise<Workload[]> {
    const summaries = await this.#engine.listContainers();
    const listed = new Set(summaries.map((summary) => summary.Id));
    for (const id of [...this.#inspected.keys()]) if (!listed.has(id)) this.#forget(id);
    const inspected = (
      await mapWithConcurrency(summaries, INSPECT_CONCURRENCY, async (summary) => {
        const signature = listSignature(summary);
        const known = this.#inspected.get(summary.Id);
        if (known?.signature === signature) return known.inspect;
        const inspect = await this.#inspect(summary.Id);
        if (inspect === undefined) this.#forget(summary.Id);
        else this.#remember(inspect, signature);
        return inspect;
      })
    ).filter((inspect): inspect is ContainerInspect => inspect !== undefined);

    await this.#inspectMissingNetworkContainers(inspected);

    return (
      inspected
        // Swarm task containers reach the core through their service, with the service's labels.
        .filter((inspect) => inspect.Config?.Labels?.[SWARM_SERVICE_LABEL] === undefined)
        .map((inspect) => containerToWorkload(inspect, (ref) => this.#find(ref)))
    );
  }

  /**
   * Containers whose network stack a listed container shares are normally known too, but one
   * created after the listing is not: inspect those now, following chains, so that the
   * synchronous lookup of containerToWorkload finds them.
   */
  async #inspectMissingNetworkContainers(start: readonly ContainerInspect[]): Promise<void> {
    const attempted = new Set<string>();
    let pending = [...start];
    while (pending.length > 0) {
      const refs = [
        ...new Set(
          pending
            .map((inspect) => inspect.HostConfig?.NetworkMode ?? '')
            .filter((mode) => mode.startsWith(CONTAINER_MODE_PREFIX))
            .map((mode) => mode.slice(CONTAINER_MODE_PREFIX.length))
            .filter((ref) => this.#find(ref) === undefined && !attempted.has(ref)),
        ),
      ];
      refs.forEach((ref) => attempted.add(ref));
      const found = (await mapWithConcurrency(refs, INSPECT_CONCURRENCY, (ref) => this.#inspect(ref))).filter(
        (inspect): inspect is ContainerInspect => inspect !== undefined,
      );
      for (const inspect of found) if (!this.#inspected.has(inspect.Id)) this.#remember(inspect, '');
      pending = found;
    }
  }

  /** Undefined when the container is gone (removed between list and inspect) or not a usable one. */
  async #inspect(idOrName: string): Promise<ContainerInspect | undefined> {
    const inspect = await this.#engine.inspectContainer(idOrName);
    // Traefik ignores a container without state or name: nothing about it can be routed reliably.
    return inspect?.State != null && inspect.Name ? inspect : undefined;
  }

  async listSwarmWorkloads(): Promise<Workload[]> {
    return (await this.#swarmWorkloads()) ?? [];
  }

  async listManagedSwarmWorkloads(): Promise<Workload[]> {
    const workloads = await this.#swarmWorkloads();
    if (workloads === undefined) throw new NotSwarmManagerError();
    return workloads;
  }

  /** Undefined when this engine manages no Swarm. */
  async #swarmWorkloads(): Promise<Workload[] | undefined> {
    if (managedSwarmCluster(await this.#engine.info()) === undefined) return undefined;
    // One task listing for all services instead of Traefik's one per service: the same tasks, fewer calls.
    const [services, networks, tasks, nodes] = await Promise.all([
      this.#engine.listServices(),
      this.#engine.listSwarmNetworks(),
      this.#engine.listRunningTasks(),
      this.#engine.listNodes(),
    ]);

    const networkNames = new Map(networks.map((network) => [network.Id, network.Name]));
    const nodeAddresses = new Map<string, string>();
    const unreachableNodes = new Set<string>();
    for (const node of nodes) {
      if (node.Status?.Addr) {
        nodeAddresses.set(node.ID, node.Status.Addr);
      }
      if (node.Status?.State === 'down' || node.Status?.State === 'disconnected') unreachableNodes.add(node.ID);
    }
    const tasksByService = new Map<string, SwarmTask[]>();
    for (const task of tasks) {
      const serviceId = task.ServiceID ?? '';
      tasksByService.set(serviceId, [...(tasksByService.get(serviceId) ?? []), task]);
    }
    return services.map((service) =>
      swarmServiceToWorkload(
        service,
        tasksByService.get(service.ID) ?? [],
        networkNames,
        nodeAddresses,
        unreachableNodes,
      ),
    );
  }
}

function containerName(inspect: ContainerInspect): string {
  return (inspect.Name ?? '').replace(/^\//, '');
}

/**
 * What of a list entry says whether the last inspect still holds: state, health (from the status
 * text, without its running time), names, ports and networks. Labels and configuration cannot
 * change without a new container.
 */
function listSignature(summary: ContainerSummary): string {
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(summary.Status ?? '')?.[1] ?? '';
  return JSON.stringify([
    summary.State,
    health,
    summary.Names,
    summary.Ports,
    summary.NetworkSettings,
    summary.HostConfig,
  ]);
}

/** Like Promise.all over `items.map(fn)`, with at most `limit` calls of `fn` in flight (p-limit); keeps order. */
async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const limited = pLimit(limit);
  return Promise.all(items.map((item) => limited(() => fn(item))));
}
