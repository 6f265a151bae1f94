import type Dockerode from 'dockerode';
import { distance } from 'fastest-levenshtein';
import { findWorkload } from '../core/explain/explain-workload.ts';
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

/**
 * What `explain` is asked about: a workload by name or id prefix, else (with an engine to ask) a
 * Swarm task container of that name; when neither, the closest names.
 */
export async function explainTarget(workloads: readonly Workload[], name: string, docker: Dockerode | undefined): Promise<{ target: Workload } | { target: undefined; closest: string[] }> {
  const match = findWorkload(workloads, name, distance);
  if (match.found !== undefined) return { target: match.found };
  const task = docker === undefined ? undefined : await swarmTaskContainer(docker, name);
  return task === undefined ? { target: undefined, closest: match.closest } : { target: task };
}
