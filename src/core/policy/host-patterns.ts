/**
 * Domain patterns for the hosts labels may route: `example.org` is that host alone, and
 * `*.apps.example.com` any host of exactly one more label (`a.apps.example.com`, not
 * `a.b.apps.example.com` nor `apps.example.com`), as a TLS wildcard certificate covers it. One
 * label keeps a pattern as narrow as it reads; a deeper tree takes a pattern per level.
 */
export interface HostPatterns {
  /** Whether the host (as a Host or HostSNI matcher names it) is one the patterns allow. */
  readonly allows: (host: string) => boolean;
  /** The patterns, as given, for messages. */
  readonly text: string;
}

const DNS_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9_-]+$/;

/** Why a pattern cannot be used, or undefined. */
export function hostPatternProblem(pattern: string): string | undefined {
  const lower = pattern.toLowerCase();
  if (lower === '*' || lower === '*.')
    return `"${pattern}" would allow every host: leave the list empty to allow every host`;
  const domain = lower.startsWith('*.') ? lower.slice(2) : lower;
  if (domain.length > 253 || !DNS_NAME.test(domain)) {
    return `expected a host name (example.org) or "*." and a domain (*.apps.example.com: one label before .apps.example.com), got ${JSON.stringify(pattern)}`;
  }
  return undefined;
}

/**
 * The patterns as one matcher; each must have passed hostPatternProblem. Host names compare without regard to case, as
 * Traefik's Host does.
 */
export function compileHostPatterns(patterns: readonly string[]): HostPatterns {
  const exact = new Set<string>();
  const suffixes = new Set<string>();
  for (const pattern of patterns) {
    const lower = pattern.toLowerCase();
    if (lower.startsWith('*.')) suffixes.add(lower.slice(1));
    else exact.add(lower);
  }
  return {
    text: patterns.join(', '),
    allows(host) {
      const lower = host.toLowerCase();
      if (exact.has(lower)) return true;
      const dot = lower.indexOf('.');
      return dot > 0 && suffixes.has(lower.slice(dot)) && LABEL.test(lower.slice(0, dot));
    },
  };
}
