import { distance } from 'fastest-levenshtein';
import { findWorkload } from '../core/explain/explain-workload.ts';
import type { Workload } from '../core/workload.ts';
import { containerToWorkload } from './container-to-workload.ts';
import type { DockerEngine } from './docker-engine.ts';

/**
 * The container `name` names, when it is a Swarm task container: not a workload of its own (its
 * service is), so listings leave it out, but `explain` must be able to say just that.
 */
async function swarmTaskContainer(engine: DockerEngine, name: string): Promise<Workload | undefined> {
  try {
    const inspect = await engine.inspectContainer(name);
    return inspect?.Config?.Labels?.['com.docker.swarm.service.id'] === undefined
      ? undefined
      : containerToWorkload(inspect);
  } catch {
    return undefined;
  }
}

/**
 * What `explain` is asked about: a workload by name or id prefix, else (with an engine to ask) a
 * Swarm task container of that name; when neither, the closest names.
 */
export async function explainTarget(
  workloads: readonly Workload[],
  name: string,
  engine: DockerEngine | undefined,
): Promise<{ target: Workload } | { target: undefined; closest: string[] }> {
  const match = findWorkload(workloads, name, distance);
  if (match.found !== undefined) return { target: match.found };
  const task = engine === undefined ? undefined : await swarmTaskContainer(engine, name);
  return task === undefined ? { target: undefined, closest: match.closest } : { target: task };
}
