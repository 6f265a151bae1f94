// How far behind a reader fell during a run of changes, and whether it kept falling: from each
// change's commit time and the time the reader first showed it (undefined: never, within the wait).

export interface LaggedChange {
  /** ms since the run began. */
  readonly committedAt: number;
  /** ms since the run began; undefined when it was never seen. */
  readonly seenAt?: number | undefined;
}

export interface LagTrend {
  readonly changes: number;
  readonly seen: number;
  /** Lags (ms) of the first, middle and last change; null when that one was never seen. */
  readonly first: number | null;
  readonly middle: number | null;
  readonly last: number | null;
  readonly max: number | null;
  /** Median lag of the first and the last tenth of the changes (at least one change each). */
  readonly firstTenthMedian: number | null;
  readonly lastTenthMedian: number | null;
  /** Least-squares slope of lag against commit time: ms of lag gained per second of the run. */
  readonly slopeMsPerSecond: number | null;
  /**
   * The lag grew through the run: the last tenth's median exceeds the first's by more than half the
   * first's and by more than `resolutionMs` (the reader's own step, below which a difference means
   * nothing), or a change of the last tenth was never seen. A lag that climbs and then levels off
   * (a reader that coalesces what queued up) still counts: the plateau is higher than the start.
   */
  readonly grows: boolean;
}

const median = (values: readonly number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
};

const lagOf = (change: LaggedChange | undefined): number | null =>
  change?.seenAt === undefined ? null : change.seenAt - change.committedAt;

export function lagTrend(changes: readonly LaggedChange[], resolutionMs: number): LagTrend {
  const lags = changes.map(lagOf);
  const seenLags = lags.filter((lag): lag is number => lag !== null);
  const tenth = Math.max(1, Math.floor(changes.length / 10));
  const head = lags.slice(0, tenth);
  const tail = lags.slice(-tenth);
  const firstTenthMedian = median(head.filter((lag): lag is number => lag !== null));
  const lastTenthMedian = median(tail.filter((lag): lag is number => lag !== null));
  const points = changes.flatMap((change) =>
    change.seenAt === undefined ? [] : [{ x: change.committedAt / 1000, y: change.seenAt - change.committedAt }],
  );
  let slope: number | null = null;
  if (points.length >= 2) {
    const mx = points.reduce((sum, p) => sum + p.x, 0) / points.length;
    const my = points.reduce((sum, p) => sum + p.y, 0) / points.length;
    const sxx = points.reduce((sum, p) => sum + (p.x - mx) ** 2, 0);
    const sxy = points.reduce((sum, p) => sum + (p.x - mx) * (p.y - my), 0);
    slope = sxx === 0 ? null : sxy / sxx;
  }
  const grows =
    tail.some((lag) => lag === null) ||
    (firstTenthMedian !== null &&
      lastTenthMedian !== null &&
      lastTenthMedian - firstTenthMedian > Math.max(firstTenthMedian / 2, resolutionMs));
  return {
    changes: changes.length,
    seen: seenLags.length,
    first: lags[0] ?? null,
    middle: lags[Math.floor((lags.length - 1) / 2)] ?? null,
    last: lags.at(-1) ?? null,
    max: seenLags.length === 0 ? null : Math.max(...seenLags),
    firstTenthMedian,
    lastTenthMedian,
    slopeMsPerSecond: slope,
    grows,
  };
}
