/** What an operator does about etcd's NOSPACE alarm (etcd's own maintenance guide). */
export const ETCD_FULL_FIX =
  'free space with `etcdctl compaction <revision>` and `etcdctl defrag`, then `etcdctl alarm disarm`; or raise --quota-backend-bytes';

/**
 * etcd's answer once past its quota: "etcdserver: mvcc: database space exceeded" (gRPC
 * RESOURCE_EXHAUSTED), for puts and lease grants; reads, deletes and keep-alives still go through.
 */
export function isEtcdFull(cause: unknown): boolean {
  return /database space exceeded|NOSPACE/i.test((cause as Error)?.message ?? '');
}
