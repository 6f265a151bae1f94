import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import pTimeout from 'p-timeout';
import type { Logger } from 'pino';
import { LeaseKeeper } from './lease-keeper.ts';
import type { KeyRange } from '../sync/key-layout.ts';
import { StoreUnavailableError, type GuardedTransaction, type KvStore, type StoreLease, type StoreSnapshot, type StoreWatch, type WatchEvent, type WatchHandlers } from '../sync/kv-store.ts';

/** The end of the range of keys that start with `prefix` (etcd's "prefix + 1"). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index -= 1) {
    if ((end[index] as number) < 0xff) {
      end[index] = (end[index] as number) + 1;
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]);
}

const COMPARE_LESS = 2;
const TARGET_MOD = 2;
/** A watch that etcd does not confirm in this time counts as failed (the caller retries). */
const WATCH_CREATE_LIMIT_MS = 10_000;

function text(value: Buffer | string | undefined): string {
  return value === undefined ? '' : value.toString();
}

function failure(operation: string, cause: unknown): StoreUnavailableError {
  // gRPC says only "Deadline exceeded": name the limit, so that an operator knows which setting it is.
  const hint = /deadline/i.test((cause as Error)?.message ?? '') ? ' (no answer within the etcd call limit, --etcd-timeout-seconds)' : '';
  return new StoreUnavailableError('etcd', operation, cause, hint);
}

function rangeRequest(range: KeyRange): { key: Buffer; range_end?: Buffer } {
  return range.prefix ? { key: Buffer.from(range.key), range_end: prefixEnd(range.key) } : { key: Buffer.from(range.key) };
}

/** The KvStore port on etcd v3: ranges read in one transaction, guarded transactions, prefix watches. */
export class EtcdStore implements KvStore {
  readonly client: Etcd3;
  readonly #log: Logger;

  constructor(client: Etcd3, logger: Logger) {
    this.client = client;
    this.#log = logger;
  }

  async openLease(ttlSeconds: number, onReplaced: () => void): Promise<StoreLease> {
    const lease = new LeaseKeeper(this.client, ttlSeconds, this.#log.child({ component: 'lease' }), onReplaced);
    await lease.start();
    return lease;
  }

  async load(ranges: readonly KeyRange[]): Promise<StoreSnapshot> {
    let response;
    try {
      response = await this.client.kv.txn({ success: ranges.map((range) => ({ request_range: rangeRequest(range) })) });
    } catch (error) {
      throw failure('read', error);
    }
    const entries = response.responses.flatMap((item) =>
      ((item.response_range?.kvs ?? []) as IKeyValue[]).map((kv) => ({ key: text(kv.key), value: text(kv.value), lease: String(kv.lease ?? '0'), modRevision: BigInt(kv.mod_revision) })),
    );
    return { revision: BigInt(response.header.revision), entries };
  }

  async watch(ranges: readonly KeyRange[], afterRevision: bigint, handlers: WatchHandlers): Promise<StoreWatch> {
    const watchers: Watcher[] = [];
    let lost = false;
    const lose = (reason: string) => {
      if (lost) return;
      lost = true;
      handlers.onLost(reason);
    };
    const stop = async () => {
      lost = true;
      await Promise.all(watchers.map((watcher) => watcher.cancel().catch(() => undefined)));
    };
    try {
      for (const range of ranges) {
        const builder = range.prefix ? this.client.watch().prefix(range.key) : this.client.watch().key(range.key);
        const watcher = await pTimeout(builder.startRevision(String(afterRevision + 1n)).create(), {
          milliseconds: WATCH_CREATE_LIMIT_MS,
          message: `etcd watch of "${range.key}": not confirmed within ${WATCH_CREATE_LIMIT_MS} ms`,
        });
        watchers.push(watcher);
        watcher.on('data', (response) => {
          if (lost) return;
          const events: WatchEvent[] = response.events.map((event) =>
            event.type === 'Delete'
              ? { type: 'delete', key: text(event.kv.key), modRevision: BigInt(event.kv.mod_revision) }
              : { type: 'put', key: text(event.kv.key), value: text(event.kv.value), lease: String(event.kv.lease ?? '0'), modRevision: BigInt(event.kv.mod_revision) },
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
      await stop();
      throw failure('watch', error);
    }
    return { stop };
  }

  async apply(transaction: GuardedTransaction, leaseId: string): Promise<{ applied: boolean; revision: bigint }> {
    const compare = transaction.guards.map(({ range, notModifiedAfter }) => ({
      ...rangeRequest(range),
      target: TARGET_MOD,
      result: COMPARE_LESS,
      mod_revision: (notModifiedAfter + 1n).toString(),
    }));
    const success = transaction.operations.map((operation) =>
      operation.type === 'put'
        ? { request_put: { key: Buffer.from(operation.key), value: Buffer.from(operation.value), lease: operation.leased ? leaseId : '0' } }
        : { request_delete_range: { key: Buffer.from(operation.key) } },
    );
    let response;
    try {
      response = await this.client.kv.txn({ compare, success });
    } catch (error) {
      throw failure('transaction', error);
    }
    return { applied: response.succeeded, revision: BigInt(response.header.revision) };
  }

  async leaseKeys(leaseId: string): Promise<string[] | undefined> {
    try {
      const info = await this.client.leaseClient.leaseTimeToLive({ ID: leaseId, keys: true });
      if (Number(info.TTL) <= 0) return undefined;
      return (info.keys ?? []).map((key) => text(key as Buffer));
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

  async revoke(leaseId: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId });
    } catch (error) {
      throw failure('lease revoke', error);
    }
  }
}
