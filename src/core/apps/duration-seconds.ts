const UNIT_SECONDS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * A duration as Go's time.ParseDuration reads it (`90s`, `1h30m`, `1.5h`), or a whole number of
 * seconds, to seconds; undefined when it is neither or not above zero.
 */
export function durationSeconds(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) > 0 ? Number(text) : undefined;
  let seconds = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (match === null || match.index !== start) return undefined;
    seconds += Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? Number.NaN);
  }
  return text !== '' && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}
