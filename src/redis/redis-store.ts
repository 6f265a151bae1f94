import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { KeyRange } from '../sync/key-layout.ts';
import { MAX_TXN_BYTES } from '../sync/split-transactions.ts';
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
  type StoreSnapshot,
  type StoreWatch,
  type TransactionLimits,
  type WatchEvent,
  type WatchHandlers,
} from '../sync/kv-store.ts';
import { RedisLeaseKeeper } from './redis-lease-keeper.ts';
import {
  APPLY_SCRIPT,
  CAMPAIGN_SCRIPT,
  GRANT_SCRIPT,
  KEEPALIVE_SCRIPT,
  LEASE_INFO_SCRIPT,
  LOAD_SCRIPT,
  RESIGN_SCRIPT,
  REVOKE_SCRIPT,
  STORE_PREFIX,
  SWEEP_SCRIPT,
} from './redis-scripts.ts';

/** How often each instance revokes leases past their deadline (Redis has no leases of its own). */
const SWEEP_INTERVAL_MS = 500;
/** A watch's blocking read waits this long at most, then checks that the Redis it reads is the same one. */
const WATCH_BLOCK_MS = 1000;

type Reply = string | number | null | Reply[];

/** What an operator does when Redis refuses writes at its memory limit. */
export const REDIS_FULL_FIX = 'raise maxmemory (`CONFIG SET maxmemory`) or free memory in that Redis';

/** Redis's answer at `maxmemory` with `noeviction`: "OOM command not allowed when used memory > 'maxmemory'." */
export function isRedisFull(cause: unknown): boolean {
  return /^OOM |maxmemory/.test((cause as Error)?.message ?? '');
}

/** Redis's answers to a wrong password or user (WRONGPASS, NOAUTH) and to missing rights (NOPERM). */
function accessRefused(cause: unknown): { refused: 'credentials' | 'rights'; error: Error } | undefined {
  for (let error = cause; error instanceof Error; error = error.cause) {
    if (/^(WRONGPASS|NOAUTH)/.test(error.message)) return { refused: 'credentials', error };
    if (/^NOPERM/.test(error.message)) return { refused: 'rights', error };
  }
  return undefined;
}

function failure(operation: string, cause: unknown): StoreUnavailableError {
  if (isRedisFull(cause)) return new StoreFullError('redis', operation, cause, REDIS_FULL_FIX);
  // The client's own error is the cause: its words tell the operator what the store said.
  const access = accessRefused(cause);
  if (access !== undefined) return new StoreAccessRefusedError('redis', operation, access.error, access.refused);
  const hint = /timed? ?out/i.test((cause as Error)?.message ?? '')
    ? ' (no answer within the Redis call limit, --redis-timeout-seconds)'
    : '';
  return new StoreUnavailableError('redis', operation, cause, hint);
}

function rangeArgs(ranges: readonly KeyRange[]): string[] {
  return ranges.flatMap((range) => [range.key, range.prefix ? '1' : '0']);
}

function inRanges(key: string, ranges: readonly KeyRange[]): boolean {
  return ranges.some((range) => (range.prefix ? key.startsWith(range.key) : key === range.key));
}

/**
 * The KvStore port on Redis, for Traefik's Redis provider (`--providers.redis`). Every change is one
 * Lua script (see redis-scripts.ts for why a script and not MULTI/EXEC: the guards must be checked
 * and the writes made in one step, which MULTI/EXEC cannot do without WATCH retries, and a script
 * also keeps the revision, the change log and the lease bookkeeping in that same step).
 */
export class RedisStore implements KvStore {
  /**
   * A transaction is one script, which Redis runs whole and alone: no limit of 128 operations as
   * in etcd. Bytes stay at the etcd budget, since the change log keeps every value of a transaction.
   */
  readonly transactionLimits: TransactionLimits = { maxOps: 20_000, maxBytes: MAX_TXN_BYTES };
  readonly client: Redis;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping = false;

  constructor(client: Redis, logger: Logger, timeoutMs: number) {
    this.client = client;
    this.#log = logger;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * A fresh candidate each call: after a flush, the first script to run writes the new epoch, and a
   * candidate this process had used before would make the flush invisible to its own watches.
   */
  get #epoch(): string {
    return randomBytes(8).toString('hex');
  }

  async #script(operation: string, source: string, args: readonly (string | number)[]): Promise<Reply> {
    try {
      return (await this.client.eval(source, 0, ...args.map(String))) as Reply;
    } catch (error) {
      throw failure(operation, error);
    }
  }

  /**
   * Starts revoking leases past their deadline, as etcd does by itself: a dead instance's servers
   * then leave Traefik within the lease time, as long as one instance lives.
   */
  startSweeping(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  /** Revokes every lease past its deadline now; answers how many. */
  async sweep(): Promise<number> {
    if (this.#sweeping) return 0;
    this.#sweeping = true;
    try {
      const revoked = Number(await this.#script('lease sweep', SWEEP_SCRIPT, [this.#epoch]));
      if (revoked > 0) this.#log.info({ leases: revoked }, 'revoked leases past their deadline, and their keys');
      return revoked;
    } catch (error) {
      this.#log.debug({ err: error }, 'lease sweep failed');
      return 0;
    } finally {
      this.#sweeping = false;
    }
  }

  stopSweeping(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  async load(ranges: readonly KeyRange[]): Promise<StoreSnapshot> {
    const reply = (await this.#script('read', LOAD_SCRIPT, [
      this.#epoch,
      ranges.length,
      ...rangeArgs(ranges),
    ])) as string[];
    const entries = [];
    for (let index = 2; index + 3 < reply.length; index += 4) {
      entries.push({
        key: reply[index] as string,
        value: reply[index + 1] as string,
        lease: reply[index + 2] as string,
        modRevision: BigInt(reply[index + 3] as string),
      });
    }
    return { revision: BigInt(reply[0] as string), entries, epoch: reply[1] as string };
  }

  async watch(ranges: readonly KeyRange[], afterRevision: bigint, handlers: WatchHandlers): Promise<StoreWatch> {
    // A blocking read needs a connection of its own; it is limited by BLOCK, below the call limit.
    const reader = this.client.duplicate({
      commandTimeout: this.#timeoutMs + WATCH_BLOCK_MS,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    reader.on('error', () => undefined);
    try {
      await reader.connect();
    } catch (error) {
      reader.disconnect();
      throw failure('watch', error);
    }
    let epoch: string;
    try {
      epoch = await this.#currentEpoch();
    } catch (error) {
      reader.disconnect();
      throw error;
    }
    let stopped = false;
    let lastId = `${afterRevision}-0`;
    let seen = afterRevision;
    const lose = (reason: string) => {
      if (stopped) return;
      stopped = true;
      reader.disconnect();
      handlers.onLost(reason);
    };
    const loop = async () => {
      while (!stopped) {
        try {
          const first = (await reader.xrange(`${STORE_PREFIX}events`, '-', '+', 'COUNT', 1)) as [string, string[]][];
          const firstRevision = first[0] === undefined ? undefined : BigInt(first[0][0].split('-')[0] as string);
          if (firstRevision !== undefined && firstRevision > seen + 1n && seen > 0n) {
            // Trimmed past what this watch has seen: the changes in between are not known.
            const revision = BigInt((await reader.get(`${STORE_PREFIX}revision`)) ?? '0');
            if (revision > seen) return lose(`redis change log no longer holds revision ${seen + 1n}`);
          }
          const reply = (await reader.xread(
            'COUNT',
            1000,
            'BLOCK',
            WATCH_BLOCK_MS,
            'STREAMS',
            `${STORE_PREFIX}events`,
            lastId,
          )) as [string, [string, string[]][]][] | null;
          if (stopped) return;
          const [currentEpoch, revisionText] = await reader.mget(`${STORE_PREFIX}epoch`, `${STORE_PREFIX}revision`);
          if (currentEpoch !== epoch)
            return lose('redis lost its data (restarted without persistence, or flushed): another epoch');
          if (BigInt(revisionText ?? '0') < seen)
            return lose('redis revision went back (restarted from an older snapshot)');
          const events: WatchEvent[] = [];
          for (const [id, fields] of reply?.[0]?.[1] ?? []) {
            lastId = id;
            const modRevision = BigInt(id.split('-')[0] as string);
            seen = modRevision;
            const ops = JSON.parse(fields[fields.indexOf('ops') + 1] ?? '[]') as [string, string, string?, string?][];
            for (const [type, key, value, lease] of ops) {
              if (!inRanges(key, ranges)) continue;
              events.push(
                type === 'put'
                  ? { type: 'put', key, value: value ?? '', lease: lease ?? '0', modRevision }
                  : { type: 'delete', key, modRevision },
              );
            }
          }
          if (events.length > 0) handlers.onEvents(events);
        } catch (error) {
          return lose(`redis watch failed: ${(error as Error).message}`);
        }
      }
    };
    void loop();
    return {
      stop: async () => {
        stopped = true;
        reader.disconnect();
      },
    };
  }

  async #currentEpoch(): Promise<string> {
    // Reading at revision 0 of nothing writes the epoch when there is none yet.
    const reply = (await this.#script('read', LOAD_SCRIPT, [this.#epoch, 0])) as string[];
    return reply[1] as string;
  }

  async apply(transaction: GuardedTransaction, leaseId: string): Promise<ApplyResult> {
    const { fence } = transaction;
    const args: (string | number)[] = [
      this.#epoch,
      transaction.epoch ?? '',
      leaseId,
      fence?.key ?? '',
      fence?.createRevision.toString() ?? '0',
      fence?.epoch ?? '',
      transaction.guards.length,
    ];
    for (const guard of transaction.guards)
      args.push(guard.range.key, guard.range.prefix ? '1' : '0', guard.notModifiedAfter.toString());
    args.push(transaction.operations.length);
    for (const operation of transaction.operations) {
      if (operation.type === 'put') args.push('put', operation.key, operation.value, operation.leased ? '1' : '0');
      else args.push('delete', operation.key, '', '0');
    }
    const [applied, revision, fenced, changed] = (await this.#script('transaction', APPLY_SCRIPT, args)) as [
      number,
      number,
      number,
      number,
    ];
    return {
      applied: applied === 1,
      revision: BigInt(revision),
      ...(fenced === 1 ? { fenced: true } : {}),
      ...(changed === 1 ? { epochChanged: true } : {}),
    };
  }

  async grant(leaseId: string, ttlSeconds: number): Promise<void> {
    await this.#script('lease grant', GRANT_SCRIPT, [leaseId, ttlSeconds]);
  }

  /** True when the lease was refreshed; false when it is gone (it is never revived). Its keeper's too. */
  async refresh(leaseId: string): Promise<boolean> {
    return Number(await this.#script('lease keep-alive', KEEPALIVE_SCRIPT, [leaseId])) === 1;
  }

  async openLease(ttlSeconds: number, onReplaced: () => void): Promise<StoreLease> {
    const keeper = new RedisLeaseKeeper(this, ttlSeconds, this.#log.child({ component: 'lease' }), onReplaced);
    await keeper.start();
    return keeper;
  }

  async lease(leaseId: string): Promise<LeaseInfo | undefined> {
    const reply = (await this.#script('lease read', LEASE_INFO_SCRIPT, [leaseId])) as string[];
    if (reply.length < 2) return undefined;
    return {
      keys: reply.slice(2),
      remainingSeconds: Math.ceil(Number(reply[0]) / 1000),
      grantedSeconds: Number(reply[1]),
    };
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.client.get(key)) ?? undefined;
    } catch (error) {
      throw failure(`read of ${key}`, error);
    }
  }

  async putLeased(key: string, value: string, leaseId: string): Promise<void> {
    await this.apply({ operations: [{ type: 'put', key, value, leased: true }], guards: [] }, leaseId);
  }

  async revoke(leaseId: string): Promise<void> {
    await this.#script('lease revoke', REVOKE_SCRIPT, [this.#epoch, leaseId]);
  }

  campaign(
    prefix: string,
    name: string,
    value: string,
    ttlSeconds: number,
    onLost: (reason: string) => void,
  ): Candidacy {
    // The leader is whoever holds `<prefix><name>`, a key on the leader's own lease: created when
    // absent, gone when that lease is revoked or expires. The others try again a few times a lease.
    const key = `${prefix}${name}`;
    const retryMs = Math.max(100, Math.min(1000, (ttlSeconds * 1000) / 3));
    let lost = false;
    let resigned = false;
    let createRevision = 0n;
    let electedEpoch = '';
    let keeper: StoreLease | undefined;
    const lose = (reason: string) => {
      if (lost || resigned) return;
      lost = true;
      onLost(reason);
    };
    const elected = (async () => {
      keeper = await this.openLease(ttlSeconds, () => lose('the election lease was lost'));
      if (resigned) {
        // Resigned while the lease was being granted: nobody else will release it.
        keeper.release();
        await this.revoke(keeper.leaseId()).catch(() => undefined);
      }
      while (!resigned) {
        try {
          const [revision, epoch] = (await this.#script('election', CAMPAIGN_SCRIPT, [
            this.#epoch,
            key,
            value,
            keeper.leaseId(),
          ])) as [number, string];
          if (revision > 0) {
            createRevision = BigInt(revision);
            electedEpoch = epoch;
            return;
          }
        } catch (error) {
          this.#log.debug({ err: error }, 'election attempt failed');
        }
        await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
      }
      throw new Error('resigned before being elected');
    })();
    elected.catch(() => undefined);
    return {
      elected: () => elected,
      fence: async (): Promise<Fence> => {
        await elected;
        return { key, createRevision, epoch: electedEpoch };
      },
      resign: async () => {
        resigned = true;
        const held = keeper;
        held?.release();
        if (held !== undefined) await this.#script('resign', RESIGN_SCRIPT, [this.#epoch, key, held.leaseId()]);
      },
    };
  }
}
