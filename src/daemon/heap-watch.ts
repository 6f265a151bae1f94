/**
 * Whether appproxy's heap has grown near the limit Node gave it. Node sizes V8's heap from the
 * container's memory limit (three quarters of it as the image runs Node: 195 MiB under the stack's
 * 256M; the Dockerfile says why), and a fleet too large for it does not fail at once: every pass
 * slows down collecting garbage, then the process stops with "heap out of memory". Said once when
 * the heap in use after a pass passes `warnRatio` of the limit, and again only after it fell below
 * `clearRatio` (no line per pass while it stays).
 */
export class HeapWatch {
  readonly #warnRatio: number;
  readonly #clearRatio: number;
  #warned = false;

  constructor(warnRatio = 0.75, clearRatio = 0.5) {
    this.#warnRatio = warnRatio;
    this.#clearRatio = clearRatio;
  }

  /** The heap in use and V8's limit, in bytes: what to say now, if anything. */
  observe(used: number, limit: number): { usedMiB: number; limitMiB: number; percent: number } | undefined {
    const ratio = limit > 0 ? used / limit : 0;
    if (ratio < this.#clearRatio) this.#warned = false;
    if (this.#warned || ratio < this.#warnRatio) return undefined;
    this.#warned = true;
    const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
    return { usedMiB: mib(used), limitMiB: mib(limit), percent: Math.round(ratio * 100) };
  }
}
