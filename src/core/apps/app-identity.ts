import { createHash } from 'node:crypto';
import type { Workload } from '../workload.ts';

const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';
const COMPOSE_NUMBER = 'com.docker.compose.container-number';

/** Who an app belongs to, in words that survive a restart of its container. */
export interface AppOwner {
  /**
   * `compose/<project>/<service>/<number>`, `container/<name>` or `swarm/<service>`: never an id,
   * so that a container recreated by Compose, restarted by hand under its name, or a service
   * updated by Swarm keeps its ports. Independent of the appproxy instance (owner) that serves it,
   * so that the same workload keeps its port when another instance takes it over.
   */
  readonly key: string;
  /** A lower-case form for names people read: `<project>-<service>-<number>`, the container or service name. */
  readonly readable: string;
}

/** Lower-case letters, digits and single `-`: the one form that is a DNS label, a resource name and etcd-safe. */
function dnsText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The owner of the apps that `workload` declares (a container or a Swarm service, never a task). */
export function appOwner(workload: Workload): AppOwner {
  const project = workload.labels[COMPOSE_PROJECT] ?? '';
  const service = workload.labels[COMPOSE_SERVICE] ?? '';
  const number = workload.labels[COMPOSE_NUMBER] ?? '';
  if (workload.kind === 'container' && project !== '' && service !== '' && number !== '') {
    return {
      key: `compose/${project}/${service}/${number}`,
      readable: dnsText(`${project}-${service}-${number}`) || 'workload',
    };
  }
  const kind = workload.kind === 'container' ? 'container' : 'swarm';
  return { key: `${kind}/${workload.serviceName}`, readable: dnsText(workload.serviceName) || 'workload' };
}

/** The stable identity of one app, the key its port is held under: `<owner key>/<app>`. */
export function appKey(owner: AppOwner, app: string): string {
  return `${owner.key}/${app}`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * The name of an app's router, service and middleware: `app.<readable>.<app>.<hash>`.
 *
 * The dots keep it apart from every name a user can give: in the label grammar a dot ends a name
 * (`http.routers.a.b` is field `b` of router `a`), and Traefik's default names are normalised to
 * letters, digits and `-`. The hash of the app's key keeps two apps apart whose readable forms
 * meet (`a_b` and `a-b`, a Compose container and a plain one named alike, names cut short).
 */
export function appResourceName(owner: AppOwner, app: string): string {
  // Cut short: the hash tells them apart, and names are keys people read.
  const readable = owner.readable.slice(0, 40).replace(/-+$/, '');
  return `app.${readable}.${app}.${shortHash(appKey(owner, app))}`;
}

const DNS_LABEL_MAX = 63;

/**
 * The host name label of a wildcard-mode app that chooses none: `<app>-<readable>`, cut to a DNS
 * label's 63 characters with a hash of its key in the place of what was cut, so that two long
 * names sharing a beginning stay apart.
 */
export function defaultSubdomain(owner: AppOwner, app: string): string {
  const full = dnsText(`${app}-${owner.readable}`);
  if (full.length <= DNS_LABEL_MAX) return full;
  return `${full.slice(0, DNS_LABEL_MAX - 9).replace(/-+$/, '')}-${shortHash(appKey(owner, app))}`;
}
