import type { Redis } from 'ioredis';
import { STORE_PREFIX } from './redis-scripts.ts';

/**
 * Traefik's Redis provider learns of changes only through keyspace notifications (it subscribes to
 * `__keyspace*:<root>*` and reads the tree again on each): without them it never sees a route
 * change. It sets them itself when it starts, but a Redis restarted without them in its
 * configuration stays silent until Traefik restarts; so appproxy checks at every connection.
 */
const REQUIRED_EVENTS = 'K$g';
const PROBE_KEY = `${STORE_PREFIX}notify-probe`;
const PROBE_LIMIT_MS = 2000;
const PROBE_ATTEMPTS = 3;

/**
 * Does a notify-keyspace-events value give Traefik what it needs: the keyspace channel, for string writes and deletes?
 */
export function notifiesTraefik(flags: string): boolean {
  return flags.includes('K') && (flags.includes('A') || (flags.includes('$') && flags.includes('g')));
}

/** Sets the notifications when CONFIG is allowed and they are off; says what happened. */
async function configure(client: Redis): Promise<string> {
  let current: string;
  try {
    current = ((await client.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
  } catch (error) {
    // Managed Redis services often refuse CONFIG: the probe below decides.
    return `CONFIG GET failed: ${(error as Error).message}`;
  }
  if (notifiesTraefik(current)) return `notify-keyspace-events is "${current}"`;
  const wanted = [...new Set(`${current}${REQUIRED_EVENTS}`)].join('');
  try {
    await client.config('SET', 'notify-keyspace-events', wanted);
    return `notify-keyspace-events was "${current}", set to "${wanted}"`;
  } catch (error) {
    return `notify-keyspace-events is "${current}" and CONFIG SET failed: ${(error as Error).message}`;
  }
}

/**
 * Writes and deletes a key and waits (briefly) for both keyspace notifications, as Traefik's
 * provider would get them: a `set` and a `del` (K$ alone would pass a write-only probe, and Traefik
 * would never hear a route go).
 */
async function probe(client: Redis): Promise<boolean> {
  const listener = client.duplicate({ lazyConnect: true, retryStrategy: () => null });
  listener.on('error', () => undefined);
  try {
    await listener.connect();
    const db = client.options.db ?? 0;
    const seen = new Set<string>();
    const heard = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), PROBE_LIMIT_MS);
      listener.on('pmessage', (_pattern: string, _channel: string, event: string) => {
        seen.add(event);
        if (seen.has('set') && seen.has('del')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    await listener.psubscribe(`__keyspace@${db}__:${PROBE_KEY}`);
    await client.set(PROBE_KEY, String(Date.now()));
    await client.del(PROBE_KEY);
    return await heard;
  } finally {
    listener.disconnect();
  }
}

/**
 * undefined when Redis notifies as Traefik needs (set here when it did not and CONFIG allowed it); else what is wrong
 * and the fix.
 */
export async function ensureKeyspaceNotifications(client: Redis): Promise<string | undefined> {
  const configured = await configure(client);
  // A few tries: a Redis busy just after a restart (every instance reloading) may be slow to send.
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt += 1) {
    if (await probe(client)) return undefined;
  }
  return (
    `Redis sends no keyspace notifications (${configured}), so Traefik's Redis provider would never see a change: ` +
    `set notify-keyspace-events ${REQUIRED_EVENTS} (or KEA) in the Redis configuration`
  );
}
