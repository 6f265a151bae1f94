import type { KeyRange } from './key-layout.ts';

/**
 * The port between the sync engine and a key-value store (etcd or Redis): what the engine needs and
 * nothing more. A store must offer reads of several ranges at one revision, a watch from a
 * revision on, guarded multi-key transactions that apply all or nothing, and leases.
 */
/** What one transaction of a store may hold. */
export interface TransactionLimits {
  /** Operations (puts and deletes). */
  readonly maxOps: number;
  /** Bytes of keys and values. */
  readonly maxBytes: number;
}

export interface KvStore {
  /**
   * What one transaction may hold here. A change larger than one transaction is written in several,
   * and Traefik may read the tree between them, so a store that takes more in one should say so:
   * a full rewrite (after a store lost its data) then reaches Traefik whole, not as backends first
   * and routers a moment later.
   */
  readonly transactionLimits: TransactionLimits;
  /** Every key in `ranges`, read at one revision. */
  load(ranges: readonly KeyRange[]): Promise<StoreSnapshot>;
  /**
   * Changes in `ranges` after `afterRevision`, in revision order. `onLost` is called once when
   * the watch can no longer promise that (the store restarted, the history was compacted, the
   * stream broke): the caller then loads again and watches anew.
   */
  watch(ranges: readonly KeyRange[], afterRevision: bigint, handlers: WatchHandlers): Promise<StoreWatch>;
  /**
   * Applies every operation of `transaction` or none: none when a guard's range was modified after
   * the guard's revision. Leased puts are attached to `leaseId`.
   */
  apply(transaction: GuardedTransaction, leaseId: string): Promise<ApplyResult>;
  /** A lease's keys and times (one read), or undefined when the lease is gone. */
  lease(leaseId: string): Promise<LeaseInfo | undefined>;
  /** One key's value, or undefined. */
  get(key: string): Promise<string | undefined>;
  /** Writes one key attached to a lease. */
  putLeased(key: string, value: string, leaseId: string): Promise<void>;
  revoke(leaseId: string): Promise<void>;
  /**
   * Keeps a lease alive once, whoever granted it: its time starts again. False when it is gone (a
   * lease is never revived). A takeover keeps its predecessor's lease so until its keys moved.
   */
  refresh(leaseId: string): Promise<boolean>;
  /**
   * A lease of `ttlSeconds`, kept alive until released. When it is lost (the store unreachable
   * for longer than its time), a new one is granted and `onReplaced` is called: every leased key
   * must then be written again on it.
   */
  openLease(ttlSeconds: number, onReplaced: () => void): Promise<StoreLease>;
  /**
   * Stands in the store's own election `name` (etcd's election API), its keys under `prefix`,
   * announcing `value`, on a lease of `ttlSeconds`. The candidacy is returned at once; `elected` resolves when it
   * leads.
   * `onLost` is called once when it can lead no longer (its lease was lost): the caller stops
   * what only the leader may do, and may stand again.
   */
  campaign(
    prefix: string,
    name: string,
    value: string,
    ttlSeconds: number,
    onLost: (reason: string) => void,
  ): Candidacy;
}

export interface Candidacy {
  /** Resolves when this candidate leads; rejects when the candidacy failed before that. */
  elected(): Promise<void>;
  /** What a leader's transactions carry as their fence (valid once elected). */
  fence(): Promise<Fence>;
  /** Steps down (or out of the queue): another candidate leads at once. */
  resign(): Promise<void>;
}

/**
 * A transaction with a fence applies only while `key` exists as created at `createRevision`: a
 * leader's key. `epoch` (Redis) is the store's epoch when it was elected: a Redis that lost its
 * data restarts its revisions, so a leader key created again at the same revision is told apart.
 */
export interface Fence {
  readonly key: string;
  readonly createRevision: bigint;
  readonly epoch?: string;
}

export interface LeaseInfo {
  /** The keys attached to it. */
  readonly keys: readonly string[];
  /** How long it has left and was granted for, in whole seconds. */
  readonly remainingSeconds: number;
  readonly grantedSeconds: number;
}

export interface StoreLease {
  /** The current lease id; a new one after the previous was lost. */
  leaseId(): string;
  /** Stops keeping it alive, without revoking it: a restart takes over before it expires. */
  release(): void;
}

export interface StoreEntry {
  readonly key: string;
  readonly value: string;
  /** '0' for a key without a lease. */
  readonly lease: string;
  readonly modRevision: bigint;
}

export interface StoreSnapshot {
  readonly revision: bigint;
  readonly entries: readonly StoreEntry[];
  /**
   * Which life of the store the snapshot was read in, where revisions can start again (Redis: a
   * restart without persistence or a flush begins a new epoch); undefined where they cannot (etcd).
   */
  readonly epoch?: string;
}

export type WatchEvent =
  | ({ readonly type: 'put' } & StoreEntry)
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: bigint };

export interface WatchHandlers {
  onEvents(events: readonly WatchEvent[]): void;
  onLost(reason: string): void;
}

export interface StoreWatch {
  stop(): Promise<void>;
}

export type Operation =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly leased: boolean }
  | { readonly type: 'delete'; readonly key: string };

export interface GuardedTransaction {
  readonly operations: readonly Operation[];
  /** Ranges (claim prefixes) that must not have been modified after their revision. */
  readonly guards: readonly { readonly range: KeyRange; readonly notModifiedAfter: bigint }[];
  /** Applied only while this leader still leads. */
  readonly fence?: Fence;
  /**
   * The epoch of the snapshot this transaction was planned from (StoreSnapshot.epoch): applied
   * only in that epoch, since the guards' revisions mean nothing in another.
   */
  readonly epoch?: string;
}

/**
 * What `apply` answers; `fenced` when a fenced transaction was refused because its leader no
 * longer leads; `epochChanged` when it was planned in another epoch of the store (plan again from
 * a fresh load).
 */
export interface ApplyResult {
  readonly applied: boolean;
  readonly revision: bigint;
  readonly fenced?: boolean;
  readonly epochChanged?: boolean;
}

/** A leader's write refused: another instance leads now. */
export class LeadershipLostError extends Error {
  constructor(what: string) {
    super(`${what}: this instance no longer leads (another one took over)`);
    this.name = 'LeadershipLostError';
  }
}

/** A store call that failed; the daemon retries with backoff and reports not-ready meanwhile. */
export class StoreUnavailableError extends Error {
  constructor(store: string, operation: string, cause: unknown, hint = '') {
    const message = (cause as Error)?.message ?? String(cause);
    super(`${store} ${operation} failed: ${message}${hint}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

/**
 * A transaction was planned in another epoch of the store (it lost its data meanwhile): nothing
 * was written; the owner's mirror is loaded again and the next pass plans from it.
 */
export class StoreEpochChangedError extends StoreUnavailableError {
  constructor(owner: string) {
    super(
      'store',
      `transaction of ${owner}`,
      new Error('the store lost its data (a restart without persistence, or a flush) after this change was planned'),
      '; planned again from what it holds now',
    );
    this.name = 'StoreEpochChangedError';
  }
}

/**
 * The store refused who appproxy is (`credentials`: an unknown user or a wrong password) or what
 * that user may do (`rights`: a key or command its role or ACL does not grant). Retrying cannot
 * cure either: the daemon stops and says what to fix. Each store's adapter raises it from its own
 * client's errors, so that nothing past the port knows them.
 */
export class StoreAccessRefusedError extends StoreUnavailableError {
  readonly store: string;
  readonly refused: 'credentials' | 'rights';
  constructor(store: string, operation: string, cause: unknown, refused: 'credentials' | 'rights') {
    super(store, operation, cause);
    this.name = 'StoreAccessRefusedError';
    this.store = store;
    this.refused = refused;
  }
}

/**
 * A write the store refused for want of space: etcd past its `--quota-backend-bytes` (the NOSPACE
 * alarm), Redis at `maxmemory` with `noeviction`. The store still answers reads, deletes and
 * keep-alives: what is routed stays, and the write is retried with backoff until the operator
 * frees space (`fix` says how).
 */
export class StoreFullError extends StoreUnavailableError {
  readonly store: string;
  readonly fix: string;
  constructor(store: string, operation: string, cause: unknown, fix: string) {
    super(store, operation, cause, ` (the store is full: ${fix})`);
    this.name = 'StoreFullError';
    this.store = store;
    this.fix = fix;
  }
}
