import { formatPortRange, inPortRange, type PortRange } from './port-range.ts';

/** One app that wants a port of the range. */
export interface PortRequest {
  /** The app's stable identity (see app-identity.ts); several requests with one key are one app. */
  readonly key: string;
  /** The one port it asks for (`apps.<name>.frontend-port`), if any. */
  readonly requested?: number | undefined;
  /**
   * A port it held before and gave up (its container stopped for a moment): it gets it again
   * when that port is still free, else the lowest free one. Never refused for it.
   */
  readonly preferred?: number | undefined;
}

export interface PortAssignment {
  readonly key: string;
  readonly port: number;
  /**
   * True when the port is not in `held` under this key: a store must record it (create it if
   * absent, so that of two instances choosing it at once one wins) before it is served.
   */
  readonly fresh: boolean;
}

export interface PortRefusal {
  readonly key: string;
  /** `served-elsewhere` and `not-recorded` come from the store-backed allocation (app-ports.ts). */
  readonly reason:
    'exhausted' | 'outside-range' | 'taken' | 'conflicting-requests' | 'served-elsewhere' | 'not-recorded';
  /** Says what happened and what to do, without naming a label (the caller knows which). */
  readonly message: string;
  /** For `taken`: the app that holds the port. */
  readonly holder?: string | undefined;
}

/** Every request answered: a port, or a refusal. */
export interface PortAllocation {
  readonly assigned: ReadonlyMap<string, PortAssignment>;
  readonly refused: ReadonlyMap<string, PortRefusal>;
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Gives each request one port of `range`. Pure: the same requests, `held` and range always give
 * the same answer, whatever order the requests come in.
 *
 * `held` maps app keys to the ports they already hold, this instance's and every other's (a store
 * fills it; `render` passes nothing and allocates as an empty cluster would). A key keeps the
 * port it holds; a held port is never given to another key. Then requests for one specific port
 * get it when it is in the range and free (the first key in text order, when several ask for it).
 * Then the others, in text order of their keys, get the port they prefer when it is free, and
 * the rest the lowest free ports. A request that cannot
 * be served is refused on its own: the others are still served.
 */
export function allocatePorts(
  requests: readonly PortRequest[],
  held: ReadonlyMap<string, number>,
  range: PortRange,
): PortAllocation {
  const assigned = new Map<string, PortAssignment>();
  const refused = new Map<string, PortRefusal>();
  const wanted = new Map<string, number | undefined>();
  const preferred = new Map<string, number>();
  // Sorted by key, then port asked for (none first): the answer, messages too, cannot depend on the input's order.
  const sorted = [...requests].sort((a, b) => byText(a.key, b.key) || (a.requested ?? 0) - (b.requested ?? 0));
  for (const request of sorted) {
    if (refused.has(request.key)) continue;
    if (request.preferred !== undefined && !preferred.has(request.key)) preferred.set(request.key, request.preferred);
    if (!wanted.has(request.key)) {
      wanted.set(request.key, request.requested);
    } else if (wanted.get(request.key) !== request.requested) {
      const first = wanted.get(request.key);
      wanted.delete(request.key);
      refused.set(request.key, {
        key: request.key,
        reason: 'conflicting-requests',
        message: `one app asks for two frontend ports (${String(first ?? 'any')} and ${String(request.requested ?? 'any')}): ask for one`,
      });
    }
  }

  // Who holds each port of the range. A port held twice (a store edited by hand) goes to the first key.
  const holders = new Map<number, string>();
  for (const [key, port] of [...held].sort(([a], [b]) => byText(a, b))) {
    if (inPortRange(port, range) && !holders.has(port)) holders.set(port, key);
  }
  const holds = (key: string): number | undefined => {
    const port = held.get(key);
    return port !== undefined && holders.get(port) === key ? port : undefined;
  };

  const withoutPort: string[] = [];
  const asking: { key: string; port: number }[] = [];
  for (const [key, requested] of wanted) {
    const own = holds(key);
    if (requested === undefined) {
      if (own !== undefined) assigned.set(key, { key, port: own, fresh: false });
      else withoutPort.push(key);
    } else if (!inPortRange(requested, range)) {
      refused.set(key, {
        key,
        reason: 'outside-range',
        message: `port ${requested} is outside the app port range ${formatPortRange(range)} (--app-port-range): ask for a port inside it, or for none`,
      });
    } else if (own === requested) {
      assigned.set(key, { key, port: own, fresh: false });
    } else {
      asking.push({ key, port: requested });
    }
  }
  for (const { key, port } of asking) {
    const holder = holders.get(port);
    if (holder !== undefined && holder !== key) {
      refused.set(key, {
        key,
        reason: 'taken',
        holder,
        message: `port ${port} is taken by ${holder}: ask for another port of ${formatPortRange(range)}, or for none`,
      });
      continue;
    }
    holders.set(port, key);
    assigned.set(key, { key, port, fresh: true });
  }

  const lowest: string[] = [];
  for (const key of withoutPort) {
    const port = preferred.get(key);
    if (port === undefined || !inPortRange(port, range) || holders.has(port)) {
      lowest.push(key);
      continue;
    }
    holders.set(port, key);
    assigned.set(key, { key, port, fresh: true });
  }

  let next = range.first;
  for (const key of lowest) {
    while (next <= range.last && holders.has(next)) next += 1;
    if (next > range.last) {
      refused.set(key, {
        key,
        reason: 'exhausted',
        message: `every port of the app port range ${formatPortRange(range)} is taken (${range.last - range.first + 1} ports): widen --app-port-range (and declare the entry points: appproxy traefik-entrypoints), or stop an app`,
      });
      continue;
    }
    holders.set(next, key);
    assigned.set(key, { key, port: next, fresh: true });
  }
  return { assigned, refused };
}
