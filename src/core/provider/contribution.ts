import type { NamedConfiguration } from './merge-configurations.ts';
import type { ServerOrigin } from './workload-configuration.ts';

/** What one routed container, task, service VIP (or app) contributes to the merge. */
export interface Contribution extends NamedConfiguration {
  /** Where each of its servers came from (for stable server keys). */
  readonly servers: readonly ServerOrigin[];
}

/** Servers in the order of their contributions' origins: the first workload with a given target names its key. */
export function serversInMergeOrder(contributions: readonly Contribution[]): ServerOrigin[] {
  return [...contributions]
    .sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0))
    .flatMap((contribution) => contribution.servers);
}
