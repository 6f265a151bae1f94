import { lookup } from 'node:dns/promises';
import pTimeout from 'p-timeout';

/** Every address a host name has now, the way the system resolves it (/etc/hosts, then DNS). */
export type LookupAll = (host: string) => Promise<string[]>;

const systemLookup: LookupAll = async (host) => [
  ...new Set((await lookup(host, { all: true })).map((entry) => entry.address)),
];

/**
 * Name lookups that cannot pile up.
 *
 * Node resolves a name the way the system does (getaddrinfo: /etc/hosts, then DNS) on one of
 * libuv's four worker threads, and a lookup cannot be cancelled. A name with no answer holds its
 * thread for as long as the resolver tries: a Swarm service whose task stopped, asked through
 * Docker's embedded DNS, which forwards names it does not know to an upstream that does not answer,
 * took 10 s a lookup here. Seen on three nodes: gRPC starts a lookup for each channel, etcd3 opens
 * new channels after each failed call, and four lookups of a drained etcd member's name held every
 * worker thread, so that lookups of the live members' names waited behind them (20 s measured) and
 * every etcd call of that instance failed for 25 s, the Swarm writer's lease with them.
 *
 * So: one lookup of a name at a time (callers meanwhile wait for its answer), and each caller
 * waits at most its own limit. A name that never answers holds one thread, not one a caller. A
 * slow resolver that does answer, later than the caller waited, is not wasted: that answer is
 * given to the next caller of the name at once (within `LATE_ANSWER_MS`), so that a name whose
 * lookups always take longer than the limit still resolves every other time.
 */
export class NameLookup {
  readonly #lookup: LookupAll;
  readonly #now: () => number;
  readonly #pending = new Map<string, { answer: Promise<string[]>; waitedMs: number; startedAt: number }>();
  readonly #late = new Map<string, { addresses: string[]; at: number }>();

  constructor(lookupAll: LookupAll = systemLookup, now: () => number = Date.now) {
    this.#lookup = lookupAll;
    this.#now = now;
  }

  /** The host's addresses, or an error naming the host and the limit once `limitMs` passed. */
  resolve(host: string, limitMs: number): Promise<string[]> {
    const late = this.#late.get(host);
    if (late !== undefined) {
      this.#late.delete(host);
      if (this.#now() - late.at <= LATE_ANSWER_MS) return Promise.resolve(late.addresses);
    }
    let pending = this.#pending.get(host);
    if (pending === undefined) {
      const entry = { answer: Promise.resolve<string[]>([]), startedAt: this.#now(), waitedMs: limitMs };
      entry.answer = this.#lookup(host)
        .then((addresses) => {
          // Every caller gave up before this answer: keep it for the next one.
          if (this.#now() - entry.startedAt > entry.waitedMs) this.#late.set(host, { addresses, at: this.#now() });
          return addresses;
        })
        .finally(() => this.#pending.delete(host));
      // A caller that gave up no longer listens: the answer, even a failure, is nobody's error.
      entry.answer.catch(() => undefined);
      this.#pending.set(host, entry);
      pending = entry;
    } else {
      pending.waitedMs = Math.max(pending.waitedMs, this.#now() - pending.startedAt + limitMs);
    }
    return pTimeout(pending.answer, {
      milliseconds: limitMs,
      message: `resolving ${host} took more than ${limitMs} ms`,
    });
  }

  /** Lookups still waiting for an answer (one a name at most). */
  pendingCount(): number {
    return this.#pending.size;
  }
}

/** How long an answer that came after its callers gave up is kept for the next caller. */
export const LATE_ANSWER_MS = 30_000;

/** The process's one lookup table: gRPC's channels and the Traefik read-back share the threads. */
export const nameLookup = new NameLookup();
