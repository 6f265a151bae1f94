import { compareTraefikVersions, formatTraefikVersion, type TraefikVersion } from '../schema/traefik-version.ts';

/** The setting a user raises to accept newer fields, as every entry point spells it. */
const TRAEFIK_MIN_VERSION_SETTING =
  '--traefik-min-version (APPPROXY_TRAEFIK_MIN_VERSION, traefikMinVersion in the file)';

/**
 * Why a field or value the target Traefik cannot read is refused, or undefined when every Traefik
 * from `minimum` on reads it. One key an older Traefik does not know makes it reject the whole
 * tree under the root key (every workload's routes freeze), so the label costs its workload only.
 */
export function traefikMinVersionProblem(
  what: string,
  since: TraefikVersion | undefined,
  minimum: TraefikVersion,
): string | undefined {
  if (since === undefined || compareTraefikVersions(since, minimum) <= 0) return undefined;
  const needed = formatTraefikVersion(since);
  return (
    `${what} needs Traefik ${needed} or newer (introduced in ${needed}), and appproxy writes for Traefik ${formatTraefikVersion(minimum)} and newer: ` +
    `an older Traefik reading the root key would reject the whole configuration, every workload's routes with it. ` +
    `Remove the label, or, once every Traefik reading the root key is ${needed} or newer, raise ${TRAEFIK_MIN_VERSION_SETTING} to ${needed}`
  );
}
