import type { Workload } from '../core/workload.ts';

/** Where workloads come from (the Docker edge implements it): all at once, the Swarm part, or a few containers. */
export interface WorkloadSource {
  /** Every workload: containers and (on a Swarm manager) services. */
  listWorkloads(): Promise<Workload[]>;
  /** Swarm services with their running tasks; empty when there is no Swarm to read. */
  listSwarmWorkloads(): Promise<Workload[]>;
  /**
   * These containers' workloads now (undefined: gone, or not a workload of its own), with those that depend on them.
   */
  refreshContainers(ids: Iterable<string>): Promise<Map<string, Workload | undefined>>;
}

/**
 * The part of a source one owner writes: a node's standalone containers (each instance, under its
 * own owner id), or the Swarm services (the elected Swarm writer only). `listWorkloads` gives that
 * part alone, so a full pass of one owner never removes what the other writes.
 */
export function sourcePart(
  source: WorkloadSource & {
    listContainerWorkloads(): Promise<Workload[]>;
    /** Throws when the engine manages no Swarm (an empty list would remove every service). */
    listManagedSwarmWorkloads(): Promise<Workload[]>;
  },
  part: 'containers' | 'swarm',
): WorkloadSource {
  if (part === 'containers') {
    return {
      listWorkloads: () => source.listContainerWorkloads(),
      listSwarmWorkloads: async () => [],
      refreshContainers: (ids) => source.refreshContainers(ids),
    };
  }
  return {
    listWorkloads: () => source.listManagedSwarmWorkloads(),
    listSwarmWorkloads: () => source.listManagedSwarmWorkloads(),
    refreshContainers: async () => new Map(),
  };
}

/** What the source says changed: everything (a reconnect, the resync timer), the Swarm part, or some containers. */
export type WorkloadChange =
  | { readonly kind: 'all' }
  | { readonly kind: 'swarm' }
  | { readonly kind: 'containers'; readonly ids: readonly string[] };

/** Changes noted since the last pass, collapsed: a full listing covers everything else. */
export class PendingChanges {
  #all = true;
  #swarm = false;
  #containers = new Set<string>();

  note(change: WorkloadChange): void {
    if (change.kind === 'all') this.#all = true;
    else if (change.kind === 'swarm') this.#swarm = true;
    else for (const id of change.ids) if (id !== '') this.#containers.add(id);
  }

  /** Takes what is pending; give it back with `restore` when it could not be read. */
  take(): { all: boolean; swarm: boolean; containers: Set<string> } {
    const taken = { all: this.#all, swarm: this.#swarm, containers: this.#containers };
    this.#all = false;
    this.#swarm = false;
    this.#containers = new Set();
    return taken;
  }

  restore(taken: { all: boolean; swarm: boolean; containers: Set<string> }): void {
    this.#all ||= taken.all;
    this.#swarm ||= taken.swarm;
    for (const id of taken.containers) this.#containers.add(id);
  }
}
