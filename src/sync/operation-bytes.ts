import type { Operation } from './kv-store.ts';

/** Bytes of an operation's key and value, as a store's request limits count them. */
export function operationBytes(operation: Operation): number {
  return Buffer.byteLength(operation.key) + (operation.type === 'put' ? Buffer.byteLength(operation.value) : 0);
}
