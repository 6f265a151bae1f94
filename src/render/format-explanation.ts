import type { Explanation } from '../core/explain/explain-workload.ts';
import { livenessLines, type ResourceLiveness } from '../core/readback/liveness-summary.ts';

/** What only a running daemon knows about a workload's keys (GET /explain/<name>). */
export interface DaemonFacts {
  readonly owner: string;
  readonly lease: string | undefined;
  /** Resources of this workload that another owner defines differently. */
  readonly ownerConflicts: readonly { readonly resource: string; readonly owners: readonly string[] }[];
  /** The last transaction that touched one of its keys. */
  readonly lastTransaction: { readonly revision: string; readonly at: string; readonly operations: number } | undefined;
  /** Where each of its routed resources is live, read in every Traefik (with --traefik-api-urls). */
  readonly traefiks?: readonly ResourceLiveness[] | undefined;
}

/** The explanation as text, one fact a line, in the order appproxy decided. Deterministic. */
export function formatExplanation(explanation: Explanation, daemon?: DaemonFacts): string {
  const { workload } = explanation;
  const partly = !explanation.routed && explanation.resources.some((resource) => resource.status !== 'left out');
  const lines = [
    `${workload.kind} ${workload.name} (${workload.id.slice(0, 12)})`,
    `routed: ${explanation.routed ? 'yes' : partly ? 'partly' : 'no'}`,
  ];
  if (explanation.reasons.length > 0) {
    lines.push('why not:');
    explanation.reasons.forEach((reason, index) => lines.push(`  ${index + 1}. ${reason}`));
  }
  if (explanation.warnings.length > 0) {
    lines.push('warnings:');
    for (const warning of explanation.warnings) lines.push(`  ${warning}`);
  }
  if (explanation.addresses.length > 0) {
    lines.push('addresses:');
    for (const address of explanation.addresses) lines.push(`  ${address}`);
  }
  if (explanation.labels.length > 0) {
    lines.push('labels:');
    for (const label of explanation.labels)
      lines.push(
        `  ${label.fate.padEnd(7)} ${label.label}=${label.value.length > 80 ? `${label.value.slice(0, 77)}...` : label.value}`,
        `          ${label.detail}`,
      );
  }
  if (explanation.resources.length > 0) {
    lines.push('resources:');
    for (const resource of explanation.resources)
      lines.push(
        `  ${resource.resource}: ${resource.status}${resource.status === 'routed' ? '' : `: ${resource.detail}`}`,
      );
  }
  if (daemon !== undefined) {
    lines.push(`owner: ${daemon.owner}, lease ${daemon.lease ?? '(none yet)'}`);
    for (const conflict of daemon.ownerConflicts)
      lines.push(
        `  conflict: ${conflict.resource} is defined differently by owner ${conflict.owners.join(', ')}: left as it is`,
      );
    lines.push(
      daemon.lastTransaction === undefined
        ? 'last transaction touching its keys: none since this instance started'
        : `last transaction touching its keys: revision ${daemon.lastTransaction.revision} at ${daemon.lastTransaction.at} (${daemon.lastTransaction.operations} operations)`,
    );
    if (daemon.traefiks !== undefined) {
      lines.push(daemon.traefiks.length > 0 ? 'in Traefik:' : 'in Traefik: nothing of it to read back');
      for (const liveness of daemon.traefiks) lines.push(...livenessLines(liveness));
    }
  }
  lines.push(explanation.keys.length > 0 ? 'keys:' : 'keys: none');
  for (const key of explanation.keys) lines.push(`  ${key}`);
  return `${lines.join('\n')}\n`;
}
