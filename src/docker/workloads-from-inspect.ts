import { containerToWorkload } from './container-to-workload.ts';
import type { ContainerInspect } from './inspect-types.ts';
import type { Workload } from '../core/workload.ts';

/**
 * Workloads from the JSON array `docker inspect <container>...` prints. Containers that share
 * another's network stack (`container:<id>`) are resolved within the same array, by id, id
 * prefix or name.
 */
export function workloadsFromInspect(text: string, source: string): Workload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${source}: not JSON (${(error as Error).message}); give the output of "docker inspect <containers>"`,
      { cause: error },
    );
  }
  if (!Array.isArray(parsed))
    throw new Error(`${source}: expected a JSON array, as "docker inspect <containers>" prints`);
  const containers = parsed as ContainerInspect[];
  containers.forEach((container, index) => {
    if (typeof container !== 'object' || container === null || typeof container.Id !== 'string') {
      throw new Error(`${source}: item ${index} has no "Id": is this the output of "docker inspect" for containers?`);
    }
  });
  const lookup = (idOrName: string): ContainerInspect | undefined =>
    containers.find(
      (container) => container.Id.startsWith(idOrName) || (container.Name ?? '').replace(/^\//, '') === idOrName,
    );
  return containers.map((container) => containerToWorkload(container, lookup));
}
