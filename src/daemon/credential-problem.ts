import { EtcdAuthenticationFailedError, EtcdPermissionDeniedError, EtcdUserNotFoundError } from 'etcd3';
import type { DaemonConfig } from '../config/settings.ts';
import { KeyLayout } from '../sync/key-layout.ts';

function isCredentialError(error: Error): boolean {
  return error instanceof EtcdAuthenticationFailedError || error instanceof EtcdUserNotFoundError || error instanceof EtcdPermissionDeniedError;
}

/**
 * Errors that retrying cannot cure: etcd refused the user, the password or the user's rights.
 * Starting anyway would look like an etcd outage (not ready, forever), so the daemon stops and
 * says what to fix; undefined for every other error.
 */
export function credentialProblem(wrapped: unknown, config: DaemonConfig): string | undefined {
  if (config.store === 'redis') return redisCredentialProblem(wrapped, config);
  // The store wraps etcd3's errors: look down the chain of causes.
  let error = wrapped;
  while (error instanceof Error && !isCredentialError(error) && error.cause !== undefined) error = error.cause;
  const user = config.etcd.username === undefined ? 'no user' : `user "${config.etcd.username}"`;
  if (error instanceof EtcdAuthenticationFailedError || error instanceof EtcdUserNotFoundError) {
    return `etcd refused the credentials (${user}): ${(error as Error).message}. Check --etcd-username and the password (APPPROXY_ETCD_PASSWORD or the config file)`;
  }
  if (error instanceof EtcdPermissionDeniedError) {
    const layout = new KeyLayout(config.rootKey, config.owner);
    return `etcd denied ${user} access: ${(error as Error).message}. Grant its role readwrite on the key "${layout.rootKey}" and the prefixes "${layout.treePrefix}", "${layout.claimsPrefix}", "${layout.ownersPrefix}", "${layout.electionsPrefix}", "${layout.portsPrefix}" and "${layout.appsPrefix}"`;
  }
  return undefined;
}

/** Redis's answers to a wrong password or user (WRONGPASS, NOAUTH) and to missing rights (NOPERM). */
function redisCredentialProblem(wrapped: unknown, config: DaemonConfig): string | undefined {
  let error = wrapped;
  while (error instanceof Error && !/^(WRONGPASS|NOAUTH|NOPERM)/.test(error.message) && error.cause !== undefined) error = error.cause;
  if (!(error instanceof Error)) return undefined;
  const user = config.redis.username === undefined ? 'the default user' : `user "${config.redis.username}"`;
  if (/^(WRONGPASS|NOAUTH)/.test(error.message)) {
    return `Redis refused the credentials (${user}): ${error.message}. Check --redis-username and the password (APPPROXY_REDIS_PASSWORD or its _FILE)`;
  }
  if (/^NOPERM/.test(error.message)) {
    const layout = new KeyLayout(config.rootKey, config.owner);
    return `Redis denied ${user} a command or key: ${error.message}. Its ACL needs EVAL, GET, MGET, XREAD, XRANGE and CONFIG GET, on the keys "${layout.rootKey}*", "appproxy/*"`;
  }
  return undefined;
}
