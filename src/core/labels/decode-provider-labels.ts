import { parseBool } from '../../golang/strconv.ts';
import type { LabelProblem } from './decode-configuration.ts';
import { labelsOf, type WorkloadLabels } from './workload-labels.ts';

/** What the provider itself reads from labels, apart from the dynamic configuration. */
export interface ProviderLabels {
  /** `<prefix>.enable`, when set. */
  readonly enable: boolean | undefined;
  /** `<prefix>.docker.network` (or `<prefix>.swarm.network` for Swarm services), when set. */
  readonly network: string | undefined;
  /** Swarm: route to the service's virtual IP instead of each task. */
  readonly lbSwarm: boolean;
  /** Docker: keep routes of containers that are not running (their services stay, empty). */
  readonly allowNonRunning: boolean;
  /**
   * appproxy's own `<prefix>.sidecar.address`: `published` routes to the host's advertised address
   * and the published port, `container` to the container's own address, whatever the instance's default.
   */
  readonly address: 'published' | 'container' | undefined;
}

export type ProviderLabelsResult =
  | { readonly ok: true; readonly value: ProviderLabels }
  | { readonly ok: false; readonly problems: readonly LabelProblem[] };

type Section = 'docker' | 'swarm' | 'sidecar';

const FIELDS: Record<Section, Record<string, 'bool' | 'string'>> = {
  docker: { network: 'string', lbswarm: 'bool', allownonrunning: 'bool' },
  swarm: { network: 'string', lbswarm: 'bool' },
  sidecar: { address: 'string' },
};

/**
 * Decodes `<prefix>.enable`, `<prefix>.docker.*` and (for Swarm services) `<prefix>.swarm.*`, as
 * Traefik's Docker and Swarm providers do: names below the prefix match without regard to case
 * (the prefix itself does not: see prefixMatch), an unknown field or a bad value leaves the
 * workload out, and a Swarm service may not mix `docker.*` and `swarm.*`.
 * `<prefix>.sidecar.*` is appproxy's own (Traefik ignores it).
 */
export function decodeProviderLabels(labels: WorkloadLabels, mode: 'docker' | 'swarm'): ProviderLabelsResult {
  const { prefix } = labels;
  const problems: LabelProblem[] = [];
  let enable: boolean | undefined;
  const sections: Record<Section, Record<string, string | boolean> | undefined> = {
    docker: undefined,
    swarm: undefined,
    sidecar: undefined,
  };
  for (const { label, value, path: given } of labelsOf(
    labels,
    mode === 'swarm' ? ['enable', 'docker', 'swarm', 'sidecar'] : ['enable', 'docker', 'sidecar'],
  )) {
    const path = given.toLowerCase();
    if (path === 'enable') {
      enable = parseBool(value);
      if (enable === undefined) problems.push({ label, message: `expects true or false, got "${value}"` });
      continue;
    }
    const [section, field, ...rest] = path.split('.');
    if (section !== 'docker' && section !== 'sidecar' && !(section === 'swarm' && mode === 'swarm')) continue;
    // Own fields only: `constructor` or `__proto__` must be unknown options, not Object's members.
    const kind = field === undefined || !Object.hasOwn(FIELDS[section], field) ? undefined : FIELDS[section][field];
    if (field === undefined || kind === undefined || rest.length > 0) {
      problems.push({
        label,
        message: `unknown ${section} option; accepted: ${Object.keys(FIELDS[section])
          .map((name) => `${prefix}.${section}.${name}`)
          .join(', ')}`,
      });
      continue;
    }
    const target = (sections[section] ??= {});
    if (kind === 'bool') {
      const parsed = parseBool(value);
      if (parsed === undefined) problems.push({ label, message: `expects true or false, got "${value}"` });
      else target[field] = parsed;
    } else if (section === 'sidecar' && field === 'address' && value !== 'published' && value !== 'container') {
      problems.push({
        label,
        message: `expects "published" (the host's advertised address and the published port) or "container" (the container's own address), got "${value}"`,
      });
    } else {
      target[field] = value;
    }
  }
  if (mode === 'swarm' && sections.docker !== undefined && sections.swarm !== undefined) {
    problems.push({
      label: `${prefix}.docker.*`,
      message: `both ${prefix}.docker.* and ${prefix}.swarm.* labels are set on a Swarm service; keep only ${prefix}.swarm.*`,
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  const chosen = mode === 'swarm' ? (sections.swarm ?? sections.docker) : sections.docker;
  const network = chosen?.['network'];
  return {
    ok: true,
    value: {
      enable,
      network: typeof network === 'string' ? network : undefined,
      lbSwarm: mode === 'swarm' && chosen?.['lbswarm'] === true,
      allowNonRunning: mode === 'docker' && chosen?.['allownonrunning'] === true,
      address: sections.sidecar?.['address'] as ProviderLabels['address'],
    },
  };
}
