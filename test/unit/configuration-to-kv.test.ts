import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigObject } from '../../src/core/config-tree.ts';
import { configurationToKeyValues } from '../../src/core/kv/configuration-to-kv.ts';
import { checkRootKey, checkRootKeyLeavesBookkeeping } from '../../src/core/kv/root-key.ts';
import { serverKey } from '../../src/core/kv/server-key.ts';
import type { ServerOrigin } from '../../src/core/provider/workload-configuration.ts';

interface Case {
  readonly desc: string;
  readonly configuration: ConfigObject;
  readonly servers?: ServerOrigin[];
  readonly rootKey?: string;
  readonly expected: Record<string, string>;
}

const A = serverKey('host-a', 'c1');
const B = serverKey('host-a', 'c2');

const cases: Case[] = [
  {
    desc: 'router fields, lists of strings as numbered items',
    configuration: {
      http: {
        routers: {
          chat: { rule: 'PathPrefix(`/wsk`)', entryPoints: ['web', 'websecure'], priority: 10, service: 'chat' },
        },
      },
    },
    expected: {
      'traefik/http/routers/chat/rule': 'PathPrefix(`/wsk`)',
      'traefik/http/routers/chat/entryPoints/0': 'web',
      'traefik/http/routers/chat/entryPoints/1': 'websecure',
      'traefik/http/routers/chat/priority': '10',
      'traefik/http/routers/chat/service': 'chat',
    },
  },
  {
    desc: 'servers under keys derived from owner and workload; booleans as true/false',
    configuration: {
      http: {
        services: {
          chat: {
            loadBalancer: {
              passHostHeader: false,
              servers: [{ url: 'http://10.0.0.1:80' }, { url: 'http://10.0.0.2:80' }],
            },
          },
        },
      },
    },
    servers: [
      { protocol: 'http', service: 'chat', target: 'http://10.0.0.1:80', workloadId: 'c1' },
      { protocol: 'http', service: 'chat', target: 'http://10.0.0.2:80', workloadId: 'c2' },
    ],
    expected: {
      'traefik/http/services/chat/loadBalancer/passHostHeader': 'false',
      [`traefik/http/services/chat/loadBalancer/servers/${A}/url`]: 'http://10.0.0.1:80',
      [`traefik/http/services/chat/loadBalancer/servers/${B}/url`]: 'http://10.0.0.2:80',
    },
  },
  {
    desc: 'empty allowEmpty objects are the bare key set to true',
    configuration: {
      http: {
        routers: { r: { rule: 'Host(`r`)', tls: {} } },
        services: { s: { loadBalancer: { sticky: { cookie: {} }, servers: [{ url: 'http://x:1' }] } } },
      },
    },
    servers: [{ protocol: 'http', service: 's', target: 'http://x:1', workloadId: 'c1' }],
    expected: {
      'traefik/http/routers/r/rule': 'Host(`r`)',
      'traefik/http/routers/r/tls': 'true',
      'traefik/http/services/s/loadBalancer/sticky/cookie': 'true',
      [`traefik/http/services/s/loadBalancer/servers/${A}/url`]: 'http://x:1',
    },
  },
  {
    desc: 'a load balancer with no servers keeps its service through its default passHostHeader',
    configuration: { http: { services: { s: { loadBalancer: {} } } } },
    expected: { 'traefik/http/services/s/loadBalancer/passHostHeader': 'true' },
  },
  {
    desc: 'ten or more list items are zero-padded so that text order is list order',
    configuration: { http: { routers: { r: { middlewares: Array.from({ length: 11 }, (_, index) => `m${index}`) } } } },
    expected: Object.fromEntries(
      Array.from({ length: 11 }, (_, index) => [
        `traefik/http/routers/r/middlewares/${String(index).padStart(2, '0')}`,
        `m${index}`,
      ]),
    ),
  },
  {
    desc: 'maps keep their names; lists of objects by index; TCP addresses',
    configuration: {
      http: { middlewares: { h: { headers: { customRequestHeaders: { 'X-Script-Name': '/wsk' } } } } },
      tcp: {
        services: { db: { loadBalancer: { servers: [{ address: '10.0.0.3:5432' }] } } },
        routers: { db: { rule: 'HostSNI(`*`)', tls: { domains: [{ main: 'a.example', sans: ['b.example'] }] } } },
      },
    },
    servers: [{ protocol: 'tcp', service: 'db', target: '10.0.0.3:5432', workloadId: 'c1' }],
    expected: {
      'traefik/http/middlewares/h/headers/customRequestHeaders/X-Script-Name': '/wsk',
      [`traefik/tcp/services/db/loadBalancer/servers/${A}/address`]: '10.0.0.3:5432',
      'traefik/tcp/routers/db/rule': 'HostSNI(`*`)',
      'traefik/tcp/routers/db/tls/domains/0/main': 'a.example',
      'traefik/tcp/routers/db/tls/domains/0/sans/0': 'b.example',
    },
  },
  {
    desc: 'Backend.AI-style nested root key',
    rootKey: 'traefik/worker_a1',
    configuration: { http: { routers: { r: { rule: 'Host(`r`)' } } } },
    expected: { 'traefik/worker_a1/http/routers/r/rule': 'Host(`r`)' },
  },
];

for (const entry of cases) {
  test(`kv: ${entry.desc}`, () => {
    const pairs = configurationToKeyValues(entry.configuration, entry.servers ?? [], {
      rootKey: entry.rootKey ?? 'traefik',
      ownerId: 'host-a',
    });
    assert.deepEqual(Object.fromEntries(pairs), entry.expected);
    const keys = [...pairs.keys()];
    assert.deepEqual(keys, [...keys].sort(), 'pairs are sorted by key');
    for (const key of keys) {
      assert.ok(!key.startsWith('/') && !key.includes('//') && !key.endsWith('/'), `malformed key ${key}`);
    }
  });
}

test('kv: server keys are digits only, stable, and differ between owners', () => {
  assert.match(serverKey('host-a', 'c1'), /^\d{15}$/);
  assert.equal(serverKey('host-a', 'c1'), serverKey('host-a', 'c1'));
  assert.notEqual(serverKey('host-a', 'c1'), serverKey('host-b', 'c1'));
  assert.notEqual(serverKey('host-a', 'c1'), serverKey('host-a', 'c2'));
});

const rootKeys: { rootKey: string; problem?: string }[] = [
  { rootKey: 'traefik' },
  { rootKey: 'traefik/worker_a1' },
  { rootKey: '/traefik', problem: 'starts with "/"' },
  { rootKey: 'traefik/', problem: 'ends with "/"' },
  { rootKey: 'a//b', problem: 'empty or relative segment' },
  { rootKey: '', problem: 'empty' },
];
for (const entry of rootKeys) {
  test(`root key ${JSON.stringify(entry.rootKey)}`, () => {
    const problem = checkRootKey(entry.rootKey);
    if (entry.problem === undefined) assert.equal(problem, undefined);
    else assert.ok(problem?.includes(entry.problem), problem);
  });
}

const bookkeepingRootKeys: { desc: string; rootKey: string; clashes: boolean }[] = [
  { desc: 'the default', rootKey: 'traefik', clashes: false },
  { desc: 'appproxy itself', rootKey: 'appproxy', clashes: true },
  { desc: 'a prefix of appproxy', rootKey: 'app', clashes: true },
  { desc: 'a key beside the bookkeeping', rootKey: 'appproxy-traefik', clashes: false },
  { desc: 'a key under the bookkeeping root', rootKey: 'appproxy/traefik', clashes: false },
  { desc: 'the claims themselves (the review)', rootKey: 'appproxy/claims', clashes: true },
  { desc: 'inside the owners', rootKey: 'appproxy/owners/traefik', clashes: true },
  { desc: 'a prefix of the elections', rootKey: 'appproxy/elec', clashes: true },
  { desc: 'beside the ports', rootKey: 'appproxy/portsx', clashes: false },
];
for (const entry of bookkeepingRootKeys) {
  test(`root key beside the bookkeeping: ${entry.desc}`, () => {
    const problem = checkRootKeyLeavesBookkeeping(entry.rootKey);
    if (entry.clashes)
      assert.match(problem ?? '', /is a prefix of "appproxy\/"|overlaps "appproxy\/\w+\/", where appproxy keeps/);
    else assert.equal(problem, undefined);
  });
}
