import type { TraefikReport } from '../core/readback/readback-book.ts';
import type { TraefikListing } from '../render/traefik-listing.ts';

/** At most this many awaited resources are listed per Traefik (the count is always whole). */
const LISTED = 20;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * GET /traefiks: every Traefik read back, with its version, whether it is current, its lag, and what it lacks or
 * refused.
 */
export function traefiksListing(reports: readonly TraefikReport[]): { traefiks: TraefikListing[] } {
  return {
    traefiks: reports.map((report) => ({
      traefik: report.id,
      source: report.source,
      version: report.version ?? null,
      olderThanDeclared: report.olderThanDeclared,
      reachable: report.reachable ?? null,
      unreachableSince: report.unreachableSince === undefined ? null : iso(report.unreachableSince),
      lastError: report.lastError ?? null,
      current: report.current,
      lagSeconds: Math.round(report.lagMs / 100) / 10,
      pending: report.pending.length,
      oldestPending: report.pending.slice(0, LISTED).map((entry) => ({
        resource: entry.resource,
        committedAt: iso(entry.committedAt),
        revision: entry.revision,
        ...(entry.why === undefined ? {} : { shows: entry.why }),
      })),
      refused: report.refused.map((entry) => ({
        resource: entry.resource,
        error: entry.error,
        since: iso(entry.since),
      })),
      stopped:
        report.stopped === undefined ? null : { since: iso(report.stopped.since), likelyCause: report.stopped.cause },
    })),
  };
}
