import type { ConfigObject } from '../config-tree.ts';
import type { BuildProblem } from '../provider/build-problem.ts';
import type { Contribution } from '../provider/contribution.ts';
import { defaultCookieName } from '../provider/sticky-cookie-name.ts';
import type { ServerOrigin } from '../provider/workload-configuration.ts';
import type { PortAllocation, PortRequest } from './allocate-ports.ts';
import type { AppFrontendMode, AppOptions } from './app-options.ts';
import type { AppDeclaration } from './declare-apps.ts';
import { portEntryPointName } from './entry-point-names.ts';

/** Where users reach one app: for listings (`appproxy apps`, `/apps`) and activity tracking. */
export interface AppFrontend {
  readonly key: string;
  readonly workload: string;
  readonly app: string;
  readonly protocol: 'http' | 'tcp';
  readonly mode: AppFrontendMode;
  readonly entryPoint: string;
  /** Port mode: the port of the range it was given; wildcard mode: the wildcard entry point's port. */
  readonly port: number;
  /** Wildcard mode: its host name; port mode: the public host, when set. */
  readonly host: string;
  /** `http://host:port/` or `tcp://host:port`; empty when no host is known (port mode without --app-public-host). */
  readonly url: string;
  /** The name of its router, service and middleware. */
  readonly resourceName: string;
  readonly idleTimeoutSeconds: number | undefined;
}

export interface AppsServed {
  readonly contributions: readonly Contribution[];
  readonly frontends: readonly AppFrontend[];
  readonly problems: readonly BuildProblem[];
  /** The apps left out, each with the label to fix and why (also in `problems`). */
  readonly leftOut: readonly { readonly app: AppDeclaration; readonly label: string; readonly message: string }[];
}

/** What the port-mode apps ask of an allocator. */
export function portRequests(apps: readonly AppDeclaration[]): PortRequest[] {
  return apps
    .filter((app) => app.spec.frontend === 'port')
    .map((app) => ({ key: app.key, requested: app.spec.frontendPort }));
}

function tcpRule(allow: readonly string[]): string {
  // Traefik v3 routes plain TCP only by HostSNI(`*`); ClientIP narrows it.
  if (allow.length === 0) return 'HostSNI(`*`)';
  const clients = allow.map((range) => `ClientIP(\`${range}\`)`);
  return `HostSNI(\`*\`) && ${clients.length === 1 ? clients[0] : `(${clients.join(' || ')})`}`;
}

function configurationOf(app: AppDeclaration, entryPoint: string, host: string | undefined): ConfigObject {
  const { spec, resourceName: name } = app;
  if (spec.protocol === 'tcp') {
    return {
      tcp: {
        routers: { [name]: { entryPoints: [entryPoint], rule: tcpRule(spec.allow), service: name } },
        services: {
          [name]: {
            loadBalancer:
              app.servers.length === 0 ? {} : { servers: app.servers.map((server) => ({ address: server.target })) },
          },
        },
      },
    };
  }
  const loadBalancer: ConfigObject = {};
  if (app.servers.length > 0) loadBalancer['servers'] = app.servers.map((server) => ({ url: server.target }));
  // Named as Traefik would name it for this service under the etcd provider, and written: an
  // empty cookie object cannot be carried by etcd keys.
  if (spec.sticky) loadBalancer['sticky'] = { cookie: { name: defaultCookieName(`${name}@etcd`) } };
  if (spec.health !== undefined) loadBalancer['healthCheck'] = { path: spec.health };
  // In port mode the entry point is the app's alone: every request on it is the app's.
  const router: ConfigObject = {
    entryPoints: [entryPoint],
    rule: host === undefined ? 'PathPrefix(`/`)' : `Host(\`${host}\`)`,
    service: name,
  };
  const http: ConfigObject = { routers: { [name]: router }, services: { [name]: { loadBalancer } } };
  if (spec.allow.length > 0) {
    router['middlewares'] = [name];
    http['middlewares'] = { [name]: { ipAllowList: { sourceRange: [...spec.allow] } } };
  }
  return { http };
}

function urlOf(protocol: 'http' | 'tcp', host: string, port: number): string {
  if (host === '') return '';
  const shown = host.includes(':') ? `[${host}]` : host;
  return protocol === 'http' ? `http://${shown}:${port}/` : `tcp://${shown}:${port}`;
}

/**
 * The routers, services and middlewares of the apps, given the ports they were allocated: the
 * step after each workload's translation. Kept apart from it so that a workload's translation
 * depends on the workload alone (the sync engine caches it by the workload's fingerprint) while
 * ports depend on every app and on what a store holds; this step is cheap and is simply redone.
 *
 * Every app is on its own: a refused port, a missing wildcard domain or a host name two apps want
 * leaves out the apps concerned, with an error naming the label, and serves the rest.
 */
export function appFrontends(
  apps: readonly AppDeclaration[],
  allocation: PortAllocation,
  options: { readonly apps: AppOptions },
): AppsServed {
  const settings = options.apps;
  const contributions: Contribution[] = [];
  const frontends: AppFrontend[] = [];
  const problems: BuildProblem[] = [];
  const leftOut: { app: AppDeclaration; label: string; message: string }[] = [];
  const error = (app: AppDeclaration, label: string, message: string): void => {
    leftOut.push({ app, label, message });
    problems.push({
      severity: 'error',
      workload: app.workload,
      label,
      message: `app "${app.spec.name}" is left out: ${message}`,
    });
  };

  // Host names two different apps would share: Traefik would route both to one of them.
  const hostOwners = new Map<string, Set<string>>();
  const hostOf = (app: AppDeclaration): string => `${app.subdomain}${settings.wildcardDomain}`;
  for (const app of apps) {
    if (app.spec.frontend !== 'wildcard') continue;
    const owners = hostOwners.get(hostOf(app)) ?? new Set<string>();
    owners.add(app.key);
    hostOwners.set(hostOf(app), owners);
  }

  for (const app of apps) {
    const { spec } = app;
    let entryPoint: string;
    let port: number;
    let host: string | undefined;
    if (spec.frontend === 'port') {
      const refusal = allocation.refused.get(app.key);
      const assignment = allocation.assigned.get(app.key);
      if (assignment === undefined) {
        error(
          app,
          spec.frontendPort === undefined ? `${app.labelBase}.port` : `${app.labelBase}.frontend-port`,
          refusal?.message ?? 'no port was allocated to it',
        );
        continue;
      }
      port = assignment.port;
      entryPoint = portEntryPointName(settings.portEntryPoint, port);
    } else {
      if (settings.wildcardDomain === '') {
        error(
          app,
          `${app.labelBase}.frontend`,
          'the wildcard frontend needs a wildcard domain: start appproxy with --app-wildcard-domain (e.g. .apps.example.com), or set frontend=port',
        );
        continue;
      }
      host = hostOf(app);
      const others = [...(hostOwners.get(host) ?? [])].filter((key) => key !== app.key);
      if (others.length > 0) {
        error(
          app,
          `${app.labelBase}.subdomain`,
          `its host name ${host} is also wanted by ${others.sort().join(', ')}: give each app its own ${app.labelBase}.subdomain`,
        );
        continue;
      }
      port = settings.wildcardPort;
      entryPoint = settings.wildcardEntryPoint;
    }
    const section = spec.protocol;
    const servers: ServerOrigin[] = app.servers.map((server) => ({
      protocol: section,
      service: app.resourceName,
      target: server.target,
      workloadId: server.workloadId,
    }));
    contributions.push({
      origin: `${app.resourceName}-${app.workloadId}`,
      workload: app.workload,
      configuration: configurationOf(app, entryPoint, host),
      servers,
    });
    const shownHost = host ?? settings.publicHost;
    frontends.push({
      key: app.key,
      workload: app.workload,
      app: spec.name,
      protocol: spec.protocol,
      mode: spec.frontend,
      entryPoint,
      port,
      host: shownHost,
      url: urlOf(spec.protocol, shownHost, port),
      resourceName: app.resourceName,
      idleTimeoutSeconds: spec.idleTimeoutSeconds,
    });
  }
  return { contributions, frontends, problems, leftOut };
}
