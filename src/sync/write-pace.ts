/** The applies remembered per Traefik: its usual apply is their median. */
const SAMPLES = 5;
/** An apply measured longer ago than this says nothing of the tree as it is now. */
const SAMPLE_LIFE_MS = 10 * 60_000;

/**
 * Paces the writes to the speed at which the slowest Traefik applies them.
 *
 * Traefik's KV providers read the whole tree again on every watch event and then apply all of it;
 * at 10,000 routes that takes seconds. A commit that lands while a Traefik still applies the one
 * before costs it one more full read and apply, so under churn faster than one change per apply
 * every Traefik falls ever further behind and burns its CPU on reads that are stale when they end.
 * Held back instead, the changes of that time go out together as the next pass, and each Traefik
 * reads about once per apply.
 *
 * The closed loop says how long an apply takes: a write after a commit waits until the read-back
 * saw that commit live in every reachable Traefik, or for as long as a commit took to go live in
 * the slowest of them lately (whichever comes first), never longer than `maxHoldMs`. The first
 * change after a quiet spell is not held, nor is anything before an apply was measured (a daemon
 * without read-back never holds).
 */
export class WritePace {
  readonly #maxHoldMs: number;
  readonly #now: () => number;
  readonly #applies = new Map<string, { at: number; ms: number }[]>();
  #lastCommitAt = Number.NEGATIVE_INFINITY;
  /** The last commit is not yet seen live everywhere. */
  #awaiting = false;

  constructor(options: { maxHoldMs: number; now?: () => number }) {
    this.#maxHoldMs = options.maxHoldMs;
    this.#now = options.now ?? performance.now.bind(performance);
  }

  /** A transaction committed now. */
  committed(): void {
    this.#lastCommitAt = this.#now();
    this.#awaiting = true;
  }

  /** A commit went live in `traefik` this long after it (the read-back's measure). */
  applied(traefik: string, ms: number): void {
    const list = this.#applies.get(traefik) ?? [];
    list.push({ at: this.#now(), ms });
    if (list.length > SAMPLES) list.shift();
    this.#applies.set(traefik, list);
  }

  /** Every reachable Traefik shows every commit: nothing is being applied. */
  settled(): void {
    this.#awaiting = false;
  }

  /** An instance no longer read back (gone from the name's addresses). */
  forget(traefik: string): void {
    this.#applies.delete(traefik);
  }

  /**
   * After a read-back round: forgets the instances gone, and says whether every reachable Traefik
   * shows every commit (then nothing is being applied, and a held pass may go).
   */
  round(
    reports: readonly { readonly reachable: boolean | undefined; readonly pending: readonly unknown[] }[],
    forgotten: readonly string[],
  ): boolean {
    for (const traefik of forgotten) this.forget(traefik);
    const settled = reports.every((report) => report.reachable === false || report.pending.length === 0);
    if (settled) this.settled();
    return settled;
  }

  /** How long a commit lately took to go live in the slowest Traefik (0: none measured), up to the limit. */
  applyMs(): number {
    const oldest = this.#now() - SAMPLE_LIFE_MS;
    let slowest = 0;
    for (const list of this.#applies.values()) {
      const recent = list
        .filter((sample) => sample.at >= oldest)
        .map((sample) => sample.ms)
        .sort((a, b) => a - b);
      if (recent.length > 0) slowest = Math.max(slowest, recent[Math.floor((recent.length - 1) / 2)] ?? 0);
    }
    return Math.min(slowest, this.#maxHoldMs);
  }

  /** How long from now the next write waits (0: it may go now). */
  waitMs(): number {
    if (!this.#awaiting || this.#maxHoldMs <= 0) return 0;
    return Math.max(0, this.#lastCommitAt + this.applyMs() - this.#now());
  }
}
