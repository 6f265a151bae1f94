import { kvStoreContract } from '../support/kv-store-contract-cases.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { readPrefix } from '../support/tree-writer.ts';

// The in-memory store the unit tests use keeps the same promises as the real stores: the
// contract's cases run on it too, so that it cannot drift from them while unit tests stay green.
kvStoreContract('memory', async () => {
  const kv = new MemoryStore();
  return { kv, read: (prefix) => readPrefix(kv, prefix), close: () => undefined };
});
