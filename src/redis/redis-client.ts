import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { DaemonConfig } from '../config/settings.ts';

/**
 * A Redis client from the configuration: address and database from the URL, user and password,
 * TLS for rediss:// with an optional CA and client certificate. Every command has a limit
 * (commandTimeout), which also holds while it waits for a connection: a Redis that is away turns
 * into errors within the limit, and the daemon retries, reporting not-ready, as with etcd.
 */
export function redisFromConfig(redis: DaemonConfig['redis']): Redis {
  const url = new URL(redis.url);
  const limitMs = redis.timeoutSeconds * 1000;
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 6379 : Number(url.port),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    commandTimeout: limitMs,
    connectTimeout: Math.min(3000, limitMs),
    maxRetriesPerRequest: 1,
    // Reconnect for ever, at most every 2 s: an outage ends when Redis is back, not when we give up.
    retryStrategy: (attempt) => Math.min(200 * attempt, 2000),
  };
  if (redis.username !== undefined) options.username = redis.username;
  if (redis.password !== undefined) options.password = redis.password;
  if (url.protocol === 'rediss:') {
    options.tls = {
      ...(redis.ca !== undefined ? { ca: readFileSync(redis.ca) } : {}),
      ...(redis.cert !== undefined && redis.key !== undefined
        ? { cert: readFileSync(redis.cert), key: readFileSync(redis.key) }
        : {}),
    };
  }
  const client = new Redis(options);
  // Connection errors surface through the commands that fail; the client reconnects by itself.
  client.on('error', () => undefined);
  return client;
}
