import type { Operation, Unit } from './plan-change.ts';

export interface Transaction {
  readonly operations: readonly Operation[];
  /** Claim ids whose claims must be unchanged since the snapshot for the transaction to apply. */
  readonly guards: readonly string[];
  readonly labels: readonly string[];
}

/** etcd's default `--max-txn-ops`. */
export const ETCD_MAX_TXN_OPS = 128;

/**
 * Packs units into as few transactions as etcd accepts, in stage order (new backends, then
 * routers; router removals, then backend removals), never cutting a unit unless the unit alone is
 * larger than the limit. One change that fits is one transaction: Traefik sees one watch event and
 * one consistent tree.
 */
export function splitTransactions(units: readonly Unit[], maxOps = ETCD_MAX_TXN_OPS): Transaction[] {
  const transactions: Transaction[] = [];
  let operations: Operation[] = [];
  let guards = new Set<string>();
  let labels: string[] = [];
  const flush = () => {
    if (operations.length === 0) return;
    transactions.push({ operations, guards: [...guards], labels });
    operations = [];
    guards = new Set();
    labels = [];
  };
  for (const unit of [...units].sort((a, b) => a.stage - b.stage)) {
    if (operations.length + unit.operations.length > maxOps) flush();
    // A unit larger than a whole transaction (a resource with more than 128 fields) is the one case that must be cut.
    for (let start = 0; start < unit.operations.length; start += maxOps) {
      const slice = unit.operations.slice(start, start + maxOps);
      if (operations.length + slice.length > maxOps) flush();
      operations.push(...slice);
      for (const guard of unit.guards) guards.add(guard);
      labels.push(unit.label);
    }
  }
  flush();
  return transactions;
}
