import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareGolden } from '../support/golden.ts';
import { distance } from 'fastest-levenshtein';
import { explainWorkload, findWorkload } from '../../src/core/explain/explain-workload.ts';
import { formatExplanation } from '../../src/render/format-explanation.ts';
import {
  compileTranslateOptions,
  defaultTranslateOptions,
  type TranslateOptions,
} from '../../src/core/translate/translate-options.ts';
import { allowEverything } from '../../src/core/policy/label-policy.ts';
import type { Workload } from '../../src/core/workload.ts';
import { container, swarmService } from '../support/workloads.ts';

// One golden file per reason a workload is or is not routed: test/golden-explain/<case>.txt holds
// what `appproxy explain` prints for the case's target among the case's workloads, and
// <case>.json the same as data. UPDATE_GOLDEN=1 rewrites them on purpose.
const root = new URL('../golden-explain/', import.meta.url).pathname;

const web = (name: string, labels: Record<string, string>, overrides: Partial<Workload> = {}) =>
  container({
    name,
    id: `${name}-0123456789ab`,
    ports: [{ name: '80/tcp', bindings: [] }],
    networks: [{ name: 'bridge', ip: '172.17.0.2' }],
    labels,
    ...overrides,
  });

interface Case {
  readonly name: string;
  readonly target: string;
  readonly workloads: readonly Workload[];
  readonly options?: Partial<TranslateOptions>;
}

const cases: Case[] = [
  {
    name: 'routed',
    target: 'chat',
    workloads: [web('chat', { 'appproxy.enable': 'true', 'appproxy.http.routers.chat.rule': 'Host(`chat.test`)' })],
  },
  {
    name: 'not-enabled',
    target: 'chat',
    workloads: [web('chat', { 'appproxy.http.routers.chat.rule': 'Host(`chat.test`)' })],
  },
  {
    name: 'enable-false',
    target: 'chat',
    workloads: [web('chat', { 'appproxy.enable': 'false', 'appproxy.http.routers.chat.rule': 'Host(`chat.test`)' })],
    options: { exposedByDefault: true },
  },
  {
    name: 'constraints',
    target: 'chat',
    workloads: [web('chat', { 'appproxy.enable': 'true', team: 'b' })],
    options: { constraints: 'Label(`team`, `a`)' },
  },
  {
    name: 'not-running',
    target: 'chat',
    workloads: [web('chat', { 'appproxy.enable': 'true' }, { status: 'exited' })],
  },
  {
    name: 'unhealthy',
    target: 'chat',
    workloads: [web('chat', { 'appproxy.enable': 'true' }, { health: 'starting' })],
  },
  { name: 'no-port', target: 'chat', workloads: [web('chat', { 'appproxy.enable': 'true' }, { ports: [] })] },
  {
    name: 'limit-list-items',
    target: 'chat',
    workloads: [
      web('chat', {
        'appproxy.enable': 'true',
        'appproxy.http.routers.chat.rule': 'Host(`chat.test`)',
        'appproxy.http.routers.chat.entrypoints': 'a,b,c,d',
      }),
    ],
    options: { limits: { ...defaultTranslateOptions.limits, listItems: 3 } },
  },
  {
    name: 'limit-workload-keys',
    target: 'chat',
    workloads: [
      web('chat', {
        'appproxy.enable': 'true',
        'appproxy.http.routers.chat.rule': 'Host(`chat.test`)',
        'appproxy.http.routers.chat.entrypoints': 'a,b,c,d',
      }),
    ],
    options: { limits: { ...defaultTranslateOptions.limits, keys: 5 } },
  },
  {
    name: 'refused-label',
    target: 'chat',
    workloads: [
      web('chat', {
        'appproxy.enable': 'true',
        'appproxy.http.services.chat.loadbalancer.sticky.cookie.samesite': 'io',
      }),
    ],
  },
  {
    name: 'newer-than-traefik',
    target: 'chat',
    workloads: [
      web('chat', {
        'appproxy.enable': 'true',
        'appproxy.http.routers.chat.rule': 'Host(`chat.test`)',
        'appproxy.http.services.chat.loadbalancer.passivehealthcheck.maxfailedattempts': '3',
      }),
    ],
  },
  {
    name: 'network-choice',
    target: 'chat',
    workloads: [
      web(
        'chat',
        { 'appproxy.enable': 'true', 'appproxy.docker.network': 'backend' },
        {
          networks: [
            { name: 'backend', ip: '10.1.0.5' },
            { name: 'frontend', ip: '10.2.0.5' },
          ],
        },
      ),
    ],
  },
  {
    name: 'network-missing',
    target: 'chat',
    workloads: [web('chat', { 'appproxy.enable': 'true', 'appproxy.docker.network': 'nowhere' })],
  },
  {
    name: 'merged-with-others',
    target: 'chat-1',
    workloads: ['chat-1', 'chat-2'].map((name, index) =>
      web(
        name,
        {
          'appproxy.enable': 'true',
          'appproxy.http.routers.chat.rule': 'PathPrefix(`/c`)',
          'appproxy.http.services.chat.loadbalancer.server.port': '80',
        },
        { networks: [{ name: 'bridge', ip: `172.17.0.${index + 2}` }] },
      ),
    ),
  },
  {
    name: 'conflict-with-other-workload',
    target: 'a',
    workloads: [
      web('a', { 'appproxy.enable': 'true', 'appproxy.http.routers.shared.rule': 'Host(`a`)' }),
      web(
        'b',
        { 'appproxy.enable': 'true', 'appproxy.http.routers.shared.rule': 'Host(`b`)' },
        { networks: [{ name: 'bridge', ip: '172.17.0.3' }] },
      ),
    ],
  },
  {
    name: 'swarm-task-container',
    target: 'web.1',
    workloads: [
      web('web.1', {
        'com.docker.swarm.service.id': 'svc123',
        'com.docker.swarm.service.name': 'web',
        'appproxy.enable': 'true',
      }),
    ],
  },
  {
    name: 'swarm-service-without-tasks',
    target: 'api',
    workloads: [
      swarmService(
        'api',
        { 'appproxy.enable': 'true', 'appproxy.http.services.api.loadbalancer.server.port': '8080' },
        [],
      ),
    ],
  },
  { name: 'swarm-service-labels-on-containers', target: 'api', workloads: [swarmService('api', {}, ['10.0.1.5'])] },
  {
    name: 'label-policy-refused',
    target: 'dashboard',
    workloads: [
      web('dashboard', {
        'appproxy.enable': 'true',
        'appproxy.http.routers.dash.rule': 'Host(`dash.apps.example.com`) || PathPrefix(`/api`)',
        'appproxy.http.routers.dash.service': 'api@internal',
        'appproxy.http.routers.dash.entrypoints': 'websecure',
      }),
      web(
        'shop',
        {
          'appproxy.enable': 'true',
          'appproxy.http.routers.shop.rule': 'Host(`shop.apps.example.com`)',
          'appproxy.http.routers.shop.entrypoints': 'websecure',
        },
        { networks: [{ name: 'bridge', ip: '172.17.0.3' }] },
      ),
    ],
    options: {
      policy: {
        ...allowEverything,
        refuseProviders: ['internal', 'file'],
        entryPoints: ['web', 'websecure'],
        hosts: ['*.apps.example.com'],
      },
    },
  },
  {
    name: 'label-policy-default-rule',
    target: 'chat',
    workloads: [
      web('chat', {
        'appproxy.enable': 'true',
        'appproxy.http.services.chat.loadbalancer.server.url': 'http://127.0.0.1:9180',
      }),
    ],
    options: { policy: { ...allowEverything, refuseServerOverride: true, hosts: ['*.apps.example.com'] } },
  },
  {
    name: 'label-policy-allowed',
    target: 'shop',
    workloads: [
      web('shop', {
        'appproxy.enable': 'true',
        'appproxy.http.routers.shop.rule': 'Host(`shop.apps.example.com`)',
        'appproxy.http.routers.shop.entrypoints': 'websecure',
        'appproxy.http.routers.shop.middlewares': 'auth@file',
      }),
    ],
    options: {
      policy: {
        ...allowEverything,
        refuseProviders: ['internal'],
        entryPoints: ['web', 'websecure'],
        hosts: ['*.apps.example.com'],
        requireMiddlewares: true,
        refuseServerOverride: true,
      },
    },
  },
  {
    name: 'swarm-service-routed',
    target: 'api',
    workloads: [
      swarmService(
        'api',
        { 'appproxy.enable': 'true', 'appproxy.http.services.api.loadbalancer.server.port': '8080' },
        ['10.0.1.5', '10.0.1.6'],
      ),
    ],
  },
];

for (const spec of cases) {
  test(`explain golden: ${spec.name}`, () => {
    const compiled = compileTranslateOptions({ ...defaultTranslateOptions, ...spec.options });
    assert.ok(compiled.ok);
    const match = findWorkload(spec.workloads, spec.target, distance);
    assert.ok(match.found !== undefined, `${spec.target} is among the case's workloads`);
    const explanation = explainWorkload(match.found, spec.workloads, compiled.value, {
      rootKey: 'traefik',
      ownerId: 'golden-host',
    });
    compareGolden(`${root}${spec.name}.txt`, formatExplanation(explanation));
    compareGolden(`${root}${spec.name}.json`, `${JSON.stringify(explanation, null, 2)}\n`);
  });
}

test('explain: an unknown name gets the closest names; an id prefix finds the workload', () => {
  const workloads = [
    web('chat-server', {}, { id: 'a1b2c3' }),
    web('shop', {}, { id: 'd4e5f6' }),
    web('chart', {}, { id: 'a1f0f0' }),
  ];
  const miss = findWorkload(workloads, 'chat', distance);
  assert.equal(miss.found, undefined);
  assert.deepEqual(miss.found === undefined ? miss.closest : [], ['chat-server', 'chart', 'shop']);
  assert.equal(findWorkload(workloads, 'd4e', distance).found?.name, 'shop');
  assert.equal(
    findWorkload(workloads, 'a1', distance).found,
    undefined,
    'two characters are too few to be an id prefix',
  );
  assert.equal(findWorkload(workloads, 'a1b', distance).found?.name, 'chat-server');
});
