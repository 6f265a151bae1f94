/** Reads Traefik's API, and waits for what a test expects of it, within a bounded time. */
import { fetchWithin, within } from './within.ts';

export interface RawData {
  readonly routers?: Record<string, Record<string, unknown>>;
  readonly services?: Record<string, Record<string, unknown>>;
  readonly middlewares?: Record<string, Record<string, unknown>>;
  readonly tcpRouters?: Record<string, Record<string, unknown>>;
  readonly tcpServices?: Record<string, Record<string, unknown>>;
  readonly tcpMiddlewares?: Record<string, Record<string, unknown>>;
  readonly udpRouters?: Record<string, Record<string, unknown>>;
  readonly udpServices?: Record<string, Record<string, unknown>>;
}

export async function rawData(api: string): Promise<RawData> {
  const response = await fetchWithin(`${api}/api/rawdata`);
  if (!response.ok) throw new Error(`${api}/api/rawdata answered ${response.status}`);
  return (await response.json()) as RawData;
}

/** The server URLs of one HTTP service (`<name>@<provider>`) in Traefik's raw data, sorted; none when it is absent. */
export async function serviceServerUrls(api: string, service: string): Promise<string[]> {
  const info = (await rawData(api)).services?.[service] as
    { loadBalancer?: { servers?: { url: string }[] } } | undefined;
  return (info?.loadBalancer?.servers ?? []).map((server) => server.url).sort();
}

/**
 * Polls `check` every 100 ms until it returns a value other than undefined, or fails after
 * `timeoutMs` naming `what`. A check that itself never returns is cut at the deadline too.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await within(`one check of ${what}`, Math.max(1, deadline - Date.now()) + 1000, check);
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until each named router (with its provider suffix) is in Traefik's raw data, and returns them. */
export async function waitForRouters(api: string, names: readonly string[], timeoutMs?: number): Promise<RawData> {
  return waitFor(
    `routers ${names.join(', ')} in ${api}`,
    async () => {
      const data = await rawData(api);
      const all = { ...data.routers, ...data.tcpRouters, ...data.udpRouters };
      return names.every((name) => all[name] !== undefined) ? data : undefined;
    },
    timeoutMs,
  );
}

const RAW_FIELDS: Readonly<Record<string, keyof RawData>> = {
  'http/routers': 'routers',
  'http/services': 'services',
  'http/middlewares': 'middlewares',
  'tcp/routers': 'tcpRouters',
  'tcp/services': 'tcpServices',
  'tcp/middlewares': 'tcpMiddlewares',
  'udp/routers': 'udpRouters',
  'udp/services': 'udpServices',
};

/**
 * Waits until Traefik's raw data holds every router, service and middleware that `pairs` (keys
 * under `rootKey/`) define, each `<name><suffix>`. A store written in several transactions, or read
 * by Traefik in several pages (its Redis provider's SCAN), can be seen half-way for a moment: one
 * resource seen (a sentinel) proves nothing about the others.
 */
export async function waitForTree(
  api: string,
  suffix: string,
  rootKey: string,
  pairs: ReadonlyMap<string, string>,
  timeoutMs?: number,
): Promise<RawData> {
  const wanted = new Map<keyof RawData, Set<string>>();
  for (const key of pairs.keys()) {
    const [section = '', kind = '', name] = key.slice(rootKey.length + 1).split('/');
    const field = RAW_FIELDS[`${section}/${kind}`];
    if (field === undefined || name === undefined) continue;
    let names = wanted.get(field);
    if (names === undefined) wanted.set(field, (names = new Set()));
    names.add(`${name}${suffix}`.toLowerCase());
  }
  const count = [...wanted.values()].reduce((sum, names) => sum + names.size, 0);
  return waitFor(
    `the ${count} resources written under ${rootKey} in ${api}`,
    async () => {
      const data = await rawData(api);
      for (const [field, names] of wanted) {
        const seen = new Set(Object.keys(data[field] ?? {}).map((name) => name.toLowerCase()));
        for (const name of names) if (!seen.has(name)) return undefined;
      }
      return data;
    },
    timeoutMs,
  );
}
