import { prefixMatch } from '../labels/workload-labels.ts';
import type { Workload } from '../workload.ts';
import type { BuildProblem } from './build-problem.ts';

/**
 * A Swarm service with labels under the prefix on its containers instead of the service, a common
 * slip in stack files (`labels:` beside `deploy:` instead of inside it). Traefik's Swarm provider
 * reads only service labels, and so does appproxy, which also hides task containers from the
 * container view (their service is what is routed): without this warning nothing would say why.
 */
export function misplacedSwarmLabels(workload: Workload, prefix: string): BuildProblem | undefined {
  if (workload.kind !== 'swarm-service') return undefined;
  const misplaced = Object.keys(workload.containerLabels ?? {})
    .filter((label) => prefixMatch(label, prefix) !== undefined)
    .sort();
  if (misplaced.length === 0) return undefined;
  const shown =
    misplaced.length > 3
      ? `${misplaced.slice(0, 3).join(', ')} and ${misplaced.length - 3} more`
      : misplaced.join(', ');
  return {
    severity: 'warning',
    workload: workload.name,
    label: misplaced[0],
    message: `Swarm service "${workload.name}" has ${shown} on its containers, which are not read (a service is routed by its service labels): move them to deploy.labels in the stack file, or use --label instead of --container-label`,
  };
}
