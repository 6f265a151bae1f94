import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { keyValuesToConfiguration } from '../../src/core/kv/key-values-to-configuration.ts';

// Every golden case's keys (what Traefik's etcd provider reads) decode to the configuration its
// `expected.yaml` renders (what appproxy built): the HTTP provider is served what the store holds.
const golden = new URL('../golden/', import.meta.url).pathname;

function readKv(path: string): [string, string][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)];
    });
}

/** A service's servers in one order: the store names them by owner and workload, appproxy by build order. */
function serversSorted(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => serversSorted(item));
    return key === 'servers' ? items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : items;
  }
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, serversSorted(item, name)]));
}

for (const name of readdirSync(golden).sort()) {
  const folder = join(golden, name);
  if (!existsSync(join(folder, 'expected.kv')) || !existsSync(join(folder, 'expected.yaml'))) continue;
  test(`keys to configuration: golden ${name}`, () => {
    const options = existsSync(join(folder, 'options.json'))
      ? (JSON.parse(readFileSync(join(folder, 'options.json'), 'utf8')) as { rootKey?: string })
      : {};
    const expected = (parse(readFileSync(join(folder, 'expected.yaml'), 'utf8')) as object | null) ?? {};
    const decoded = keyValuesToConfiguration(readKv(join(folder, 'expected.kv')), options.rootKey ?? 'traefik');
    assert.deepEqual(serversSorted(decoded), serversSorted(expected));
  });
}

const cases: { name: string; keys: Record<string, string>; expected: object }[] = [
  {
    name: 'field names in any case come out in the schema spelling; resource names as written',
    keys: { 'traefik/HTTP/Routers/Chat/RULE': 'Host(`a`)', 'traefik/http/routers/Chat/entrypoints/0': 'web' },
    expected: { http: { routers: { Chat: { rule: 'Host(`a`)', entryPoints: ['web'] } } } },
  },
  {
    name: 'list items in the order of their names as text (zero-padded by the writer)',
    keys: Object.fromEntries(
      Array.from({ length: 11 }, (_, index) => [
        `traefik/http/routers/r/middlewares/${String(index).padStart(2, '0')}`,
        `m${index}`,
      ]),
    ),
    expected: { http: { routers: { r: { middlewares: Array.from({ length: 11 }, (_, index) => `m${index}`) } } } },
  },
  {
    name: 'a bare true on an object is the object with its defaults',
    keys: { 'traefik/http/routers/r/tls': 'true', 'traefik/http/middlewares/m/stripPrefix/prefixes/0': '/a' },
    expected: { http: { routers: { r: { tls: {} } }, middlewares: { m: { stripPrefix: { prefixes: ['/a'] } } } } },
  },
  {
    name: 'scalars typed where the text is the type spelling, text otherwise',
    keys: {
      'traefik/http/routers/r/priority': '10',
      'traefik/http/services/s/loadBalancer/passHostHeader': 'true',
      'traefik/http/services/t/loadBalancer/passHostHeader': 'TRUE',
      'traefik/http/routers/q/priority': '010',
    },
    expected: {
      http: {
        routers: { r: { priority: 10 }, q: { priority: '010' } },
        services: { s: { loadBalancer: { passHostHeader: true } }, t: { loadBalancer: { passHostHeader: 'TRUE' } } },
      },
    },
  },
  {
    name: "servers named by owner and workload are a list; a plugin's options keep their lists",
    keys: {
      'traefik/http/services/s/loadBalancer/servers/b-2/url': 'http://b',
      'traefik/http/services/s/loadBalancer/servers/a-1/url': 'http://a',
      'traefik/http/middlewares/p/plugin/demo/names/0': 'x',
      'traefik/http/middlewares/p/plugin/demo/names/1': 'y',
      'traefik/http/middlewares/p/plugin/demo/inner/Key': 'v',
    },
    expected: {
      http: {
        services: { s: { loadBalancer: { servers: [{ url: 'http://a' }, { url: 'http://b' }] } } },
        middlewares: { p: { plugin: { demo: { names: ['x', 'y'], inner: { Key: 'v' } } } } },
      },
    },
  },
  {
    name: 'a field Traefik does not know is kept as written (Traefik refuses it as from the store); other roots are left out',
    keys: {
      'traefik/http/routers/r/unknownField': 'x',
      traefik: 'root marker',
      'traefik-other/http/routers/o/rule': 'Host(`o`)',
      'appproxy/claims/traefik/x': '{}',
    },
    expected: { http: { routers: { r: { unknownField: 'x' } } } },
  },
];

for (const { name, keys, expected } of cases) {
  test(`keys to configuration: ${name}`, () => {
    assert.deepEqual(keyValuesToConfiguration(Object.entries(keys), 'traefik'), expected);
  });
}

test('keys to configuration: a resource named __proto__ is an own entry, not the prototype', () => {
  const decoded = keyValuesToConfiguration([['traefik/http/routers/__proto__/rule', 'Host(`p`)']], 'traefik');
  const routers = (decoded['http'] as { routers: object }).routers;
  assert.ok(Object.hasOwn(routers, '__proto__'));
  assert.equal(Object.getPrototypeOf(routers), Object.prototype);
});
