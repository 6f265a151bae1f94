import type { Workload } from '../workload.ts';
import { decodeProviderLabels } from '../labels/decode-provider-labels.ts';
import { readLabels } from '../labels/workload-labels.ts';
import type { ProviderOptions } from './provider-options.ts';

export type AddressResult =
  { readonly ok: true; readonly ip: string; readonly port: string } | { readonly ok: false; readonly message: string };

function portNumber(name: string): number {
  return Number.parseInt(name.split('/')[0] ?? '', 10);
}

/** The port Traefik picks: the one a label gives, else the lowest exposed port. */
export function chooseServerPort(workload: Workload, labelPort: string | undefined): string {
  if (labelPort !== undefined && labelPort !== '') return labelPort;
  const ports = [...workload.ports].sort((a, b) => portNumber(a.name) - portNumber(b.name));
  const lowest = ports[0];
  return lowest === undefined ? '' : String(portNumber(lowest.name));
}

/**
 * The workload's address, following Traefik's order: the network the labels or options name, the
 * node (or configured) address in host mode, the container whose network stack it shares, else the
 * first network. Traefik takes the "first" network in Go's random map order; here it is the first
 * by name, so that every pass gives the same answer.
 */
export function workloadAddress(workload: Workload, network: string, options: ProviderOptions, depth = 0): string {
  if (network !== '') {
    const named = workload.networks.find((candidate) => candidate.name === network);
    if (named !== undefined) return named.ip;
  }
  const mode = workload.networkMode ?? '';
  if (mode === 'host') return workload.nodeIp ?? options.hostNetworkAddress;
  if (mode.startsWith('container:')) {
    const shared = workload.networkContainer;
    if (shared === undefined || depth > 8) return '';
    const labels = decodeProviderLabels(readLabels(shared.labels, options.prefix), 'docker');
    if (!labels.ok) return '';
    return workloadAddress(shared, labels.value.network ?? network, options, depth + 1);
  }
  return workload.networks[0]?.ip ?? '';
}

/** The host port a container port is published on, with the address it is bound to. */
function publishedBinding(workload: Workload, wanted: string): { hostIp: string; hostPort: string } | undefined {
  const published = workload.ports.find((candidate) => {
    const [number, protocol] = candidate.name.split('/');
    return number === wanted && (protocol === 'tcp' || protocol === 'udp') && candidate.bindings.length > 0;
  });
  return published?.bindings[0];
}

const WILDCARD = new Set(['', '0.0.0.0', '::']);

/**
 * appproxy's published mode, for a Traefik on another host: the host's advertised address (or the
 * specific address a port is bound to) with the published port. Undefined when the port is not
 * published, which the caller reports.
 */
function publishedAddress(
  workload: Workload,
  labelPort: string | undefined,
  advertiseAddress: string,
): { ip: string; port: string } | undefined {
  const binding = publishedBinding(workload, chooseServerPort(workload, labelPort));
  if (binding === undefined) return undefined;
  const ip = WILDCARD.has(binding.hostIp) ? advertiseAddress : binding.hostIp;
  return ip === '' ? undefined : { ip, port: binding.hostPort };
}

/**
 * Traefik's getIPPort: a published binding when asked for and usable, else the network address.
 * `address` is the workload's `<prefix>.sidecar.address` choice, if any.
 */
export function serverAddress(
  workload: Workload,
  labelPort: string | undefined,
  network: string,
  options: ProviderOptions,
  address?: 'published' | 'container',
): AddressResult {
  // The advertised address goes with a container's published ports. Swarm tasks publish none: they
  // are routed to their task address on the overlay, as Traefik's Swarm provider does, whatever
  // this host advertises (an instance with an advertised address may be the elected Swarm writer).
  const advertised = options.advertiseAddress !== '' && workload.kind === 'container';
  const mode = address ?? (advertised ? 'published' : 'container');
  if (mode === 'published') {
    const published = publishedAddress(workload, labelPort, options.advertiseAddress);
    if (published === undefined) {
      return {
        ok: false,
        message: `port ${chooseServerPort(workload, labelPort) || '(none)'} of "${workload.name}" is not published, so a Traefik on another host cannot reach it: publish it (ports: "<host>:<container>") or set sidecar.address=container`,
      };
    }
    return { ok: true, ...published };
  }
  let ip = '';
  let port = '';
  let bound = false;
  if (options.useBindPortIP) {
    const binding = publishedBinding(workload, chooseServerPort(workload, labelPort));
    if (binding !== undefined && !WILDCARD.has(binding.hostIp)) {
      ip = binding.hostIp;
      port = binding.hostPort;
      bound = true;
    }
  }
  if (!bound) {
    ip = workloadAddress(workload, network, options);
    port = chooseServerPort(workload, labelPort);
  }
  if (ip === '')
    return {
      ok: false,
      message: `unable to find the IP address of "${workload.name}": attach it to a network, or name one with the docker.network label`,
    };
  return { ok: true, ip, port };
}

/** Go's net.JoinHostPort: IPv6 addresses in brackets. */
export function joinHostPort(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
