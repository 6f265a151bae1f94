import { isIP } from 'node:net';
import type { Workload, WorkloadNetwork, WorkloadPort } from '../core/workload.ts';
import type { ContainerInspect, EndpointSettingsJson, PortBindingJson } from './inspect-types.ts';

const CONTAINER_MODE_PREFIX = 'container:';

/**
 * Builds the core's view of one container from its inspect JSON, taking the same data Traefik's
 * Docker provider takes (parseContainer). For `container:<id>` network mode the container whose network
 * stack is shared is resolved through `lookup`, because Traefik reads that container's labels and
 * addresses when choosing the server IP.
 */
export function containerToWorkload(
  inspect: ContainerInspect,
  lookup?: (idOrName: string) => ContainerInspect | undefined,
): Workload {
  return convert(inspect, lookup, new Set());
}

function convert(
  inspect: ContainerInspect,
  lookup: ((idOrName: string) => ContainerInspect | undefined) | undefined,
  chain: Set<string>,
): Workload {
  const name = (inspect.Name ?? '').replace(/^\//, '');
  const networkMode = inspect.HostConfig?.NetworkMode ?? undefined;
  return {
    kind: 'container',
    id: inspect.Id,
    name,
    serviceName: name,
    labels: { ...(inspect.Config?.Labels ?? {}) },
    status: inspect.State?.Status ?? '',
    health: inspect.State?.Health?.Status ?? undefined,
    networkMode,
    ports: toPorts(inspect.NetworkSettings?.Ports),
    networks: toNetworks(inspect.NetworkSettings?.Networks),
    networkContainer: resolveNetworkContainer(inspect.Id, networkMode, lookup, chain),
  };
}

function resolveNetworkContainer(
  id: string,
  networkMode: string | undefined,
  lookup: ((idOrName: string) => ContainerInspect | undefined) | undefined,
  chain: Set<string>,
): Workload | undefined {
  if (lookup === undefined || networkMode === undefined || !networkMode.startsWith(CONTAINER_MODE_PREFIX)) {
    return undefined;
  }
  const target = lookup(networkMode.slice(CONTAINER_MODE_PREFIX.length));
  // Docker refuses to create such cycles, but inspect JSON captured at different moments (or a
  // hand-made fixture) could still describe one; an unbounded recursion would take the process down.
  const nextChain = new Set(chain).add(id);
  if (target === undefined || nextChain.has(target.Id)) {
    return undefined;
  }
  return convert(target, lookup, nextChain);
}

function toPorts(
  ports: Readonly<Record<string, readonly PortBindingJson[] | null>> | null | undefined,
): WorkloadPort[] {
  const result = Object.entries(ports ?? {}).map(([name, bindings]) => ({
    name,
    bindings: (bindings ?? []).map((b) => ({ hostIp: b.HostIp ?? '', hostPort: b.HostPort ?? '' })),
  }));
  // The engine's JSON object order is not meaningful; the core wants a stable order.
  return result.sort((a, b) => portNumber(a.name) - portNumber(b.name) || compareText(a.name, b.name));
}

function portNumber(name: string): number {
  const n = Number.parseInt(name, 10);
  return Number.isNaN(n) ? Number.MAX_SAFE_INTEGER : n;
}

function toNetworks(
  networks: Readonly<Record<string, EndpointSettingsJson | null>> | null | undefined,
): WorkloadNetwork[] {
  return Object.entries(networks ?? {})
    .map(([name, settings]) => ({ name, ip: firstAddress(settings?.IPAddress, settings?.GlobalIPv6Address) }))
    .sort((a, b) => compareText(a.name, b.name));
}

/** Traefik takes the IPv4 address when it is valid, else the global IPv6 one, else nothing. */
function firstAddress(...candidates: readonly (string | null | undefined)[]): string {
  for (const candidate of candidates) {
    if (candidate && isIP(candidate) !== 0) {
      return candidate;
    }
  }
  return '';
}

/** Code-point order, like Go's sort of strings, independent of the process locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
