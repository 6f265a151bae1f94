/** One GET of a running daemon's listener (`--daemon http://host:9180`), limited; the error names the URL and the limit. */
export async function daemonGet(
  daemon: string,
  path: string,
  limitMs = 10_000,
): Promise<{ ok: true; status: number; body: unknown } | { ok: false; error: string }> {
  const url = `${daemon.replace(/\/+$/, '')}${path}`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(limitMs) });
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
