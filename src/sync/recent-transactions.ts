import type { Operation } from './kv-store.ts';

const RECENT_TRANSACTIONS = 500;

/** The last transactions this owner committed, newest last, for `explain`: which one last touched a workload's keys. */
export class RecentTransactions {
  #recent: { revision: bigint; at: string; keys: readonly string[] }[] = [];

  record(revision: bigint, operations: readonly Operation[]): void {
    this.#recent.push({ revision, at: new Date().toISOString(), keys: operations.map((operation) => operation.key) });
    if (this.#recent.length > RECENT_TRANSACTIONS) this.#recent = this.#recent.slice(-RECENT_TRANSACTIONS);
  }

  /** The newest of the last transactions that touched one of `keys`. */
  lastTouching(keys: ReadonlySet<string>): { revision: string; at: string; operations: number } | undefined {
    for (let index = this.#recent.length - 1; index >= 0; index -= 1) {
      const transaction = this.#recent[index];
      if (transaction !== undefined && transaction.keys.some((key) => keys.has(key)))
        return { revision: transaction.revision.toString(), at: transaction.at, operations: transaction.keys.length };
    }
    return undefined;
  }
}
