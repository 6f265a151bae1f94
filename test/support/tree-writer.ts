import { PLACEHOLDER_RESOURCE } from '../../src/sync/key-layout.ts';
import type { KvStore, Operation } from '../../src/sync/kv-store.ts';

/** etcd refuses more than 128 operations a transaction; the same chunks serve Redis. */
const CHUNK = 100;

async function applyAll(kv: KvStore, operations: readonly Operation[]): Promise<void> {
  for (let start = 0; start < operations.length; start += CHUNK) {
    const result = await kv.apply({ operations: operations.slice(start, start + CHUNK), guards: [] }, '0');
    if (!result.applied) throw new Error('test store: an unguarded transaction was not applied');
  }
}

/** Keys and values under a prefix, through the product's port. */
export async function readPrefix(kv: KvStore, prefix: string): Promise<Map<string, string>> {
  return new Map((await kv.load([{ key: prefix, prefix: true }])).entries.map((entry) => [entry.key, entry.value]));
}

/**
 * Makes the tree under `rootKey/` hold exactly `pairs` (test-only: the daemon plans the smallest
 * guarded change instead). An empty `pairs` leaves the placeholder, as the daemon does, so that
 * Traefik drops the old routes instead of keeping them.
 */
export async function replaceTree(kv: KvStore, rootKey: string, pairs: ReadonlyMap<string, string>): Promise<void> {
  const wanted = new Map(pairs);
  if (wanted.size === 0) wanted.set(`${rootKey}/${PLACEHOLDER_RESOURCE}/loadBalancer/passHostHeader`, 'true');
  const existing = await readPrefix(kv, `${rootKey}/`);
  await applyAll(kv, [
    ...[...wanted].map(([key, value]): Operation => ({ type: 'put', key, value, leased: false })),
    ...[...existing.keys()].filter((key) => !wanted.has(key)).map((key): Operation => ({ type: 'delete', key })),
  ]);
}

/** Removes every route and appproxy's bookkeeping, leaving Traefik an empty configuration. */
export async function clearTree(kv: KvStore, rootKey: string): Promise<void> {
  await replaceTree(kv, rootKey, new Map());
  await applyAll(
    kv,
    [...(await readPrefix(kv, 'appproxy/')).keys()].map((key): Operation => ({ type: 'delete', key })),
  );
}
