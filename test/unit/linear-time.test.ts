import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { explainWorkload } from '../../src/core/explain/explain-workload.ts';
import { configurationToKeyValues } from '../../src/core/kv/configuration-to-kv.ts';
import { listIndexAt } from '../../src/core/labels/label-tree.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import { compileTranslateOptions, defaultTranslateOptions } from '../../src/core/translate/translate-options.ts';
import { compileConstraints } from '../../src/core/provider/constraints.ts';
import { compileDefaultRule } from '../../src/core/provider/default-rule.ts';
import type { Workload } from '../../src/core/workload.ts';
import { includesText, splitText } from '../../src/golang/find-text.ts';
import { hasFloatSyntax } from '../../src/golang/strconv.ts';
import { OBJECT_MEMBER_NAMES } from '../support/object-member-names.ts';
import { container } from '../support/workloads.ts';

// The work of translating labels grows linearly with their size: a label name of 40,000 brackets
// once took seconds (a backtracking regular expression), and the event loop with it. Machines are
// noisy, so no absolute limit: each input is translated at size n and 4n, and the time at 4n must
// stay well under 16 times that at n (what quadratic work gives).

const RATIO_LIMIT = 8;
const RUNS = 5;
/** Below this, a time is noise: the ratio is taken against it. */
const FLOOR_MS = 3;

/**
 * The fastest time of `work(size)` at 4n over the fastest at n. The fastest of several runs, since
 * noise (a garbage collection, another process) only ever adds time, and super-linear work is slow
 * in every run. Runs at 4n stop once one is fast enough, or so slow that no run could be.
 */
function growth(work: (size: number) => void, n: number): { ratio: number; at1: number; at4: number } {
  // Both sizes once first, so that neither is timed while the JIT still compiles what it runs.
  work(n);
  work(4 * n);
  // Processor time of this process, not the clock: test files run in parallel, and the others'
  // work must not count as this one's.
  const timed = (size: number): number => {
    const start = process.cpuUsage();
    work(size);
    const spent = process.cpuUsage(start);
    return (spent.user + spent.system) / 1000;
  };
  let at1 = Infinity;
  for (let run = 0; run < RUNS; run++) at1 = Math.min(at1, timed(n));
  at1 = Math.max(at1, FLOOR_MS);
  let at4 = Infinity;
  for (let run = 0; run < RUNS; run++) {
    at4 = Math.min(at4, timed(4 * n));
    if (at4 < at1 * RATIO_LIMIT || at4 > at1 * RATIO_LIMIT * 4) break;
  }
  return { ratio: at4 / at1, at1, at4 };
}

const compiling = compileTranslateOptions(defaultTranslateOptions);
assert.ok(compiling.ok);
const compiled = compiling;
const neighbour = container({
  name: 'neighbour',
  labels: { 'appproxy.enable': 'true' },
  networks: [{ name: 'bridge', ip: '172.17.0.3' }],
});

/** Everything the core does with one workload's labels: translate, merge, write keys, explain. */
function translate(labels: Record<string, string>): void {
  const target: Workload = container({ name: 'hostile', labels: { 'appproxy.enable': 'true', ...labels } });
  const all = [target, neighbour];
  const result = buildConfiguration(all, compiled.value);
  const pairs = configurationToKeyValues(result.configuration, result.servers, {
    rootKey: 'traefik',
    ownerId: 'linear',
  });
  assert.equal(pairs.get('traefik/http/routers/neighbour/rule'), 'Host(`neighbour`)');
  explainWorkload(target, all, compiled.value, { rootKey: 'traefik', ownerId: 'linear' });
}

// Where a long text goes: the size is the length of `text` (one label) or the number of labels.
type Placement = {
  readonly desc: string;
  readonly labels: (unit: string, count: number) => Record<string, string>;
  readonly many?: boolean;
};
const repeat = (unit: string, count: number): string => unit.repeat(count);
const placements: Placement[] = [
  { desc: 'the end of a router name', labels: (u, n) => ({ [`appproxy.http.routers.x${repeat(u, n)}`]: 'Host(`x`)' }) },
  { desc: 'a router name', labels: (u, n) => ({ [`appproxy.http.routers.${repeat(u, n)}.rule`]: 'Host(`x`)' }) },
  { desc: 'a field name', labels: (u, n) => ({ [`appproxy.http.routers.r.${repeat(u, n)}`]: 'x' }) },
  {
    desc: 'a plugin option name',
    labels: (u, n) => ({ [`appproxy.http.middlewares.p.plugin.demo.${repeat(u, n)}`]: 'x' }),
  },
  {
    desc: 'a header name and value',
    labels: (u, n) => ({ [`appproxy.http.middlewares.h.headers.customrequestheaders.X${repeat(u, n)}`]: repeat(u, n) }),
  },
  { desc: 'a rule', labels: (u, n) => ({ 'appproxy.http.routers.r.rule': repeat(u, n) }) },
  {
    desc: 'a list',
    labels: (u, n) => ({
      'appproxy.http.routers.r.entrypoints': repeat(u, n),
      'appproxy.http.routers.r.middlewares': repeat(u, n),
    }),
  },
  { desc: 'an integer', labels: (u, n) => ({ 'appproxy.http.routers.r.priority': repeat(u, n) }) },
  {
    desc: 'a duration and a float',
    labels: (u, n) => ({
      'appproxy.http.services.s.loadbalancer.healthcheck.interval': repeat(u, n),
      'appproxy.http.middlewares.m.ratelimit.average': repeat(u, n),
    }),
  },
  {
    desc: 'an app',
    labels: (u, n) => ({
      'appproxy.apps.a.port': '80',
      'appproxy.apps.a.allow': repeat(u, n),
      [`appproxy.apps.${repeat(u, n)}.port`]: '80',
    }),
  },
  {
    desc: 'a name of many routers',
    many: true,
    labels: (u, n) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`appproxy.http.routers.${u}${i}.rule`, 'Host(`x`)'])),
  },
  {
    desc: 'many routers with unknown fields',
    many: true,
    labels: (u, n) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`appproxy.http.routers.r${i}.${u}`, 'x'])),
  },
  {
    desc: 'a chain of middlewares, the first one left out',
    many: true,
    labels: (u, n) =>
      Object.fromEntries([
        ['appproxy.http.middlewares.0.headers.customrequestheaders.a', u],
        ...Array.from({ length: n }, (_, i) => [
          `appproxy.http.middlewares.m${i}.chain.middlewares`,
          i === 0 ? '0' : `m${i - 1}`,
        ]),
      ]),
  },
  {
    desc: 'routers that refer to routers left out',
    many: true,
    labels: (u, n) =>
      Object.fromEntries([
        ...Array.from({ length: n }, (_, i) => [`appproxy.http.routers.${i}.rule`, u]),
        ...Array.from({ length: n }, (_, i) => [`appproxy.http.routers.r${i}.service`, `${i}`]),
      ]),
  },
];

/** Characters and runs that regular expressions and scanners of labels, rules and templates treat specially. */
const PATHOLOGICAL = [
  '[',
  ']',
  '[[',
  '[]',
  '.',
  ',',
  '`',
  '(',
  ')',
  '{{',
  '}}',
  '"',
  '\\',
  '0',
  '1',
  '1.',
  '1s',
  '1m',
  '-',
  '--',
  '@',
  '/',
  ' ',
  '\n',
  '%d',
  'a',
  'a.',
  'a[',
  '/*',
  '*/',
  '0x1',
  ...OBJECT_MEMBER_NAMES.map((name) => `${name}.`),
];

/** The size at 1x: about 8,000 characters in one label, or 1,000 labels. */
const sizeOf = (unit: string, many: boolean | undefined): number =>
  many === true ? 1000 : Math.ceil(8000 / Math.max(unit.length, 1));

test(
  'linear time: labels of pathological names and values translate in time linear in their size',
  { timeout: 600_000 },
  () => {
    const known: [number, string][] = [
      [0, '['],
      [0, '[['],
      [1, '[a'],
      [3, 'a.'],
      [12, 'x'],
      [13, 'x'],
    ];
    fc.assert(
      fc.property(
        fc.nat(placements.length - 1),
        fc.oneof(
          fc.constantFrom(...PATHOLOGICAL),
          fc.array(fc.constantFrom(...PATHOLOGICAL), { minLength: 2, maxLength: 4 }).map((units) => units.join('')),
        ),
        (which, unit) => {
          const placement = placements[which] as Placement;
          const n = sizeOf(unit, placement.many);
          const { ratio, at1, at4 } = growth((size) => translate(placement.labels(unit, size)), n);
          assert.ok(
            ratio < RATIO_LIMIT,
            `${placement.desc} of ${JSON.stringify(unit)}: ${at1.toFixed(1)} ms at n=${n}, ${at4.toFixed(1)} ms at 4n (×${ratio.toFixed(1)}, linear is ×4, quadratic ×16)`,
          );
        },
      ),
      { numRuns: 30, examples: known },
    );
  },
);

// The default rule and the constraints are the operator's, but they run over labels, and a long
// template or expression must not stall start-up either.
const templates: { desc: string; work: (unit: string, size: number) => void }[] = [
  { desc: 'a template with a long action', work: (u, n) => void compileDefaultRule(`{{ ${repeat(u, n)} }}`) },
  { desc: 'a template with many lines', work: (u, n) => void compileDefaultRule(repeat(`{{ .Name }}${u}\n`, n / 4)) },
  { desc: 'a constant in a template', work: (u, n) => void compileDefaultRule(`{{ 0x${repeat(u, n)} }}`) },
  { desc: 'a constraint expression', work: (u, n) => void compileConstraints(`${repeat(u, n)} Label("a", "b")`) },
  {
    desc: 'template functions over labels',
    work: (u, n) => {
      const rule = compileDefaultRule(
        '{{ contains (index .Labels "a") (index .Labels "b") }}{{ splitList (index .Labels "a") (index .Labels "b") }}{{ trimAll (index .Labels "a") (index .Labels "b") }}{{ replace (index .Labels "a") "x" (index .Labels "b") }}',
      );
      assert.ok(rule.ok);
      const half = repeat(u, n / 2);
      rule.render({ Name: 'x', ContainerName: 'x', Labels: { a: `${half}b${half}`, b: repeat(u, 4 * n) } });
    },
  },
];

test(
  'linear time: default rule templates and constraints of pathological text compile and run in linear time',
  { timeout: 600_000 },
  () => {
    fc.assert(
      fc.property(
        fc.nat(templates.length - 1),
        fc.constantFrom(...PATHOLOGICAL, '1', 'a', '/**/', '{{/* */}}'),
        (which, unit) => {
          const template = templates[which] as (typeof templates)[number];
          const n = Math.ceil(8000 / unit.length / 4) * 4;
          const { ratio, at1, at4 } = growth((size) => template.work(unit, size), n);
          assert.ok(
            ratio < RATIO_LIMIT,
            `${template.desc} of ${JSON.stringify(unit)}: ${at1.toFixed(1)} ms at n=${n}, ${at4.toFixed(1)} ms at 4n (×${ratio.toFixed(1)})`,
          );
        },
      ),
      {
        numRuns: 30,
        examples: [
          [1, '\n'],
          [2, '1'],
          [4, 'a'],
        ],
      },
    );
  },
);

// The scanners that replaced regular expressions and native searches give the same answers.
test('linear time: the list-index scan splits segments exactly as /^(.+)(\\[[^\\]]*\\])$/ does', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('a', '[', ']', '\n', '\r', '\u2028', 'x'), maxLength: 12 }),
      (segment) => {
        const match = /^(.+)(\[[^\]]*\])$/.exec(segment);
        const at = listIndexAt(segment);
        assert.deepEqual(
          at === undefined ? undefined : [segment.slice(0, at), segment.slice(at)],
          match === null ? undefined : [match[1], match[2]],
        );
      },
    ),
    { numRuns: 20_000 },
  );
});

test('linear time: the float-constant scan accepts what the Go float regular expression accepts', () => {
  const goFloat =
    /^[+-]?(?:(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?|0[xX][0-9a-fA-F_]*\.?[0-9a-fA-F_]*[pP][+-]?[0-9_]+)$/;
  fc.assert(
    fc.property(
      fc.string({
        unit: fc.constantFrom('0', '1', '9', '_', '.', 'e', 'E', 'p', 'P', 'x', 'X', '+', '-', 'a', 'f', 'g'),
        maxLength: 10,
      }),
      (text) => {
        assert.equal(hasFloatSyntax(text), goFloat.test(text), JSON.stringify(text));
      },
    ),
    { numRuns: 30_000 },
  );
});

test('linear time: the linear substring search finds what includes and split find', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('a', 'b', '\ud83d', '\ude00'), maxLength: 60 }),
      fc.string({ unit: fc.constantFrom('a', 'b', '\ud83d', '\ude00'), minLength: 1, maxLength: 24 }),
      (text, pattern) => {
        assert.equal(includesText(text, pattern), text.includes(pattern));
        assert.deepEqual(splitText(text, pattern), text.split(pattern));
      },
    ),
    { numRuns: 20_000 },
  );
});
