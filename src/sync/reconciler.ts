import type { SyncEngine, SyncOutcome } from './sync-engine.ts';
import type { PendingChanges, WorkloadSource } from './workload-changes.ts';

/** A workload source failed to answer: the daemon reports Docker unreachable. */
export class SourceUnavailableError extends Error {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), { cause });
    this.name = 'SourceUnavailableError';
  }
}

/**
 * One pass, from what changed to what is written: reads from the source only what the pending
 * changes name (a few containers, the Swarm part, or everything), hands it to the engine, and
 * lets the engine bring the store in line. Changes are noted straight into `pending` by whoever
 * sees them; events only decide when a pass runs.
 */
export class Reconciler {
  readonly #source: WorkloadSource;
  readonly #engine: SyncEngine;
  readonly #pending: PendingChanges;

  constructor(source: WorkloadSource, engine: SyncEngine, pending: PendingChanges) {
    this.#source = source;
    this.#engine = engine;
    this.#pending = pending;
  }

  /** What the pass under way awaits (for a pass that does not end: the daemon says it). */
  step: 'reading the source' | 'writing the store' | 'idle' = 'idle';

  async reconcile(): Promise<SyncOutcome & { readonly read: 'all' | 'some' | 'nothing' }> {
    try {
      return await this.#reconcile();
    } finally {
      this.step = 'idle';
    }
  }

  async #reconcile(): Promise<SyncOutcome & { readonly read: 'all' | 'some' | 'nothing' }> {
    const taken = this.#pending.take();
    let read: 'all' | 'some' | 'nothing' = 'nothing';
    this.step = 'reading the source';
    try {
      if (taken.all) {
        this.#engine.desired.replaceWorkloads(await this.#source.listWorkloads());
        this.#engine.requestFullPass();
        read = 'all';
      } else {
        if (taken.swarm) {
          this.#engine.desired.replaceWorkloads(await this.#source.listSwarmWorkloads(), 'swarm-service');
          read = 'some';
        }
        if (taken.containers.size > 0) {
          for (const [id, workload] of await this.#source.refreshContainers(taken.containers)) {
            if (workload === undefined) this.#engine.desired.removeWorkload(id);
            else this.#engine.desired.upsertWorkload(workload);
          }
          read = 'some';
        }
      }
    } catch (error) {
      this.#pending.restore(taken);
      // What the store says changed (another owner's lease ran out, a key removed by hand) is
      // still put right while the source does not answer; what is routed stays routed.
      this.step = 'writing the store';
      await this.#engine.sync();
      throw new SourceUnavailableError(error);
    }
    this.step = 'writing the store';
    return { ...(await this.#engine.sync()), read };
  }
}
