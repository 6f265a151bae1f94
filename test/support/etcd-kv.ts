import type { Etcd3 } from 'etcd3';
import { etcdFromConfig } from '../../src/etcd/etcd-client.ts';
import { pino } from 'pino';
import { EtcdStore } from '../../src/etcd/etcd-store.ts';
import { clearTree as clearTreeThrough } from './tree-writer.ts';

/** A test's etcd call gets no answer for this long only when etcd is down or wedged. */
export const TEST_ETCD_LIMIT_MS = 10_000;

/** A client for test etcds, every unary call under TEST_ETCD_LIMIT_MS. Close it in `after`. */
export function etcdClient(hosts: string | string[]): Etcd3 {
  // The product's own client settings: every unary call under a deadline.
  return etcdFromConfig({ endpoints: [hosts].flat(), timeoutSeconds: TEST_ETCD_LIMIT_MS / 1000 });
}

/** A client for the test etcd. Close it in `after`. */
export function testEtcd(endpoint: string): Etcd3 {
  return etcdClient(`http://${endpoint}`);
}

/** Removes every route (and appproxy's bookkeeping) from the test etcd, leaving Traefik an empty configuration. */
export async function clearTree(client: Etcd3, rootKey: string): Promise<void> {
  await clearTreeThrough(new EtcdStore(client, pino({ level: 'silent' })), rootKey);
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
