import type { Operation, TransactionLimits } from './kv-store.ts';
import { operationBytes } from './operation-bytes.ts';
import type { Unit } from './plan-change.ts';

export interface Transaction {
  readonly operations: readonly Operation[];
  /** Claim ids whose claims must be unchanged since the snapshot for the transaction to apply. */
  readonly guards: readonly string[];
  readonly labels: readonly string[];
}

/**
 * Bytes of keys and values in one transaction, whatever the store. etcd refuses requests over
 * `--max-request-bytes` (1.5 MiB by default), the smallest of the stores' limits; a third is kept
 * for the guards, the encoding and smaller settings.
 */
export const MAX_TXN_BYTES = 1024 * 1024;
/** A value this large can never be written (with its key) in one request: its unit is left out and reported. */
export const MAX_VALUE_BYTES = MAX_TXN_BYTES - 4096;

/** Units no store could take (one value over MAX_VALUE_BYTES), so that they do not block every other change. */
export function unwritableUnits(units: readonly Unit[]): {
  writable: Unit[];
  refused: { label: string; key: string; bytes: number }[];
} {
  const writable: Unit[] = [];
  const refused: { label: string; key: string; bytes: number }[] = [];
  for (const unit of units) {
    // No operation of a unit is larger than the whole unit: most are not looked at one by one.
    const huge =
      unit.bytes <= MAX_VALUE_BYTES
        ? undefined
        : unit.operations.find((operation) => operationBytes(operation) > MAX_VALUE_BYTES);
    if (huge === undefined) writable.push(unit);
    else refused.push({ label: unit.label, key: huge.key, bytes: operationBytes(huge) });
  }
  return { writable, refused };
}

/**
 * Packs units into as few transactions as the store accepts (`limits`: operations and bytes), in stage order (new
 * backends, then routers; router removals, then backend removals), never cutting a unit unless the
 * unit alone is larger than a transaction. One change that fits is one transaction: Traefik sees
 * one watch event and one consistent tree.
 */
export function splitTransactions(units: readonly Unit[], limits: TransactionLimits): Transaction[] {
  const transactions: Transaction[] = [];
  let operations: Operation[] = [];
  let bytes = 0;
  let guards = new Set<string>();
  let labels: string[] = [];
  const flush = () => {
    if (operations.length === 0) return;
    transactions.push({ operations, guards: [...guards], labels });
    operations = [];
    bytes = 0;
    guards = new Set();
    labels = [];
  };
  const fits = (count: number, size: number) =>
    operations.length + count <= limits.maxOps && bytes + size <= limits.maxBytes;
  /** Puts `part` of `unit` (`size` bytes) in the transaction being filled, with the unit's guards and label. */
  const add = (unit: Unit, part: readonly Operation[], size: number) => {
    for (const operation of part) operations.push(operation);
    bytes += size;
    for (const guard of unit.guards) guards.add(guard);
    if (labels[labels.length - 1] !== unit.label) labels.push(unit.label);
  };
  for (const unit of [...units].sort((a, b) => a.stage - b.stage)) {
    if (!fits(unit.operations.length, unit.bytes)) flush();
    if (fits(unit.operations.length, unit.bytes)) {
      add(unit, unit.operations, unit.bytes);
      continue;
    }
    // A unit larger than a whole transaction (more fields than maxOps, or over the byte budget) is the one case that
    // must be cut: each transaction with a part of it carries its guards and its label.
    for (const operation of unit.operations) {
      const size = operationBytes(operation);
      if (!fits(1, size)) flush();
      add(unit, [operation], size);
    }
  }
  flush();
  return transactions;
}

/**
 * The transactions of a change, in waves: the transactions of one wave may be applied at once
 * (they touch different resources), a wave only after the one before has committed. A change that
 * fits one transaction is one wave of one. A larger one cannot be seen by Traefik all at once
 * anyway; it is cut at stage boundaries instead, so that no router is committed before the
 * backends it needs, nor a backend removed before the routers that used it, whatever order a
 * wave's transactions commit in. A stage with a unit too large for one transaction keeps its
 * parts in order, one wave each.
 */
export function transactionWaves(units: readonly Unit[], limits: TransactionLimits): Transaction[][] {
  // Whether it all fits one transaction is a sum: a large change is not packed twice to find out.
  let count = 0;
  let bytes = 0;
  for (const unit of units) {
    count += unit.operations.length;
    bytes += unit.bytes;
  }
  if (count === 0) return [];
  if (count <= limits.maxOps && bytes <= limits.maxBytes) return [splitTransactions(units, limits)];
  const waves: Transaction[][] = [];
  for (const stage of [0, 1, 2, 3] as const) {
    const staged = units.filter((unit) => unit.stage === stage);
    if (staged.length === 0) continue;
    const transactions = splitTransactions(staged, limits);
    const labelCount = new Map<string, number>();
    for (const transaction of transactions)
      for (const label of transaction.labels) labelCount.set(label, (labelCount.get(label) ?? 0) + 1);
    const cut = [...labelCount.values()].some((count) => count > 1);
    if (cut) for (const transaction of transactions) waves.push([transaction]);
    else waves.push(transactions);
  }
  return waves;
}
