import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explainWorkload } from '../../src/core/explain/explain-workload.ts';
import { prefixMatch, readLabels } from '../../src/core/labels/workload-labels.ts';
import { defaultWorkloadLimits } from '../../src/core/limits.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import {
  compileTranslateOptions,
  defaultTranslateOptions,
  type TranslateOptions,
} from '../../src/core/translate/translate-options.ts';
import type { Workload } from '../../src/core/workload.ts';
import { container, swarmService } from '../support/workloads.ts';

// The prefix rule, Traefik's in its two steps (paerser's label filter compares the start of a label
// with strings.EqualFold over the bytes of the filter, then refuses a root that is not exactly
// "traefik"): a label is under the prefix ignoring ASCII case, and read only in the exact case.

const rule: { desc: string; prefix: string; label: string; expected: 'exact' | 'other-case' | undefined }[] = [
  { desc: 'the prefix as given', prefix: 'appproxy', label: 'appproxy.enable', expected: 'exact' },
  {
    desc: 'sections are not the prefix: any case is the exact prefix',
    prefix: 'appproxy',
    label: 'appproxy.HTTP.routers.web.rule',
    expected: 'exact',
  },
  {
    desc: 'nothing after the dot is still under the prefix',
    prefix: 'appproxy',
    label: 'appproxy.',
    expected: 'exact',
  },
  { desc: 'upper case', prefix: 'appproxy', label: 'APPPROXY.enable', expected: 'other-case' },
  { desc: 'mixed case', prefix: 'appproxy', label: 'AppProxy.http.routers.web.rule', expected: 'other-case' },
  {
    desc: 'Traefik labels in another case',
    prefix: 'traefik',
    label: 'Traefik.http.routers.web.rule',
    expected: 'other-case',
  },
  {
    desc: 'a prefix of several words, in another case',
    prefix: 'my.app',
    label: 'MY.App.enable',
    expected: 'other-case',
  },
  { desc: 'a prefix of several words', prefix: 'my.app', label: 'my.app.enable', expected: 'exact' },
  { desc: 'the prefix without its dot', prefix: 'appproxy', label: 'appproxy', expected: undefined },
  { desc: 'a longer first word', prefix: 'appproxy', label: 'appproxyx.enable', expected: undefined },
  { desc: 'a longer word, in another case', prefix: 'my.app', label: 'MY.APPX.enable', expected: undefined },
  { desc: 'something before the prefix', prefix: 'appproxy', label: 'x.appproxy.enable', expected: undefined },
  {
    desc: 'the Kelvin sign is no k: EqualFold over the same bytes folds ASCII letters alone',
    prefix: 'traefik',
    label: 'traefi\u212A.enable',
    expected: undefined,
  },
  { desc: 'the dotless i is no i', prefix: 'traefik', label: 'traef\u0131k.enable', expected: undefined },
];
for (const entry of rule) {
  test(`prefix rule: ${entry.desc}`, () => {
    assert.equal(prefixMatch(entry.label, entry.prefix), entry.expected);
  });
}

test('labels are read once: the sections of the exact prefix in Docker order, every label under the prefix for the limits', () => {
  const labels = {
    'other.label': 'x',
    'appproxy.http.routers.a.rule': 'Host(`a`)',
    'APPPROXY.enable': 'true',
    'appproxy.Docker.network': 'n',
    'appproxy.enable': 'true',
    'appproxy.HTTP.routers.b.rule': 'Host(`b`)',
  };
  const read = readLabels(labels, 'appproxy');
  assert.equal(read.all, labels, 'constraints and the default rule see every label');
  assert.deepEqual(
    read.underPrefix.map((entry) => entry.label),
    [
      'appproxy.http.routers.a.rule',
      'APPPROXY.enable',
      'appproxy.Docker.network',
      'appproxy.enable',
      'appproxy.HTTP.routers.b.rule',
    ],
  );
  assert.deepEqual(
    read.read.map((entry) => [entry.section, entry.path]),
    [
      ['http', 'http.routers.a.rule'],
      ['docker', 'Docker.network'],
      ['enable', 'enable'],
      ['http', 'HTTP.routers.b.rule'],
    ],
  );
  assert.deepEqual([...read.sections.keys()], ['http', 'docker', 'enable']);
  assert.deepEqual(
    read.sections.get('http')?.map((entry) => entry.label),
    ['appproxy.http.routers.a.rule', 'appproxy.HTTP.routers.b.rule'],
  );
});

// Where each half of the rule applies, through the whole translation.

function compiled(options: Partial<TranslateOptions> = {}) {
  const result = compileTranslateOptions({ ...defaultTranslateOptions, ...options });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.value;
}

const web = { 'appproxy.http.routers.web.rule': 'Host(`web.example`)' };

const stages: {
  desc: string;
  workload: Workload;
  options?: Partial<TranslateOptions>;
  routed: string[];
  problems?: [string, string | undefined][];
  filtered?: string[];
}[] = [
  {
    desc: 'exact case: enable is read',
    workload: container({ name: 'web', labels: { 'appproxy.enable': 'true', ...web } }),
    routed: ['web'],
  },
  {
    desc: 'other case: enable is not read (not enabled, and no error)',
    workload: container({ name: 'web', labels: { 'APPPROXY.enable': 'true', ...web } }),
    routed: [],
    filtered: ['not enabled (no appproxy.enable=true)'],
  },
  {
    desc: 'other case: a router is not read (the default router is made instead)',
    workload: container({
      name: 'web',
      labels: {
        'appproxy.enable': 'true',
        'AppProxy.http.routers.web.rule': 'Host(`x`)',
        'AppProxy.http.routers.web.bogus': 'x',
      },
    }),
    routed: ['web'],
  },
  {
    desc: 'other case: a bad provider setting is not read either',
    workload: container({ name: 'web', labels: { 'appproxy.enable': 'true', 'APPPROXY.docker.nosuch': 'x' } }),
    routed: ['web'],
  },
  {
    desc: 'other case: an app is not declared',
    workload: container({ name: 'lab', labels: { 'APPPROXY.apps.notebook.port': '8888' } }),
    routed: [],
    filtered: ['not enabled (no appproxy.enable=true)'],
  },
  {
    desc: 'ignoring case: the label count limit counts labels in another case',
    workload: container({ name: 'web', labels: { 'appproxy.enable': 'true', 'APPPROXY.extra': 'x' } }),
    options: { limits: { ...defaultWorkloadLimits, labels: 1 } },
    routed: [],
    problems: [['web', undefined]],
  },
  {
    desc: 'ignoring case: labels on the containers of a Swarm service are reported in any case',
    workload: swarmService(
      'api',
      { 'appproxy.enable': 'true', 'appproxy.http.services.api.loadbalancer.server.port': '80' },
      ['10.0.1.5'],
      { containerLabels: { 'APPPROXY.enable': 'true' } },
    ),
    routed: ['api.1'],
    problems: [['api', 'APPPROXY.enable']],
  },
];
for (const entry of stages) {
  test(`prefix rule in the translation: ${entry.desc}`, () => {
    const result = buildConfiguration([entry.workload], compiled(entry.options));
    assert.deepEqual(result.routed, entry.routed);
    assert.deepEqual(
      result.problems.map((problem) => [problem.workload, problem.label]),
      entry.problems ?? [],
      JSON.stringify(result.problems),
    );
    assert.deepEqual(
      result.filtered.map((item) => item.reason),
      entry.filtered ?? [],
    );
  });
}

test('prefix rule in explain: a label in another case is listed as ignored, with the spelling to use', () => {
  const web = container({
    name: 'web',
    labels: { 'appproxy.enable': 'true', 'APPPROXY.http.routers.web.rule': 'Host(`x`)' },
  });
  const explanation = explainWorkload(web, [web], compiled(), { rootKey: 'traefik', ownerId: 'host' });
  const fates = Object.fromEntries(explanation.labels.map((label) => [label.label, [label.fate, label.detail]]));
  assert.equal(fates['appproxy.enable']?.[0], 'used');
  assert.equal(fates['APPPROXY.http.routers.web.rule']?.[0], 'ignored');
  assert.match(
    fates['APPPROXY.http.routers.web.rule']?.[1] ?? '',
    /matched in its exact case.*write appproxy\.http\.routers\.web\.rule$/,
  );
});
