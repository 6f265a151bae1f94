import type { Logger } from 'pino';
import { ReadbackBook, type TraefikReport } from '../core/readback/readback-book.ts';
import {
  apiPath,
  judge,
  readableResource,
  viewFromApi,
  type Judgement,
  type StoredResource,
} from '../core/readback/traefik-view.ts';
import type { InstanceReading } from '../core/readback/liveness-summary.ts';
import { resolveAll, resolveEndpoints, type ResolveAll } from './traefik-endpoints.ts';

/** One GET of Traefik's API: the status and the parsed JSON body (undefined when none). */
export type GetJson = (url: string, limitMs: number) => Promise<{ status: number; body: unknown }>;

const getJson: GetJson = async (url, limitMs) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(limitMs) });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
};

export interface TraefikReadbackOptions {
  /** Traefik's API URLs (--traefik-api-urls); a name is every address it resolves to. */
  readonly urls: readonly string[];
  /** The provider name Traefik gives what it reads from this store: `etcd` or `redis`. */
  readonly provider: string;
  readonly book: ReadbackBook;
  /** What the store holds of a resource now; undefined while the daemon has no mirror yet. */
  readonly stored: (resource: string) => StoredResource | undefined;
  readonly logger: Logger;
  /** A resource became live in an instance, this long after its commit. */
  readonly onLive?: (traefik: string, seconds: number) => void;
  /** After each round: the state of every instance (for the metrics), and the ids forgotten. */
  readonly onRound?: (reports: readonly TraefikReport[], forgotten: readonly string[]) => void;
  /** Limit of one read of Traefik's API or of one name resolution. */
  readonly requestLimitMs?: number;
  /** Rounds while nothing is awaited: versions and reachability. */
  readonly heartbeatMs?: number;
  readonly getJson?: GetJson;
  readonly resolve?: ResolveAll;
  readonly now?: () => number;
}

/**
 * A burst of commits is read back once: the first round starts this long after the first commit
 * (a pass's transactions commit within milliseconds of each other).
 */
const COALESCE_MS = 10;
/**
 * Rounds while something is awaited start this soon after the last one, growing by half up to the
 * slowest: fine steps while Traefik usually applies (tens to hundreds of ms), so that the time to
 * live is measured to within a step, and few reads of an instance that is far behind (one a round).
 */
const FASTEST_MS = 25;
const GROWTH = 1.5;
const SLOWEST_MS = 2_000;
/** Reads in flight in one instance, and at most this many reads there in one round. */
const IN_FLIGHT = 8;
const READS_A_ROUND = 256;
/** A change missing for longer than this no longer stops a round's reads of the later ones. */
const STUCK_MS = 10_000;

/**
 * The closed loop: after each commit, reads in every Traefik that reads the root key the
 * resources the commit touched, until each shows what the store holds (live), shows it disabled
 * with an error (refused), or the change is superseded. Unreachable instances are marked and
 * never waited on: every read has a limit, and one round never overlaps another.
 */
export class TraefikReadback {
  readonly #o: TraefikReadbackOptions;
  readonly #limitMs: number;
  readonly #heartbeatMs: number;
  readonly #get: GetJson;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #running: Promise<void> | undefined;
  #again = false;
  #delayMs = FASTEST_MS;
  #stopped = true;
  #failingNames = new Set<string>();

  constructor(options: TraefikReadbackOptions) {
    this.#o = options;
    this.#limitMs = options.requestLimitMs ?? 2_000;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#get = options.getJson ?? getJson;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Resources a transaction changed (Traefik's tree), committed at `revision`. Whether any of them is
   * read back (Traefik's API shows routers, services and middlewares, not every key of the tree).
   */
  committed(resources: Iterable<string>, revision: bigint): boolean {
    const readable = [...resources].filter((resource) => readableResource(resource) !== undefined);
    if (readable.length === 0) return false;
    this.#o.book.committed(readable, revision.toString(), this.#now());
    this.#delayMs = FASTEST_MS;
    this.#schedule(COALESCE_MS);
    return true;
  }

  reports(): TraefikReport[] {
    return this.#o.book.reports(this.#now());
  }

  /**
   * Where each resource is live now, read at once in every instance (explain): per resource, each
   * instance's judgement, or why it could not be read, and since when the read-back awaits it there.
   */
  async liveness(resources: readonly string[]): Promise<Map<string, InstanceReading[]>> {
    const { book } = this.#o;
    const ids = book.ids();
    const result = new Map<string, InstanceReading[]>();
    await Promise.all(
      resources.map(async (resource) => {
        const readings = await Promise.all(
          ids.map(async (traefik): Promise<InstanceReading> => {
            const awaitedSince = book.awaitedSince(traefik, resource);
            try {
              const judgement = await this.#read(traefik, resource);
              return {
                traefik,
                judgement: judgement ?? { state: 'unknown', why: 'the store is not read yet' },
                awaitedSince,
              };
            } catch (error) {
              return { traefik, judgement: { state: 'unknown', why: describe(error) }, awaitedSince };
            }
          }),
        );
        result.set(resource, readings);
      }),
    );
    return result;
  }

  /** One round now (tests; the timer runs the same). */
  async round(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#round().finally(() => {
      this.#running = undefined;
    });
    await this.#running;
    if (this.#again) {
      this.#again = false;
      await this.round();
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    const at = this.#now() + delayMs;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      // A round that fails unexpectedly is said, and the loop goes on: it never stops reading back.
      void this.round()
        .catch((error: unknown) =>
          this.#o.logger.error({ err: error }, 'a read-back round failed; the next one follows'),
        )
        .then(() => this.#next());
    }, delayMs);
    this.#timer.unref();
  }

  #next(): void {
    const awaited = this.#o.book.reports(this.#now()).some((report) => report.pending.length > 0);
    if (awaited) {
      this.#schedule(this.#delayMs);
      this.#delayMs = Math.min(SLOWEST_MS, Math.round(this.#delayMs * GROWTH));
    } else this.#schedule(this.#heartbeatMs);
  }

  async #round(): Promise<void> {
    const { book, logger } = this.#o;
    const { endpoints, failures } = await resolveEndpoints(this.#o.urls, this.#o.resolve ?? resolveAll, this.#limitMs);
    for (const failure of failures) {
      if (this.#failingNames.has(failure.url)) continue;
      this.#failingNames.add(failure.url);
      logger.warn(
        { url: failure.url, err: failure.error },
        "a Traefik API URL's name does not resolve: its instances are not read back; check --traefik-api-urls",
      );
    }
    for (const url of [...this.#failingNames])
      if (!failures.some((failure) => failure.url === url)) this.#failingNames.delete(url);
    // A name that failed to resolve keeps its instances of before: a DNS hiccup is no instance gone.
    const kept = book
      .reports(this.#now())
      .filter((report) => failures.some((failure) => failure.url === report.source))
      .map((report) => ({ id: report.id, source: report.source }));
    const forgotten = book.setInstances([...endpoints, ...kept]);
    await Promise.all(book.ids().map((id) => this.#readInstance(id)));
    const now = this.#now();
    for (const notice of book.notices(now))
      logger[notice.level]({ traefik: notice.traefik, ...notice.details }, notice.message);
    this.#o.onRound?.(book.reports(now), forgotten);
  }

  /**
   * An instance's version (the first time, after it stopped answering, and after a quiet heartbeat), then its
   * awaited resources, oldest first.
   */
  async #readInstance(id: string): Promise<void> {
    const { book } = this.#o;
    const pending = book.pendingOf(id);
    const quietFor = this.#now() - (book.lastAnswer(id) ?? Number.NEGATIVE_INFINITY);
    if (!book.knowsVersion(id) || !book.reachable(id) || (pending.length === 0 && quietFor >= this.#heartbeatMs)) {
      try {
        const reply = await this.#get(`${id}/api/version`, this.#limitMs);
        if (reply.status !== 200) throw new Error(`/api/version answered HTTP ${reply.status}`);
        const version = (reply.body as { Version?: unknown } | undefined)?.Version;
        book.answered(id, this.#now(), { ok: true, ...(typeof version === 'string' ? { version } : {}) });
      } catch (error) {
        book.answered(id, this.#now(), { ok: false, error: describe(error) });
        return;
      }
    }
    let reads = 0;
    for (let start = 0; start < pending.length && reads < READS_A_ROUND; start += IN_FLIGHT) {
      const batch = pending.slice(start, start + IN_FLIGHT);
      reads += batch.length;
      let behind = false;
      try {
        const judgements = await Promise.all(batch.map((entry) => this.#read(id, entry.resource)));
        const now = this.#now();
        batch.forEach((entry, index) => {
          const judgement = judgements[index];
          if (judgement === undefined) return;
          const { liveAfterMs } = book.record(id, entry.resource, judgement, now);
          if (liveAfterMs !== undefined && judgement.state === 'live') this.#o.onLive?.(id, liveAfterMs / 1000);
          if (judgement.state === 'pending' && now - entry.committedAt < STUCK_MS) behind = true;
        });
      } catch (error) {
        book.answered(id, this.#now(), { ok: false, error: describe(error) });
        return;
      }
      book.answered(id, this.#now(), { ok: true });
      // Traefik applies the tree at one revision: the later commits are not there either. (Past
      // STUCK_MS the rest is read too: one resource that never shows must not hide the others.)
      if (behind) return;
    }
  }

  /** One resource in one instance, judged against what the store holds now. */
  async #read(id: string, resource: string): Promise<Judgement | undefined> {
    const readable = readableResource(resource);
    const stored = this.#o.stored(resource);
    if (readable === undefined || stored === undefined) return undefined;
    const reply = await this.#get(`${id}${apiPath(readable, this.#o.provider)}`, this.#limitMs);
    const view = viewFromApi(reply.status, reply.body);
    if (view === undefined) throw new Error(`${apiPath(readable, this.#o.provider)} answered HTTP ${reply.status}`);
    return judge(stored, view);
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = (error as Error).message;
  return cause?.code !== undefined ? `${message} (${cause.code})` : message;
}
