import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { KeyLayout } from './key-layout.ts';
import type { ApplyResult, TransactionLimits } from './kv-store.ts';
import type { MirrorSession } from './mirror-session.ts';
import { planChange, type Conflict, type DesiredResource } from './plan-change.ts';
import { transactionWaves, unwritableUnits } from './split-transactions.ts';

const MAX_REPLANS = 5;
/**
 * Transactions of one wave sent at once: etcd commits concurrent proposals together, so a first
 * sync of thousands of workloads is not one round trip per 128 operations.
 */
const TRANSACTIONS_IN_FLIGHT = 8;

/** What one write of a scope did. */
export interface WriteOutcome {
  readonly transactions: number;
  readonly operations: number;
  /** The change was planned again because another instance changed claims meanwhile. */
  readonly replans: number;
  /** Claim ids of the scope left out of the last plan: known to need nothing from the very same input. */
  readonly leftOut: number;
  /** Resources left as they are because one of their values is larger than the store takes in a request. */
  readonly refused: readonly { readonly label: string; readonly key: string; readonly bytes: number }[];
  /** The lease the written keys are on; undefined when claims kept changing and the scope is left for the next pass. */
  readonly leaseId: string | undefined;
}

/**
 * Brings the store in line with the desired state for a scope of claim ids: plans against the
 * mirror, splits the plan into waves of transactions within the store's limits, applies them, and
 * plans again when another owner changed a claim meanwhile. Keeps what only a completed write
 * tells: the server keys this owner holds, and the resources another owner defines differently.
 */
export class ChangeWriter {
  readonly #session: MirrorSession;
  readonly #layout: KeyLayout;
  readonly #limits: TransactionLimits;
  readonly #log: Logger;
  #owned = new Map<string, Set<string>>();
  readonly #conflicts = new Map<string, Conflict>();
  /**
   * Claim ids whose last plan needed nothing or was written whole, with what a plan would read: the
   * desired resource (a new object whenever it changes), the mirror's version of the claim id and
   * the lease. While all three are the same, planning it again gives nothing (the plan is a function
   * of them and of the servers this owner holds of it, which only a plan of it changes): a full pass
   * with nothing changed, the first after a write included, plans none of 30,000 claim ids.
   */
  readonly #settled = new Map<string, { want: DesiredResource | undefined; version: number; leaseId: string }>();
  /**
   * Claim ids this owner's own guarded transactions committed, with the revision, while the watch
   * has not brought the claims that far: such a commit proves nobody changed the claim id's claims
   * between its guard and its revision, so a later plan of it is guarded from there. Any other
   * claim id is guarded from the revision the claims' watch reached (the mirror's claimsRevision),
   * never from an own commit's: a claim another owner made meanwhile may still be on its way.
   */
  readonly #certified = new Map<string, bigint>();
  /** The claims' revision #certified was last pruned at: not walked again until the watch moves on. */
  #prunedAt = -1n;

  /** `inherited`: keys a previous run of this owner wrote, whose servers it still holds. */
  constructor(options: {
    session: MirrorSession;
    layout: KeyLayout;
    limits: TransactionLimits;
    logger: Logger;
    inherited?: readonly string[] | undefined;
  }) {
    this.#session = options.session;
    this.#layout = options.layout;
    this.#limits = options.limits;
    this.#log = options.logger;
    for (const key of options.inherited ?? []) {
      const classified = options.layout.classify(key);
      if (classified?.kind === 'tree' && classified.server !== undefined) this.#ownedSet(classified.claimId).add(key);
    }
  }

  /** Claim ids whose server keys this owner holds (a full pass plans them too). */
  ownedClaimIds(): Iterable<string> {
    return this.#owned.keys();
  }

  /** Resources another owner defines differently (left as they are). */
  conflicts(): Conflict[] {
    return [...this.#conflicts.values()];
  }

  /**
   * Plans `scope` against the mirror and applies the plan; rejects only when the store or the fence
   * does. `changedMeanwhile`: whether another writer changed a claim id since this write began
   * (the watch applies such a change between and right after this owner's transactions).
   */
  async write(
    desired: ReadonlyMap<string, DesiredResource>,
    scope: ReadonlySet<string>,
    leaseOf: () => string,
    changedMeanwhile: (claimId: string) => boolean,
  ): Promise<WriteOutcome> {
    const mirror = this.#session.mirror;
    let transactions = 0;
    let operations = 0;
    let refusedAll: WriteOutcome['refused'];
    let leftOut = 0;
    for (let attempt = 0; ; attempt += 1) {
      const leaseId = leaseOf();
      leftOut = 0;
      const claimsRevision = mirror.claimsRevision;
      if (claimsRevision !== this.#prunedAt) {
        this.#prunedAt = claimsRevision;
        for (const [id, revision] of this.#certified) if (revision <= claimsRevision) this.#certified.delete(id);
      }
      const knownThrough = (id: string): bigint => {
        const certified = this.#certified.get(id);
        return certified !== undefined && certified > claimsRevision ? certified : claimsRevision;
      };
      const plan = planChange({
        desired,
        mirror,
        scope,
        layout: this.#layout,
        leaseId,
        ownedServers: this.#owned,
        knownThrough,
        settled: (id) => {
          const settled = this.#isSettled(id, desired, mirror, leaseId);
          if (settled) leftOut += 1;
          return settled;
        },
      });
      // Recorded now, with the plan (a change that comes while it is written must not count as
      // planned), whatever becomes of the write: a claim id's plan depends on its own input alone.
      // Nothing wanted and nothing held needs no entry: such a claim id is in no full pass's scope.
      for (const id of plan.quiet) {
        const want = desired.get(id);
        const version = mirror.version(id);
        if (want !== undefined || version !== 0) this.#settled.set(id, { want, version, leaseId });
      }
      const { writable, refused } = unwritableUnits(plan.units);
      refusedAll = refused;
      let interrupted: bigint | undefined;
      for (const wave of transactionWaves(writable, this.#limits)) {
        const limit = pLimit(TRANSACTIONS_IN_FLIGHT);
        const results: ApplyResult[] = await Promise.all(
          wave.map((transaction) =>
            limit(async () => {
              const guards = transaction.guards.map((id) => ({
                range: { key: this.#layout.claimPrefix(id), prefix: true },
                notModifiedAfter: knownThrough(id),
              }));
              const result = await this.#session.apply({ operations: transaction.operations, guards }, leaseId);
              if (result.applied) {
                transactions += 1;
                operations += transaction.operations.length;
                for (const id of transaction.guards) this.#certified.set(id, result.revision);
              }
              return result;
            }),
          ),
        );
        const failed = results.find((result) => !result.applied);
        if (failed !== undefined) {
          interrupted = results.reduce(
            (newest, result) => (result.revision > newest ? result.revision : newest),
            failed.revision,
          );
          break;
        }
      }
      if (interrupted === undefined) {
        const refusedIds = new Set<string>();
        for (const { key } of refused) {
          const classified = this.#layout.classify(key);
          if (classified?.kind === 'tree' || classified?.kind === 'claim') refusedIds.add(classified.claimId);
        }
        for (const [id, owned] of plan.ownedServers) {
          // The plan's sets are its own (made fresh for each plan): kept as they are.
          if (owned.size > 0) this.#owned.set(id, owned);
          else this.#owned.delete(id);
          // Written whole: the mirror holds what the plan wrote (its echoes change no version), so
          // planning it again from the same input gives nothing, as for a quiet one; the next full
          // pass (the periodic resync after a write) leaves it out too. Not a conflict (planned
          // every time), nor a resource with a value the store refused (wanted again), nor one
          // another writer changed meanwhile (its version now counts that change, not this write).
          if (plan.conflicts.has(id) || refusedIds.has(id) || changedMeanwhile(id)) {
            this.#settled.delete(id);
            continue;
          }
          const want = desired.get(id);
          const version = mirror.version(id);
          if (want !== undefined || version !== 0) this.#settled.set(id, { want, version, leaseId });
          else this.#settled.delete(id);
        }
        for (const id of scope) {
          const conflict = plan.conflicts.get(id);
          if (conflict !== undefined) this.#conflicts.set(id, conflict);
          else this.#conflicts.delete(id);
        }
        return { transactions, operations, replans: attempt, leftOut, refused: refusedAll, leaseId };
      }
      // Another owner changed a claim since the mirror's revision: let the watch bring that
      // change (or load the mirror again), then plan again.
      await this.#session.catchUp(interrupted);
      if (attempt >= MAX_REPLANS) {
        this.#log.warn({ attempts: attempt + 1 }, 'claims kept changing under this pass; will retry on the next one');
        return { transactions, operations, replans: attempt, leftOut, refused: refusedAll, leaseId: undefined };
      }
    }
  }

  /** Whether a claim id's last plan needed nothing and read what a plan would read now; a stale entry goes. */
  #isSettled(
    id: string,
    desired: ReadonlyMap<string, DesiredResource>,
    mirror: MirrorSession['mirror'],
    leaseId: string,
  ): boolean {
    const settled = this.#settled.get(id);
    // Most claim ids of a first full pass after a write have no entry: nothing else is looked up for them.
    if (settled === undefined) return false;
    if (settled.leaseId === leaseId && settled.want === desired.get(id) && settled.version === mirror.version(id))
      return true;
    this.#settled.delete(id);
    return false;
  }

  #ownedSet(claimId: string): Set<string> {
    let owned = this.#owned.get(claimId);
    if (owned === undefined) {
      owned = new Set();
      this.#owned.set(claimId, owned);
    }
    return owned;
  }
}
