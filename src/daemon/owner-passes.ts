import { LeadershipLostError, StoreFullError, StoreUnavailableError } from '../sync/kv-store.ts';
import { SourceUnavailableError } from '../sync/reconciler.ts';
import type { SyncEngine, SyncOutcome } from '../sync/sync-engine.ts';
import type { Metrics } from './metrics.ts';
import type { OwnerRole } from './owner-role.ts';
import type { Readiness } from './readiness.ts';

export interface OwnerPassesOptions {
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly storeName: string;
  /** A fenced write of `role` said another instance leads the Swarm writers now: this one steps down. */
  readonly onLeadershipLost: (role: Pick<OwnerRole, 'pass' | 'engine'>) => Promise<void>;
  /** Each role's pass as it ended: its error, or undefined. */
  readonly onPassed?: (role: Pick<OwnerRole, 'pass' | 'engine'>, error: unknown) => void;
}

/**
 * One pass of each owner this instance writes for; one failing does not hold the other back. Says
 * what the pass showed of Docker and the store (readiness, error counts) and rejects with the
 * first failure, so that the scheduler retries; gives what each completed pass did.
 */
export async function passOwners(
  roles: readonly Pick<OwnerRole, 'pass' | 'engine'>[],
  options: OwnerPassesOptions,
): Promise<{ outcome: SyncOutcome; engine: SyncEngine }[]> {
  const { metrics, readiness, storeName } = options;
  const timer = metrics.reconcileSeconds.startTimer();
  const done = [];
  let failure: unknown;
  try {
    for (const role of roles) {
      try {
        const outcome = await role.pass();
        options.onPassed?.(role, undefined);
        if (outcome !== undefined && role.engine !== undefined) done.push({ outcome, engine: role.engine });
        // Whatever the pass read, Docker answered it.
        if (outcome !== undefined && outcome.read !== 'nothing') readiness.dockerListing(true);
      } catch (error) {
        options.onPassed?.(role, error);
        if (error instanceof LeadershipLostError) {
          await options.onLeadershipLost(role);
          continue;
        }
        const kind =
          error instanceof SourceUnavailableError
            ? 'docker'
            : error instanceof StoreUnavailableError
              ? storeName
              : 'other';
        if (kind === 'docker') readiness.dockerListing(false);
        // A full store answers, and keeps what is routed: not unreachable, but full.
        if (error instanceof StoreFullError) readiness.storeFull(error);
        else if (error instanceof StoreUnavailableError) readiness.storeAnswers(false);
        metrics.errors.inc({ kind });
        failure ??= error;
      }
    }
  } finally {
    timer();
  }
  if (failure !== undefined) throw failure;
  readiness.storeWrote();
  return done;
}
