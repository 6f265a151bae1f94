// A small in-memory KvStore, for unit tests of the sync engine: revisions, guarded transactions
// applied all or nothing, prefix watches delivered asynchronously and in order, leases that can be
// expired by hand (and that run out in their time once released). Not a model of etcd's every
// corner; enough to test logic behind the port. It runs the KvStore contract's cases
// (test/unit/memory-store-contract.test.ts), as the real stores do.
import type { KeyRange } from '../../src/sync/key-layout.ts';
import { ETCD_TRANSACTION_LIMITS } from '../../src/etcd/etcd-transaction-limits.ts';
import {
  StoreFullError,
  type ApplyResult,
  type Candidacy,
  type GuardedTransaction,
  type KvStore,
  type LeaseInfo,
  type StoreEntry,
  type StoreLease,
  type StoreSnapshot,
  type StoreWatch,
  type TransactionLimits,
  type WatchEvent,
  type WatchHandlers,
} from '../../src/sync/kv-store.ts';

function inRange(key: string, range: KeyRange): boolean {
  return range.prefix ? key.startsWith(range.key) : key === range.key;
}

export class MemoryStore implements KvStore {
  /** etcd's limits unless a test gives others (Redis takes more operations in one transaction). */
  transactionLimits: TransactionLimits = ETCD_TRANSACTION_LIMITS;
  revision = 0n;
  readonly data = new Map<string, StoreEntry>();
  readonly #watches = new Set<{ ranges: readonly KeyRange[]; handlers: WatchHandlers }>();
  #nextLease = 100;
  readonly leases = new Set<string>();
  /** Granted time of each lease; remaining time is the granted time (nothing ages here). */
  readonly #ttls = new Map<string, number>();
  /** When each released lease runs out. */
  readonly #expiries = new Map<string, NodeJS.Timeout>();
  /** How often each lease was kept alive by `refresh`. */
  readonly refreshes = new Map<string, number>();
  /** Election keys and the revision each was created at. */
  readonly #leaderKeys = new Map<string, bigint>();
  /** Each election's candidates in order: the first leads. */
  readonly #elections = new Map<
    string,
    { key: string; elect: () => void; lost: (reason: string) => void; leave: () => void }[]
  >();
  /**
   * While set, the store answers as a full etcd does (NOSPACE): a write that puts anything, a lease
   * grant and a leased put are refused; reads, deletes-only transactions and leases already granted
   * go on.
   */
  full: { readonly store: string; readonly fix: string } | undefined;
  /** Writes refused while full. */
  refusedWrites = 0;
  /** Counters, for assertions on work done. */
  loads = 0;
  transactions = 0;
  operations = 0;

  async load(ranges: readonly KeyRange[]): Promise<StoreSnapshot> {
    this.loads += 1;
    return {
      revision: this.revision,
      entries: [...this.data.values()].filter((entry) => ranges.some((range) => inRange(entry.key, range))),
    };
  }

  async watch(ranges: readonly KeyRange[], afterRevision: bigint, handlers: WatchHandlers): Promise<StoreWatch> {
    if (afterRevision < this.revision) throw new Error('MemoryStore keeps no history: watch from the current revision');
    const watch = { ranges, handlers };
    this.#watches.add(watch);
    return { stop: async () => void this.#watches.delete(watch) };
  }

  /** Ends every watch, as an etcd restart or a compaction would. */
  loseWatches(reason = 'test'): void {
    for (const watch of [...this.#watches]) {
      this.#watches.delete(watch);
      watch.handlers.onLost(reason);
    }
  }

  #refuseWhenFull(operation: string): void {
    if (this.full === undefined) return;
    this.refusedWrites += 1;
    throw new StoreFullError(
      this.full.store,
      operation,
      new Error('etcdserver: mvcc: database space exceeded'),
      this.full.fix,
    );
  }

  async apply(transaction: GuardedTransaction, leaseId: string): Promise<ApplyResult> {
    if (transaction.operations.some((operation) => operation.type === 'put')) this.#refuseWhenFull('transaction');
    const { fence } = transaction;
    if (fence !== undefined && this.#leaderKeys.get(fence.key) !== fence.createRevision)
      return { applied: false, revision: this.revision, fenced: true };
    for (const { range, notModifiedAfter } of transaction.guards) {
      for (const entry of this.data.values())
        if (inRange(entry.key, range) && entry.modRevision > notModifiedAfter)
          return { applied: false, revision: this.revision };
    }
    const keys = transaction.operations.map((operation) => operation.key);
    if (new Set(keys).size !== keys.length) throw new Error('a transaction touched one key twice');
    this.revision += 1n;
    this.transactions += 1;
    this.operations += transaction.operations.length;
    const events: WatchEvent[] = [];
    for (const operation of transaction.operations) {
      if (operation.type === 'put') {
        const entry = {
          key: operation.key,
          value: operation.value,
          lease: operation.leased ? leaseId : '0',
          modRevision: this.revision,
        };
        this.data.set(operation.key, entry);
        events.push({ type: 'put', ...entry });
      } else if (this.data.delete(operation.key)) {
        events.push({ type: 'delete', key: operation.key, modRevision: this.revision });
      }
    }
    this.#emit(events);
    return { applied: true, revision: this.revision };
  }

  /** A write by someone else (another owner, an operator). */
  put(key: string, value: string, lease = '0'): void {
    this.revision += 1n;
    const entry = { key, value, lease, modRevision: this.revision };
    this.data.set(key, entry);
    this.#emit([{ type: 'put', ...entry }]);
  }

  remove(key: string): void {
    if (!this.data.has(key)) return;
    this.revision += 1n;
    this.data.delete(key);
    this.#emit([{ type: 'delete', key, modRevision: this.revision }]);
  }

  /** The lease runs out: its keys go, in one revision. */
  expire(leaseId: string): void {
    this.leases.delete(leaseId);
    clearTimeout(this.#expiries.get(leaseId));
    this.#expiries.delete(leaseId);
    const gone = [...this.data.values()].filter((entry) => entry.lease === leaseId);
    if (gone.length === 0) return;
    this.revision += 1n;
    for (const entry of gone) this.data.delete(entry.key);
    this.#emit(gone.map((entry) => ({ type: 'delete', key: entry.key, modRevision: this.revision })));
  }

  /**
   * Holds back, from every watch, the events of the keys `matches` picks until the returned
   * function is called: a watch that lags the answers of transactions (every key), or etcd's
   * watch of one range that is behind another's (the claims' behind the tree's). Those events are
   * then delivered in order.
   */
  holdWatchEvents(matches: (key: string) => boolean): () => void {
    const holding = { matches, held: [] as (() => void)[] };
    this.#holding = holding;
    return () => {
      if (this.#holding === holding) this.#holding = undefined;
      for (const deliver of holding.held.splice(0)) deliver();
    };
  }

  #holding: { matches: (key: string) => boolean; held: (() => void)[] } | undefined;

  #emit(events: WatchEvent[]): void {
    for (const watch of this.#watches) {
      const mine = events.filter((event) => watch.ranges.some((range) => inRange(event.key, range)));
      const holding = this.#holding;
      const held = holding === undefined ? [] : mine.filter((event) => holding.matches(event.key));
      const now = held.length === 0 ? mine : mine.filter((event) => !held.includes(event));
      // Delivered later, as a real watch is: the engine must not rely on seeing them at once.
      if (now.length > 0) queueMicrotask(() => watch.handlers.onEvents(now));
      if (held.length > 0) holding?.held.push(() => watch.handlers.onEvents(held));
    }
  }

  campaign(
    prefix: string,
    name: string,
    value: string,
    _ttlSeconds: number,
    onLost: (reason: string) => void,
  ): Candidacy {
    const election = `${prefix}${name}`;
    const queue = this.#elections.get(election) ?? [];
    this.#elections.set(election, queue);
    const key = `${election}/${this.#nextLease++}`;
    let elect = () => undefined as void;
    const elected = new Promise<void>((resolve) => (elect = resolve));
    const entry = { key, elect, lost: onLost, leave: () => undefined as void };
    queue.push(entry);
    this.put(key, value);
    const createRevision = this.revision;
    this.#leaderKeys.set(key, createRevision);
    if (queue[0] === entry) elect();
    const leave = () => {
      const index = queue.indexOf(entry);
      if (index < 0) return;
      queue.splice(index, 1);
      this.#leaderKeys.delete(key);
      this.remove(key);
      if (index === 0) queue[0]?.elect();
    };
    entry.leave = leave;
    entry.lost = (reason) => {
      leave();
      onLost(reason);
    };
    return { elected: () => elected, fence: async () => ({ key, createRevision }), resign: async () => leave() };
  }

  /**
   * The election's leader loses its lease: the next candidate leads. With `noticed: false` the
   * loser is not told (its keep-alive has not failed yet): only its fence stops its writes.
   */
  loseLeadership(prefix: string, name: string, { noticed = true }: { noticed?: boolean } = {}): void {
    const leader = this.#elections.get(`${prefix}${name}`)?.[0];
    if (noticed) leader?.lost('lease lost (test)');
    else leader?.leave();
  }

  async lease(leaseId: string): Promise<LeaseInfo | undefined> {
    const ttl = this.#ttls.get(leaseId);
    if (!this.leases.has(leaseId) || ttl === undefined) return undefined;
    const keys = [...this.data.values()].filter((entry) => entry.lease === leaseId).map((entry) => entry.key);
    return { keys, remainingSeconds: ttl, grantedSeconds: ttl };
  }

  async get(key: string): Promise<string | undefined> {
    return this.data.get(key)?.value;
  }

  async putLeased(key: string, value: string, leaseId: string): Promise<void> {
    this.#refuseWhenFull(`write of ${key}`);
    this.put(key, value, leaseId);
  }

  async revoke(leaseId: string): Promise<void> {
    this.expire(leaseId);
  }

  async refresh(leaseId: string): Promise<boolean> {
    if (!this.leases.has(leaseId)) return false;
    this.refreshes.set(leaseId, (this.refreshes.get(leaseId) ?? 0) + 1);
    // A released lease's time starts again; one still kept alive by its holder does not run out.
    if (this.#expiries.has(leaseId)) this.#expireLater(leaseId);
    return true;
  }

  async openLease(ttlSeconds: number, _onReplaced: () => void): Promise<StoreLease> {
    this.#refuseWhenFull('lease grant');
    const id = String(this.#nextLease++);
    this.leases.add(id);
    this.#ttls.set(id, ttlSeconds);
    // Kept alive until released, as the real stores' keep-alive does; then it runs out in its time.
    return { leaseId: () => id, release: () => this.#expireLater(id) };
  }

  /** A released lease runs out in its time unless refreshed meanwhile. */
  #expireLater(leaseId: string): void {
    clearTimeout(this.#expiries.get(leaseId));
    const timer = setTimeout(() => this.expire(leaseId), (this.#ttls.get(leaseId) ?? 0) * 1000);
    timer.unref();
    this.#expiries.set(leaseId, timer);
  }

  /** Everything under a prefix, as a plain object (for assertions). */
  tree(prefix: string): Record<string, string> {
    return Object.fromEntries(
      [...this.data.values()]
        .filter((entry) => entry.key.startsWith(prefix))
        .map((entry) => [entry.key, entry.value])
        .sort(([a], [b]) => (a! < b! ? -1 : 1)),
    );
  }
}
