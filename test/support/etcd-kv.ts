import type { Etcd3 } from 'etcd3';
import { etcdFromConfig } from '../../src/etcd/etcd-client.ts';
import { PLACEHOLDER_RESOURCE } from '../../src/sync/key-layout.ts';

/** A test's etcd call gets no answer for this long only when etcd is down or wedged. */
export const TEST_ETCD_LIMIT_MS = 10_000;

/** A client for test etcds, every unary call under TEST_ETCD_LIMIT_MS. Close it in `after`. */
export function etcdClient(hosts: string | string[]): Etcd3 {
  // The product's own client settings: every unary call under a deadline.
  return etcdFromConfig({ endpoints: [hosts].flat(), leaseSeconds: 15, timeoutSeconds: TEST_ETCD_LIMIT_MS / 1000 });
}

/** A client for the test etcd. Close it in `after`. */
export function testEtcd(endpoint: string): Etcd3 {
  return etcdClient(`http://${endpoint}`);
}

async function applyInChunks(client: Etcd3, operations: { key: string; value?: string }[]): Promise<void> {
  // etcd's default limit is 128 operations a transaction.
  for (let start = 0; start < operations.length; start += 100) {
    const ops = operations.slice(start, start + 100).map(({ key, value }) => (value === undefined ? client.delete().key(key) : client.put(key).value(value)));
    await client.if('appproxy-test/none', 'Version', '==', 0).then(...ops).commit();
  }
}

/**
 * Makes the tree under `rootKey/` hold exactly `pairs` (test-only: the daemon plans the smallest
 * guarded change instead). An empty `pairs` leaves the placeholder, as the daemon does, so that
 * Traefik drops the old routes instead of keeping them.
 */
export async function replaceTree(client: Etcd3, rootKey: string, pairs: ReadonlyMap<string, string>): Promise<void> {
  const wanted = new Map(pairs);
  if (wanted.size === 0) wanted.set(`${rootKey}/${PLACEHOLDER_RESOURCE}/loadBalancer/passHostHeader`, 'true');
  const existing = await client.getAll().prefix(`${rootKey}/`).keys();
  await applyInChunks(client, [
    ...[...wanted].map(([key, value]) => ({ key, value })),
    ...existing.filter((key) => !wanted.has(key)).map((key) => ({ key })),
  ]);
}

/** Removes every route (and appproxy's bookkeeping), leaving Traefik an empty configuration. */
export async function clearTree(client: Etcd3, rootKey: string): Promise<void> {
  await replaceTree(client, rootKey, new Map());
  await client.delete().prefix('appproxy/');
}

/** Parses `render --format kv` output. */
export function parseKv(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const index = line.indexOf('=');
    pairs.set(line.slice(0, index), line.slice(index + 1));
  }
  return pairs;
}
