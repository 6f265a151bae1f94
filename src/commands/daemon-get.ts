import { readFileSync } from 'node:fs';

/**
 * The daemon's bearer token for a client other than loopback: `--token-file`, else
 * APPPROXY_HTTP_TOKEN_FILE or APPPROXY_HTTP_TOKEN (what the daemon reads); undefined when none.
 */
export function daemonToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = tokenFile ?? env['APPPROXY_HTTP_TOKEN_FILE'];
  if (file !== undefined && file !== '') return readFileSync(file, 'utf8').trim();
  const token = env['APPPROXY_HTTP_TOKEN'];
  return token === undefined || token === '' ? undefined : token;
}

/** One GET of a running daemon's listener (`--daemon http://host:9180`), limited; the error names the URL and the limit. */
export async function daemonGet(
  daemon: string,
  path: string,
  limitMs = 10_000,
  token?: string,
): Promise<{ ok: true; status: number; body: unknown } | { ok: false; error: string }> {
  const url = `${daemon.replace(/\/+$/, '')}${path}`;
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(limitMs),
      ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
    });
    const text = await response.text();
    try {
      return { ok: true, status: response.status, body: JSON.parse(text) as unknown };
    } catch {
      return { ok: false, error: `${url} answered HTTP ${response.status} with no JSON: ${text.slice(0, 200)}` };
    }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      ok: false,
      error: `${url} gave no answer within ${limitMs / 1000} s: ${(error as Error).message}${cause === undefined ? '' : ` (${cause})`}; is the daemon running there (--listen)?`,
    };
  }
}
