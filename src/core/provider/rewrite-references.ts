import type { ConfigObject, ConfigValue } from '../config-tree.ts';
import { walkStruct } from './walk-configuration.ts';

// Resources this project writes all land in Traefik's etcd provider, so a label that points at
// `name@docker` or `name@swarm` means the resource we write under `name`. An unqualified name
// resolves inside the provider that holds the reference, which is the etcd provider.
const OWN_PROVIDERS = /@(docker|swarm)$/;

function rewrite(reference: ConfigValue): ConfigValue {
  return typeof reference === 'string' ? reference.replace(OWN_PROVIDERS, '') : reference;
}

/** Rewrites `@docker` and `@swarm` references (routers' services and middlewares, chains, ...) in place. */
export function rewriteReferences(configuration: ConfigObject): void {
  walkStruct(configuration, 'Configuration', [], {
    scalar(visit) {
      if (!visit.field.ref) return;
      const { value } = visit;
      visit.replace(Array.isArray(value) ? value.map(rewrite) : rewrite(value));
    },
  });
}
