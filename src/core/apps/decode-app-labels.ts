import { parseBool } from '../../golang/strconv.ts';
import type { LabelProblem } from '../labels/decode-configuration.ts';
import type { WorkloadLabels } from '../labels/workload-labels.ts';
import type { AppFrontendMode } from './app-options.ts';
import { parseClientRanges } from './client-ranges.ts';
import { durationSeconds } from './duration-seconds.ts';

/** One app as its `<prefix>.apps.<name>.*` labels declare it, every value checked. */
export interface AppSpec {
  readonly name: string;
  /** The container port the app listens on. */
  readonly port: number;
  readonly protocol: 'http' | 'tcp';
  readonly frontend: AppFrontendMode;
  /** Wildcard mode: the host name's first label, when the labels choose it. */
  readonly subdomain: string | undefined;
  /** Port mode: the one port of the range it asks for. */
  readonly frontendPort: number | undefined;
  /** Client addresses and CIDR blocks let in; empty lets everyone in. */
  readonly allow: readonly string[];
  /** HTTP: a sticky cookie on its service. */
  readonly sticky: boolean;
  /** HTTP: the path of its service's health check. */
  readonly health: string | undefined;
  /** Kept for activity tracking (not acted on by the translation). */
  readonly idleTimeoutSeconds: number | undefined;
}

export interface DecodedApps {
  /** The apps whose labels are all good, sorted by name. */
  readonly apps: readonly AppSpec[];
  /** Each error leaves out the app it names (and only it). */
  readonly errors: readonly LabelProblem[];
  /** Labels that do nothing for the app as it is (it is served anyway). */
  readonly warnings: readonly LabelProblem[];
}

const APP_FIELDS = [
  'port',
  'protocol',
  'frontend',
  'subdomain',
  'frontend-port',
  'allow',
  'sticky',
  'health',
  'idle-timeout',
] as const;
type AppField = (typeof APP_FIELDS)[number];

/** An app name is also part of host names and resource names: a DNS label, lower case. */
const APP_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : undefined;
}

interface Draft {
  readonly labels: Partial<Record<AppField, { label: string; value: string }>>;
  readonly errors: LabelProblem[];
}

function isAppField(field: string): field is AppField {
  return (APP_FIELDS as readonly string[]).includes(field);
}

/** The checked app, or its errors; `warnings` gets the labels that do nothing for it. */
function checkApp(
  name: string,
  base: string,
  draft: Draft,
  defaultFrontend: AppFrontendMode,
  warnings: LabelProblem[],
): AppSpec | undefined {
  const { labels, errors } = draft;
  const label = (field: AppField): string => labels[field]?.label ?? `${base}.${field}`;
  const value = (field: AppField): string | undefined => labels[field]?.value;

  const portText = value('port');
  const port = portText === undefined ? undefined : parsePort(portText);
  if (portText === undefined)
    errors.push({
      label: `${base}.port`,
      message: `no port: set ${base}.port to the container port the app listens on (e.g. 8888)`,
    });
  else if (port === undefined)
    errors.push({
      label: label('port'),
      message: `expects the container port the app listens on, 1 to 65535, got "${portText}"`,
    });

  const protocolText = value('protocol')?.toLowerCase() ?? 'http';
  if (protocolText !== 'http' && protocolText !== 'tcp')
    errors.push({ label: label('protocol'), message: `expects "http" or "tcp", got "${value('protocol') ?? ''}"` });
  const protocol = protocolText === 'tcp' ? 'tcp' : 'http';

  const frontendText = value('frontend')?.toLowerCase() ?? defaultFrontend;
  if (frontendText !== 'port' && frontendText !== 'wildcard')
    errors.push({
      label: label('frontend'),
      message: `expects "port" (a port of the range) or "wildcard" (a host name under the wildcard domain), got "${value('frontend') ?? ''}"`,
    });
  const frontend: AppFrontendMode = frontendText === 'wildcard' ? 'wildcard' : 'port';
  if (protocol === 'tcp' && frontend === 'wildcard') {
    // A host name reaches Traefik in an HTTP Host header or a TLS SNI; a plain TCP connection has neither.
    const where = value('frontend') === undefined ? ' (the instance default, --app-frontend)' : '';
    errors.push({
      label: value('frontend') === undefined ? label('protocol') : label('frontend'),
      message: `a TCP app cannot use the wildcard frontend${where}: plain TCP carries no host name to route by; set ${base}.frontend=port`,
    });
  }

  const subdomain = value('subdomain');
  if (subdomain !== undefined && !DNS_LABEL.test(subdomain)) {
    errors.push({
      label: label('subdomain'),
      message: `expects one DNS label: 1 to 63 lower-case letters, digits and "-", not starting or ending with "-", got "${subdomain}"`,
    });
  } else if (subdomain !== undefined && frontend === 'port') {
    warnings.push({
      label: label('subdomain'),
      message: `app "${name}" uses the port frontend, which has no host name: the subdomain does nothing (set ${base}.frontend=wildcard to use it)`,
    });
  }

  const frontendPortText = value('frontend-port');
  const frontendPort = frontendPortText === undefined ? undefined : parsePort(frontendPortText);
  if (frontendPortText !== undefined && frontendPort === undefined) {
    errors.push({
      label: label('frontend-port'),
      message: `expects a port of the app port range (--app-port-range), got "${frontendPortText}"`,
    });
  } else if (frontendPort !== undefined && frontend === 'wildcard') {
    warnings.push({
      label: label('frontend-port'),
      message: `app "${name}" uses the wildcard frontend, which has no port of its own: frontend-port does nothing (set ${base}.frontend=port to use it)`,
    });
  }

  const allowText = value('allow');
  let allow: readonly string[] = [];
  if (allowText !== undefined) {
    const parsed = parseClientRanges(allowText);
    if (parsed.ok) allow = parsed.value;
    else errors.push({ label: label('allow'), message: parsed.message });
  }

  const stickyText = value('sticky');
  const sticky = stickyText === undefined ? false : parseBool(stickyText);
  if (sticky === undefined)
    errors.push({ label: label('sticky'), message: `expects true or false, got "${stickyText ?? ''}"` });
  else if (sticky && protocol === 'tcp')
    warnings.push({
      label: label('sticky'),
      message: `app "${name}" is TCP: a sticky cookie needs HTTP, so sticky does nothing`,
    });

  const health = value('health');
  if (health !== undefined && !/^\/[\x21-\x7e]{0,1023}$/.test(health)) {
    errors.push({
      label: label('health'),
      message: `expects an HTTP path starting with "/", without spaces (e.g. /healthz), got ${JSON.stringify(health)}`,
    });
  } else if (health !== undefined && protocol === 'tcp') {
    warnings.push({
      label: label('health'),
      message: `app "${name}" is TCP: the health check is an HTTP request, so health does nothing`,
    });
  }

  const idleText = value('idle-timeout');
  const idleTimeoutSeconds = idleText === undefined ? undefined : durationSeconds(idleText);
  if (idleText !== undefined && idleTimeoutSeconds === undefined) {
    errors.push({
      label: label('idle-timeout'),
      message: `expects a duration above zero such as "30m", "1h30m" or a number of seconds, got "${idleText}"`,
    });
  }

  if (errors.length > 0 || port === undefined || sticky === undefined) return undefined;
  return {
    name,
    port,
    protocol,
    frontend,
    subdomain: frontend === 'wildcard' ? subdomain : undefined,
    frontendPort: frontend === 'port' ? frontendPort : undefined,
    allow,
    sticky: sticky && protocol === 'http',
    health: protocol === 'http' ? health : undefined,
    idleTimeoutSeconds,
  };
}

/**
 * Decodes `<prefix>.apps.<name>.<field>` labels: several apps per workload, each checked on its
 * own, so that a bad value leaves out that app alone. Field names match without regard to case,
 * as every label here; app names are lower case because they become host names.
 */
export function decodeAppLabels(labels: WorkloadLabels, defaultFrontend: AppFrontendMode): DecodedApps {
  const { prefix } = labels;
  const drafts = new Map<string, Draft>();
  const errors: LabelProblem[] = [];
  const warnings: LabelProblem[] = [];
  for (const { label, value, path } of labels.sections.get('apps') ?? []) {
    const [, name, ...rest] = path.split('.');
    if (name === undefined || name === '') {
      errors.push({
        label,
        message: `expects ${prefix}.apps.<name>.<field>, with a field of ${APP_FIELDS.join(', ')}`,
      });
      continue;
    }
    let draft = drafts.get(name);
    if (draft === undefined) {
      draft = { labels: {}, errors: [] };
      drafts.set(name, draft);
    }
    const field = rest.join('.').toLowerCase();
    if (!isAppField(field)) {
      draft.errors.push({
        label,
        message:
          rest.length === 0
            ? `a field is missing: ${prefix}.apps.${name}.<field>, one of ${APP_FIELDS.join(', ')}`
            : `unknown app field "${rest.join('.')}"; accepted: ${APP_FIELDS.join(', ')}`,
      });
      continue;
    }
    draft.labels[field] = { label, value };
  }
  const apps: AppSpec[] = [];
  for (const [name, draft] of [...drafts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const base = `${prefix}.apps.${name}`;
    if (!APP_NAME.test(name)) {
      errors.push({
        label: Object.values(draft.labels)[0]?.label ?? base,
        message: `app "${name}" is left out: an app name must be 1 to 32 lower-case letters, digits and "-", not starting or ending with "-" (it becomes part of host and resource names)`,
      });
      continue;
    }
    const app = checkApp(name, base, draft, defaultFrontend, warnings);
    for (const error of draft.errors)
      errors.push({ label: error.label, message: `app "${name}" is left out: ${error.message}` });
    if (app !== undefined) apps.push(app);
  }
  return { apps, errors, warnings };
}
