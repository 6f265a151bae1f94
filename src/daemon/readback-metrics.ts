import type { TraefikReport } from '../core/readback/readback-book.ts';
import type { Metrics } from './metrics.ts';

/** The read-back's state of every Traefik as gauges; a Traefik no longer resolved loses its series. */
export function reportReadback(
  metrics: Metrics,
  reports: readonly TraefikReport[],
  forgotten: readonly string[],
): void {
  for (const traefik of forgotten) {
    for (const gauge of [
      metrics.traefikUp,
      metrics.traefikPending,
      metrics.traefikLag,
      metrics.traefikRefused,
      metrics.traefikStopped,
    ])
      gauge.remove({ traefik });
  }
  // The info series carry the version: rebuilt whole, so that an upgraded Traefik leaves no old one.
  metrics.traefikInfo.reset();
  for (const report of reports) {
    const traefik = report.id;
    if (report.reachable !== undefined) metrics.traefikUp.set({ traefik }, report.reachable ? 1 : 0);
    metrics.traefikPending.set({ traefik }, report.pending.length);
    metrics.traefikLag.set({ traefik }, report.lagMs / 1000);
    metrics.traefikRefused.set({ traefik }, report.refused.length);
    metrics.traefikStopped.set({ traefik }, report.stopped === undefined ? 0 : 1);
    metrics.traefikInfo.set(
      { traefik, version: report.version ?? 'unknown', older: report.olderThanDeclared ? 'true' : 'false' },
      1,
    );
  }
}
