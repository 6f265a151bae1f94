import type { TransactionLimits } from '../sync/kv-store.ts';
import { MAX_TXN_BYTES } from '../sync/split-transactions.ts';

/** etcd's default `--max-txn-ops`: a transaction with more operations is refused. */
export const ETCD_MAX_TXN_OPS = 128;

/** What one etcd transaction may hold, `maxOps` read anew at every split (etcd's --max-txn-ops as known now). */
export function etcdTransactionLimits(maxOps: () => number): TransactionLimits {
  return Object.defineProperty({ maxBytes: MAX_TXN_BYTES }, 'maxOps', {
    get: maxOps,
    enumerable: true,
  }) as TransactionLimits;
}

/** What one etcd transaction may hold with etcd's defaults. */
export const ETCD_TRANSACTION_LIMITS: TransactionLimits = etcdTransactionLimits(() => ETCD_MAX_TXN_OPS);

/** What etcd says of a transaction with more operations than its `--max-txn-ops`. */
export function isTooManyOperations(error: unknown): boolean {
  return /too many operations in txn request/i.test(error instanceof Error ? error.message : String(error));
}
