// An etcd a benchmark starts for itself, as the stacks run it (--max-txn-ops=2048, so that a pass
// of appproxy is one transaction: stacks/etcd-cluster.yml), on loopback ports of its own: one home
// for how the benchmarks start it.
import { join } from 'node:path';
import { fetchWithin } from '../../test/support/within.ts';
import { PrivateProcess } from './private-process.ts';

/** etcd's --max-txn-ops and appproxy's --etcd-max-txn-ops, as the stacks set them. */
export const STACK_MAX_TXN_OPS = 2048;

/** Starts etcd in `dir` on `clientPort` and `peerPort` and waits (30 s at most) until it says it is healthy. */
export async function startPrivateEtcd(
  name: string,
  dir: string,
  clientPort: number,
  peerPort: number,
): Promise<{ process: PrivateProcess; endpoint: string }> {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const process = new PrivateProcess('etcd', 'etcd', [
    `--name=${name}`,
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`,
    '--initial-cluster-state=new',
    '--log-level=error',
    `--max-txn-ops=${STACK_MAX_TXN_OPS}`,
    // A run at 50,000 writes and deletes half a million keys a pass: room for its revisions.
    '--quota-backend-bytes=4294967296',
  ]);
  await process.waitReady('etcd healthy', async () => {
    const response = await fetchWithin(`${client}/health`, {}, 2000);
    return ((await response.json()) as { health?: unknown }).health === 'true';
  });
  return { process, endpoint: `127.0.0.1:${clientPort}` };
}
