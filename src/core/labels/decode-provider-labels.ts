import type { LabelProblem } from './decode-configuration.ts';

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
}

export type ProviderLabelsResult =
  | { readonly ok: true; readonly value: ProviderLabels }
  | { readonly ok: false; readonly problems: readonly LabelProblem[] };

const FIELDS: Record<'docker' | 'swarm', Record<string, 'bool' | 'string'>> = {
  docker: { network: 'string', lbswarm: 'bool', allownonrunning: 'bool' },
  swarm: { network: 'string', lbswarm: 'bool' },
};

function parseBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/**
 * Decodes `<prefix>.enable`, `<prefix>.docker.*` and (for Swarm services) `<prefix>.swarm.*`, as
 * Traefik's Docker and Swarm providers do: names match without regard to case, an unknown field or
 * a bad value leaves the workload out, and a Swarm service may not mix `docker.*` and `swarm.*`.
 */
export function decodeProviderLabels(labels: Readonly<Record<string, string>>, prefix: string, mode: 'docker' | 'swarm'): ProviderLabelsResult {
  const problems: LabelProblem[] = [];
  let enable: boolean | undefined;
  const sections: Record<'docker' | 'swarm', Record<string, string | boolean> | undefined> = { docker: undefined, swarm: undefined };
  const start = `${prefix}.`;
  for (const [label, value] of Object.entries(labels)) {
    if (!label.startsWith(start)) continue;
    const path = label.slice(start.length).toLowerCase();
    if (path === 'enable') {
      enable = parseBool(value);
      if (enable === undefined) problems.push({ label, message: `expects true or false, got "${value}"` });
      continue;
    }
    const [section, field, ...rest] = path.split('.');
    if (section !== 'docker' && !(section === 'swarm' && mode === 'swarm')) continue;
    const kind = field === undefined ? undefined : FIELDS[section][field];
    if (field === undefined || kind === undefined || rest.length > 0) {
      problems.push({ label, message: `unknown ${section} option; accepted: ${Object.keys(FIELDS[section]).map((name) => `${prefix}.${section}.${name}`).join(', ')}` });
      continue;
    }
    const target = (sections[section] ??= {});
    if (kind === 'bool') {
      const parsed = parseBool(value);
      if (parsed === undefined) problems.push({ label, message: `expects true or false, got "${value}"` });
      else target[field] = parsed;
    } else {
      target[field] = value;
    }
  }
  if (mode === 'swarm' && sections.docker !== undefined && sections.swarm !== undefined) {
    problems.push({ label: `${prefix}.docker.*`, message: `both ${prefix}.docker.* and ${prefix}.swarm.* labels are set on a Swarm service; keep only ${prefix}.swarm.*` });
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
    },
  };
}
