import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { explainWorkload } from '../../src/core/explain/explain-workload.ts';
import { configurationToKeyValues } from '../../src/core/kv/configuration-to-kv.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import { compileTranslateOptions, defaultTranslateOptions } from '../../src/core/translate/translate-options.ts';
import type { Workload } from '../../src/core/workload.ts';
import { OBJECT_MEMBER_NAMES } from '../support/object-member-names.ts';

// Generated label sets thrown at the whole core: it never throws, never writes outside the root
// key or a malformed key, and every workload left out is explained.

const compiled = compileTranslateOptions(defaultTranslateOptions);
assert.ok(compiled.ok);

const names = fc.oneof(
  fc.constantFrom('web', 'Web', 'chat', 'a@b', 'x/y', '..', '123', 'sp ace', 'new\nline', 'ok-name', ''),
  // Names Object has as members are plain names all the same (`__proto__`, `constructor`, ...).
  fc.constantFrom(...OBJECT_MEMBER_NAMES),
  fc.string({ minLength: 0, maxLength: 8 }),
);
const fields = fc.constantFrom(
  'rule',
  'entrypoints',
  'middlewares',
  'service',
  'priority',
  'tls',
  'tls.certresolver',
  'tls.domains[0].main',
  'loadbalancer.server.port',
  'loadbalancer.server.scheme',
  'loadbalancer.server.url',
  'loadbalancer.sticky.cookie',
  'loadbalancer.sticky.cookie.name',
  'loadbalancer.sticky.cookie.samesite',
  'loadbalancer.healthcheck.interval',
  'stripprefix.prefixes',
  'replacepath.path',
  'headers.customrequestheaders.X-A',
  'chain.middlewares',
  'ratelimit.average',
  'compress',
  'weighted.services[0].name',
  'rulez',
  '',
  'a..b',
  '[0]',
  ...OBJECT_MEMBER_NAMES,
  ...OBJECT_MEMBER_NAMES.map((name) => `headers.customrequestheaders.${name}`),
  ...OBJECT_MEMBER_NAMES.map((name) => `plugin.${name}.${name}`),
);
const values = fc.oneof(
  fc.constantFrom(
    'true',
    'false',
    'Host(`x`)',
    '80',
    '-1',
    '1.5',
    'lax',
    'io',
    '/p,/q',
    'a,b@docker,c@file',
    '10s',
    '',
    ' ',
    'x'.repeat(300),
  ),
  fc.string({ maxLength: 20 }),
);
const label = fc
  .tuple(
    fc.constantFrom('appproxy', 'appproxy', 'traefik', 'other'),
    fc.constantFrom('http', 'tcp', 'udp', 'tls', 'docker', 'enable', 'HTTP', ...OBJECT_MEMBER_NAMES),
    fc.constantFrom('routers', 'services', 'middlewares', 'stores', 'network', ...OBJECT_MEMBER_NAMES),
    names,
    fields,
    values,
  )
  .map(
    ([prefix, section, kind, name, field, value]) =>
      [`${prefix}.${section}.${kind}.${name}${field === '' ? '' : `.${field}`}`, value] as const,
  );

const workload = fc.record({
  name: fc.constantFrom('w1', 'w2', 'w3', 'w4'),
  labels: fc
    .array(label, { maxLength: 12 })
    .map((entries) => Object.fromEntries([['appproxy.enable', 'true'], ...entries])),
  ip: fc.constantFrom('172.17.0.2', '172.17.0.3', 'fd00::1', ''),
});

test('core properties: any label set translates without throwing; keys stay well-formed under the root key; every rejection is explained', () => {
  fc.assert(
    fc.property(
      fc.array(workload, { maxLength: 4 }),
      fc.constantFrom('traefik', 'traefik/worker_a1'),
      (generated, rootKey) => {
        const workloads: Workload[] = generated.map((entry, index) => ({
          kind: 'container',
          id: `id-${index}`,
          name: `${entry.name}-${index}`,
          serviceName: `${entry.name}-${index}`,
          labels: entry.labels,
          status: 'running',
          ports: [{ name: '80/tcp', bindings: [] }],
          networks: entry.ip === '' ? [] : [{ name: 'bridge', ip: entry.ip }],
        }));
        const result = buildConfiguration(workloads, compiled.value);
        const pairs = configurationToKeyValues(result.configuration, result.servers, { rootKey, ownerId: 'prop' });
        for (const [key, value] of pairs) {
          assert.ok(key.startsWith(`${rootKey}/`), `key outside the root: ${key}`);
          assert.ok(
            !key.startsWith('/') && !key.includes('//') && !key.endsWith('/'),
            `malformed key: ${JSON.stringify(key)}`,
          );
          assert.equal(typeof value, 'string');
        }
        const explained = new Set(result.problems.map((problem) => problem.workload));
        for (const item of workloads) {
          const routed = result.routed.includes(item.name);
          const filtered = result.filtered.some((entry) => entry.workload === item.name);
          assert.ok(routed || filtered || explained.has(item.name), `workload ${item.name} vanished without a word`);
        }
        for (const problem of result.problems)
          assert.ok(problem.message.length > 10, `a problem without an explanation: ${JSON.stringify(problem)}`);
        if (workloads[0] !== undefined)
          explainWorkload(workloads[0], workloads, compiled.value, { rootKey, ownerId: 'prop' });
      },
    ),
    { numRuns: 3000 },
  );
});

test('core properties: tens of thousands of labels on one container are all translated, where the limits allow them', () => {
  // What is tested is linear work on many labels, not the default limits (workload-limits.test.ts).
  const many = compileTranslateOptions({
    ...defaultTranslateOptions,
    limits: {
      ...defaultTranslateOptions.limits,
      labels: 100_000,
      labelBytes: 64 << 20,
      keys: 1_000_000,
      bytes: 64 << 20,
    },
  });
  assert.ok(many.ok);
  const labels: Record<string, string> = { 'appproxy.enable': 'true' };
  for (let index = 0; index < 20_000; index += 1)
    labels[`appproxy.http.middlewares.m${index}.headers.customrequestheaders.X-${index}`] = `v${index}`;
  const result = buildConfiguration(
    [
      {
        kind: 'container',
        id: 'big',
        name: 'big',
        serviceName: 'big',
        labels,
        status: 'running',
        ports: [{ name: '80/tcp', bindings: [] }],
        networks: [{ name: 'bridge', ip: '172.17.0.9' }],
      },
    ],
    many.value,
  );
  assert.deepEqual(result.problems, []);
  const pairs = configurationToKeyValues(result.configuration, result.servers, { rootKey: 'traefik', ownerId: 'prop' });
  assert.equal([...pairs.keys()].filter((key) => key.includes('/customRequestHeaders/')).length, 20_000);
});
