import { isConfigObject, type ConfigObject, type ConfigValue } from '../config-tree.ts';
import type { LabelProblem } from '../labels/decode-configuration.ts';
import { walkStruct } from './walk-configuration.ts';

const RESOURCE_MAPS = new Set(['routers', 'services', 'middlewares', 'models', 'serversTransports', 'stores']);

/** Why a map key cannot be a key segment of the store (etcd or Redis), or undefined when it can. */
function badKey(key: string, resource: boolean): string | undefined {
  if (key.includes('/')) return 'contains "/", which would split the key in the store';
  if (/^\d+$/.test(key)) return "is only digits, which Traefik's KV providers read as a list index";
  if (resource && key.includes('@')) return 'contains "@", which Traefik reads as a provider suffix';
  if (resource && /[\s\p{Cc}]/u.test(key)) return 'contains white space or control characters';
  if (resource && (key === '.' || key === '..')) return 'is a relative path name';
  // A line break or tab in any key (a header name, a plugin option) breaks every line-oriented
  // view of the tree (`render --format kv`, etcdctl) and is no valid name in HTTP anyway.
  if (/\p{Cc}/u.test(key)) return 'contains control characters (a line break, a tab)';
  return undefined;
}

/** A resource left out, by its section (`http`, `tcp`, `udp`, `tls`), kind and name. */
interface DroppedResource {
  readonly section: string;
  readonly name: string;
  /** The label at fault: the resource's own, or that of the resource whose loss took it. */
  readonly label: string;
}

/**
 * Makes every map key of a built configuration one that store keys (etcd or Redis) can carry, in place, and says
 * what it changed. Map keys become key segments: `/` would split them, a digits-only segment is
 * read by Traefik's KV decoder as a list index, `@` in a resource name reads as a provider suffix,
 * and control characters make names nobody can type.
 *
 * - A single status in an errors middleware's `statusRewrites` (`418`) becomes its range (`418-418`),
 *   which Traefik reads the same way under every provider: nothing is lost.
 * - Any other bad key leaves out that entry only (a header, a plugin option, a resource), with an
 *   error naming the label. A resource left out also takes this workload's resources that refer to
 *   it, each with its own error, so that Traefik is never given a router pointing at nothing.
 */
export function makeNamesKeySafe(configuration: ConfigObject, prefix: string): LabelProblem[] {
  const problems: LabelProblem[] = [];
  const dropped: DroppedResource[] = [];
  /** Resources (section, kind, name) that lost an entry, with the label at fault. */
  const touched = new Map<string, string>();
  const labelOf = (path: readonly string[], key: string) => `${prefix}.${[...path, key].join('.')}`;
  walkStruct(configuration, 'Configuration', [], {
    mapKey(path, key, field, map) {
      if (field.key === 'statusRewrites' && /^\d+$/.test(key)) {
        const range = `${key}-${key}`;
        if (!Object.hasOwn(map, range)) {
          map[range] = map[key] as ConfigValue;
          return 'drop';
        }
        if (map[range] === map[key]) return 'drop';
        problems.push({
          label: labelOf(path, key),
          message: `status "${key}" is also given as "${range}" with another value; it is left out: give it once`,
        });
        return 'drop';
      }
      const resource = RESOURCE_MAPS.has(field.key) && path.length === 2;
      const why = badKey(key, resource);
      if (why === undefined) return 'keep';
      const label = labelOf(path, key);
      const what = resource ? `${path.join('.')} "${key}"` : 'this entry';
      problems.push({ label, message: `name "${key}" ${why}; ${what} is left out: use letters, digits, "-" and "_"` });
      if (resource && path[0] !== undefined) dropped.push({ section: path[0], name: key, label });
      else if (path.length >= 3) touched.set(path.slice(0, 3).join('\0'), label);
      return 'drop';
    },
  });
  // A resource whose only entries were left out would reach Traefik as an empty definition (a
  // middleware of no type, which fails every router using it): it is left out as a whole.
  for (const [at, label] of touched) {
    const [section = '', kind = '', name = ''] = at.split('\0');
    const map = (configuration[section] as ConfigObject | undefined)?.[kind];
    if (!isConfigObject(map) || !Object.hasOwn(map, name) || !emptyDeep(map[name])) continue;
    delete map[name];
    problems.push({
      label,
      message: `${section}.${kind} "${name}" has nothing left once that entry is left out, and is left out as a whole`,
    });
    dropped.push({ section, name, label });
  }
  dropReferrers(configuration, dropped, problems);
  return problems;
}

/** An object with nothing in it but empty objects: what Traefik would read as no definition at all. */
function emptyDeep(value: ConfigValue | undefined): boolean {
  return isConfigObject(value) && Object.values(value).every((inner) => emptyDeep(inner));
}

/** How this workload's own references spell a resource name once `@docker`/`@swarm` are rewritten away. */
function referenceTo(name: string): string {
  return name.replace(/@(docker|swarm)$/, '');
}

/** A resource that refers to others, by its place in the configuration. */
interface Referrer {
  /** Its place in the walk, which keeps the errors in the order a walk per dropped resource gave. */
  readonly order: number;
  readonly kind: string;
  readonly name: string;
}

/**
 * Leaves out the resources (of this workload's configuration) that refer to a resource left out,
 * until none is left: the automatic router of a service left out, a chain of a middleware left out.
 * The references are found in one walk: walking the configuration again for every resource left
 * out took time quadratic in the number of resources (seconds for a few thousand).
 */
function dropReferrers(configuration: ConfigObject, dropped: DroppedResource[], problems: LabelProblem[]): void {
  if (dropped.length === 0) return;
  /** `<section>\0<name referred to>` → the resources that refer to it, in walk order. */
  const referrers = new Map<string, Referrer[]>();
  let order = 0;
  walkStruct(configuration, 'Configuration', [], {
    scalar({ path, field, value }) {
      if (!field.ref || path.length < 3) return;
      const [section, kind, name] = path as [string, string, string];
      const referrer = { order: order++, kind, name };
      for (const target of new Set(Array.isArray(value) ? value : [value])) {
        if (typeof target !== 'string') continue;
        const key = `${section}\0${target}`;
        const list = referrers.get(key);
        if (list === undefined) referrers.set(key, [referrer]);
        else list.push(referrer);
      }
    },
  });
  const pending = [...dropped];
  for (let next = 0; next < pending.length; next++) {
    const gone = pending[next] as DroppedResource;
    const section = configuration[gone.section];
    if (!isConfigObject(section)) continue;
    const alias = referenceTo(gone.name);
    const found = referrers.get(`${gone.section}\0${gone.name}`) ?? [];
    const candidates =
      alias === gone.name ? found : inWalkOrder(found, referrers.get(`${gone.section}\0${alias}`) ?? []);
    for (const { kind, name } of candidates) {
      const map = section[kind];
      if (!isConfigObject(map) || !Object.hasOwn(map, name)) continue;
      delete map[name];
      // The problem names the label at fault: the referrer may have none (an automatic router).
      problems.push({
        label: gone.label,
        message: `${gone.section}.${kind} "${name}" refers to "${gone.name}", which is left out, and is left out with it`,
      });
      pending.push({ section: gone.section, name, label: gone.label });
    }
  }
}

/** Two lists in walk order, merged into one. */
function inWalkOrder(a: readonly Referrer[], b: readonly Referrer[]): Referrer[] {
  const merged: Referrer[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.order <= y.order)) {
      merged.push(x as Referrer);
      i++;
    } else {
      merged.push(y);
      j++;
    }
  }
  return merged;
}
