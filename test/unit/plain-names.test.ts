import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { explainWorkload } from '../../src/core/explain/explain-workload.ts';
import { configurationToKeyValues } from '../../src/core/kv/configuration-to-kv.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import { compileTranslateOptions, defaultTranslateOptions } from '../../src/core/translate/translate-options.ts';
import type { ConfigObject } from '../../src/core/config-tree.ts';
import { OBJECT_MEMBER_NAMES } from '../support/object-member-names.ts';
import { container } from '../support/workloads.ts';

// Names users choose are plain names: `__proto__` or `constructor` is a router, a header, a plugin
// option like any other, never one of Object's members, in decoding, merging, explain, the schema
// walk and the keys.

const ROOT = 'traefik';
const compiling = compileTranslateOptions({
  ...defaultTranslateOptions,
  apps: { ...defaultTranslateOptions.apps, wildcardDomain: '.apps.example.com' },
});
assert.ok(compiling.ok);
const compiled = compiling;

interface Case {
  readonly desc: string;
  readonly labels: (name: string) => Record<string, string>;
  /** Keys (under the root key) that must be written; absent when the labels are refused. */
  readonly keys?: (name: string) => Record<string, string>;
  /** A problem whose message holds this text, when the labels are refused. */
  readonly refused?: (name: string) => string;
}

const cases: Case[] = [
  {
    desc: 'a router name',
    labels: (name) => ({ [`appproxy.http.routers.${name}.rule`]: 'Host(`r`)' }),
    keys: (name) => ({ [`http/routers/${name}/rule`]: 'Host(`r`)', [`http/routers/${name}/service`]: 'web' }),
  },
  {
    desc: 'a service name, referred to by a router',
    labels: (name) => ({
      [`appproxy.http.services.${name}.loadbalancer.server.port`]: '8080',
      'appproxy.http.routers.r.rule': 'Host(`r`)',
      'appproxy.http.routers.r.service': name,
    }),
    keys: (name) => ({
      'http/routers/r/service': name,
      [`http/services/${name}/loadBalancer/servers/`]: 'http://172.17.0.2:8080',
    }),
  },
  {
    desc: 'a middleware name, used by a router',
    labels: (name) => ({
      [`appproxy.http.middlewares.${name}.stripprefix.prefixes`]: '/p',
      'appproxy.http.routers.r.rule': 'Host(`r`)',
      'appproxy.http.routers.r.middlewares': name,
    }),
    keys: (name) => ({
      [`http/middlewares/${name}/stripPrefix/prefixes/0`]: '/p',
      'http/routers/r/middlewares/0': name,
    }),
  },
  {
    desc: 'a TCP router and service name',
    labels: (name) => ({
      [`appproxy.tcp.routers.${name}.rule`]: 'HostSNI(`*`)',
      [`appproxy.tcp.services.${name}.loadbalancer.server.port`]: '5432',
    }),
    keys: (name) => ({
      [`tcp/routers/${name}/rule`]: 'HostSNI(`*`)',
      [`tcp/routers/${name}/service`]: name,
      [`tcp/services/${name}/loadBalancer/servers/`]: '172.17.0.2:5432',
    }),
  },
  {
    desc: 'a header name',
    labels: (name) => ({ [`appproxy.http.middlewares.h.headers.customrequestheaders.${name}`]: 'v' }),
    keys: (name) => ({ [`http/middlewares/h/headers/customRequestHeaders/${name}`]: 'v' }),
  },
  {
    desc: 'a plugin option, nested',
    labels: (name) => ({ [`appproxy.http.middlewares.p.plugin.demo.${name}.${name}`]: 'v' }),
    keys: (name) => ({ [`http/middlewares/p/plugin/demo/${name}/${name}`]: 'v' }),
  },
  {
    desc: 'a plugin name',
    labels: (name) => ({ [`appproxy.http.middlewares.p.plugin.${name}.opt`]: 'v' }),
    keys: (name) => ({ [`http/middlewares/p/plugin/${name}/opt`]: 'v' }),
  },
  {
    desc: 'a field of a router (no such field)',
    labels: (name) => ({ [`appproxy.http.routers.r.${name}`]: 'x' }),
    refused: (name) => `unknown field "${name}"`,
  },
  {
    desc: 'a kind (no such kind)',
    labels: (name) => ({ [`appproxy.http.${name}.x.y`]: 'z' }),
    refused: (name) => `unknown field "${name}"`,
  },
  {
    desc: 'a section (no such section: ignored, as Traefik ignores it)',
    labels: (name) => ({ [`appproxy.${name}.x.y`]: 'z', 'appproxy.http.routers.r.rule': 'Host(`r`)' }),
    keys: () => ({ 'http/routers/r/rule': 'Host(`r`)' }),
  },
  {
    desc: 'a docker provider option (no such option)',
    labels: (name) => ({ [`appproxy.docker.${name}`]: 'x' }),
    refused: () => 'unknown docker option',
  },
];

function run(labels: Record<string, string>) {
  const target = container({ name: 'web', labels: { 'appproxy.enable': 'true', ...labels } });
  const neighbour = container({
    name: 'neighbour',
    labels: { 'appproxy.enable': 'true' },
    networks: [{ name: 'bridge', ip: '172.17.0.3' }],
  });
  const all = [target, neighbour];
  const result = buildConfiguration(all, compiled.value);
  const pairs = configurationToKeyValues(result.configuration, result.servers, { rootKey: ROOT, ownerId: 'plain' });
  const explanation = explainWorkload(target, all, compiled.value, { rootKey: ROOT, ownerId: 'plain' });
  return { result, pairs, explanation };
}

for (const name of OBJECT_MEMBER_NAMES) {
  for (const testCase of cases) {
    test(`plain names: "${name}" as ${testCase.desc}`, () => {
      const { result, pairs, explanation } = run(testCase.labels(name));
      const problems = result.problems.filter((problem) => problem.workload === 'web');
      if (testCase.refused !== undefined) {
        const wanted = testCase.refused(name);
        assert.ok(
          problems.some((problem) => problem.message.includes(wanted)),
          `expected a problem with ${wanted}, got ${JSON.stringify(problems)}`,
        );
        assert.ok(
          explanation.reasons.some((reason) => reason.includes(wanted)),
          `explain gives the reason: ${JSON.stringify(explanation.reasons)}`,
        );
      } else {
        assert.deepEqual(problems, []);
        for (const [suffix, value] of Object.entries(testCase.keys?.(name) ?? {})) {
          const key = `${ROOT}/${suffix}`;
          const found = suffix.endsWith('/')
            ? [...pairs].find(
                ([candidate]) =>
                  (candidate.startsWith(key) && candidate.endsWith('/url')) ||
                  (candidate.startsWith(key) && candidate.endsWith('/address')),
              )
            : [key, pairs.get(key)];
          assert.equal(found?.[1], value, `${key} in ${JSON.stringify([...pairs.keys()])}`);
        }
        assert.equal(explanation.routed, true, JSON.stringify(explanation.reasons));
      }
      // The neighbour is untouched, and no object anywhere had its prototype replaced.
      assert.equal(pairs.get(`${ROOT}/http/routers/neighbour/rule`), 'Host(`neighbour`)');
      assertPlainTree(result.configuration);
      for (const label of explanation.labels) assert.equal(typeof label.detail, 'string');
    });
  }
}

/**
 * Every object of the tree still has Object.prototype (or none): a `__proto__` name was never assigned as a prototype.
 */
function assertPlainTree(value: unknown, path = ''): void {
  if (typeof value !== 'object' || value === null) return;
  if (!Array.isArray(value)) {
    const prototype = Object.getPrototypeOf(value);
    assert.ok(
      prototype === Object.prototype || prototype === null,
      `the object at ${path || '(root)'} has another prototype`,
    );
  }
  for (const [key, inner] of Object.entries(value as ConfigObject)) assertPlainTree(inner, `${path}/${key}`);
}

test('plain names: routers, services and middlewares named as Object members round-trip as plain names, whatever else the labels say', () => {
  const kinds = ['routers', 'services', 'middlewares'] as const;
  const definition = {
    routers: 'rule=Host(`r`)',
    services: 'loadbalancer.server.port=8080',
    middlewares: 'stripprefix.prefixes=/p',
  };
  const extra = fc.tuple(
    fc.constantFrom(
      'http.routers',
      'http.services',
      'http.middlewares',
      'tcp.routers',
      'docker',
      ...OBJECT_MEMBER_NAMES,
    ),
    fc.array(fc.constantFrom(...OBJECT_MEMBER_NAMES, 'rule', 'headers', '[0]', 'x'), { minLength: 1, maxLength: 4 }),
  );
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(fc.constantFrom(...kinds), fc.constantFrom(...OBJECT_MEMBER_NAMES)), {
        minLength: 1,
        maxLength: 6,
        selector: ([kind, name]) => `${kind}/${name}`,
      }),
      fc.array(extra, { maxLength: 3 }),
      (resources, extras) => {
        const labels: Record<string, string> = {};
        for (const [kind, name] of resources) {
          const [field, value] = definition[kind].split('=') as [string, string];
          labels[`appproxy.http.${kind}.${name}.${field}`] = value;
        }
        // Routers need a service when the workload has several: each router takes the first.
        const firstService = resources.find(([kind]) => kind === 'services')?.[1];
        for (const [kind, name] of resources)
          if (kind === 'routers' && firstService !== undefined)
            labels[`appproxy.http.routers.${name}.service`] = firstService;
        const { result, pairs } = run(labels);
        for (const [section, path] of extras) run({ ...labels, [`appproxy.${section}.${path.join('.')}`]: 'v' });
        assertPlainTree(result.configuration);
        const http = result.configuration['http'] as ConfigObject;
        for (const [kind, name] of resources) {
          const map = http[kind] as ConfigObject;
          assert.ok(Object.hasOwn(map, name), `${kind} "${name}" is in the configuration as itself`);
          assert.ok(
            [...pairs.keys()].some((key) => key.startsWith(`${ROOT}/http/${kind}/${name}/`)),
            `${kind} "${name}" has keys of its own`,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});
