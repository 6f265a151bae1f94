import type { Logger } from 'pino';
import type { DaemonConfig } from '../config/settings.ts';
import { retryForever } from '../retry/retry-forever.ts';
import { StoreFullError } from '../sync/kv-store.ts';
import { credentialProblem } from './credential-problem.ts';
import type { Metrics } from './metrics.ts';
import { OwnerHeldError } from './owner-guard.ts';
import { OwnerClaimRaceError, type OwnerRole } from './owner-role.ts';
import type { Readiness } from './readiness.ts';

export interface ConnectOwnerOptions {
  readonly role: OwnerRole;
  readonly config: DaemonConfig;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Called once when retrying cannot help (the store refused the credentials, the owner id is held). */
  readonly onFatal?: ((message: string) => void) | undefined;
}

/**
 * Connects an owner, retrying with backoff until the store answers. True once connected; false
 * when stopped, or when retrying cannot help (then said once, in words that tell the fix).
 */
export async function connectOwner(options: ConnectOwnerOptions): Promise<boolean> {
  const { role, config, readiness, metrics, logger, signal } = options;
  const fatal = (error: unknown) =>
    error instanceof OwnerHeldError ? error.message : credentialProblem(error, config);
  try {
    await retryForever(() => role.connect(), {
      minMs: 200,
      signal,
      isFatal: (error) => fatal(error) !== undefined,
      onFailure: (error, retryInMs) => {
        // Two instances claimed the id at one moment: the next attempt asks whoever won.
        if (error instanceof OwnerClaimRaceError) {
          logger.warn({ retryInMs }, error.message);
          return;
        }
        metrics.errors.inc({ kind: config.store });
        // A full store answers: it refuses the lease or the owner record, which wait for space.
        if (error instanceof StoreFullError) {
          readiness.storeAnswers(true);
          readiness.storeFull(error);
          return;
        }
        readiness.storeAnswers(false);
        logger.warn({ err: error, retryInMs, store: config.store }, 'the store is not reachable yet');
      },
    });
  } catch (error) {
    if (signal.aborted) return false;
    const message = fatal(error) ?? String(error);
    logger.fatal(message);
    options.onFatal?.(message);
    return false;
  }
  readiness.storeWrote();
  logger.info(
    { owner: config.owner, store: config.store, lease: role.leaseId(), ttlSeconds: config.leaseSeconds },
    'store connected, lease granted',
  );
  return true;
}
