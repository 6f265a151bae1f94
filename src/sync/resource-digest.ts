import { createHash } from 'node:crypto';

/**
 * A digest of a resource's definition (its fields, servers excluded, keys relative to the root),
 * which each owner writes into its claim, so that owners can see whether they agree on it.
 */
export function resourceDigest(fields: ReadonlyMap<string, string>, rootKey: string): string {
  const hash = createHash('sha256');
  for (const key of [...fields.keys()].sort()) {
    hash
      .update(key.slice(rootKey.length))
      .update('\u0000')
      .update(fields.get(key) ?? '')
      .update('\u0000');
  }
  // 16 bytes as 32 hex digits, a string of its own: a slice of the 64-digit digest would keep the
  // whole of it alive beside it, for each of the tens of thousands of resources kept.
  return hash.digest().toString('hex', 0, 16);
}
