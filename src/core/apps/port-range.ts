/** An inclusive range of TCP ports. */
export interface PortRange {
  readonly first: number;
  readonly last: number;
}

/**
 * Each port of the range is a Traefik entry point, a listener of its own: a range wider than this
 * is a typo (10205-20300 for 10205-10300), not a plan.
 */
const MAX_PORT_RANGE_SIZE = 1024;

export type PortRangeResult =
  { readonly ok: true; readonly value: PortRange } | { readonly ok: false; readonly message: string };

/** `10205-10300` (or one port, `10205`) to a range, or the reason it is not one. */
export function parsePortRange(text: string): PortRangeResult {
  const match = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(text);
  const example = 'e.g. 10205-10300';
  if (match === null)
    return { ok: false, message: `expected a port range "<first>-<last>", ${example}, got ${JSON.stringify(text)}` };
  const first = Number(match[1]);
  const last = Number(match[2] ?? match[1]);
  if (first < 1 || last > 65_535)
    return { ok: false, message: `ports must be 1 to 65535, got ${JSON.stringify(text)}` };
  if (first > last)
    return { ok: false, message: `the first port must not be above the last, got ${JSON.stringify(text)}` };
  if (last - first + 1 > MAX_PORT_RANGE_SIZE) {
    return {
      ok: false,
      message: `at most ${MAX_PORT_RANGE_SIZE} ports (each is one Traefik entry point), got ${last - first + 1} in ${JSON.stringify(text)}`,
    };
  }
  return { ok: true, value: { first, last } };
}

export function formatPortRange(range: PortRange): string {
  return `${range.first}-${range.last}`;
}

export function inPortRange(port: number, range: PortRange): boolean {
  return port >= range.first && port <= range.last;
}
