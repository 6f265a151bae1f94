import type Dockerode from 'dockerode';
import type { Workload } from '../core/workload.ts';
import { containerToWorkload } from './container-to-workload.ts';
import type { ContainerInspect } from './inspect-types.ts';

/**
 * The container `name` names, when it is a Swarm task container: not a workload of its own (its
 * service is), so listings leave it out, but `explain` must be able to say just that.
 */
export async function swarmTaskContainer(docker: Dockerode, name: string): Promise<Workload | undefined> {
  try {
    const inspect = (await docker.getContainer(name).inspect()) as ContainerInspect;
    return inspect.Config?.Labels?.['com.docker.swarm.service.id'] === undefined ? undefined : containerToWorkload(inspect);
  } catch {
    return undefined;
  }
}
