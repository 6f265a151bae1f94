export type ClientRangesResult =
  { readonly ok: true; readonly value: readonly string[] } | { readonly ok: false; readonly message: string };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** IPv6 text as WHATWG URL parsing accepts it in brackets: no zone, no brackets, no backtick can pass. */
function isIpv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return false;
  return URL.canParse(`http://[${text}]/`);
}

/** One client address or CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`), or undefined. */
function clientRange(text: string): string | undefined {
  const [address = '', bits, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const v4 = IPV4.test(address);
  if (!v4 && !isIpv6(address)) return undefined;
  if (bits === undefined) return text;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > (v4 ? 32 : 128)) return undefined;
  return text;
}

/**
 * A comma-separated list of client addresses and CIDR blocks, as `apps.<name>.allow` takes it. The
 * items go into a Traefik rule (`ClientIP(\`...\`)`) as well as a middleware, so nothing but
 * address characters may pass.
 */
export function parseClientRanges(text: string): ClientRangesResult {
  const items = text.split(',').map((item) => item.trim());
  if (items.every((item) => item === ''))
    return {
      ok: false,
      message: 'expects client addresses or CIDR blocks, comma-separated (e.g. 10.0.0.0/8,192.0.2.7), got nothing',
    };
  // A set, not a search of the list for each item: a list of thousands of items stays linear.
  const ranges = new Set<string>();
  for (const item of items) {
    const range = item === '' ? undefined : clientRange(item);
    if (range === undefined)
      return {
        ok: false,
        message: `expects client addresses or CIDR blocks, comma-separated (e.g. 10.0.0.0/8,2001:db8::/32); ${JSON.stringify(item)} is not one`,
      };
    ranges.add(range);
  }
  return { ok: true, value: [...ranges] };
}
