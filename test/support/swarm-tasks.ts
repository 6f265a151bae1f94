import type Dockerode from 'dockerode';
import { firstNode, testEnv } from './env.ts';

/** `http://<address>:<port>` of each running task of a Swarm service on one network, sorted: what Traefik's servers must be. */
export async function runningTaskUrls(
  docker: Dockerode,
  service: string,
  networkId: string,
  port = 80,
): Promise<string[]> {
  const tasks = (await docker.listTasks({ filters: { service: [service], 'desired-state': ['running'] } })) as {
    Status: { State: string };
    NetworksAttachments?: { Network: { ID: string }; Addresses: string[] }[];
  }[];
  return tasks
    .filter((task) => task.Status.State === 'running')
    .flatMap((task) =>
      (task.NetworksAttachments ?? [])
        .filter((attachment) => attachment.Network.ID === networkId)
        .map((attachment) => `http://${attachment.Addresses[0]?.split('/')[0]}:${port}`),
    )
    .sort();
}

/**
 * Makes the first node's engine a one-node Swarm manager unless it already is one; true when this
 * call made it (the caller then leaves it afterwards). Swarm listens and advertises on the node's
 * address inside its own namespace, never on the machine's: the machine's engine may be a Swarm
 * manager on 127.0.0.1:2377 at the same time.
 */
export async function ensureSwarmManager(docker: Dockerode): Promise<boolean> {
  const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
  if (info.Swarm?.LocalNodeState === 'active' && info.Swarm.ControlAvailable === true) return false;
  if (info.Swarm?.LocalNodeState === 'active') {
    throw new Error(
      `the test engine (${firstNode.name}) is a Swarm worker, left so by an earlier run; run \`bash scripts/test-env.sh heal\`, which leaves it`,
    );
  }
  await docker.swarmInit({
    ListenAddr: `${firstNode.address}:2377`,
    AdvertiseAddr: firstNode.address,
    DefaultAddrPool: [testEnv.swarmAddressPool],
    SubnetSize: 24,
  });
  return true;
}
