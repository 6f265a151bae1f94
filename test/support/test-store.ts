import type { Logger } from 'pino';
import pino from 'pino';
import { EtcdStore } from '../../src/etcd/etcd-store.ts';
import { redisFromConfig } from '../../src/redis/redis-client.ts';
import { RedisStore } from '../../src/redis/redis-store.ts';
import type { KvStore } from '../../src/sync/kv-store.ts';
import { testEnv, type TraefikEndpoints } from './env.ts';
import { testEtcd, TEST_ETCD_LIMIT_MS } from './etcd-kv.ts';
import { clearTree, readPrefix, replaceTree } from './tree-writer.ts';

export type TestStoreName = 'etcd' | 'redis';

/**
 * The store the real tests of this run use: `APPPROXY_TEST_STORE=redis` runs the same parity and
 * daemon cases against Redis and Traefik's Redis provider (scripts/test.sh runs them both ways).
 */
export const TEST_STORE: TestStoreName = process.env['APPPROXY_TEST_STORE'] === 'redis' ? 'redis' : 'etcd';

/** One of the test environment's stores, with the Traefik that reads it. */
export interface TestStore {
  readonly name: TestStoreName;
  /** The Traefik whose provider reads this store. */
  readonly traefik: TraefikEndpoints;
  /** The provider suffix Traefik gives what it reads from this store. */
  readonly suffix: '@etcd' | '@redis';
  /** The product's own port on this store. */
  readonly kv: KvStore;
  /** Keys and values under a prefix. */
  read(prefix: string): Promise<Map<string, string>>;
  /**
   * Makes the tree under `rootKey/` hold exactly `pairs` (test-only: the daemon plans the smallest
   * guarded change instead). An empty `pairs` leaves the placeholder, as the daemon does, so that
   * Traefik drops the old routes instead of keeping them.
   */
  replaceTree(rootKey: string, pairs: ReadonlyMap<string, string>): Promise<void>;
  /** Removes every route and appproxy's bookkeeping, leaving Traefik an empty configuration. */
  clearTree(rootKey: string): Promise<void>;
  close(): void;
}

const quiet: Logger = pino({ level: 'silent' });

/** The test environment's store of that name (etcd unless APPPROXY_TEST_STORE=redis). Close it in `after`. */
export function testStore(name: TestStoreName = TEST_STORE): TestStore {
  let kv: KvStore;
  let close: () => void;
  if (name === 'etcd') {
    const client = testEtcd(testEnv.etcdEndpoint);
    kv = new EtcdStore(client, quiet);
    close = () => client.close();
  } else {
    const client = redisFromConfig({ url: testEnv.redisUrl, timeoutSeconds: TEST_ETCD_LIMIT_MS / 1000 });
    kv = new RedisStore(client, quiet, TEST_ETCD_LIMIT_MS);
    close = () => client.disconnect();
  }
  return {
    name,
    traefik: name === 'etcd' ? testEnv.traefikEtcd : testEnv.traefikRedis,
    suffix: name === 'etcd' ? '@etcd' : '@redis',
    kv,
    read: (prefix) => readPrefix(kv, prefix),
    replaceTree: (rootKey, pairs) => replaceTree(kv, rootKey, pairs),
    clearTree: (rootKey) => clearTree(kv, rootKey),
    close,
  };
}
