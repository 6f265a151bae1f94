import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { resourceEntries } from '../core/kv/configuration-to-kv.ts';
import { conflictProblems, type BuildProblem } from '../core/provider/build-problem.ts';
import { translateWorkload, type WorkloadTranslation } from '../core/translate/translate-workload.ts';
import type { CompiledTranslateOptions } from '../core/translate/translate-options.ts';
import { MergeIndex } from '../core/provider/merge-index.ts';
import type { MergeConflict } from '../core/provider/merge-configurations.ts';
import { resourcePath } from '../core/resource-kinds.ts';
import { defaultInstanceLimits, formatCount, limitMessage, type InstanceLimits } from '../core/limits.ts';
import type { Workload } from '../core/workload.ts';
import type { KeyLayout } from './key-layout.ts';
import { LeadershipLostError, type ApplyResult, type Fence, type GuardedTransaction, type KvStore, type StoreWatch, type WatchEvent } from './kv-store.ts';
import { planChange, type Conflict, type DesiredResource } from './plan-change.ts';
import { resourceDigest } from './resource-digest.ts';
import { transactionWaves, unwritableUnits } from './split-transactions.ts';
import { StoreMirror } from './store-mirror.ts';
import { AppServing, type ActivitySource } from './app-serving.ts';
import type { AppFrontend } from '../core/apps/app-frontends.ts';
import { decodeAppRecord, type AppRecord } from '../core/apps/app-record.ts';

export interface LeaseHolder {
  /** The current lease id; a new one after the previous was lost. */
  leaseId(): string;
}

export interface SyncOutcome {
  readonly transactions: number;
  readonly operations: number;
  /** Claim ids planned in this pass (all of them for a full pass). */
  readonly planned: number;
  /** The change was planned again because another instance changed claims meanwhile. */
  readonly replans: number;
  /** Resources left as they are because one of their values is larger than the store takes in a request. */
  readonly refused: readonly { readonly label: string; readonly key: string; readonly bytes: number }[];
  /** Whether the mirror was (re)loaded from the store in this pass. */
  readonly loaded: boolean;
}

/** Counts the daemon reports as metrics; kept as changes happen, never recounted. */
export interface SyncCounts {
  readonly workloads: number;
  /** Containers, tasks and service VIPs that contribute configuration. */
  readonly routed: number;
  /** Desired resources by `<section>_<kind>`. */
  readonly resources: ReadonlyMap<string, number>;
}

const MAX_REPLANS = 5;
const RECENT_TRANSACTIONS = 500;
/**
 * Transactions of one wave sent at once: etcd commits concurrent proposals together, so a first
 * sync of thousands of workloads is not one round trip per 128 operations.
 */
const TRANSACTIONS_IN_FLIGHT = 8;
/** How long a failed guard waits for the watch to bring the change that failed it, before the mirror is loaded again. */
const CATCH_UP_MS = 2000;

interface WorkloadState {
  readonly kind: Workload['kind'];
  readonly name: string;
  readonly fingerprint: string;
  readonly translation: WorkloadTranslation;
  /** Set while the workload is left out because this instance's keys or bytes would pass their limit. */
  readonly refusal: BuildProblem | undefined;
}

/** Keys and bytes (of keys and values) one desired resource puts in the store, its claim included. */
interface StoreSize {
  readonly keys: number;
  readonly bytes: number;
}

/**
 * Keeps a store equal to what the workloads give, at the cost of what changed: each workload's
 * translation is kept until its data changes, the merge is redone only for the resources a
 * changed workload touches, and the plan is made against an in-memory mirror of the store (loaded
 * once, kept current by its watch), for the claim ids that changed. A full pass (start, reconnect,
 * a new lease, the resync timer) goes through the same path with every claim id in scope, and
 * writes nothing when nothing differs.
 */
export class SyncEngine {
  readonly #store: KvStore;
  readonly #layout: KeyLayout;
  readonly #compiled: CompiledTranslateOptions;
  readonly #lease: LeaseHolder;
  readonly #log: Logger;
  readonly #onDirty: () => void;
  readonly #fence: Fence | undefined;
  readonly #mirror: StoreMirror;
  #watch: StoreWatch | undefined;
  #mirrorState: 'empty' | 'live' | 'lost' = 'empty';
  /** Transactions in flight: their own events are held until their answers are recorded. */
  #applying = 0;
  #held: WatchEvent[] = [];

  readonly #workloads = new Map<string, WorkloadState>();
  readonly #merge = new MergeIndex();
  readonly #desired = new Map<string, DesiredResource>();
  readonly #mergeConflicts = new Map<string, MergeConflict[]>();
  readonly #ownerConflicts = new Map<string, Conflict>();
  #owned = new Map<string, Set<string>>();
  readonly #dirty = new Set<string>();
  /** The last transactions, newest last, for `explain`: which one last touched a workload's keys. */
  #recent: { revision: bigint; at: string; keys: readonly string[] }[] = [];
  #fullPass = true;
  #routed = 0;
  readonly #resourceCounts = new Map<string, number>();
  readonly #apps: AppServing;
  /** The apps of each workload that has any (from its translation). */
  readonly #appsOf = new Map<string, WorkloadTranslation['apps']>();
  /** A full listing came: until then the apps' step frees no port (an unanswered Docker is no app gone). */
  #listed = false;
  readonly #limits: InstanceLimits;
  /** What each desired resource puts in the store, and the sum: everything this instance owns. */
  readonly #sizes = new Map<string, StoreSize>();
  #total: StoreSize = { keys: 0, bytes: 0 };
  /** A workload left or changed since refused ones were last tried: one of them may fit now. */
  #freed = false;

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
  }) {
    this.#store = options.store;
    this.#limits = options.limits ?? defaultInstanceLimits;
    this.#layout = options.layout;
    this.#compiled = options.compiled;
    this.#lease = options.lease;
    this.#log = options.logger;
    this.#onDirty = options.onDirty ?? (() => undefined);
    this.#fence = options.fence;
    this.#mirror = new StoreMirror(options.layout);
    this.#apps = new AppServing({
      layout: options.layout,
      compiled: options.compiled,
      mirror: this.#mirror,
      apply: (transaction, leaseId) => this.#apply(transaction, leaseId),
      catchUp: (revision) => this.#catchUp(revision),
      setContributions: (workloadId, contributions) => {
        // An entry of its own beside the workload's translation: the key cannot be a workload id.
        for (const claimId of this.#merge.set(`apps\u0000${workloadId}`, contributions)) this.#resolve(claimId);
      },
      onDirty: this.#onDirty,
      activity: options.activity,
      logger: options.logger.child({ component: 'apps' }),
    });
    for (const key of options.inherited ?? []) {
      const classified = options.layout.classify(key);
      if (classified?.kind === 'tree' && classified.server !== undefined) this.#ownedSet(classified.claimId).add(key);
    }
  }

  /**
   * Sets every workload at once (a full listing), or every one of one kind (the Swarm services):
   * unchanged ones cost a comparison, missing ones are removed.
   */
  replaceWorkloads(workloads: readonly Workload[], kind?: Workload['kind']): void {
    this.#listed = true;
    const seen = new Set<string>();
    for (const workload of workloads) {
      seen.add(workload.id);
      this.upsertWorkload(workload);
    }
    for (const [id, state] of [...this.#workloads]) if (!seen.has(id) && (kind === undefined || state.kind === kind)) this.removeWorkload(id);
  }

  /** One workload is new or may have changed. */
  upsertWorkload(workload: Workload): void {
    // A digest, not the text: 20 bytes kept per workload instead of a kilobyte.
    const fingerprint = createHash('sha1').update(JSON.stringify(workload)).digest('base64');
    const known = this.#workloads.get(workload.id);
    if (known?.fingerprint === fingerprint) return;
    // The fingerprint covers everything the translation reads: its apps come without ports
    // (translation.apps), so that ports, which depend on the other apps and on a store, never go
    // stale here; the apps' step (app-serving.ts) gives them on every pass.
    const translation = translateWorkload(workload, this.#compiled);
    const admitted = known !== undefined && known.refusal === undefined ? known.translation : undefined;
    if (admitted !== undefined) this.#freed = true;
    const refusal = this.#admit(workload.id, workload.name, admitted, translation);
    this.#workloads.set(workload.id, { kind: workload.kind, name: workload.name, fingerprint, translation, refusal });
  }

  /**
   * Puts a workload's translation in the merge in place of `before`, unless everything this
   * instance owns would then pass its limit: then the workload is left out whole (the merge is as
   * if it were not there), and the refusal is returned. Workloads already in never move for it.
   */
  #admit(id: string, name: string, before: WorkloadTranslation | undefined, translation: WorkloadTranslation): BuildProblem | undefined {
    this.#setTranslation(id, before, translation);
    const total = this.#total;
    const over = total.keys > this.#limits.keys ? 'instance-keys' : total.bytes > this.#limits.bytes ? 'instance-bytes' : undefined;
    if (translation.contributions.length === 0 || over === undefined) return undefined;
    this.#setTranslation(id, translation, undefined);
    const found = over === 'instance-keys' ? `with it, this instance would own ${formatCount(total.keys)} keys in the store` : `with it, this instance would own ${formatCount(total.bytes)} bytes of keys and values in the store`;
    const max = over === 'instance-keys' ? this.#limits.keys : this.#limits.bytes;
    return { severity: 'error', workload: name, label: undefined, limit: over, message: limitMessage(over, found, max, 'what is routed already stays; remove workloads (it is tried again as they go)') };
  }

  /** Refused workloads tried again, in the order they came, once something left: each that fits now is routed. */
  #retryRefused(): void {
    if (!this.#freed) return;
    this.#freed = false;
    for (const [id, state] of this.#workloads) {
      if (state.refusal === undefined) continue;
      // The first refusal is kept while it stands: its figures are those of when it was refused.
      const refusal = this.#admit(id, state.name, undefined, state.translation);
      if (refusal === undefined) this.#workloads.set(id, { ...state, refusal: undefined });
    }
  }

  /** One workload is gone. */
  removeWorkload(id: string): void {
    const known = this.#workloads.get(id);
    if (known === undefined) return;
    this.#workloads.delete(id);
    if (known.refusal !== undefined) return;
    this.#setTranslation(id, known.translation, undefined);
    this.#freed = true;
  }

  /** Plans every claim id on the next pass (a new lease, a resync). */
  requestFullPass(): void {
    this.#fullPass = true;
  }

  #setTranslation(id: string, before: WorkloadTranslation | undefined, after: WorkloadTranslation | undefined): void {
    this.#routed += (after?.contributions.length ?? 0) - (before?.contributions.length ?? 0);
    // Kept apart, so that a pass looks at the workloads that have apps, not at every workload.
    if (after !== undefined && after.apps.length > 0) this.#appsOf.set(id, after.apps);
    else this.#appsOf.delete(id);
    for (const claimId of this.#merge.set(id, after?.contributions ?? [])) this.#resolve(claimId);
  }

  #resolve(claimId: string): void {
    const { resource, conflicts } = this.#merge.resolve(claimId);
    if (conflicts.length > 0) this.#mergeConflicts.set(claimId, conflicts);
    else this.#mergeConflicts.delete(claimId);
    const previous = this.#desired.get(claimId);
    if (previous !== undefined) this.#count(previous.resource, -1);
    const size = this.#sizes.get(claimId);
    if (size !== undefined) {
      this.#total = { keys: this.#total.keys - size.keys, bytes: this.#total.bytes - size.bytes };
      this.#sizes.delete(claimId);
    }
    if (resource === undefined) {
      this.#desired.delete(claimId);
    } else {
      const entries = resourceEntries(resource.section, resource.kind, resource.name, resource.definition, resource.serverOrigins, { rootKey: this.#layout.rootKey, ownerId: this.#layout.owner });
      const path = resourcePath(resource.section, resource.kind, resource.name);
      const desired = { resource: path, fields: entries.fields, servers: entries.servers, digest: resourceDigest(entries.fields, this.#layout.rootKey) };
      this.#desired.set(claimId, desired);
      this.#count(path, 1);
      const added = this.#sizeOf(claimId, desired);
      this.#sizes.set(claimId, added);
      this.#total = { keys: this.#total.keys + added.keys, bytes: this.#total.bytes + added.bytes };
    }
    this.#dirty.add(claimId);
  }

  /** What a desired resource puts in the store: its fields, this instance's servers of it, and its claim. */
  #sizeOf(claimId: string, desired: DesiredResource): StoreSize {
    let keys = desired.fields.size + 1;
    let bytes = Buffer.byteLength(this.#layout.claimKey(claimId)) + Buffer.byteLength(desired.digest);
    for (const [key, value] of desired.fields) bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    for (const server of desired.servers.values()) {
      keys += server.size;
      for (const [key, value] of server) bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    }
    return { keys, bytes };
  }

  #count(resource: string, delta: number): void {
    const [section = '', kind = ''] = resource.split('/', 2);
    const key = `${section}_${kind}`;
    this.#resourceCounts.set(key, (this.#resourceCounts.get(key) ?? 0) + delta);
  }

  #ownedSet(claimId: string): Set<string> {
    let owned = this.#owned.get(claimId);
    if (owned === undefined) {
      owned = new Set();
      this.#owned.set(claimId, owned);
    }
    return owned;
  }

  /** Loads the mirror and starts the watch, when there is none or the watch was lost. */
  async #ensureMirror(): Promise<boolean> {
    if (this.#mirrorState === 'live') return false;
    await this.#watch?.stop().catch(() => undefined);
    this.#watch = undefined;
    const ranges = this.#layout.ranges();
    const snapshot = await this.#store.load(ranges);
    this.#mirror.load(snapshot);
    // Live only once the watch runs (from the snapshot's next revision: nothing falls between).
    this.#watch = await this.#store.watch(ranges, snapshot.revision, {
      onEvents: (events) => {
        // While a transaction is in flight its own events may arrive before its answer does:
        // held until the answer is recorded, they change nothing instead of looking foreign.
        if (this.#applying > 0) this.#held.push(...events);
        else this.#take(events);
      },
      onLost: (reason) => {
        if (this.#mirrorState !== 'live') return;
        this.#log.warn({ reason }, "the store's watch was lost; the mirror will be loaded again");
        this.#mirrorState = 'lost';
        this.#onDirty();
      },
    });
    this.#mirrorState = 'live';
    this.#fullPass = true;
    return true;
  }

  #take(events: readonly WatchEvent[]): void {
    const changed = this.#mirror.applyEvents(events);
    // Another instance took or freed a port: an app refused one may get it now.
    const ports = this.#mirror.takePortsChanged();
    if (changed.size === 0 && !ports) return;
    for (const id of changed) this.#dirty.add(id);
    this.#onDirty();
  }

  async #apply(transaction: GuardedTransaction, leaseId: string): Promise<ApplyResult> {
    this.#applying += 1;
    try {
      const result = await this.#store.apply(this.#fence === undefined ? transaction : { ...transaction, fence: this.#fence }, leaseId);
      if (result.fenced === true) throw new LeadershipLostError(`write as ${this.#layout.owner}`);
      if (result.applied) {
        this.#mirror.applyOwn(transaction.operations, result.revision, leaseId);
        this.#recent.push({ revision: result.revision, at: new Date().toISOString(), keys: transaction.operations.map((operation) => operation.key) });
        if (this.#recent.length > RECENT_TRANSACTIONS) this.#recent = this.#recent.slice(-RECENT_TRANSACTIONS);
      }
      return result;
    } finally {
      this.#applying -= 1;
      if (this.#applying === 0 && this.#held.length > 0) {
        const held = this.#held;
        this.#held = [];
        this.#take(held);
      }
    }
  }

  /** Waits for the watch to bring `revision`, or loads the mirror again. */
  async #catchUp(revision: bigint): Promise<void> {
    await this.#mirror.waitForRevision(revision, CATCH_UP_MS).catch(async () => {
      this.#mirrorState = 'lost';
      await this.#ensureMirror();
    });
  }

  /** One pass: whatever changed since the last one (or everything) planned against the mirror and applied. */
  async sync(): Promise<SyncOutcome> {
    const loaded = await this.#ensureMirror();
    this.#retryRefused();
    this.#mirror.takePortsChanged();
    if (this.#listed) await this.#apps.serve([...this.#appsOf.values()].flat(), () => this.#lease.leaseId());
    const full = this.#fullPass;
    const scope = full ? new Set([...this.#desired.keys(), ...this.#mirror.claimIds(), ...this.#owned.keys(), ...this.#dirty]) : new Set(this.#dirty);
    this.#fullPass = false;
    this.#dirty.clear();
    let transactions = 0;
    let operations = 0;
    let refusedAll: SyncOutcome['refused'] = [];
    try {
      for (let attempt = 0; ; attempt += 1) {
        const leaseId = this.#lease.leaseId();
        const planRevision = this.#mirror.revision;
        const plan = planChange({ desired: this.#desired, mirror: this.#mirror, scope, layout: this.#layout, leaseId, ownedServers: this.#owned });
        const { writable, refused } = unwritableUnits(plan.units);
        refusedAll = refused;
        /** Claim ids this pass has written, with the revision: a later transaction's guard on one starts there. */
        const written = new Map<string, bigint>();
        let interrupted: bigint | undefined;
        for (const wave of transactionWaves(writable, this.#store.transactionLimits)) {
          const limit = pLimit(TRANSACTIONS_IN_FLIGHT);
          const results = await Promise.all(
            wave.map((transaction) =>
              limit(async () => {
                const guards = transaction.guards.map((id) => ({ range: { key: this.#layout.claimPrefix(id), prefix: true }, notModifiedAfter: written.get(id) ?? planRevision }));
                const result = await this.#apply({ operations: transaction.operations, guards }, leaseId);
                if (result.applied) {
                  transactions += 1;
                  operations += transaction.operations.length;
                  for (const id of transaction.guards) written.set(id, result.revision);
                }
                return result;
              }),
            ),
          );
          const failed = results.find((result) => !result.applied);
          if (failed !== undefined) {
            interrupted = results.reduce((newest, result) => (result.revision > newest ? result.revision : newest), failed.revision);
            break;
          }
        }
        if (interrupted === undefined) {
          for (const [id, owned] of plan.ownedServers) {
            if (owned.size > 0) this.#owned.set(id, new Set(owned));
            else this.#owned.delete(id);
          }
          for (const id of scope) {
            const conflict = plan.conflicts.get(id);
            if (conflict !== undefined) this.#ownerConflicts.set(id, conflict);
            else this.#ownerConflicts.delete(id);
          }
          if (this.#listed) await this.#apps.finish(leaseId);
          return { transactions, operations, planned: scope.size, replans: attempt, refused: refusedAll, loaded };
        }
        // Another owner changed a claim since the mirror's revision: let the watch bring that
        // change (or load the mirror again), then plan again.
        await this.#catchUp(interrupted);
        if (attempt >= MAX_REPLANS) {
          this.#log.warn({ attempts: attempt + 1 }, 'claims kept changing under this pass; will retry on the next one');
          for (const id of scope) this.#dirty.add(id);
          return { transactions, operations, planned: scope.size, replans: attempt, refused: refusedAll, loaded };
        }
      }
    } catch (error) {
      // Nothing of the scope may be forgotten: the next pass plans it again.
      for (const id of scope) this.#dirty.add(id);
      if (full) this.#fullPass = true;
      throw error;
    }
  }

  /** Every problem now: each workload's own, and the merge conflicts (reported to each workload involved). */
  problems(): BuildProblem[] {
    const problems: BuildProblem[] = [];
    for (const { translation, refusal } of this.#workloads.values()) {
      problems.push(...translation.problems);
      if (refusal !== undefined) problems.push(refusal);
    }
    for (const conflicts of this.#mergeConflicts.values()) for (const conflict of conflicts) problems.push(...conflictProblems(conflict));
    problems.push(...this.#apps.problems());
    return problems;
  }

  /** This owner's apps as last written: where each is reached, its activity, or why it is not served. */
  appRecords(): AppRecord[] {
    return this.#apps.records();
  }

  /** Every owner's app records under the root key, as the mirror holds them. */
  storedAppRecords(): AppRecord[] {
    return [...this.#mirror.appRecords().values()].map((entry) => decodeAppRecord(entry.value)).filter((record): record is AppRecord => record !== undefined);
  }

  /** Apps refused a port now, by reason. */
  appAllocationErrors(): ReadonlyMap<string, number> {
    return this.#apps.allocationErrors();
  }

  /** Where this owner's apps are reached now (for activity tracking). */
  appFrontends(): readonly AppFrontend[] {
    return this.#apps.frontends();
  }

  /** The newest of the last transactions that touched one of `keys`. */
  lastTransactionTouching(keys: ReadonlySet<string>): { revision: string; at: string; operations: number } | undefined {
    for (let index = this.#recent.length - 1; index >= 0; index -= 1) {
      const transaction = this.#recent[index];
      if (transaction !== undefined && transaction.keys.some((key) => keys.has(key))) return { revision: transaction.revision.toString(), at: transaction.at, operations: transaction.keys.length };
    }
    return undefined;
  }

  /** Resources another owner defines differently (left as they are). */
  conflicts(): Conflict[] {
    return [...this.#ownerConflicts.values()];
  }

  /** Keys and bytes of everything this instance wants in the store now (what --max-instance-keys and --max-instance-bytes cap). */
  storeSize(): StoreSize {
    return this.#total;
  }

  /** Why a workload is left out for this instance's limits, if it is. */
  refusalOf(workloadId: string): BuildProblem | undefined {
    return this.#workloads.get(workloadId)?.refusal;
  }

  counts(): SyncCounts {
    return { workloads: this.#workloads.size, routed: this.#routed, resources: this.#resourceCounts };
  }


  async stop(): Promise<void> {
    await this.#watch?.stop().catch(() => undefined);
    this.#watch = undefined;
    this.#mirrorState = 'empty';
  }
}
