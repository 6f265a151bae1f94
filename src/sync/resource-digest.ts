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
  return hash.digest('hex').slice(0, 32);
}
