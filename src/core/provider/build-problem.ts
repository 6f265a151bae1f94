import type { LimitName } from '../limits.ts';
import type { MergeConflict } from './merge-configurations.ts';

/** Something about one workload that the user should fix; `error` means part of it is not routed. */
export interface BuildProblem {
  readonly severity: 'error' | 'warning';
  readonly workload: string;
  readonly label?: string | undefined;
  readonly message: string;
  /** Set when a limit (not a mistake in a label) left the workload out, for the refusal metric. */
  readonly limit?: LimitName | undefined;
}

/** The error a merge conflict is reported as, to each workload involved. */
export function conflictProblems(conflict: MergeConflict): BuildProblem[] {
  const message =
    conflict.reason === 'case'
      ? `${conflict.kind} "${conflict.name}" differ only in case, and Traefik's KV providers (etcd, Redis) read keys without regard to case: all are left out; rename one`
      : `${conflict.kind} "${conflict.name}" is defined differently by ${conflict.workloads.join(', ')}: it is left out (as Traefik does); make the definitions equal or rename one`;
  return [...new Set(conflict.workloads)].map((workload) => ({ severity: 'error', workload, message }));
}
