import { Etcd3 } from 'etcd3';

/** A client for the test etcd. Close it in `after`. */
export function testEtcd(endpoint: string): Etcd3 {
  return new Etcd3({ hosts: `http://${endpoint}`, dialTimeout: 3000 });
}

/**
 * Replaces everything under `rootKey/` with `pairs`: one delete, then puts in transactions of at
 * most 100 operations (etcd's default limit is 128 a transaction). Test-only: the daemon computes
 * the smallest change instead.
 */
export async function replaceTree(client: Etcd3, rootKey: string, pairs: ReadonlyMap<string, string>): Promise<void> {
  await client.delete().prefix(`${rootKey}/`);
  const entries = [...pairs];
  for (let start = 0; start < entries.length; start += 100) {
    const ops = entries.slice(start, start + 100).map(([key, value]) => client.put(key).value(value));
    // etcd3's `if().then()` runs the puts as one transaction.
    await client.if('appproxy-test/none', 'Version', '==', 0).then(...ops).commit();
  }
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
