import type Dockerode from 'dockerode';
import type { Workload } from '../core/workload.ts';
import { containerToWorkload } from './container-to-workload.ts';
import { DockerApiError } from './docker-api-error.ts';
import type { ContainerInspect, NetworkSummary, SwarmNode, SwarmService, SwarmTask } from './inspect-types.ts';
import { swarmServiceToWorkload } from './swarm-to-workloads.ts';

/** Where the core's Workloads come from: one full snapshot per call. */
export interface DockerSource {
  listWorkloads(): Promise<Workload[]>;
  /** Forget what is known of this container: an event says it changed. */
  invalidate?(id: string): void;
}

/** Inspects run this many at a time: fast with hundreds of containers, gentle on the engine. */
const INSPECT_CONCURRENCY = 8;
/** Docker sets this label on every container of a Swarm task. */
const SWARM_SERVICE_LABEL = 'com.docker.swarm.service.id';
const CONTAINER_MODE_PREFIX = 'container:';

/**
 * Reads containers (and, on a Swarm manager, services and their tasks) from a Docker engine the way
 * Traefik's Docker and Swarm providers do, and hands them to the core as Workloads.
 */
export class DockerodeSource implements DockerSource {
  readonly #docker: Dockerode;
  /**
   * The last inspect of each container, kept while its list entry stays the same: a pass then
   * inspects only what changed instead of every container (500 inspects a pass, each slow while
   * the engine is busy starting containers, was the cost of a burst). Events also drop entries.
   */
  readonly #inspected = new Map<string, { signature: string; inspect: ContainerInspect }>();

  constructor(docker: Dockerode) {
    this.#docker = docker;
  }

  invalidate(id: string): void {
    this.#inspected.delete(id);
  }

  async listWorkloads(): Promise<Workload[]> {
    const [containers, services] = await Promise.all([this.#listContainers(), this.#listSwarmServices()]);
    return [...containers, ...services];
  }

  async #listContainers(): Promise<Workload[]> {
    const summaries = await call('list containers', () => this.#docker.listContainers({ all: true }));
    const listed = new Set(summaries.map((summary) => summary.Id));
    for (const id of this.#inspected.keys()) if (!listed.has(id)) this.#inspected.delete(id);
    const inspected = (
      await mapWithConcurrency(summaries, INSPECT_CONCURRENCY, async (summary) => {
        const signature = listSignature(summary);
        const known = this.#inspected.get(summary.Id);
        if (known?.signature === signature) return known.inspect;
        const inspect = await this.#inspect(summary.Id);
        if (inspect === undefined) this.#inspected.delete(summary.Id);
        else this.#inspected.set(summary.Id, { signature, inspect });
        return inspect;
      })
    ).filter((inspect): inspect is ContainerInspect => inspect !== undefined);

    const index = new ContainerIndex(inspected);
    await this.#inspectMissingNetworkContainers(index, inspected);

    return (
      inspected
        // Swarm task containers reach the core through their service, with the service's labels.
        .filter((inspect) => inspect.Config?.Labels?.[SWARM_SERVICE_LABEL] === undefined)
        .map((inspect) => containerToWorkload(inspect, (ref) => index.find(ref)))
    );
  }

  /**
   * Containers whose network stack a listed container shares are normally listed too (`all: true`),
   * but one created after the listing is not: inspect those now, following chains, so that the
   * synchronous lookup of containerToWorkload finds them.
   */
  async #inspectMissingNetworkContainers(index: ContainerIndex, start: readonly ContainerInspect[]): Promise<void> {
    const attempted = new Set<string>();
    let pending = [...start];
    while (pending.length > 0) {
      const refs = [
        ...new Set(
          pending
            .map((inspect) => inspect.HostConfig?.NetworkMode ?? '')
            .filter((mode) => mode.startsWith(CONTAINER_MODE_PREFIX))
            .map((mode) => mode.slice(CONTAINER_MODE_PREFIX.length))
            .filter((ref) => index.find(ref) === undefined && !attempted.has(ref)),
        ),
      ];
      refs.forEach((ref) => attempted.add(ref));
      const found = (await mapWithConcurrency(refs, INSPECT_CONCURRENCY, (ref) => this.#inspect(ref))).filter(
        (inspect): inspect is ContainerInspect => inspect !== undefined,
      );
      found.forEach((inspect) => index.add(inspect));
      pending = found;
    }
  }

  /** Undefined when the container is gone (removed between list and inspect) or not a usable one. */
  async #inspect(idOrName: string): Promise<ContainerInspect | undefined> {
    let inspect: ContainerInspect;
    try {
      inspect = await this.#docker.getContainer(idOrName).inspect();
    } catch (error) {
      if (DockerApiError.statusCodeOf(error) === 404) {
        return undefined;
      }
      throw new DockerApiError(`inspect container ${idOrName}`, error);
    }
    // Traefik ignores a container without state or name: nothing about it can be routed reliably.
    return inspect.State != null && inspect.Name ? inspect : undefined;
  }

  async #listSwarmServices(): Promise<Workload[]> {
    const info = await call('get engine info', (): Promise<unknown> => this.#docker.info());
    if (!isSwarmManager(info)) {
      return [];
    }
    // One task listing for all services instead of Traefik's one per service: the same tasks, fewer calls.
    const [services, networks, tasks, nodes] = await Promise.all([
      call('list services', async () => (await this.#docker.listServices()) as unknown as SwarmService[]),
      call('list swarm networks', async () => (await this.#docker.listNetworks({ filters: { scope: ['swarm'] } })) as NetworkSummary[]),
      call('list tasks', async () => (await this.#docker.listTasks({ filters: { 'desired-state': ['running'] } })) as SwarmTask[]),
      call('list nodes', async () => (await this.#docker.listNodes()) as SwarmNode[]),
    ]);

    const networkNames = new Map(networks.map((network) => [network.Id, network.Name]));
    const nodeAddresses = new Map<string, string>();
    for (const node of nodes) {
      if (node.Status?.Addr) {
        nodeAddresses.set(node.ID, node.Status.Addr);
      }
    }
    const tasksByService = new Map<string, SwarmTask[]>();
    for (const task of tasks) {
      const serviceId = task.ServiceID ?? '';
      tasksByService.set(serviceId, [...(tasksByService.get(serviceId) ?? []), task]);
    }
    return services.map((service) =>
      swarmServiceToWorkload(service, tasksByService.get(service.ID) ?? [], networkNames, nodeAddresses),
    );
  }
}

/** Inspected containers, found the ways `container:<ref>` can name one: full id, id prefix, name. */
class ContainerIndex {
  readonly #byId = new Map<string, ContainerInspect>();
  readonly #byName = new Map<string, ContainerInspect>();

  constructor(inspected: readonly ContainerInspect[]) {
    inspected.forEach((inspect) => this.add(inspect));
  }

  add(inspect: ContainerInspect): void {
    this.#byId.set(inspect.Id, inspect);
    this.#byName.set((inspect.Name ?? '').replace(/^\//, ''), inspect);
  }

  find(ref: string): ContainerInspect | undefined {
    const exact = this.#byId.get(ref) ?? this.#byName.get(ref.replace(/^\//, ''));
    if (exact !== undefined || ref === '') {
      return exact;
    }
    const byPrefix = [...this.#byId.values()].filter((inspect) => inspect.Id.startsWith(ref));
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }
}

/**
 * What of a list entry says whether the last inspect still holds: state, health (from the status
 * text, without its running time), names, ports and networks. Labels and configuration cannot
 * change without a new container.
 */
function listSignature(summary: Dockerode.ContainerInfo): string {
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(summary.Status ?? '')?.[1] ?? '';
  return JSON.stringify([summary.State, health, summary.Names, summary.Ports, summary.NetworkSettings, summary.HostConfig]);
}

function isSwarmManager(info: unknown): boolean {
  if (typeof info !== 'object' || info === null || !('Swarm' in info)) {
    return false;
  }
  const swarm = info.Swarm;
  return typeof swarm === 'object' && swarm !== null && 'ControlAvailable' in swarm && swarm.ControlAvailable === true;
}

async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new DockerApiError(operation, error);
  }
}

/** Like Promise.all over `items.map(fn)`, with at most `limit` calls of `fn` in flight; keeps order. */
async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
