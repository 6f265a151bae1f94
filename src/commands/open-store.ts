import type { Logger } from 'pino';
import type { DaemonConfig } from '../config/settings.ts';
import type { KvStore } from '../sync/kv-store.ts';

/**
 * The store the configuration names, with what closes it. Only that store's client is loaded
 * (etcd's gRPC stack and ioredis each cost tens of MiB that an instance of the other never needs).
 * `writer`: a daemon's store, which checks Redis's keyspace notifications at every connection
 * (Traefik is deaf without them) and sweeps expired leases; a reader (`appproxy apps`) does neither.
 */
export async function openStore(
  config: DaemonConfig,
  logger: Logger,
  fatal: (message: string) => void,
  writer = true,
): Promise<{ store: KvStore; closeStore: () => void }> {
  if (config.store === 'etcd') {
    const [{ etcdFromConfig }, { EtcdStore }] = await Promise.all([
      import('../etcd/etcd-client.ts'),
      import('../etcd/etcd-store.ts'),
    ]);
    const etcd = etcdFromConfig(config.etcd);
    const store = new EtcdStore(
      etcd,
      logger.child({ component: 'etcd' }),
      () => etcdFromConfig(config.etcd),
      config.etcd.maxTxnOps,
    );
    return {
      store,
      closeStore: () => {
        store.close();
        etcd.close();
      },
    };
  }
  const [{ redisFromConfig }, { RedisStore }, { ensureKeyspaceNotifications }] = await Promise.all([
    import('../redis/redis-client.ts'),
    import('../redis/redis-store.ts'),
    import('../redis/keyspace-notifications.ts'),
  ]);
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
