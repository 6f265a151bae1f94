import type { Logger } from 'pino';
import type { KeyLayout } from './key-layout.ts';
import {
  LeadershipLostError,
  StoreEpochChangedError,
  type ApplyResult,
  type Fence,
  type GuardedTransaction,
  type KvStore,
  type Operation,
  type StoreWatch,
  type WatchEvent,
} from './kv-store.ts';
import { StoreMirror, type DeliveredRevisions } from './store-mirror.ts';

/**
 * How long a failed guard waits for the watch to bring the change that failed it, before the mirror is loaded again.
 */
const CATCH_UP_MS = 2000;

export interface MirrorSessionOptions {
  readonly store: KvStore;
  readonly layout: KeyLayout;
  readonly logger: Logger;
  /** Every transaction applies only while this leader key stands; a refused one throws LeadershipLostError. */
  readonly fence?: Fence | undefined;
  /** Another writer changed these claim ids (or a port's holder, `ports`): a pass is needed. */
  readonly onForeignChange: (claimIds: ReadonlySet<string>, ports: boolean) => void;
  /** The watch was lost: the next pass loads the mirror again. */
  readonly onLost: () => void;
  /** The mirror was (re)loaded: every claim id is to be planned, since anything may have changed meanwhile. */
  readonly onLoaded: () => void;
  /** A transaction of this instance committed (for explain's "last transaction"). */
  readonly onApplied?: (revision: bigint, operations: readonly Operation[]) => void;
}

/**
 * The store as this owner sees it: a mirror loaded once and kept current by the store's watch,
 * and the one way this owner writes, so that its own transactions enter the mirror at once and
 * their echoes on the watch change nothing. Only foreign changes are told (`onForeignChange`).
 */
export class MirrorSession {
  readonly mirror: StoreMirror;
  readonly #o: MirrorSessionOptions;
  #watch: StoreWatch | undefined;
  #state: 'empty' | 'live' | 'lost' = 'empty';
  /** Transactions in flight: their own events are held until their answers are recorded. */
  #applying = 0;
  /**
   * Events held meanwhile, by revision (one etcd revision is one transaction): a transaction's
   * answer drops its own echoes at once, so that a first sync of thousands of transactions does
   * not hold the echo of every key it wrote until the last one answers.
   */
  #held = new Map<bigint, WatchEvent[]>();
  /** The newest revision of the events that came while transactions were in flight, and of the claims' among them. */
  #heldNewest = 0n;
  #heldClaimsNewest = 0n;
  /** The store's epoch when the mirror was loaded: every transaction is planned from it. */
  #epoch: string | undefined;

  constructor(options: MirrorSessionOptions) {
    this.#o = options;
    this.mirror = new StoreMirror(options.layout);
  }

  /** Whether the mirror is loaded and its watch runs (it is current, as far as the watch tells). */
  get live(): boolean {
    return this.#state === 'live';
  }

  /** Loads the mirror and starts the watch, when there is none or the watch was lost; true when it loaded. */
  async ensure(): Promise<boolean> {
    if (this.#state === 'live') return false;
    await this.#watch?.stop().catch(() => undefined);
    this.#watch = undefined;
    const ranges = this.#o.layout.ranges();
    const snapshot = await this.#o.store.load(ranges);
    this.mirror.load(snapshot);
    this.#epoch = snapshot.epoch;
    // Live only once the watch runs (from the snapshot's next revision: nothing falls between).
    this.#watch = await this.#o.store.watch(ranges, snapshot.revision, {
      onEvents: (events) => {
        // While a transaction is in flight its own events may arrive before its answer does:
        // held until the answer is recorded, they change nothing instead of looking foreign.
        if (this.#applying > 0) this.#hold(events);
        else this.#take(events);
      },
      onLost: (reason) => this.#lose(reason),
    });
    this.#state = 'live';
    this.#o.onLoaded();
    return true;
  }

  /** Applies one transaction (fenced when this owner writes as a leader) and records it in the mirror. */
  async apply(transaction: GuardedTransaction, leaseId: string): Promise<ApplyResult> {
    const { store, fence, layout } = this.#o;
    this.#applying += 1;
    try {
      const result = await store.apply(
        {
          ...transaction,
          ...(fence === undefined ? {} : { fence }),
          ...(this.#epoch === undefined ? {} : { epoch: this.#epoch }),
        },
        leaseId,
      );
      if (result.epochChanged === true) {
        // The store lost its data since the mirror was loaded (a Redis restarted empty, or
        // flushed): the plan's revisions mean nothing now. Loaded again before the next plan.
        this.#lose('the store lost its data since the mirror was loaded (another epoch)');
        throw new StoreEpochChangedError(layout.owner);
      }
      if (result.fenced === true) throw new LeadershipLostError(`write as ${layout.owner}`);
      if (result.applied) {
        this.mirror.applyOwn(transaction.operations, result.revision, leaseId);
        this.#held.delete(result.revision);
        this.#o.onApplied?.(result.revision, transaction.operations);
      }
      return result;
    } finally {
      this.#applying -= 1;
      if (this.#applying === 0 && this.#heldNewest > 0n) {
        const held = [...this.#held.values()].flat();
        const seen = { any: this.#heldNewest, claims: this.#heldClaimsNewest };
        this.#held = new Map();
        this.#heldNewest = 0n;
        this.#heldClaimsNewest = 0n;
        this.#take(held, seen);
      }
    }
  }

  /** Waits for the watch to bring `revision` (another writer's, that failed a guard), or loads the mirror again. */
  async catchUp(revision: bigint): Promise<void> {
    await this.mirror.waitForRevision(revision, CATCH_UP_MS).catch(async () => {
      this.#state = 'lost';
      await this.ensure();
    });
  }

  async stop(): Promise<void> {
    await this.#watch?.stop().catch(() => undefined);
    this.#watch = undefined;
    this.#state = 'empty';
  }

  #lose(reason: string): void {
    if (this.#state !== 'live') return;
    this.#o.logger.warn({ reason }, "the store's watch was lost; the mirror will be loaded again");
    this.#state = 'lost';
    this.#o.onLost();
  }

  /** Keeps what the mirror does not reflect yet; an own echo that came after its answer is left out now. */
  #hold(events: readonly WatchEvent[]): void {
    const claimsPrefix = this.#o.layout.claimsPrefix;
    for (const event of events) {
      if (event.modRevision > this.#heldNewest) this.#heldNewest = event.modRevision;
      if (event.modRevision > this.#heldClaimsNewest && event.key.startsWith(claimsPrefix))
        this.#heldClaimsNewest = event.modRevision;
      if (this.mirror.reflects(event)) continue;
      const same = this.#held.get(event.modRevision);
      if (same === undefined) this.#held.set(event.modRevision, [event]);
      else same.push(event);
    }
  }

  #take(events: readonly WatchEvent[], seen?: DeliveredRevisions): void {
    const changed = this.mirror.applyEvents(events, seen);
    // Another instance took or freed a port: an app refused one may get it now.
    const ports = this.mirror.takePortsChanged();
    if (changed.size === 0 && !ports) return;
    this.#o.onForeignChange(changed, ports);
  }
}
