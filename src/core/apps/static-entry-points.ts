import type { AppOptions } from './app-options.ts';
import { portEntryPointName } from './entry-point-names.ts';

/** One entry point of Traefik's static configuration. */
export interface StaticEntryPoint {
  readonly name: string;
  /** `:<port>`, or `<listen address>:<port>` (`[v6]:<port>`). */
  readonly address: string;
}

function address(listen: string, port: number): string {
  const host = listen.includes(':') && !listen.startsWith('[') ? `[${listen}]` : listen;
  return `${host}:${port}`;
}

/**
 * The entry points Traefik must declare for the apps: one per port of the range (in port order),
 * then the wildcard one when a wildcard domain is set (without it no app can use it). Traefik
 * reads entry points from its static configuration only, so these cannot come through etcd.
 */
export function staticEntryPoints(options: AppOptions, listenAddress = ''): StaticEntryPoint[] {
  const entryPoints: StaticEntryPoint[] = [];
  for (let port = options.portRange.first; port <= options.portRange.last; port += 1) {
    entryPoints.push({ name: portEntryPointName(options.portEntryPoint, port), address: address(listenAddress, port) });
  }
  if (options.wildcardDomain !== '')
    entryPoints.push({ name: options.wildcardEntryPoint, address: address(listenAddress, options.wildcardPort) });
  return entryPoints;
}
