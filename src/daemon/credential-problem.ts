import type { DaemonConfig } from '../config/settings.ts';
import { KeyLayout } from '../sync/key-layout.ts';
import { StoreAccessRefusedError } from '../sync/kv-store.ts';

/**
 * Errors that retrying cannot cure: the store refused the user, the password or the user's rights
 * (StoreAccessRefusedError, which each store's adapter raises). Starting anyway would look like a
 * store outage (not ready, forever), so the daemon stops and says what to fix; undefined for every
 * other error.
 */
export function credentialProblem(wrapped: unknown, config: DaemonConfig): string | undefined {
  let error = wrapped;
  while (error instanceof Error && !(error instanceof StoreAccessRefusedError) && error.cause !== undefined)
    error = error.cause;
  if (!(error instanceof StoreAccessRefusedError)) return undefined;
  // The cause is the client's own error: etcd's or Redis's words, not the wrapper's.
  const said = error.cause instanceof Error ? error.cause.message : error.message;
  const layout = new KeyLayout(config.rootKey, config.owner);
  if (config.store === 'redis') {
    const user = config.redis.username === undefined ? 'the default user' : `user "${config.redis.username}"`;
    if (error.refused === 'credentials')
      return `Redis refused the credentials (${user}): ${said}. Check --redis-username and the password (APPPROXY_REDIS_PASSWORD or its _FILE)`;
    return `Redis denied ${user} a command or key: ${said}. Its ACL needs EVAL, GET, MGET, XREAD, XRANGE and CONFIG GET, on the keys "${layout.rootKey}*", "appproxy/*"`;
  }
  const user = config.etcd.username === undefined ? 'no user' : `user "${config.etcd.username}"`;
  if (error.refused === 'credentials')
    return `etcd refused the credentials (${user}): ${said}. Check --etcd-username and the password (APPPROXY_ETCD_PASSWORD or the config file)`;
  return `etcd denied ${user} access: ${said}. Grant its role readwrite on the key "${layout.rootKey}" and the prefixes "${layout.treePrefix}", "${layout.claimsPrefix}", "${layout.ownersPrefix}", "${layout.electionsPrefix}", "${layout.portsPrefix}" and "${layout.appsPrefix}"`;
}
