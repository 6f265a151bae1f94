import type { InstanceLimits } from '../core/limits.ts';
import type { Logger } from 'pino';
import type { CompiledTranslateOptions } from '../core/translate/translate-options.ts';
import { KeyLayout } from '../sync/key-layout.ts';
import type { Fence, KvStore, LeaseInfo, StoreEntry, StoreLease } from '../sync/kv-store.ts';
import type { ActivitySource } from '../sync/app-serving.ts';
import { Reconciler } from '../sync/reconciler.ts';
import { SyncEngine, type CommitListener, type SyncOutcome } from '../sync/sync-engine.ts';
import { PendingChanges, type WorkloadSource } from '../sync/workload-changes.ts';
import { OwnerGuard, OwnerHeldError, holderIsAlive } from './owner-guard.ts';
import { decodeOwnerRecord, encodeOwnerRecord, thisInstance, type OwnerRecord } from './owner-record.ts';

export interface OwnerRoleOptions {
  readonly store: KvStore;
  readonly rootKey: string;
  readonly owner: string;
  readonly compiled: CompiledTranslateOptions;
  /** The part of Docker this owner writes (its node's containers, or the Swarm services). */
  readonly source: WorkloadSource;
  readonly leaseSeconds: number;
  readonly logger: Logger;
  /**
   * Whether a live instance holding the same owner id is refused (OwnerHeldError) and probes from
   * others are answered. The Swarm writer's owner id is shared by design: its election decides.
   */
  readonly exclusive: boolean;
  /** The Swarm writer's leader key: its writes apply only while it leads. */
  readonly fence?: Fence;
  /** The store changed: a pass is needed. */
  readonly onDirty: () => void;
  /** The lease was lost and replaced: a pass is needed now, past any backoff (default: onDirty). */
  readonly onLeaseReplaced?: () => void;
  /** What is known of the apps' use, for their records. */
  readonly activity?: ActivitySource | undefined;
  /** The keys and bytes everything this owner writes may reach. */
  readonly limits?: InstanceLimits | undefined;
  /** Each committed transaction's changed resources (the read-back). */
  readonly onCommitted?: CommitListener | undefined;
  /**
   * Another instance took this (exclusive) owner id while this one ran: this one has stopped
   * writing; `message` says so and names the other instance.
   */
  readonly onTakenOver?: ((message: string) => void) | undefined;
}

/**
 * The owner record changed between this instance's read of it and its claim (another instance
 * claimed the id at the same moment): the next attempt reads it again and asks its holder.
 */
export class OwnerClaimRaceError extends Error {
  constructor(owner: string) {
    super(`owner id "${owner}" was claimed by another instance while this one claimed it; asking again`);
    this.name = 'OwnerClaimRaceError';
  }
}

/**
 * One owner id at work: its record and lease, its sync engine and what reads Docker for it. A
 * daemon has one for its node's containers and, while it is the elected Swarm writer, one for the
 * Swarm services. Connecting takes over what a previous run of the owner wrote (its keys move to
 * the new lease in the first pass; the old lease is kept alive until then and revoked after it), so
 * a restart never leaves a still-running route missing.
 */
export class OwnerRole {
  readonly layout: KeyLayout;
  readonly #options: OwnerRoleOptions;
  readonly #log: Logger;
  #lease: StoreLease | undefined;
  #engine: SyncEngine | undefined;
  #reconciler: Reconciler | undefined;
  #passStep: string | undefined;
  /** The reconciler of the pass under way. */
  #passing: Reconciler | undefined;
  #changes: PendingChanges | undefined;
  #guard: OwnerGuard | undefined;
  /** Leases taken over whose keys the first pass has not moved yet (kept alive until it has). */
  #previousLeases: { readonly id: string; readonly grantedSeconds: number }[] = [];
  /** Keeps #previousLeases alive until the first pass moved their keys. */
  #previousKeeper: NodeJS.Timeout | undefined;
  /** Every lease this role has written its record on (a lost lease is replaced by a new one). */
  readonly #ownLeases = new Set<string>();

  constructor(options: OwnerRoleOptions) {
    this.#options = options;
    this.layout = new KeyLayout(options.rootKey, options.owner);
    this.#log = options.logger;
  }

  get connected(): boolean {
    return this.#engine !== undefined;
  }

  get engine(): SyncEngine | undefined {
    return this.#engine;
  }

  /**
   * Where Docker changes for this owner are noted (the next pass reads what they name); undefined
   * before connecting, when there is nothing to note: the first pass reads everything.
   */
  get changes(): PendingChanges | undefined {
    return this.#changes;
  }

  leaseId(): string | undefined {
    return this.#lease?.leaseId();
  }

  /**
   * One attempt; rejects with StoreUnavailableError or OwnerClaimRaceError (retry) or
   * OwnerHeldError (give up). The record is claimed atomically: written only if it has not changed
   * since it was read (absent, or still naming the holder that was asked), so two instances
   * starting together cannot both take the id.
   */
  async connect(): Promise<void> {
    const { store, leaseSeconds, exclusive } = this.#options;
    const recordRange = { key: this.layout.ownerKey, prefix: false };
    const read = await store.load([recordRange]);
    const previous = decodeOwnerRecord(read.entries[0]?.value);
    const previousLease = previous === undefined ? undefined : await store.lease(previous.lease);
    // Every lease the previous holder held keys of this owner on: its own, and those it had taken
    // over and not yet moved off (they are alive only while someone keeps them so).
    const takenOver = previous === undefined ? [] : await this.#leasesToTakeOver(previous, previousLease);
    const inherited = takenOver.flatMap((held) => held.info.keys);
    const me = thisInstance();
    const record = (leaseId: string) =>
      encodeOwnerRecord({
        lease: leaseId,
        ...me,
        ...(this.#previousLeases.length === 0 ? {} : { movingFrom: this.#previousLeases.map((held) => held.id) }),
      });
    const lease = await store.openLease(leaseSeconds, () => {
      this.#ownLeases.add(lease.leaseId());
      // The engine moves every leased key of this owner to the new lease.
      void this.#rewriteRecord(record(lease.leaseId()), lease.leaseId());
      this.#engine?.requestFullPass();
      (this.#options.onLeaseReplaced ?? this.#options.onDirty)();
    });
    this.#ownLeases.add(lease.leaseId());
    this.#previousLeases = takenOver
      .filter((held) => held.id !== lease.leaseId())
      .map((held) => ({ id: held.id, grantedSeconds: held.info.grantedSeconds }));
    // From now: asking a holder whether it is alive takes a while, and the leases may be near
    // their end (nobody has kept them alive since their holder stopped).
    if (this.#previousLeases.length > 0) this.#keepPreviousAlive();
    try {
      if (exclusive && previous !== undefined && previousLease !== undefined && previous.lease !== lease.leaseId()) {
        if (
          await holderIsAlive(store, this.layout, previous, previousLease, {
            instance: me.instance,
            leaseId: lease.leaseId(),
          })
        )
          throw new OwnerHeldError(this.layout.owner, previous);
      }
      const claim = await store.apply(
        {
          operations: [{ type: 'put', key: this.layout.ownerKey, value: record(lease.leaseId()), leased: true }],
          guards: [{ range: recordRange, notModifiedAfter: read.revision }],
          ...(read.epoch === undefined ? {} : { epoch: read.epoch }),
        },
        lease.leaseId(),
      );
      if (!claim.applied) throw new OwnerClaimRaceError(this.layout.owner);
    } catch (error) {
      this.#stopKeepingPrevious();
      this.#previousLeases = [];
      lease.release();
      await store.revoke(lease.leaseId()).catch(() => undefined);
      throw error;
    }
    this.#lease = lease;
    if (previous !== undefined && this.#previousLeases.length > 0) {
      this.#log.info(
        {
          previousLeases: this.#previousLeases.map((held) => held.id),
          previousInstance: previous.instance,
          keys: inherited.length,
        },
        'taking over what a previous run of this owner wrote',
      );
    }
    this.#engine = new SyncEngine({
      store,
      layout: this.layout,
      compiled: this.#options.compiled,
      lease,
      logger: this.#log.child({ component: 'sync' }),
      inherited,
      onDirty: this.#options.onDirty,
      activity: this.#options.activity,
      onCommitted: this.#options.onCommitted,
      ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }),
      ...(this.#options.fence === undefined ? {} : { fence: this.#options.fence }),
    });
    this.#changes = new PendingChanges();
    this.#reconciler = new Reconciler(this.#options.source, this.#engine, this.#changes);
    if (exclusive) {
      this.#guard = new OwnerGuard({
        store,
        layout: this.layout,
        instance: me.instance,
        leaseId: () => lease.leaseId(),
        ownLease: (id) => this.#ownLeases.has(id),
        onTakenOver: (holder) => this.#takenOver(holder),
        logger: this.#log,
      });
      // Answering from the moment the owner id is taken, not from the first pass: an instance
      // started meanwhile with the same id waits 1 s for an answer, and a first pass of thousands
      // of workloads takes longer (it would then take the id over, and the two would fight).
      await this.#guardStarted();
    }
  }

  /** The record's lease and those it names as `movingFrom`, each that is still alive, with its keys. */
  async #leasesToTakeOver(
    previous: OwnerRecord,
    previousLease: LeaseInfo | undefined,
  ): Promise<{ id: string; info: LeaseInfo }[]> {
    const held = previousLease === undefined ? [] : [{ id: previous.lease, info: previousLease }];
    for (const id of new Set(previous.movingFrom ?? [])) {
      if (id === previous.lease) continue;
      const info = await this.#options.store.lease(id);
      if (info !== undefined) held.push({ id, info });
    }
    return held;
  }

  /**
   * The keys taken over stay on their leases until the first pass moves them, and nobody else
   * keeps those alive: a first pass that took longer than a lease's time (Docker slow to answer a
   * new Swarm writer, or not answering at all) let every taken-over route expire from every
   * Traefik while this instance held the owner id (seen on three nodes: all the demo's servers
   * gone for 10 s after one instance was elected writer twice in 11 s). So this instance keeps them
   * alive, as their holder did, from the takeover until they are revoked after the first pass.
   */
  #keepPreviousAlive(): void {
    const { store } = this.#options;
    const leases = this.#previousLeases;
    let warned = false;
    const refresh = () => {
      for (const { id } of leases)
        void store.refresh(id).then(
          (alive) => {
            if (alive || this.#previousLeases !== leases) return;
            this.#log.warn({ lease: id }, 'a taken-over lease expired before the first pass moved its keys');
          },
          (error: unknown) => {
            if (warned) return;
            warned = true;
            this.#log.warn({ err: error, lease: id }, 'taken-over lease not kept alive; tried again');
          },
        );
    };
    this.#stopKeepingPrevious();
    refresh();
    const shortest = Math.min(...leases.map((held) => held.grantedSeconds));
    this.#previousKeeper = setInterval(refresh, Math.max(500, (shortest * 1000) / 3));
    this.#previousKeeper.unref();
  }

  #stopKeepingPrevious(): void {
    clearInterval(this.#previousKeeper);
    this.#previousKeeper = undefined;
  }

  /**
   * After a lost lease was replaced: the record moves to the new lease, unless another instance
   * wrote it meanwhile (the id was taken while this one could not keep its lease). Read, then
   * written only if unchanged since, as the claim is.
   */
  async #rewriteRecord(value: string, leaseId: string): Promise<void> {
    const { store } = this.#options;
    const range = { key: this.layout.ownerKey, prefix: false };
    try {
      const read = await store.load([range]);
      const taker = this.#otherHolder(read.entries[0]);
      if (taker !== undefined) {
        this.#takenOver(taker);
        return;
      }
      const result = await store.apply(
        {
          operations: [{ type: 'put', key: this.layout.ownerKey, value, leased: true }],
          guards: [{ range, notModifiedAfter: read.revision }],
          ...(read.epoch === undefined ? {} : { epoch: read.epoch }),
        },
        leaseId,
      );
      if (result.applied) return;
      // Written between the read and the write: by another instance, or by this one's own
      // earlier replacement.
      const writer = this.#otherHolder((await store.load([range])).entries[0]);
      if (writer !== undefined) this.#takenOver(writer);
    } catch (error) {
      this.#log.warn({ err: error }, 'owner record not written');
    }
  }

  /** The holder an owner record names, when it is another instance's (on a lease this one never held). */
  #otherHolder(entry: StoreEntry | undefined): OwnerRecord | undefined {
    if (!this.#options.exclusive || entry === undefined || this.#ownLeases.has(entry.lease)) return undefined;
    return decodeOwnerRecord(entry.value);
  }

  /** Another instance holds the owner id now: this one stops writing at once and says so. */
  #takenOver(holder: OwnerRecord): void {
    if (this.#engine === undefined) return;
    const message =
      `owner id "${this.layout.owner}" was taken by another instance (${holder.instance}, lease ${holder.lease}) ` +
      'while this one ran (it did not hear this one answer: a partition, a stalled process, or two instances ' +
      "given one id): this instance stopped writing, so that the two do not remove each other's servers. " +
      'Give each instance its own --owner (APPPROXY_OWNER)';
    this.#log.error({ owner: this.layout.owner, holder: holder.instance, holderLease: holder.lease }, message);
    void this.stop();
    this.#options.onTakenOver?.(message);
  }

  async #guardStarted(): Promise<void> {
    await this.#guard
      ?.ensure()
      .catch((error: unknown) =>
        this.#log.warn({ err: error }, 'owner probe watch not started; retried on the next pass'),
      );
  }

  /** What this owner's pass under way awaits, or undefined when none runs (even once stopped meanwhile). */
  passStep(): string | undefined {
    return this.#passStep ?? (this.#passing?.step === 'idle' ? undefined : this.#passing?.step);
  }

  /** One pass; undefined while not connected. */
  async pass(): Promise<(SyncOutcome & { readonly read: 'all' | 'some' | 'nothing' }) | undefined> {
    const reconciler = this.#reconciler;
    if (reconciler === undefined) return undefined;
    this.#passing = reconciler;
    try {
      return await this.#pass(reconciler);
    } finally {
      this.#passing = undefined;
    }
  }

  async #pass(reconciler: Reconciler): Promise<SyncOutcome & { readonly read: 'all' | 'some' | 'nothing' }> {
    this.#passStep = 'starting its owner guard';
    try {
      await this.#guardStarted();
    } finally {
      this.#passStep = undefined;
    }
    const outcome = await reconciler.reconcile();
    // Only once a full pass wrote everything: a pass that left claims for the next one (they kept
    // changing under it) has not moved every key yet, and revoking now would take the rest away.
    if (this.#previousLeases.length > 0 && outcome.complete) {
      // Everything still wanted now lives on the new lease; what is left on the old ones is stale.
      const previous = this.#previousLeases;
      this.#previousLeases = [];
      this.#stopKeepingPrevious();
      this.#passStep = 'revoking the leases it took over';
      try {
        for (const { id } of previous)
          await this.#options.store
            .revoke(id)
            .catch((error: unknown) =>
              this.#log.warn({ err: error, lease: id }, 'a taken-over lease not revoked; it will expire'),
            );
      } finally {
        this.#passStep = undefined;
      }
    }
    return outcome;
  }

  /**
   * Stops writing. The lease is left alive (not revoked) so that a restart, or the next Swarm
   * writer, takes over its keys before it expires; `revoke` drops them at once instead.
   */
  async stop(options: { revoke?: boolean } = {}): Promise<void> {
    // Nothing is passed or written from here on, even before the awaits below end.
    const engine = this.#engine;
    const guard = this.#guard;
    const lease = this.#lease;
    this.#engine = undefined;
    this.#reconciler = undefined;
    this.#changes = undefined;
    this.#guard = undefined;
    this.#lease = undefined;
    // Left to run out, as this instance's own lease is: the next holder takes over both.
    this.#stopKeepingPrevious();
    this.#previousLeases = [];
    await guard?.stop();
    await engine?.stop();
    lease?.release();
    if (options.revoke === true && lease !== undefined)
      await this.#options.store.revoke(lease.leaseId()).catch(() => undefined);
  }
}
