import type { Logger } from 'pino';
import type { StoredResource } from '../core/readback/traefik-view.ts';
import { claimIdOf, SERVER_TARGET_FIELD } from '../core/resource-kinds.ts';
import type { InstanceLimits } from '../core/limits.ts';
import type { BuildProblem } from '../core/provider/build-problem.ts';
import type { CompiledTranslateOptions } from '../core/translate/translate-options.ts';
import { AppServing, type ActivitySource } from './app-serving.ts';
import { ChangeWriter } from './change-writer.ts';
import { DesiredState } from './desired-state.ts';
import { PLACEHOLDER_RESOURCE, type KeyLayout } from './key-layout.ts';
import type { Fence, KvStore, Operation } from './kv-store.ts';
import { MirrorSession } from './mirror-session.ts';
import { RecentTransactions } from './recent-transactions.ts';

/** Told of each committed transaction: the resources of Traefik's tree it changed, as spelled, and its revision. */
export type CommitListener = (resources: ReadonlySet<string>, revision: bigint) => void;

/** The resources of Traefik's tree that operations change (not the placeholder: no Traefik need show it). */
function treeResources(layout: KeyLayout, operations: readonly Operation[]): Set<string> {
  const resources = new Set<string>();
  for (const operation of operations) {
    const classified = layout.classify(operation.key);
    if (classified?.kind === 'tree' && classified.resource !== PLACEHOLDER_RESOURCE) resources.add(classified.resource);
  }
  return resources;
}

export interface LeaseHolder {
  /** The current lease id; a new one after the previous was lost. */
  leaseId(): string;
}

export interface SyncOutcome {
  readonly transactions: number;
  readonly operations: number;
  /** Claim ids in this pass's scope (all of them for a full pass). */
  readonly planned: number;
  /** Of those, left out of the plan: known to need nothing (planned or written whole from the very same input). */
  readonly leftOut: number;
  /** The change was planned again because another instance changed claims meanwhile. */
  readonly replans: number;
  /** Resources left as they are because one of their values is larger than the store takes in a request. */
  readonly refused: readonly { readonly label: string; readonly key: string; readonly bytes: number }[];
  /** Whether the mirror was (re)loaded from the store in this pass. */
  readonly loaded: boolean;
  /**
   * A full pass after a listing, written whole: every key this owner wants is on its lease now
   * (what it took over from an earlier lease included), and nothing is left for the next pass.
   */
  readonly complete: boolean;
}

/**
 * Keeps a store equal to what the workloads give, at the cost of what changed. A pass is four
 * parts, each with one job: the desired state (desired-state.ts: translations and the merge, pure
 * and synchronous), the mirror session (mirror-session.ts: the store in memory, kept by its watch,
 * and this owner's writes), the apps' step (app-serving.ts: ports through the store; returns what
 * the apps contribute) and the writer (change-writer.ts: plan, waves, apply, replan). This class
 * only runs them in order and keeps which claim ids the next pass must plan; workloads go straight
 * to the desired state, and what a part knows is asked of that part. A full pass (start,
 * reconnect, a new lease, the resync timer) goes through the same path with every claim id in
 * scope, and writes nothing when nothing differs.
 */
export class SyncEngine {
  readonly #lease: LeaseHolder;
  /**
   * What this owner wants: workloads are set here (replaceWorkloads, upsertWorkload, removeWorkload); counts and
   * refusals are read here.
   */
  readonly desired: DesiredState;
  readonly #session: MirrorSession;
  /** Plans and writes; the resources another owner defines differently are read here. */
  readonly writer: ChangeWriter;
  /** The apps' step; their records, frontends and port refusals are read here. */
  readonly apps: AppServing;
  /** The last transactions, for explain. */
  readonly transactions = new RecentTransactions();
  /** Claim ids the next pass plans: changed in the desired state, or by another writer. */
  readonly #dirty = new Set<string>();
  #fullPass = true;

  /**
   * `fence`: every transaction applies only while that leader key stands (the Swarm writer's
   * election); a refused one ends the pass with LeadershipLostError.
   */
  constructor(options: {
    store: KvStore;
    layout: KeyLayout;
    compiled: CompiledTranslateOptions;
    lease: LeaseHolder;
    logger: Logger;
    inherited?: readonly string[];
    onDirty?: () => void;
    fence?: Fence;
    activity?: ActivitySource | undefined;
    /** The keys and bytes everything this instance owns may reach (--max-instance-keys, --max-instance-bytes). */
    limits?: InstanceLimits;
    /** A transaction of this owner committed: the resources of Traefik's tree it changed (the read-back's input). */
    onCommitted?: CommitListener | undefined;
  }) {
    const onDirty = options.onDirty ?? (() => undefined);
    this.#lease = options.lease;
    this.desired = new DesiredState({ layout: options.layout, compiled: options.compiled, limits: options.limits });
    this.#session = new MirrorSession({
      store: options.store,
      layout: options.layout,
      logger: options.logger,
      fence: options.fence,
      onForeignChange: (claimIds) => {
        for (const id of claimIds) this.#dirty.add(id);
        onDirty();
      },
      onLost: onDirty,
      onLoaded: () => (this.#fullPass = true),
      onApplied: (revision, operations) => {
        this.transactions.record(revision, operations);
        options.onCommitted?.(treeResources(options.layout, operations), revision);
      },
    });
    this.writer = new ChangeWriter({
      session: this.#session,
      layout: options.layout,
      limits: options.store.transactionLimits,
      logger: options.logger,
      inherited: options.inherited,
    });
    this.apps = new AppServing({
      layout: options.layout,
      compiled: options.compiled,
      session: this.#session,
      onDirty,
      activity: options.activity,
      logger: options.logger.child({ component: 'apps' }),
    });
  }

  /**
   * Traefik's whole tree as the mirror holds it (every owner's keys), with the store revision it
   * reflects; undefined while the mirror is not loaded or its watch is lost (it may be behind).
   */
  traefikTree(): { revision: bigint; changes: number; entries: Iterable<readonly [string, string]> } | undefined {
    const { live, mirror } = this.#session;
    return live ? { revision: mirror.revision, changes: mirror.changes, entries: mirror.treeEntries() } : undefined;
  }

  /**
   * What the store holds of a resource of Traefik's tree now, as the read-back compares it with
   * what each Traefik shows: whether it is there, and a load balancer's server targets.
   */
  storedResource(resource: string): StoredResource {
    const held = this.#session.mirror.resource(claimIdOf(resource));
    if (held === undefined || (held.fields.size === 0 && held.servers.size === 0)) return { present: false };
    const balanced = held.servers.size > 0 || [...held.fields.keys()].some((key) => /\/loadbalancer\//i.test(key));
    if (!/^(http|tcp|udp)\/services\//i.test(resource) || !balanced) return { present: true };
    // The field that names a server of this protocol (url, or address): one home, resource-kinds.ts.
    const field =
      `/${SERVER_TARGET_FIELD[resource.slice(0, resource.indexOf('/')).toLowerCase()] ?? 'url'}`.toLowerCase();
    const servers: string[] = [];
    for (const entries of held.servers.values())
      for (const [key, entry] of entries) if (key.toLowerCase().endsWith(field)) servers.push(entry.value);
    return { present: true, servers: servers.sort() };
  }

  /** Plans every claim id on the next pass (a new lease, a resync). */
  requestFullPass(): void {
    this.#fullPass = true;
  }

  /** One pass: whatever changed since the last one (or everything) planned against the mirror and applied. */
  async sync(): Promise<SyncOutcome> {
    const loaded = await this.#session.ensure();
    this.desired.retryRefused();
    // Port changes seen before this pass are covered by its allocation.
    this.#session.mirror.takePortsChanged();
    if (this.desired.listed) {
      const contributions = await this.apps.serve(this.desired.apps(), () => this.#lease.leaseId());
      for (const [workloadId, list] of contributions) this.desired.setAppContributions(workloadId, list);
    }
    for (const id of this.desired.takeChanged()) this.#dirty.add(id);
    const scope = new Set<string>();
    let full = false;
    if (this.desired.listed) {
      full = this.#fullPass;
      // One set filled in place (tens of thousands of ids, no intermediate arrays), in the order a
      // full pass always planned them: what is wanted, what the store holds, what this owner holds.
      if (full) {
        for (const id of this.desired.resources.keys()) scope.add(id);
        for (const id of this.#session.mirror.claimIds()) scope.add(id);
        for (const id of this.writer.ownedClaimIds()) scope.add(id);
      }
      for (const id of this.#dirty) scope.add(id);
      this.#fullPass = false;
      this.#dirty.clear();
    } else {
      // Before the first listing, what is wanted is not known to be all that is: a pass only adds.
      // Planned against it, everything this owner held would go (a restarted instance, or a new
      // Swarm writer, whose Docker did not answer its first listing took every route it had
      // taken over out of every Traefik until Docker answered). The rest waits for a listing.
      for (const id of this.#dirty) if (this.desired.resources.has(id)) scope.add(id);
      for (const id of scope) this.#dirty.delete(id);
    }
    try {
      // Another writer's change during the write marks its claim ids dirty again (onForeignChange).
      const written = await this.writer.write(
        this.desired.resources,
        scope,
        () => this.#lease.leaseId(),
        (id) => this.#dirty.has(id),
      );
      // Claims kept changing: nothing of the scope may be forgotten, the next pass plans it again.
      if (written.leaseId === undefined) {
        for (const id of scope) this.#dirty.add(id);
        if (full) this.#fullPass = true;
      } else if (this.desired.listed) await this.apps.finish(written.leaseId);
      return {
        transactions: written.transactions,
        operations: written.operations,
        planned: scope.size,
        leftOut: written.leftOut,
        replans: written.replans,
        refused: written.refused,
        loaded,
        complete: full && written.leaseId !== undefined,
      };
    } catch (error) {
      for (const id of scope) this.#dirty.add(id);
      if (full) this.#fullPass = true;
      throw error;
    }
  }

  /**
   * Every problem now: each workload's own, the merge conflicts (reported to each workload involved), and the apps'.
   */
  problems(): BuildProblem[] {
    return [...this.desired.problems(), ...this.apps.problems()];
  }

  async stop(): Promise<void> {
    await this.#session.stop();
  }
}
