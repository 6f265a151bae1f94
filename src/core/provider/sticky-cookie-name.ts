import { createHash } from 'node:crypto';
import { isConfigObject, type ConfigObject } from '../config-tree.ts';

/**
 * Traefik's default sticky cookie name for a service: `_` and the first 5 hex digits of a SHA-1 of its qualified name.
 */
export function defaultCookieName(qualifiedService: string): string {
  return `_${createHash('sha1').update(`_TRAEFIK_BACKEND_${qualifiedService}`).digest('hex')}`.slice(0, 6);
}

/**
 * Traefik names a sticky cookie that has no name after the service *with its provider suffix*,
 * so the same labels would give `_beffe` under the Docker provider and another name under the
 * etcd provider: browsers would lose their stickiness on the move. The name the Docker (or Swarm)
 * provider would have used is written explicitly instead.
 */
export function nameStickyCookies(http: ConfigObject, provider: 'docker' | 'swarm'): void {
  const services = http['services'];
  if (!isConfigObject(services)) return;
  for (const [name, service] of Object.entries(services)) {
    const loadBalancer = isConfigObject(service) ? service['loadBalancer'] : undefined;
    const sticky = isConfigObject(loadBalancer) ? loadBalancer['sticky'] : undefined;
    const cookie = isConfigObject(sticky) ? sticky['cookie'] : undefined;
    if (isConfigObject(cookie) && (cookie['name'] === undefined || cookie['name'] === '')) {
      cookie['name'] = defaultCookieName(`${name}@${provider}`);
    }
  }
}
