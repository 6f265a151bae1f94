import type { Redis } from 'ioredis';

/**
 * Traefik's Redis provider learns of changes only through keyspace notifications (it subscribes to
 * `__keyspace*:<root>*` and reads the tree again on each): without them it never sees a route
 * change. It sets them itself when it starts, but a Redis restarted without them in its
 * configuration stays silent until Traefik restarts; so appproxy checks at every connection.
 */
export const REQUIRED_EVENTS = 'K$g';

/** Does a notify-keyspace-events value give Traefik what it needs: the keyspace channel, for string writes and deletes? */
export function notifiesTraefik(flags: string): boolean {
  return flags.includes('K') && (flags.includes('A') || (flags.includes('$') && flags.includes('g')));
}

/** undefined when Redis notifies as needed (set here if it did not); else what is wrong and how to fix it. */
export async function ensureKeyspaceNotifications(client: Redis): Promise<string | undefined> {
  const current = ((await client.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
  if (notifiesTraefik(current)) return undefined;
  const wanted = [...new Set(`${current}${REQUIRED_EVENTS}`)].join('');
  try {
    await client.config('SET', 'notify-keyspace-events', wanted);
    return undefined;
  } catch (error) {
    return (
      `Redis has notify-keyspace-events "${current}", so Traefik's Redis provider would never see a change, and setting it ` +
      `failed (${(error as Error).message}): set notify-keyspace-events ${REQUIRED_EVENTS} (or KEA) in the Redis configuration`
    );
  }
}
