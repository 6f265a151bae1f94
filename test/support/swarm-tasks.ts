import type Dockerode from 'dockerode';

/** `http://<address>:<port>` of each running task of a Swarm service on one network, sorted: what Traefik's servers must be. */
export async function runningTaskUrls(docker: Dockerode, service: string, networkId: string, port = 80): Promise<string[]> {
  const tasks = (await docker.listTasks({ filters: { service: [service], 'desired-state': ['running'] } })) as {
    Status: { State: string };
    NetworksAttachments?: { Network: { ID: string }; Addresses: string[] }[];
  }[];
  return tasks
    .filter((task) => task.Status.State === 'running')
    .flatMap((task) => (task.NetworksAttachments ?? []).filter((attachment) => attachment.Network.ID === networkId).map((attachment) => `http://${attachment.Addresses[0]?.split('/')[0]}:${port}`))
    .sort();
}
