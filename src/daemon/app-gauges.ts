import type { AppRecord } from '../core/apps/app-record.ts';
import type { Metrics } from './metrics.ts';

/** Why an app may be refused a port: every one is shown, at 0 when none, so that an alert can compare with it. */
const ALLOCATION_ERRORS = [
  'exhausted',
  'taken',
  'outside-range',
  'conflicting-requests',
  'served-elsewhere',
  'not-recorded',
];

/** The apps' gauges, from the records of the pass (apps gone leave their series). */
export function reportAppGauges(
  metrics: Metrics,
  records: readonly AppRecord[],
  allocationErrors: readonly ReadonlyMap<string, number>[],
): void {
  const m = metrics;
  m.appLastActivity.reset();
  m.appOpenConnections.reset();
  m.appIdle.reset();
  for (const record of records) {
    if (record.lastActivity !== null)
      m.appLastActivity.set({ app: record.identity }, Date.parse(record.lastActivity) / 1000);
    if (record.openConnections !== null) m.appOpenConnections.set({ app: record.identity }, record.openConnections);
    if (record.idle !== null) m.appIdle.set({ app: record.identity }, record.idle ? 1 : 0);
  }
  m.apps.set({ state: 'served' }, records.filter((record) => record.error === null).length);
  m.apps.set({ state: 'left-out' }, records.filter((record) => record.error !== null).length);
  m.appAllocationErrors.reset();
  for (const reason of ALLOCATION_ERRORS) m.appAllocationErrors.set({ reason }, 0);
  for (const errors of allocationErrors)
    for (const [reason, count] of errors) m.appAllocationErrors.inc({ reason }, count);
}
