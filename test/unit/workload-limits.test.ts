import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configurationToKeyValues } from '../../src/core/kv/configuration-to-kv.ts';
import { defaultWorkloadLimits, type WorkloadLimits } from '../../src/core/limits.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import { compileTranslateOptions, defaultTranslateOptions } from '../../src/core/translate/translate-options.ts';
import type { Workload } from '../../src/core/workload.ts';
import { container } from '../support/workloads.ts';

// Each per-workload limit, just under (routed) and just over (left out with one error naming the
// workload, the label or the total, the limit and the setting), beside a neighbour that is routed
// either way. Small limits keep the cases small; the defaults are the same code with other figures.

const neighbour = container({
  name: 'neighbour',
  networks: [{ name: 'bridge', ip: '172.17.0.9' }],
  labels: { 'appproxy.enable': 'true' },
});
const NEIGHBOUR_KEYS = [
  'traefik/http/routers/neighbour/rule',
  'traefik/http/routers/neighbour/service',
  'traefik/http/services/neighbour/loadBalancer/servers/',
];

function box(labels: Record<string, string>): Workload {
  return container({
    name: 'box',
    networks: [{ name: 'bridge', ip: '172.17.0.2' }],
    labels: { 'appproxy.enable': 'true', ...labels },
  });
}

/** `count` routers of a rule each: 1 + count labels under the prefix (enable included). */
function routers(count: number): Record<string, string> {
  const labels: Record<string, string> = {};
  for (let index = 0; index < count; index += 1) labels[`appproxy.http.routers.r${index}.rule`] = `Host(\`r${index}\`)`;
  return labels;
}

function bytesOf(labels: Record<string, string>): number {
  return Object.entries(labels).reduce(
    (sum, [label, value]) => sum + Buffer.byteLength(label) + Buffer.byteLength(value),
    0,
  );
}

const setting = (flag: string, env: string, path: string) => `raise ${flag} (${env}, ${path} in the file)`;
const name40 = `appproxy.http.routers.${'n'.repeat(40 - 'appproxy.http.routers..rule'.length)}.rule`;

interface Case {
  readonly desc: string;
  readonly limits: Partial<WorkloadLimits>;
  readonly labels: Record<string, string>;
  /** The one error, exactly; undefined: routed. */
  readonly error?: { readonly label: string | undefined; readonly limit: string; readonly message: string };
}

const enable = { 'appproxy.enable': 'true' };
const cases: Case[] = [
  { desc: 'labels: as many as the limit pass', limits: { labels: 4 }, labels: routers(3) },
  {
    desc: 'labels: one more than the limit is refused, naming the total',
    limits: { labels: 4 },
    labels: routers(4),
    error: {
      label: undefined,
      limit: 'labels',
      message: `it has 5 labels under "appproxy.", more than the limit of 4: the workload is left out; remove labels (or split the workload), or ${setting('--max-workload-labels', 'APPPROXY_MAX_WORKLOAD_LABELS', 'maxWorkloadLabels')}`,
    },
  },
  { desc: 'label name: a name of the limit passes', limits: { labelNameBytes: 40 }, labels: { [name40]: 'Host(`n`)' } },
  {
    desc: 'label name: one byte more is refused, naming the label',
    limits: { labelNameBytes: 39 },
    labels: { [name40]: 'Host(`n`)' },
    error: {
      label: name40,
      limit: 'label-name',
      message: `the label name is 40 bytes, more than the limit of 39: the workload is left out; shorten the name, or ${setting('--max-label-name-bytes', 'APPPROXY_MAX_LABEL_NAME_BYTES', 'maxLabelNameBytes')}`,
    },
  },
  {
    desc: 'label name: bytes are UTF-8 bytes, not characters (28 characters, 29 bytes)',
    limits: { labelNameBytes: 28 },
    labels: { 'appproxy.http.routers.é.rule': 'Host(`e`)' },
    error: {
      label: 'appproxy.http.routers.é.rule',
      limit: 'label-name',
      message: `the label name is 29 bytes, more than the limit of 28: the workload is left out; shorten the name, or ${setting('--max-label-name-bytes', 'APPPROXY_MAX_LABEL_NAME_BYTES', 'maxLabelNameBytes')}`,
    },
  },
  {
    desc: 'label bytes: all of them at the limit pass',
    limits: { labelBytes: bytesOf({ ...enable, ...routers(3) }) },
    labels: routers(3),
  },
  {
    desc: 'label bytes: one byte over is refused, naming the total',
    limits: { labelBytes: bytesOf({ ...enable, ...routers(3) }) - 1 },
    labels: routers(3),
    error: {
      label: undefined,
      limit: 'label-bytes',
      message: `its labels under "appproxy." are ${bytesOf({ ...enable, ...routers(3) })} bytes (names and values), more than the limit of ${bytesOf({ ...enable, ...routers(3) }) - 1}: the workload is left out; shorten or remove labels, or ${setting('--max-workload-label-bytes', 'APPPROXY_MAX_WORKLOAD_LABEL_BYTES', 'maxWorkloadLabelBytes')}`,
    },
  },
  {
    desc: 'list items: a list of the limit passes',
    limits: { listItems: 3 },
    labels: { 'appproxy.http.routers.r.entrypoints': 'a,b,c' },
  },
  {
    desc: 'list items: one item more is refused, naming the list',
    limits: { listItems: 3 },
    labels: { 'appproxy.http.routers.r.entrypoints': 'a,b,c,d' },
    error: {
      label: 'appproxy.http.routers.r.entrypoints',
      limit: 'list-items',
      message: `the list has 4 items, more than the limit of 3: the workload is left out; shorten the list (each item is a key in the store), or ${setting('--max-list-items', 'APPPROXY_MAX_LIST_ITEMS', 'maxListItems')}`,
    },
  },
  {
    desc: 'list items: several long lists are one error, naming the first',
    limits: { listItems: 1 },
    labels: { 'appproxy.http.routers.b.entrypoints': 'a,b', 'appproxy.http.routers.a.middlewares': 'm,n,o' },
    error: {
      label: 'appproxy.http.routers.a.middlewares',
      limit: 'list-items',
      message: `the list has 3 items (and 1 other list label of this workload), more than the limit of 1: the workload is left out; shorten the list (each item is a key in the store), or ${setting('--max-list-items', 'APPPROXY_MAX_LIST_ITEMS', 'maxListItems')}`,
    },
  },
  // routers(2): each router a rule and a service, and the one service's server url: 5 keys.
  { desc: 'keys: a workload of exactly the limit passes', limits: { keys: 5 }, labels: routers(2) },
  {
    desc: 'keys: one key more is refused, naming the total',
    limits: { keys: 4 },
    labels: routers(2),
    error: {
      label: undefined,
      limit: 'workload-keys',
      message: `it would put at least 5 keys in the store, more than the limit of 4: the workload is left out; define fewer routers, services, middlewares or list items, or ${setting('--max-workload-keys', 'APPPROXY_MAX_WORKLOAD_KEYS', 'maxWorkloadKeys')}`,
    },
  },
];

function bytesBelowRoot(pairs: ReadonlyMap<string, string>, prefix: string): number {
  return [...pairs]
    .filter(([key]) => key.startsWith(prefix))
    .reduce((sum, [key, value]) => sum + Buffer.byteLength(key) - 'traefik/'.length + Buffer.byteLength(value), 0);
}

function run(limits: Partial<WorkloadLimits>, labels: Record<string, string>) {
  const compiled = compileTranslateOptions({
    ...defaultTranslateOptions,
    limits: { ...defaultWorkloadLimits, ...limits },
  });
  assert.ok(compiled.ok);
  const result = buildConfiguration([box(labels), neighbour], compiled.value);
  const pairs = configurationToKeyValues(result.configuration, result.servers, {
    rootKey: 'traefik',
    ownerId: 'limits',
  });
  return { result, pairs };
}

// The bytes limit, measured from what the workload alone writes (keys below the root key and
// values); six routers, so that the neighbour, smaller, passes the same limit.
const alone = run({}, routers(6));
const boxBytes =
  bytesBelowRoot(alone.pairs, 'traefik/http/routers/r') + bytesBelowRoot(alone.pairs, 'traefik/http/services/box');
cases.push(
  { desc: 'bytes: a workload of exactly the limit passes', limits: { bytes: boxBytes }, labels: routers(6) },
  {
    desc: 'bytes: one byte more is refused, naming the total',
    limits: { bytes: boxBytes - 1 },
    labels: routers(6),
    error: {
      label: undefined,
      limit: 'workload-bytes',
      message: `it would put at least ${boxBytes} bytes of keys and values in the store, more than the limit of ${boxBytes - 1}: the workload is left out; shorten its labels, or ${setting('--max-workload-bytes', 'APPPROXY_MAX_WORKLOAD_BYTES', 'maxWorkloadBytes')}`,
    },
  },
);

for (const testCase of cases) {
  test(`workload limits: ${testCase.desc}`, () => {
    const { result, pairs } = run(testCase.limits, testCase.labels);
    for (const key of NEIGHBOUR_KEYS)
      assert.ok(
        [...pairs.keys()].some((written) => written.startsWith(key)),
        `the neighbour lost ${key}`,
      );
    const errors = result.problems.filter((problem) => problem.severity === 'error');
    if (testCase.error === undefined) {
      assert.deepEqual(errors, []);
      assert.deepEqual([...result.routed].sort(), ['box', 'neighbour']);
      return;
    }
    assert.deepEqual(errors, [{ severity: 'error', workload: 'box', ...testCase.error }]);
    assert.deepEqual(result.routed, ['neighbour']);
    assert.deepEqual(
      [...pairs.keys()].filter((key) => key.includes('/box') || key.includes('/routers/r')),
      [],
      'nothing of the workload is written',
    );
  });
}

test('workload limits: the neighbour is smaller than the workload of the bytes cases', () => {
  assert.ok(
    bytesBelowRoot(alone.pairs, 'traefik/http/routers/neighbour') +
      bytesBelowRoot(alone.pairs, 'traefik/http/services/neighbour') <
      boxBytes,
  );
});

test('workload limits: the defaults are far above what the project uses, and each is a setting', () => {
  assert.deepEqual(defaultWorkloadLimits, {
    labels: 1000,
    labelNameBytes: 4096,
    labelBytes: 1_048_576,
    listItems: 1000,
    keys: 10_000,
    bytes: 4_194_304,
  });
});
