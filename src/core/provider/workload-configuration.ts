import { cloneConfig, isConfigObject, type ConfigObject, type ConfigValue } from '../config-tree.ts';
import type { LabelProblem } from '../labels/decode-configuration.ts';
import type { ProviderLabels } from '../labels/decode-provider-labels.ts';
import type { Workload } from '../workload.ts';
import type { CompiledRule } from './default-rule.ts';
import { normalizeName } from './normalize-name.ts';
import type { ProviderOptions } from './provider-options.ts';
import { joinHostPort, serverAddress } from './server-address.ts';
import { nameStickyCookies } from './sticky-cookie-name.ts';

export type Protocol = 'http' | 'tcp' | 'udp';

/** Which workload a server came from, so that each server can be given a key of its own. */
export interface ServerOrigin {
  readonly protocol: Protocol;
  readonly service: string;
  /** The server's `url` (HTTP) or `address` (TCP, UDP). */
  readonly target: string;
  readonly workloadId: string;
}

export type WorkloadBuild =
  | {
      readonly kind: 'routed';
      readonly configuration: ConfigObject;
      readonly servers: readonly ServerOrigin[];
      /** What the labels alone declare, before the provider adds its defaults and servers. */
      readonly declared: ConfigObject;
    }
  | { readonly kind: 'rejected'; readonly problems: readonly LabelProblem[] };

export interface WorkloadContext {
  readonly options: ProviderOptions;
  readonly defaultRule: Extract<CompiledRule, { ok: true }>;
  readonly providerLabels: ProviderLabels;
  /**
   * The dynamic configuration its labels declare (decodeConfigurationLabels), left as it is: copied before anything is
   * added.
   */
  readonly declared: ConfigObject;
}

const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';

/**
 * Traefik's default service name: Compose service and project, else the container or Swarm service name, normalised.
 */
export function defaultServiceName(workload: Workload): string {
  const project = workload.labels[COMPOSE_PROJECT] ?? '';
  const service = workload.labels[COMPOSE_SERVICE] ?? '';
  return normalizeName(project !== '' && service !== '' ? `${service}_${project}` : workload.serviceName);
}

function section(configuration: ConfigObject, name: Protocol): ConfigObject {
  const value = configuration[name];
  if (isConfigObject(value)) return value;
  const created: ConfigObject = {};
  configuration[name] = created;
  return created;
}

function resources(parent: ConfigObject, name: string): ConfigObject {
  const value = parent[name];
  return isConfigObject(value) ? value : {};
}

function count(parent: ConfigObject, name: string): number {
  return Object.keys(resources(parent, name)).length;
}

/** Servers are kept only for running, healthy workloads; others keep their (empty) services. */
export function servesTraffic(workload: Workload): boolean {
  if (workload.status !== '' && workload.status !== 'running') return false;
  return workload.health === undefined || workload.health === '' || workload.health === 'healthy';
}

type ServerResult = { ok: true } | { ok: false; message: string };

function addServer(
  workload: Workload,
  protocol: Protocol,
  serviceName: string,
  loadBalancer: ConfigValue | undefined,
  context: WorkloadContext,
  origins: ServerOrigin[],
): ServerResult {
  if (!isConfigObject(loadBalancer))
    return {
      ok: false,
      message: `service "${serviceName}" has no loadBalancer: labels can only define load-balancer services`,
    };
  const existing = loadBalancer['servers'];
  const servers: ConfigObject[] = Array.isArray(existing) ? (existing as ConfigObject[]) : [];
  if (servers.length === 0) servers.push({});
  loadBalancer['servers'] = servers;
  const server = servers[0] as ConfigObject;

  if (protocol === 'http' && typeof server['url'] === 'string' && server['url'] !== '') {
    if (server['scheme'] !== undefined || server['port'] !== undefined) {
      return {
        ok: false,
        message: `service "${serviceName}": a server url cannot be combined with a scheme or port label`,
      };
    }
    origins.push({ protocol, service: serviceName, target: server['url'], workloadId: workload.id });
    return { ok: true };
  }
  const labelPort = server['port'] === undefined ? undefined : String(server['port']);
  delete server['port'];
  const network = context.providerLabels.network ?? context.options.network;
  const address = serverAddress(workload, labelPort, network, context.options, context.providerLabels.address);
  if (!address.ok) return { ok: false, message: address.message };
  if (address.port === '') {
    return {
      ok: false,
      message: `service "${serviceName}": port is missing; set ${context.options.prefix}.${protocol}.services.${serviceName}.loadbalancer.server.port`,
    };
  }
  const hostPort = joinHostPort(address.ip, address.port);
  if (protocol === 'http') {
    const scheme = typeof server['scheme'] === 'string' && server['scheme'] !== '' ? server['scheme'] : 'http';
    delete server['scheme'];
    server['url'] = `${scheme}://${hostPort}`;
    origins.push({ protocol, service: serviceName, target: server['url'], workloadId: workload.id });
  } else {
    server['address'] = hostPort;
    origins.push({ protocol, service: serviceName, target: hostPort, workloadId: workload.id });
  }
  return { ok: true };
}

function buildServices(
  workload: Workload,
  protocol: Protocol,
  conf: ConfigObject,
  context: WorkloadContext,
  origins: ServerOrigin[],
): ServerResult {
  const name = defaultServiceName(workload);
  if (count(conf, 'services') === 0) {
    conf['services'] = { [name]: { loadBalancer: {} } };
  }
  if (!servesTraffic(workload)) return { ok: true };
  for (const [serviceName, service] of Object.entries(resources(conf, 'services'))) {
    const loadBalancer = isConfigObject(service) ? service['loadBalancer'] : undefined;
    const result = addServer(workload, protocol, serviceName, loadBalancer, context, origins);
    if (!result.ok) return result;
  }
  return { ok: true };
}

/**
 * Links routers without a service to the workload's only service, as Traefik does; returns problems for those it cannot
 * link.
 */
function linkRouters(conf: ConfigObject, problems: LabelProblem[], prefix: string, protocol: Protocol): void {
  const services = Object.keys(resources(conf, 'services'));
  const routers = resources(conf, 'routers');
  for (const [routerName, router] of Object.entries(routers)) {
    if (!isConfigObject(router) || (typeof router['service'] === 'string' && router['service'] !== '')) continue;
    if (services.length > 1) {
      delete routers[routerName];
      problems.push({
        label: `${prefix}.${protocol}.routers.${routerName}.service`,
        message: `router "${routerName}" cannot be linked automatically with several services (${services.join(', ')}); set its service`,
      });
      continue;
    }
    if (services[0] !== undefined) router['service'] = services[0];
  }
}

/**
 * One workload's own configuration, before merging with the others: Traefik's Docker provider
 * `build` step for one container (TCP and UDP first, then HTTP with its automatic service and
 * router), from its decoded labels. Problems that Traefik only logs (a router it drops) are
 * returned as warnings beside the configuration; problems that make Traefik skip the container
 * reject it.
 */
export function buildWorkloadConfiguration(
  workload: Workload,
  context: WorkloadContext,
  warnings: LabelProblem[],
): WorkloadBuild {
  const prefix = context.options.prefix;
  const { declared } = context;
  const conf = cloneConfig(declared);
  const origins: ServerOrigin[] = [];

  let tcpOrUdp = false;
  for (const protocol of ['tcp', 'udp'] as const) {
    const part = section(conf, protocol);
    if (count(part, 'routers') === 0 && count(part, 'services') === 0) {
      if (Object.keys(part).length === 0) delete conf[protocol];
      continue;
    }
    tcpOrUdp = true;
    const result = buildServices(workload, protocol, part, context, origins);
    if (!result.ok)
      return { kind: 'rejected', problems: [{ label: `${prefix}.${protocol}.services`, message: result.message }] };
    if (protocol === 'tcp') {
      const routers = resources(part, 'routers');
      for (const [routerName, router] of Object.entries(routers)) {
        if (isConfigObject(router) && (typeof router['rule'] !== 'string' || router['rule'] === '')) {
          delete routers[routerName];
          warnings.push({
            label: `${prefix}.tcp.routers.${routerName}.rule`,
            message: `TCP router "${routerName}" has no rule and is left out; set a rule such as HostSNI(\`*\`)`,
          });
        }
      }
    }
    linkRouters(part, warnings, prefix, protocol);
  }

  const http = section(conf, 'http');
  if (tcpOrUdp && count(http, 'routers') === 0 && count(http, 'middlewares') === 0 && count(http, 'services') === 0) {
    delete conf['http'];
    return { kind: 'routed', configuration: conf, servers: origins, declared };
  }
  const result = buildServices(workload, 'http', http, context, origins);
  if (!result.ok)
    return { kind: 'rejected', problems: [{ label: `${prefix}.http.services`, message: result.message }] };
  nameStickyCookies(http, workload.kind === 'container' ? 'docker' : 'swarm');

  const serviceName = defaultServiceName(workload);
  if (count(http, 'routers') === 0) {
    if (count(http, 'services') > 1) {
      warnings.push({
        label: `${prefix}.http.routers`,
        message: 'no router is created automatically for a workload with several services; define routers',
      });
    } else {
      http['routers'] = { [serviceName]: {} };
    }
  }
  const routers = resources(http, 'routers');
  // The template sees the same data for every router of the workload: rendered once, not once per
  // router (each rendering reads all the labels, which made thousands of routers quadratic).
  let defaultRule: ReturnType<WorkloadContext['defaultRule']['render']> | undefined;
  for (const [routerName, router] of Object.entries(routers)) {
    if (!isConfigObject(router) || (typeof router['rule'] === 'string' && router['rule'] !== '')) continue;
    const rendered = (defaultRule ??= context.defaultRule.render({
      Name: serviceName,
      ContainerName: workload.name,
      Labels: workload.labels,
    }));
    if (!rendered.ok || rendered.value === '') {
      delete routers[routerName];
      warnings.push({
        label: `${prefix}.http.routers.${routerName}.rule`,
        message: rendered.ok
          ? 'the default rule gives an empty rule; set a rule'
          : `the default rule fails: ${rendered.error}`,
      });
      continue;
    }
    router['rule'] = rendered.value;
    // As Traefik's label providers flag it: Traefik then adds its denyRouterRecursion middleware
    // (a `Host(name)` rule can loop back into itself) and leaves the entry point's default rule
    // syntax aside. The etcd provider reads the flag though the API never shows it.
    router['defaultRule'] = true;
  }
  linkRouters(http, warnings, prefix, 'http');
  return { kind: 'routed', configuration: conf, servers: origins, declared };
}
