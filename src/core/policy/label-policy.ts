import { entryPointNameProblem } from '../entry-point-name.ts';
import { isConfigObject, type ConfigObject, type ConfigValue } from '../config-tree.ts';
import { foldCase } from '../fold-case.ts';
import type { LabelProblem } from '../labels/decode-configuration.ts';
import { walkStruct } from '../provider/walk-configuration.ts';
import { compileHostPatterns, hostPatternProblem, type HostPatterns } from './host-patterns.ts';
import { ruleHosts } from './rule-hosts.ts';

/**
 * What the operator lets labels do, beyond what Traefik's Docker provider allows (which is
 * everything the dynamic configuration can say). Each field is one setting; the default of each
 * allows everything, which is Traefik's behaviour.
 */
export interface LabelPolicy {
  /** Providers whose resources labels may not name (`api@internal`, `auth@file`), lower case, without `@`. */
  readonly refuseProviders: readonly string[];
  /** Refuse `loadbalancer.server.url` (HTTP) and `loadbalancer.server.address` (TCP, UDP) labels. */
  readonly refuseServerOverride: boolean;
  /** The entry points routers may use; a router must then name them. Empty: any. */
  readonly entryPoints: readonly string[];
  /** Domain patterns the hosts of HTTP and TCP rules must match (see host-patterns.ts). Empty: any. */
  readonly hosts: readonly string[];
  /** Every HTTP and TCP router has at least one middleware. */
  readonly requireMiddlewares: boolean;
}

export const allowEverything: LabelPolicy = Object.freeze({
  refuseProviders: [],
  refuseServerOverride: false,
  entryPoints: [],
  hosts: [],
  requireMiddlewares: false,
});

/** How each setting is set, as every message spells it. */
const POLICY_SETTINGS = {
  refuseProviders: '--policy-refuse-providers (APPPROXY_POLICY_REFUSE_PROVIDERS, policy.refuseProviders in the file)',
  refuseServerOverride:
    '--policy-refuse-server-override (APPPROXY_POLICY_REFUSE_SERVER_OVERRIDE, policy.refuseServerOverride in the file)',
  entryPoints: '--policy-entrypoints (APPPROXY_POLICY_ENTRYPOINTS, policy.entryPoints in the file)',
  hosts: '--policy-hosts (APPPROXY_POLICY_HOSTS, policy.hosts in the file)',
  requireMiddlewares:
    '--policy-require-middlewares (APPPROXY_POLICY_REQUIRE_MIDDLEWARES, policy.requireMiddlewares in the file)',
} as const;

const PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Why a provider name cannot be refused, or undefined (a leading `@` is allowed and dropped by the settings). */
export function providerNameProblem(name: string): string | undefined {
  return PROVIDER_NAME.test(name)
    ? undefined
    : `expected a Traefik provider name such as internal or file (lower-case letters, digits, "_" or "-"), got ${JSON.stringify(name)}`;
}

/** Problems of a policy that a caller outside the settings (a test, a library user) may have got wrong. */
export function labelPolicyProblems(policy: LabelPolicy): string[] {
  const problems: string[] = [];
  for (const name of policy.refuseProviders) {
    const problem = providerNameProblem(name);
    if (problem !== undefined) problems.push(`policy refuse providers: ${problem}`);
  }
  for (const name of policy.entryPoints) {
    const problem = entryPointNameProblem(name);
    if (problem !== undefined) problems.push(`policy entry points: ${problem}`);
  }
  for (const pattern of policy.hosts) {
    const problem = hostPatternProblem(pattern);
    if (problem !== undefined) problems.push(`policy hosts: ${problem}`);
  }
  return problems;
}

/** One workload's configuration as the policy sees it. */
export interface PolicySubject {
  /**
   * The configuration built from its labels, with what the provider adds (default router and rule, servers), before
   * references are rewritten.
   */
  readonly configuration: ConfigObject;
  /**
   * What its labels alone declare, before the provider adds anything: a server address there was written by a label.
   */
  readonly declared: ConfigObject;
  /** Its labels, to name the one a violation comes from as the user spelled it. */
  readonly labels: Readonly<Record<string, string>>;
  readonly prefix: string;
}

export interface CompiledLabelPolicy {
  readonly policy: LabelPolicy;
  /** Every violation of one workload's configuration: empty when the policy allows it. */
  readonly violations: (subject: PolicySubject) => LabelProblem[];
}

const PROTOCOLS = ['http', 'tcp', 'udp'] as const;
type Protocol = (typeof PROTOCOLS)[number];

function resources(configuration: ConfigObject, protocol: Protocol, kind: string): [string, ConfigObject][] {
  const section = configuration[protocol];
  const map = isConfigObject(section) ? section[kind] : undefined;
  return isConfigObject(map)
    ? Object.entries(map).filter((entry): entry is [string, ConfigObject] => isConfigObject(entry[1]))
    : [];
}

function strings(value: ConfigValue | undefined): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string' && item !== '') : [];
}

/**
 * `http.routers.api.tls.options` for a path of canonical keys; a list given as one object in labels (`servers`) by its
 * label name.
 */
function labelPath(path: readonly string[]): string {
  const parts: string[] = [];
  path.forEach((segment, index) => {
    if (index < 3) parts.push(segment);
    else if (/^\d+$/.test(segment))
      parts[parts.length - 1] =
        parts.at(-1) === 'servers' && segment === '0' ? 'server' : `${parts.at(-1) ?? ''}[${segment}]`;
    else parts.push(segment.toLowerCase());
  });
  return parts.join('.');
}

/**
 * The label as the workload spells it, where it has one (field names are read without regard to case); else the
 * canonical spelling.
 */
function labelNamer(subject: PolicySubject): (path: string) => string {
  let folded: Map<string, string> | undefined;
  return (path) => {
    const canonical = `${subject.prefix}.${path}`;
    if (Object.hasOwn(subject.labels, canonical)) return canonical;
    if (folded === undefined) {
      folded = new Map();
      for (const label of Object.keys(subject.labels))
        if (!folded.has(foldCase(label))) folded.set(foldCase(label), label);
    }
    return folded.get(foldCase(canonical)) ?? canonical;
  };
}

const LEFT_OUT = 'the workload is left out';

function quoteList(items: readonly string[]): string {
  return items.map((item) => JSON.stringify(item)).join(', ');
}

function referenceViolations(
  subject: PolicySubject,
  refused: ReadonlySet<string>,
  label: (path: string) => string,
  problems: LabelProblem[],
): void {
  walkStruct(subject.configuration, 'Configuration', [], {
    scalar({ path, field, value }) {
      if (!field.ref) return;
      for (const reference of strings(value)) {
        const at = reference.lastIndexOf('@');
        const provider = at < 0 ? '' : reference.slice(at + 1).toLowerCase();
        if (!refused.has(provider)) continue;
        problems.push({
          label: label(labelPath(path)),
          message:
            `"${reference}" names a resource of Traefik's "${provider}" provider, and the label policy refuses references to ${[...refused].map((name) => `@${name}`).join(', ')} from labels: ${LEFT_OUT}. ` +
            `Name a resource these labels define instead, or (the operator) remove "${provider}" from ${POLICY_SETTINGS.refuseProviders}`,
        });
      }
    },
  });
}

function serverOverrideViolations(
  subject: PolicySubject,
  label: (path: string) => string,
  problems: LabelProblem[],
): void {
  for (const protocol of PROTOCOLS) {
    const field = protocol === 'http' ? 'url' : 'address';
    for (const [name, service] of resources(subject.declared, protocol, 'services')) {
      const loadBalancer = service['loadBalancer'];
      const servers =
        isConfigObject(loadBalancer) && Array.isArray(loadBalancer['servers'])
          ? (loadBalancer['servers'] as ConfigValue[])
          : [];
      for (const server of servers) {
        const given = isConfigObject(server) ? server[field] : undefined;
        if (typeof given !== 'string' || given === '') continue;
        const instead = protocol === 'http' ? 'loadbalancer.server.port (and .scheme)' : 'loadbalancer.server.port';
        problems.push({
          label: label(`${protocol}.services.${name}.loadbalancer.server.${field}`),
          message:
            `the label sends service "${name}" to ${JSON.stringify(given)} instead of the workload's own address, and the label policy refuses server ${field === 'url' ? 'URLs' : 'addresses'} set by labels: ${LEFT_OUT}. ` +
            `Set ${instead} to reach the workload itself, or (the operator) turn off ${POLICY_SETTINGS.refuseServerOverride}`,
        });
      }
    }
  }
}

function entryPointViolations(
  subject: PolicySubject,
  allowed: readonly string[],
  label: (path: string) => string,
  problems: LabelProblem[],
): void {
  const allowedSet = new Set(allowed);
  for (const protocol of PROTOCOLS) {
    for (const [name, router] of resources(subject.configuration, protocol, 'routers')) {
      const entryPoints = strings(router['entryPoints']);
      const at = label(`${protocol}.routers.${name}.entrypoints`);
      if (entryPoints.length === 0) {
        problems.push({
          label: at,
          message: `${protocol.toUpperCase()} router "${name}" names no entry point, so Traefik puts it on every entry point, and the label policy allows only ${quoteList(allowed)}: ${LEFT_OUT}. Set ${at} to one of them, or (the operator) clear ${POLICY_SETTINGS.entryPoints}`,
        });
        continue;
      }
      const outside = entryPoints.filter((entryPoint) => !allowedSet.has(entryPoint));
      if (outside.length === 0) continue;
      problems.push({
        label: at,
        message:
          `${protocol.toUpperCase()} router "${name}" uses entry point${outside.length === 1 ? '' : 's'} ${quoteList(outside)}, and the label policy allows only ${quoteList(allowed)}: ${LEFT_OUT}. ` +
          `Use one of them, or (the operator) add ${outside.length === 1 ? 'it' : 'them'} to ${POLICY_SETTINGS.entryPoints}`,
      });
    }
  }
}

function hostViolations(
  subject: PolicySubject,
  patterns: HostPatterns,
  label: (path: string) => string,
  problems: LabelProblem[],
): void {
  const allowed = `the label policy allows only hosts matching ${patterns.text} ("*." stands for exactly one label)`;
  const remedy = `(the operator) add a pattern to ${POLICY_SETTINGS.hosts}`;
  for (const protocol of ['http', 'tcp'] as const) {
    for (const [name, router] of resources(subject.configuration, protocol, 'routers')) {
      const rule = typeof router['rule'] === 'string' ? router['rule'] : '';
      const at = label(`${protocol}.routers.${name}.rule`);
      const source =
        router['defaultRule'] === true
          ? `the default rule (--default-rule) gives router "${name}" the rule ${JSON.stringify(rule)}; `
          : '';
      const fix =
        router['defaultRule'] === true
          ? `Set ${at} to a rule with Host(\`<host>\`) for an allowed host`
          : 'Name an allowed host';
      const read = ruleHosts(rule);
      if (!read.readable) {
        problems.push({
          label: at,
          message: `${source}the rule cannot be read (${read.error}), so its hosts cannot be checked, and ${allowed}: ${LEFT_OUT}. Correct the rule`,
        });
        continue;
      }
      const outside = [
        ...new Set(
          read.hosts.filter(({ host }) => !patterns.allows(host)).map(({ matcher, host }) => `${matcher}(\`${host}\`)`),
        ),
      ];
      if (outside.length > 0) {
        const every = outside.some((matcher) => matcher.endsWith('(`*`)')) ? ' (`*` matches every host)' : '';
        problems.push({
          label: at,
          message: `${source}the rule routes ${outside.join(', ')}${every}, and ${allowed}: ${LEFT_OUT}. ${fix}, or ${remedy}`,
        });
      }
      for (const matcher of new Set(read.regexps)) {
        problems.push({
          label: at,
          message: `${source}the rule uses ${matcher}, whose hosts cannot be checked against patterns, and ${allowed}: ${LEFT_OUT}. Use Host${protocol === 'tcp' ? 'SNI' : ''}(\`<host>\`) for each allowed host, or (the operator) clear ${POLICY_SETTINGS.hosts}`,
        });
      }
      if (!read.bounded) {
        const matcher = protocol === 'tcp' ? 'HostSNI' : 'Host';
        problems.push({
          label: at,
          message:
            `${source}the rule can match requests for any host (every alternative of the rule needs a ${matcher} matcher joined with &&, not only under ! or beside ||), and ${allowed}: ${LEFT_OUT}. ` +
            `${router['defaultRule'] === true ? `Set ${at} to a rule with ${matcher}(\`<host>\`)` : `Add ${matcher}(\`<host>\`) && to the rule`}, or (the operator) clear ${POLICY_SETTINGS.hosts}`,
        });
      }
    }
  }
}

function middlewareViolations(subject: PolicySubject, label: (path: string) => string, problems: LabelProblem[]): void {
  // UDP routers take no middlewares: --policy-entrypoints is what restricts them.
  for (const protocol of ['http', 'tcp'] as const) {
    for (const [name, router] of resources(subject.configuration, protocol, 'routers')) {
      if (strings(router['middlewares']).length > 0) continue;
      const at = label(`${protocol}.routers.${name}.middlewares`);
      problems.push({
        label: at,
        message: `${protocol.toUpperCase()} router "${name}" has no middleware, and the label policy requires at least one on every router: ${LEFT_OUT}. Set ${at}, or (the operator) turn off ${POLICY_SETTINGS.requireMiddlewares}`,
      });
    }
  }
}

/** The policy, ready to check workloads; it must have passed labelPolicyProblems. */
export function compileLabelPolicy(policy: LabelPolicy): CompiledLabelPolicy {
  const refused = new Set(policy.refuseProviders.map((name) => name.toLowerCase()));
  const patterns = policy.hosts.length > 0 ? compileHostPatterns(policy.hosts) : undefined;
  const allowsEverything =
    refused.size === 0 &&
    !policy.refuseServerOverride &&
    policy.entryPoints.length === 0 &&
    patterns === undefined &&
    !policy.requireMiddlewares;
  return {
    policy,
    violations(subject) {
      if (allowsEverything) return [];
      const problems: LabelProblem[] = [];
      const label = labelNamer(subject);
      if (refused.size > 0) referenceViolations(subject, refused, label, problems);
      if (policy.refuseServerOverride) serverOverrideViolations(subject, label, problems);
      if (policy.entryPoints.length > 0) entryPointViolations(subject, policy.entryPoints, label, problems);
      if (patterns !== undefined) hostViolations(subject, patterns, label, problems);
      if (policy.requireMiddlewares) middlewareViolations(subject, label, problems);
      return problems;
    },
  };
}
