import type { ConfigObject } from '../config-tree.ts';
import type { LabelProblem } from '../labels/decode-configuration.ts';
import { walkStruct } from './walk-configuration.ts';

const RESOURCE_MAPS = new Set(['routers', 'services', 'middlewares', 'models', 'serversTransports', 'stores']);

/**
 * Names that cannot survive the trip through etcd keys. Resource names become key segments, so
 * `/` would split them and `@` would read as a provider suffix; a digits-only segment is read by
 * Traefik's KV decoder as a list index; spaces and control characters make names nobody can type
 * in a rule or a reference. Names of other maps (header names, plugin options, at any depth) only
 * need to be valid key segments.
 */
export function checkNames(configuration: ConfigObject, prefix: string): LabelProblem[] {
  const problems: LabelProblem[] = [];
  walkStruct(configuration, 'Configuration', [], {
    mapKey(path, key, field) {
      const label = `${prefix}.${[...path, key].join('.')}`;
      const resource = RESOURCE_MAPS.has(field.key) && path.length === 2;
      let message: string | undefined;
      if (key.includes('/')) message = 'contains "/", which would split the etcd key';
      else if (/^\d+$/.test(key)) message = 'is only digits, which Traefik\'s etcd provider reads as a list index';
      else if (resource && key.includes('@')) message = 'contains "@", which Traefik reads as a provider suffix';
      else if (resource && /[\s\p{Cc}]/u.test(key)) message = 'contains white space or control characters';
      else if (resource && (key === '.' || key === '..')) message = 'is a relative path name';
      // A line break or tab in any key (a header name, a plugin option) breaks every line-oriented
      // view of the tree (`render --format kv`, etcdctl) and is no valid name in HTTP anyway.
      else if (/\p{Cc}/u.test(key)) message = 'contains control characters (a line break, a tab)';
      if (message !== undefined) {
        problems.push({ label, message: `name "${key}" ${message}; use letters, digits, "-" and "_"` });
      }
    },
  });
  return problems;
}
