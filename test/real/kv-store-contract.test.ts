import { requireTestEnv } from '../support/env.ts';
import { kvStoreContract } from '../support/kv-store-contract-cases.ts';
import { testStore, type TestStoreName } from '../support/test-store.ts';

// The KvStore port's promises (test/support/kv-store-contract-cases.ts) on both real stores.

for (const name of ['etcd', 'redis'] as const satisfies readonly TestStoreName[]) {
  kvStoreContract(name, async () => {
    await requireTestEnv();
    const store = testStore(name);
    if (name !== 'redis') return store;
    const redis = store.kv as import('../../src/redis/redis-store.ts').RedisStore;
    return { ...store, sweeping: { start: () => redis.startSweeping(), stop: () => redis.stopSweeping() } };
  });
}
