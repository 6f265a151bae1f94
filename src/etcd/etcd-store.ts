import type { Etcd3, IKeyValue } from 'etcd3';
import type { ClusterSnapshot } from '../sync/plan-change.ts';
import type { Transaction } from '../sync/split-transactions.ts';

/** An etcd call that failed; the daemon retries it with backoff and reports not-ready meanwhile. */
export class EtcdUnavailableError extends Error {
  constructor(operation: string, cause: unknown) {
    const message = (cause as Error)?.message ?? String(cause);
    // gRPC says only "Deadline exceeded": name the limit, so that an operator knows which setting it is.
    const hint = /deadline/i.test(message) ? ' (no answer within the etcd call limit, --etcd-timeout-seconds)' : '';
    super(`etcd ${operation} failed: ${message}${hint}`, { cause });
    this.name = 'EtcdUnavailableError';
  }
}

export interface StoreLayout {
  readonly rootKey: string;
  /** Prefix of claims, `appproxy/claims/<rootKey>/`. */
  readonly claimsPrefix: string;
  /** This owner's record (its lease id), `appproxy/owners/<rootKey>/<owner>`. */
  readonly ownerKey: string;
  readonly owner: string;
}

/** Bookkeeping lives under `appproxy/`, outside Traefik's root key, which Traefik watches as a bare prefix. */
export function storeLayout(rootKey: string, owner: string): StoreLayout {
  return { rootKey, owner, claimsPrefix: `appproxy/claims/${rootKey}/`, ownerKey: `appproxy/owners/${rootKey}/${owner}` };
}

export interface Snapshot extends Omit<ClusterSnapshot, 'ownedServers'> {
  readonly revision: bigint;
  /** The lease each key is attached to ('0' for none): leased keys on another lease must move to ours. */
  readonly leases: ReadonlyMap<string, string>;
}

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

function text(value: Buffer | string | undefined): string {
  return value === undefined ? '' : value.toString();
}

/**
 * The etcd edge of the reconcile: reads the tree and the claims at one revision, and applies
 * transactions guarded so that a change planned from an old snapshot never lands on a newer state.
 */
export class EtcdStore {
  readonly client: Etcd3;
  readonly layout: StoreLayout;

  constructor(client: Etcd3, layout: StoreLayout) {
    this.client = client;
    this.layout = layout;
  }

  /** The tree under the root key and every claim, in one read transaction (one revision). */
  async snapshot(): Promise<Snapshot> {
    const { rootKey, claimsPrefix } = this.layout;
    let response;
    try {
      response = await this.client.kv.txn({
        success: [
          { request_range: { key: Buffer.from(`${rootKey}/`), range_end: prefixEnd(`${rootKey}/`) } },
          { request_range: { key: Buffer.from(rootKey) } },
          { request_range: { key: Buffer.from(claimsPrefix), range_end: prefixEnd(claimsPrefix) } },
        ],
      });
    } catch (error) {
      throw new EtcdUnavailableError('read', error);
    }
    const ranges = response.responses.map((item) => (item.response_range?.kvs ?? []) as IKeyValue[]);
    const tree = new Map<string, string>();
    const leases = new Map<string, string>();
    for (const kv of [...(ranges[0] ?? []), ...(ranges[1] ?? [])]) {
      tree.set(text(kv.key), text(kv.value));
      leases.set(text(kv.key), String(kv.lease ?? '0'));
    }
    const claims = new Map<string, Map<string, string>>();
    for (const kv of ranges[2] ?? []) {
      leases.set(text(kv.key), String(kv.lease ?? '0'));
      const rest = text(kv.key).slice(claimsPrefix.length);
      const slash = rest.lastIndexOf('/');
      const id = rest.slice(0, slash);
      const owner = rest.slice(slash + 1);
      const owners = claims.get(id) ?? new Map<string, string>();
      owners.set(owner, text(kv.value));
      claims.set(id, owners);
    }
    return { tree, claims, leases, revision: BigInt(response.header.revision) };
  }

  /**
   * Applies one transaction. Its guards compare the claims of each resource it touches with the
   * revision the plan was made from: if another instance changed them since, nothing is applied
   * and `false` is returned, so that the caller plans again from a fresh snapshot.
   */
  async apply(transaction: Transaction, sinceRevision: bigint, leaseId: string): Promise<{ applied: boolean; revision: bigint }> {
    const { claimsPrefix } = this.layout;
    const compare = transaction.guards.map((id) => ({
      key: Buffer.from(`${claimsPrefix}${id}/`),
      range_end: prefixEnd(`${claimsPrefix}${id}/`),
      target: TARGET_MOD,
      result: COMPARE_LESS,
      mod_revision: (sinceRevision + 1n).toString(),
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
      throw new EtcdUnavailableError('transaction', error);
    }
    return { applied: response.succeeded, revision: BigInt(response.header.revision) };
  }

  /** The lease id a previous run of this owner left, if its lease is still alive, with the keys attached to it. */
  async previousLease(): Promise<{ id: string; keys: string[] } | undefined> {
    try {
      const record = await this.client.get(this.layout.ownerKey).string();
      if (record === null || record === '') return undefined;
      const info = await this.client.leaseClient.leaseTimeToLive({ ID: record, keys: true });
      if (Number(info.TTL) <= 0) return undefined;
      return { id: record, keys: (info.keys ?? []).map((key) => text(key as Buffer)) };
    } catch (error) {
      throw new EtcdUnavailableError('owner record read', error);
    }
  }

  /** Records this owner's lease id (attached to that lease), so that a restart can take over. */
  async recordOwner(leaseId: string): Promise<void> {
    try {
      await this.client.kv.put({ key: Buffer.from(this.layout.ownerKey), value: Buffer.from(leaseId), lease: leaseId });
    } catch (error) {
      throw new EtcdUnavailableError('owner record write', error);
    }
  }

  async revoke(leaseId: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId });
    } catch (error) {
      throw new EtcdUnavailableError('lease revoke', error);
    }
  }
}
