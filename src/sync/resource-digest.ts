import { hash } from 'node:crypto';

/**
 * A digest of a resource's definition (its fields, servers excluded, keys relative to the root),
 * which each owner writes into its claim, so that owners can see whether they agree on it. Its
 * form is shared by every version of appproxy writing the same store (a rolling upgrade runs two):
 * SHA-256 over each field, sorted by key, as `key\0value\0`, the first 16 bytes in hex
 * (test/unit/resource-digest.test.ts pins it).
 */
export function resourceDigest(fields: ReadonlyMap<string, string>, rootKey: string): string {
  let text = '';
  for (const key of [...fields.keys()].sort())
    text += `${key.slice(rootKey.length)}\u0000${fields.get(key) ?? ''}\u0000`;
  // One call into the hash (an update per part cost more than the hashing), and 16 bytes as 32 hex
  // digits, a string of its own: a slice of the 64-digit digest would keep the whole of it alive
  // beside it, for each of the tens of thousands of resources kept.
  return hash('sha256', text, 'buffer').toString('hex', 0, 16);
}
