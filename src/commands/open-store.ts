import type { Logger } from 'pino';
import type { DaemonConfig } from '../config/settings.ts';
import { etcdFromConfig } from '../etcd/etcd-client.ts';
import { EtcdStore } from '../etcd/etcd-store.ts';
import { ensureKeyspaceNotifications } from '../redis/keyspace-notifications.ts';
import { redisFromConfig } from '../redis/redis-client.ts';
import { RedisStore } from '../redis/redis-store.ts';
import type { KvStore } from '../sync/kv-store.ts';

/**
 * The store the configuration names, with what closes it. `writer`: a daemon's store, which checks Redis's keyspace
 * notifications at every connection
 * (Traefik is deaf without them) and sweeps expired leases; a reader (`appproxy apps`) does neither.
 */
export function openStore(
  config: DaemonConfig,
  logger: Logger,
  fatal: (message: string) => void,
  writer = true,
): { store: KvStore; closeStore: () => void } {
  if (config.store === 'etcd') {
    const etcd = etcdFromConfig(config.etcd);
    const store = new EtcdStore(etcd, logger.child({ component: 'etcd' }), () => etcdFromConfig(config.etcd));
    return {
      store,
      closeStore: () => {
        store.close();
        etcd.close();
      },
    };
  }
  const client = redisFromConfig(config.redis);
  const store = new RedisStore(client, logger.child({ component: 'redis' }), config.redis.timeoutSeconds * 1000);
  if (!writer) return { store, closeStore: () => client.disconnect() };
  // At every connection: a Redis restarted without the setting would leave Traefik deaf.
  client.on('ready', () => {
    ensureKeyspaceNotifications(client).then(
      (problem) => (problem === undefined ? undefined : fatal(problem)),
      (error: unknown) => logger.warn({ err: error }, 'could not read notify-keyspace-events'),
    );
  });
  store.startSweeping();
  return {
    store,
    closeStore: () => {
      store.stopSweeping();
      client.disconnect();
    },
  };
}
