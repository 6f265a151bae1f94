import { createHash } from 'node:crypto';

/**
 * The list index under which one server is written: digits only (the form Traefik's KV decoder
 * documents for lists), derived from the writer's owner id and the workload, so that writers on
 * several hosts never write the same key and a server keeps its key for its whole life.
 */
export function serverKey(ownerId: string, workloadId: string): string {
  const digest = createHash('sha256').update(ownerId).update('\0').update(workloadId).digest();
  // 15 decimal digits (below 2^53): collisions are negligible for the servers of one service.
  const value = digest.readBigUInt64BE(0) % 1_000_000_000_000_000n;
  return value.toString().padStart(15, '0');
}
