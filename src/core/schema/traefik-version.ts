/** A Traefik release, `3.6` standing for `3.6.0`. */
export interface TraefikVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

const VERSION = /^v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?$/;

/** `3.6`, `3.6.2` or `v3.6.2`; undefined for anything else. */
export function parseTraefikVersion(text: string): TraefikVersion | undefined {
  const match = VERSION.exec(text.trim());
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? '0') };
}

/** `3.6` for 3.6.0, `3.6.2` otherwise: the form users write and the schema records. */
export function formatTraefikVersion(version: TraefikVersion): string {
  return version.patch === 0
    ? `${version.major}.${version.minor}`
    : `${version.major}.${version.minor}.${version.patch}`;
}

/** Negative when `a` is the older release, zero when both are one release, positive otherwise. */
export function compareTraefikVersions(a: TraefikVersion, b: TraefikVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * The oldest Traefik the translation writes for unless told otherwise: the first 3.x (the tests run 3.0.4, 3.4 and
 * 3.7).
 */
export const DEFAULT_TRAEFIK_MIN_VERSION: TraefikVersion = Object.freeze({ major: 3, minor: 0, patch: 0 });

/** Why a text is no oldest Traefik appproxy can write for (a message), or undefined when it is one. */
export function traefikMinVersionTextProblem(text: string): string | undefined {
  const version = parseTraefikVersion(text);
  if (version === undefined) return `expected a Traefik release such as 3.0, 3.4 or 3.6.2, got ${JSON.stringify(text)}`;
  if (version.major !== 3)
    return `appproxy writes Traefik v3's dynamic configuration; give the oldest 3.x release that reads the root key (3.0 and up), got ${JSON.stringify(text)}`;
  return undefined;
}
