import {
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  EtcdUserNotFoundError,
  type Campaign,
  type Etcd3,
  type IKeyValue,
  type Watcher,
} from 'etcd3';
import pTimeout from 'p-timeout';
import type { Logger } from 'pino';
import { ETCD_FULL_FIX, isEtcdFull } from './etcd-full.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import type { KeyRange } from '../sync/key-layout.ts';
import { ETCD_MAX_TXN_OPS, etcdTransactionLimits, isTooManyOperations } from './etcd-transaction-limits.ts';
import {
  StoreAccessRefusedError,
  StoreFullError,
  StoreUnavailableError,
  type ApplyResult,
  type Candidacy,
  type Fence,
  type GuardedTransaction,
  type KvStore,
  type LeaseInfo,
  type StoreLease,
  type StoreEntry,
  type StoreSnapshot,
  type StoreWatch,
  type WatchEvent,
  type WatchHandlers,
  type TransactionLimits,
} from '../sync/kv-store.ts';

/** The end of the range of keys that start with `prefix` (etcd's "prefix + 1"). */
function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index -= 1) {
    if ((end[index] as number) < 0xff) {
      end[index] = (end[index] as number) + 1;
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]);
}

// etcd's Compare enums (rpc.proto): result EQUAL 0, LESS 2; target CREATE 1, MOD 2.
const COMPARE_EQUAL = 0;
const COMPARE_LESS = 2;
const TARGET_CREATE = 1;
const TARGET_MOD = 2;
/** A watch that etcd does not confirm in this time counts as failed (the caller retries). */
const WATCH_CREATE_LIMIT_MS = 10_000;
/** Keys a page of the mirror's load reads (about 150 bytes each with the synthetic workloads). */
const LOAD_PAGE_KEYS = 5000;
/** Loads tried when the revision of the first page is compacted before the last page is read. */
const LOAD_ATTEMPTS = 3;
/** How often a waiting Swarm writer candidate reads whether its key is now the oldest (see campaign). */
const ELECTION_CHECK_MS = 2000;
/** How long one keep-alive of another's lease may take (refresh). */
const REFRESH_LIMIT_MS = 3000;

function text(value: Buffer | string | undefined): string {
  return value === undefined ? '' : value.toString();
}

/** etcd refused the user or password (credentials), or the user's role lacks a key (rights); undefined otherwise. */
function accessRefused(cause: unknown): { refused: 'credentials' | 'rights'; error: Error } | undefined {
  // etcd3 may wrap its errors: look down the chain of causes.
  for (let error = cause; error instanceof Error; error = error.cause) {
    if (error instanceof EtcdAuthenticationFailedError || error instanceof EtcdUserNotFoundError)
      return { refused: 'credentials', error };
    if (error instanceof EtcdPermissionDeniedError) return { refused: 'rights', error };
  }
  return undefined;
}

function failure(operation: string, cause: unknown): StoreUnavailableError {
  if (isEtcdFull(cause)) return new StoreFullError('etcd', operation, cause, ETCD_FULL_FIX);
  // The client's own error is the cause: its words tell the operator what the store said.
  const access = accessRefused(cause);
  if (access !== undefined) return new StoreAccessRefusedError('etcd', operation, access.error, access.refused);
  // gRPC says only "Deadline exceeded": name the limit, so that an operator knows which setting it is.
  const hint = /deadline/i.test((cause as Error)?.message ?? '')
    ? ' (no answer within the etcd call limit, --etcd-timeout-seconds)'
    : '';
  return new StoreUnavailableError('etcd', operation, cause, hint);
}

function rangeRequest(range: KeyRange): { key: Buffer; range_end?: Buffer } {
  return range.prefix
    ? { key: Buffer.from(range.key), range_end: prefixEnd(range.key) }
    : { key: Buffer.from(range.key) };
}

/** The KvStore port on etcd v3: ranges read in one transaction, guarded transactions, prefix watches. */
export class EtcdStore implements KvStore {
  /**
   * Read at every split: `maxOps` is etcd's `--max-txn-ops` as configured (--etcd-max-txn-ops),
   * or etcd's default once etcd refused more.
   */
  readonly transactionLimits: TransactionLimits;
  #maxTxnOps: number;
  readonly client: Etcd3;
  readonly #log: Logger;
  readonly #newWatchClient: (() => Etcd3) | undefined;
  #watchClient: Etcd3;
  /** A watch failed: the next one starts on a new connection (see the constructor). */
  #watchFailed = false;

  /**
   * `newWatchClient` gives watches a connection of their own, made anew after a watch fails. etcd3
   * authenticates a plain call again when etcd refuses its token (etcd forgets every token when it
   * restarts, and revokes a user's tokens whenever its password is set), but a watch stream that
   * reconnects with the refused token is never confirmed again: seen after an etcd restart and
   * after a redeploy that set the password again. Without a new connection the daemon would stop
   * following the store for good.
   */
  constructor(client: Etcd3, logger: Logger, newWatchClient?: () => Etcd3, maxTxnOps = ETCD_MAX_TXN_OPS) {
    this.client = client;
    this.#maxTxnOps = maxTxnOps;
    this.transactionLimits = etcdTransactionLimits(() => this.#maxTxnOps);
    this.#log = logger;
    this.#newWatchClient = newWatchClient;
    this.#watchClient = newWatchClient?.() ?? client;
  }

  /** The client for the next watch: a new one (and a new authentication) after a failure. */
  #clientForNextWatch(): Etcd3 {
    if (this.#watchFailed && this.#newWatchClient !== undefined) {
      this.#log.info('watching on a new etcd connection after a failed watch');
      if (this.#watchClient !== this.client) this.#watchClient.close();
      this.#watchClient = this.#newWatchClient();
    }
    this.#watchFailed = false;
    return this.#watchClient;
  }

  /** Closes the watch connection when it is one of the store's own. */
  close(): void {
    if (this.#watchClient !== this.client) this.#watchClient.close();
  }

  async openLease(ttlSeconds: number, onReplaced: () => void): Promise<StoreLease> {
    const lease = new LeaseKeeper(this.client, ttlSeconds, this.#log.child({ component: 'lease' }), onReplaced);
    try {
      await lease.start();
    } catch (error) {
      throw failure('lease grant', error);
    }
    return lease;
  }

  /**
   * Every range at one revision, a page at a time: the first page of each in one transaction
   * (which fixes the revision), the rest read at that revision. One response of 100,000 keys
   * decoded at once added about 200 MiB to the process for a moment (10,000 workloads, a restart);
   * a page's objects are garbage before the next is read.
   */
  async load(ranges: readonly KeyRange[]): Promise<StoreSnapshot> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#loadPaged(ranges);
      } catch (error) {
        // The revision was compacted away between two pages (etcd compacts on its own schedule): read again.
        if (attempt < LOAD_ATTEMPTS && /compacted/i.test((error as Error)?.message ?? '')) continue;
        throw failure('read', error);
      }
    }
  }

  async #loadPaged(ranges: readonly KeyRange[]): Promise<StoreSnapshot> {
    const entries: StoreEntry[] = [];
    const take = (kvs: IKeyValue[]) => {
      for (const kv of kvs)
        entries.push({
          key: text(kv.key),
          value: text(kv.value),
          lease: String(kv.lease ?? '0'),
          modRevision: BigInt(kv.mod_revision),
        });
    };
    const requests = ranges.map(rangeRequest);
    const first = await this.client.kv.txn({
      success: requests.map((request) => ({ request_range: { ...request, limit: LOAD_PAGE_KEYS } })),
    });
    const revision = first.header.revision;
    for (const [index, item] of first.responses.entries()) {
      let page = item.response_range;
      const { range_end } = requests[index] as ReturnType<typeof rangeRequest>;
      while (page !== undefined) {
        const kvs = page.kvs as IKeyValue[];
        take(kvs);
        const last = kvs[kvs.length - 1];
        if (!page.more || last === undefined || range_end === undefined) break;
        // The next page starts just after the last key read (the key with a zero byte appended).
        page = await this.client.kv.range({
          key: Buffer.concat([last.key, Buffer.alloc(1)]),
          range_end,
          limit: LOAD_PAGE_KEYS,
          revision,
        });
      }
    }
    return { revision: BigInt(revision), entries };
  }

  async watch(ranges: readonly KeyRange[], afterRevision: bigint, handlers: WatchHandlers): Promise<StoreWatch> {
    const watchers: Watcher[] = [];
    const client = this.#clientForNextWatch();
    let lost = false;
    const lose = (reason: string) => {
      if (lost) return;
      lost = true;
      this.#watchFailed = true;
      handlers.onLost(reason);
    };
    // A cancel waits for etcd to confirm it: a wedged etcd never does, so it is limited too.
    const stop = async () => {
      lost = true;
      await Promise.all(
        watchers.map((watcher) =>
          pTimeout(watcher.cancel(), { milliseconds: WATCH_CREATE_LIMIT_MS }).catch(() => undefined),
        ),
      );
    };
    try {
      for (const range of ranges) {
        const builder = range.prefix ? client.watch().prefix(range.key) : client.watch().key(range.key);
        // Made, then waited for: one that etcd never confirms is still in hand to be cancelled.
        const watcher = builder.startRevision(String(afterRevision + 1n)).watcher();
        watchers.push(watcher);
        const connected = new Promise<void>((resolve, reject) => {
          watcher.once('connected', () => resolve());
          watcher.once('error', reject);
        });
        await pTimeout(connected, {
          milliseconds: WATCH_CREATE_LIMIT_MS,
          message: `etcd watch of "${range.key}": not confirmed within ${WATCH_CREATE_LIMIT_MS} ms`,
        });
        watcher.on('data', (response) => {
          if (lost) return;
          const events: WatchEvent[] = response.events.map((event) =>
            event.type === 'Delete'
              ? { type: 'delete', key: text(event.kv.key), modRevision: BigInt(event.kv.mod_revision) }
              : {
                  type: 'put',
                  key: text(event.kv.key),
                  value: text(event.kv.value),
                  lease: String(event.kv.lease ?? '0'),
                  modRevision: BigInt(event.kv.mod_revision),
                },
          );
          if (events.length > 0) handlers.onEvents(events);
        });
        // etcd3 reconnects a watch by itself, but what happened meanwhile (a compaction, a restored
        // snapshot) cannot be told apart from nothing: the caller loads everything again instead.
        watcher.on('disconnected', (error) => lose(`etcd watch of "${range.key}" disconnected: ${error.message}`));
        watcher.on('error', (error) => lose(`etcd watch of "${range.key}" failed: ${error.message}`));
        watcher.on('end', () => lose(`etcd watch of "${range.key}" ended`));
      }
    } catch (error) {
      this.#watchFailed = true;
      await stop();
      throw failure('watch', error);
    }
    return { stop };
  }

  async apply(transaction: GuardedTransaction, leaseId: string): Promise<ApplyResult> {
    const compare: object[] = transaction.guards.map(({ range, notModifiedAfter }) => ({
      ...rangeRequest(range),
      target: TARGET_MOD,
      result: COMPARE_LESS,
      mod_revision: (notModifiedAfter + 1n).toString(),
    }));
    const { fence } = transaction;
    if (fence !== undefined)
      compare.push({
        key: Buffer.from(fence.key),
        target: TARGET_CREATE,
        result: COMPARE_EQUAL,
        create_revision: fence.createRevision.toString(),
      });
    const success = transaction.operations.map((operation) =>
      operation.type === 'put'
        ? {
            request_put: {
              key: Buffer.from(operation.key),
              value: Buffer.from(operation.value),
              lease: operation.leased ? leaseId : '0',
            },
          }
        : { request_delete_range: { key: Buffer.from(operation.key) } },
    );
    // A refused fenced transaction reads the leader's key in the same round trip: was it the fence?
    const failureReads = fence === undefined ? [] : [{ request_range: { key: Buffer.from(fence.key) } }];
    let response;
    try {
      response = await this.client.kv.txn({ compare: compare as never, success, failure: failureReads });
    } catch (error) {
      if (isTooManyOperations(error) && this.#maxTxnOps > ETCD_MAX_TXN_OPS) {
        // etcd's --max-txn-ops is lower than this instance was told: etcd's default from now on,
        // so that the pass's retry goes through, and said once.
        this.#log.warn(
          { operations: success.length, configured: this.#maxTxnOps, now: ETCD_MAX_TXN_OPS },
          `etcd refused a transaction of ${success.length} operations: its --max-txn-ops is lower than --etcd-max-txn-ops (${this.#maxTxnOps}); writing at most ${ETCD_MAX_TXN_OPS} a transaction from now on. Give etcd --max-txn-ops=${this.#maxTxnOps}, or lower --etcd-max-txn-ops`,
        );
        this.#maxTxnOps = ETCD_MAX_TXN_OPS;
      }
      throw failure('transaction', error);
    }
    const revision = BigInt(response.header.revision);
    if (response.succeeded || fence === undefined) return { applied: response.succeeded, revision };
    const leaderKey = (response.responses[0]?.response_range?.kvs ?? [])[0] as IKeyValue | undefined;
    return {
      applied: false,
      revision,
      fenced: leaderKey === undefined || BigInt(leaderKey.create_revision) !== fence.createRevision,
    };
  }

  campaign(
    prefix: string,
    name: string,
    value: string,
    ttlSeconds: number,
    onLost: (reason: string) => void,
  ): Candidacy {
    // etcd3's election (etcd's own recipe: the lowest creation revision under the election's
    // prefix leads; the next one waits for the keys before it to go), under appproxy's prefix.
    const campaign = this.client.namespace(prefix).election(name, ttlSeconds).campaign(value);
    let lost = false;
    campaign.on('error', (error: Error) => {
      if (lost) return;
      lost = true;
      onLost(error.message);
    });
    // Its lease and key are granted by calls that can hang past their deadline (a lease grant did,
    // on three nodes after a partition healed): a candidacy whose lease is not granted after this long is
    // given up, and the caller stands again.
    const keyLimitMs = Math.max(5000, ttlSeconds * 500);
    pTimeout(campaign.getCampaignKey(), {
      milliseconds: keyLimitMs,
      message: `its election lease was not granted within ${keyLimitMs} ms`,
    }).catch((error: unknown) => {
      if (lost) return;
      lost = true;
      void campaign.resign().catch(() => undefined);
      onLost((error as Error).message);
    });
    // etcd3 waits for the key just before ours to go with a watch. A watch on a member that went
    // away without a word (cut off, or its task stopped and its address gone) stalls, and on three
    // nodes no candidate was elected for minutes so. The order is therefore also read now and
    // then: ours is the oldest key under the election, so this candidate leads (etcd's recipe).
    const { promise: elected, resolve, reject } = Promise.withResolvers<void>();
    campaign.on('elected', () => resolve());
    campaign.on('error', reject);
    const check = setInterval(() => {
      if (lost) {
        clearInterval(check);
        return;
      }
      void this.#firstInLine(campaign).then(
        (first) => {
          if (first) resolve();
        },
        () => undefined,
      );
    }, ELECTION_CHECK_MS);
    check.unref();
    elected.then(
      () => {
        clearInterval(check);
        this.#confirmLeading(
          campaign,
          ttlSeconds,
          () => lost,
          (reason) => {
            if (lost) return;
            lost = true;
            onLost(reason);
          },
        );
      },
      () => clearInterval(check),
    );
    let fence: Promise<Fence> | undefined;
    return {
      elected: () => elected,
      fence: () =>
        (fence ??= (async () => {
          try {
            const key = await campaign.getCampaignKey();
            const kv = (await this.client.kv.range({ key: Buffer.from(key) })).kvs[0];
            if (kv === undefined) throw new Error(`the election key ${key} is gone`);
            return { key, createRevision: BigInt(kv.create_revision) };
          } catch (error) {
            fence = undefined;
            throw failure('election key read', error);
          }
        })()),
      resign: async () => {
        lost = true;
        try {
          await campaign.resign();
        } catch (error) {
          throw failure('resign', error);
        }
      },
    };
  }

  /**
   * A leader reads its election key every ELECTION_CHECK_MS while it leads. etcd3 says a campaign's
   * lease is lost only after twice its time without an answer, and on three nodes a Swarm writer
   * whose keep-alive stream sat on a member gone silent still believed it led 90 s after its key
   * had expired and another instance had been elected (its writes were fenced, but it reported
   * itself the writer and did not stand again). So: its key gone means it lost; and no answer for
   * half the lease's time means it steps down before the lease ends, as a writer that cannot reach
   * etcd cannot write anyway.
   */
  #confirmLeading(campaign: Campaign, ttlSeconds: number, over: () => boolean, lose: (reason: string) => void): void {
    // Two checks at least: with a short lease (4 s in the failover test) half of it is one check
    // interval, and a leader whose reads all answered stepped down on the timer's jitter.
    const silenceLimitMs = Math.max((ttlSeconds * 1000) / 2, 2 * ELECTION_CHECK_MS);
    let confirmedAt = performance.now();
    let reading = false;
    // Judged at every tick from the last answer, whether or not a read is still out: on three
    // nodes, a writer cut off from etcd's majority kept its role for 90 s after its key had expired,
    // its reads never settling to tell it so.
    const timer = setInterval(() => {
      if (over()) {
        clearInterval(timer);
        return;
      }
      const silentMs = performance.now() - confirmedAt;
      if (silentMs > silenceLimitMs) {
        clearInterval(timer);
        lose(
          `etcd did not confirm its election key for ${(silentMs / 1000).toFixed(1)} s (half the election lease, two checks at least): stepping down before it ends`,
        );
        return;
      }
      if (reading) return;
      reading = true;
      // An answer says the key was held when the read began, no later.
      const askedAt = performance.now();
      void (async () => {
        const key = await campaign.getCampaignKey();
        return (await this.client.kv.range({ key: Buffer.from(key) })).kvs.length > 0;
      })()
        .then(
          (held) => {
            if (!held) {
              clearInterval(timer);
              lose('its election key is gone (its lease ran out or it was deleted): another instance may lead');
              return;
            }
            confirmedAt = Math.max(confirmedAt, askedAt);
          },
          (error: unknown) =>
            this.#log.debug({ err: error, silentMs }, 'a leader could not read its election key; trying again'),
        )
        .finally(() => {
          reading = false;
        });
    }, ELECTION_CHECK_MS);
    timer.unref();
  }

  /** Whether the campaign's key is the oldest (lowest create revision) under its election's prefix. */
  async #firstInLine(campaign: Campaign): Promise<boolean> {
    const key = await campaign.getCampaignKey();
    const electionPrefix = key.slice(0, key.lastIndexOf('/') + 1);
    const first = await this.client.getAll().prefix(electionPrefix).sort('Create', 'Ascend').limit(1).keys();
    return first[0] === key;
  }

  async lease(leaseId: string): Promise<LeaseInfo | undefined> {
    try {
      const info = await this.client.leaseClient.leaseTimeToLive({ ID: leaseId, keys: true });
      if (Number(info.TTL) <= 0) return undefined;
      return {
        keys: (info.keys ?? []).map((key) => text(key as Buffer)),
        remainingSeconds: Number(info.TTL),
        grantedSeconds: Number(info.grantedTTL),
      };
    } catch (error) {
      throw failure('lease read', error);
    }
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.client.get(key).string()) ?? undefined;
    } catch (error) {
      throw failure(`read of ${key}`, error);
    }
  }

  async putLeased(key: string, value: string, leaseId: string): Promise<void> {
    try {
      await this.client.kv.put({ key: Buffer.from(key), value: Buffer.from(value), lease: leaseId });
    } catch (error) {
      throw failure(`write of ${key}`, error);
    }
  }

  async refresh(leaseId: string): Promise<boolean> {
    // etcd keeps a lease alive only through a keep-alive stream: one request on a stream of its
    // own, the whole exchange bounded (a stream gets no deadline from the client's defaults), and
    // the stream ended however it went, also when it opens after the limit.
    let ended = false;
    let stream: { end(): void } | undefined;
    const exchange = async (): Promise<{ TTL: string | number }> => {
      const opened = await this.client.leaseClient.leaseKeepAlive({ deadline: Date.now() + REFRESH_LIMIT_MS });
      stream = opened;
      if (ended) {
        opened.end();
        throw new Error('the keep-alive stream opened after its limit');
      }
      const answer = new Promise<{ TTL: string | number }>((resolve, reject) => {
        opened.on('data', resolve);
        opened.on('error', reject);
      });
      opened.write({ ID: leaseId });
      return answer;
    };
    try {
      const reply = await pTimeout(exchange(), {
        milliseconds: REFRESH_LIMIT_MS,
        message: `etcd lease keep-alive: no answer within ${REFRESH_LIMIT_MS} ms`,
      });
      return Number(reply.TTL) > 0;
    } catch (error) {
      throw failure('lease keep-alive', error);
    } finally {
      ended = true;
      stream?.end();
    }
  }

  async revoke(leaseId: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId });
    } catch (error) {
      throw failure('lease revoke', error);
    }
  }
}
