import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigObject } from '../../src/core/config-tree.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import {
  compileTranslateOptions,
  defaultTranslateOptions,
  type TranslateOptions,
} from '../../src/core/translate/translate-options.ts';
import type { Workload } from '../../src/core/workload.ts';
import { container, swarmService } from '../support/workloads.ts';

interface Case {
  readonly desc: string;
  readonly workloads: Workload[];
  readonly options?: Partial<TranslateOptions>;
  readonly expected: ConfigObject;
  /** Substrings of error problems expected, with the workload they name. */
  readonly errors?: readonly { workload: string; includes: string }[];
  readonly warnings?: readonly { workload: string; includes: string }[];
  readonly filtered?: readonly { workload: string; includes: string }[];
}

const enable = { 'appproxy.enable': 'true' };
const defaultService = (url: string): ConfigObject => ({ loadBalancer: { servers: [{ url }] } });

const cases: Case[] = [
  {
    desc: 'opt-in by default: a container without enable is left out',
    workloads: [container({ name: 'web' })],
    expected: {},
    filtered: [{ workload: 'web', includes: 'not enabled' }],
  },
  {
    desc: 'enable=true gives the automatic service and router with the default rule',
    workloads: [container({ name: 'web', labels: enable })],
    expected: {
      http: {
        routers: { web: { rule: 'Host(`web`)', service: 'web' } },
        services: { web: defaultService('http://172.17.0.2:80') },
      },
    },
  },
  {
    desc: 'exposedByDefault routes unlabelled containers, but enable=false always wins',
    options: { exposedByDefault: true },
    workloads: [
      container({ name: 'a' }),
      container({
        name: 'b',
        labels: { 'appproxy.enable': 'false' },
        networks: [{ name: 'bridge', ip: '172.17.0.3' }],
      }),
    ],
    expected: {
      http: {
        routers: { a: { rule: 'Host(`a`)', service: 'a' } },
        services: { a: defaultService('http://172.17.0.2:80') },
      },
    },
    filtered: [{ workload: 'b', includes: 'appproxy.enable=false' }],
  },
  {
    desc: 'Compose service and project name the defaults, normalised',
    workloads: [
      container({
        name: 'proj_my.app_1',
        labels: { ...enable, 'com.docker.compose.project': 'proj', 'com.docker.compose.service': 'my.app' },
      }),
    ],
    expected: {
      http: {
        routers: { 'my-app-proj': { rule: 'Host(`my-app-proj`)', service: 'my-app-proj' } },
        services: { 'my-app-proj': defaultService('http://172.17.0.2:80') },
      },
    },
  },
  {
    desc: 'custom default rule template',
    options: { defaultRule: 'Host(`{{ .Name }}.example.com`)' },
    workloads: [container({ name: 'web', labels: enable })],
    expected: {
      http: {
        routers: { web: { rule: 'Host(`web.example.com`)', service: 'web' } },
        services: { web: defaultService('http://172.17.0.2:80') },
      },
    },
  },
  {
    desc: 'a router without a service is linked to the single service',
    workloads: [
      container({
        name: 'web',
        labels: {
          ...enable,
          'appproxy.http.routers.r.rule': 'PathPrefix(`/x`)',
          'appproxy.http.services.s.loadbalancer.server.port': '8080',
        },
      }),
    ],
    expected: {
      http: {
        routers: { r: { rule: 'PathPrefix(`/x`)', service: 's' } },
        services: { s: defaultService('http://172.17.0.2:8080') },
      },
    },
  },
  {
    desc: 'two services: no automatic router, and a router without a service is dropped with a warning',
    workloads: [
      container({
        name: 'web',
        labels: {
          ...enable,
          'appproxy.http.services.a.loadbalancer.server.port': '1',
          'appproxy.http.services.b.loadbalancer.server.port': '2',
          'appproxy.http.routers.r.rule': 'Host(`r`)',
          'appproxy.http.routers.ok.rule': 'Host(`ok`)',
          'appproxy.http.routers.ok.service': 'b',
        },
      }),
    ],
    expected: {
      http: {
        routers: { ok: { rule: 'Host(`ok`)', service: 'b' } },
        services: { a: defaultService('http://172.17.0.2:1'), b: defaultService('http://172.17.0.2:2') },
      },
    },
    warnings: [{ workload: 'web', includes: 'cannot be linked automatically with several services' }],
  },
  {
    desc: 'port detection takes the lowest exposed port (numerically)',
    workloads: [
      container({
        name: 'web',
        labels: enable,
        ports: [
          { name: '9000/tcp', bindings: [] },
          { name: '443/tcp', bindings: [] },
          { name: '8080/tcp', bindings: [] },
        ],
      }),
    ],
    expected: {
      http: {
        routers: { web: { rule: 'Host(`web`)', service: 'web' } },
        services: { web: defaultService('http://172.17.0.2:443') },
      },
    },
  },
  {
    desc: 'no port anywhere rejects the workload with the label to set',
    workloads: [container({ name: 'web', labels: enable, ports: [] })],
    expected: {},
    errors: [{ workload: 'web', includes: 'port is missing; set appproxy.http.services.web.loadbalancer.server.port' }],
  },
  {
    desc: 'scheme label and IPv6 address',
    workloads: [
      container({
        name: 'web',
        labels: { ...enable, 'appproxy.http.services.web.loadbalancer.server.scheme': 'h2c' },
        networks: [{ name: 'v6', ip: 'fd00::5' }],
      }),
    ],
    expected: {
      http: {
        routers: { web: { rule: 'Host(`web`)', service: 'web' } },
        services: { web: defaultService('h2c://[fd00::5]:80') },
      },
    },
  },
  {
    desc: 'server url label is kept as given; scheme with url is an error',
    workloads: [
      container({
        name: 'a',
        labels: { ...enable, 'appproxy.http.services.a.loadbalancer.server.url': 'http://backend:81' },
      }),
      container({
        name: 'b',
        labels: {
          ...enable,
          'appproxy.http.services.b.loadbalancer.server.url': 'http://x',
          'appproxy.http.services.b.loadbalancer.server.scheme': 'https',
        },
      }),
    ],
    expected: {
      http: {
        routers: { a: { rule: 'Host(`a`)', service: 'a' } },
        services: { a: defaultService('http://backend:81') },
      },
    },
    errors: [{ workload: 'b', includes: 'cannot be combined with a scheme or port' }],
  },
  {
    desc: 'network selection: label, then option, then first network by name',
    options: { network: 'back' },
    workloads: [
      container({
        name: 'a',
        labels: { ...enable, 'appproxy.docker.network': 'front' },
        networks: [
          { name: 'back', ip: '10.1.0.2' },
          { name: 'front', ip: '10.2.0.2' },
        ],
      }),
      container({
        name: 'b',
        labels: enable,
        networks: [
          { name: 'back', ip: '10.1.0.3' },
          { name: 'front', ip: '10.2.0.3' },
        ],
      }),
      container({
        name: 'c',
        labels: enable,
        networks: [
          { name: 'alpha', ip: '10.3.0.4' },
          { name: 'zeta', ip: '10.4.0.4' },
        ],
      }),
    ],
    expected: {
      http: {
        routers: {
          a: { rule: 'Host(`a`)', service: 'a' },
          b: { rule: 'Host(`b`)', service: 'b' },
          c: { rule: 'Host(`c`)', service: 'c' },
        },
        services: {
          a: defaultService('http://10.2.0.2:80'),
          b: defaultService('http://10.1.0.3:80'),
          c: defaultService('http://10.3.0.4:80'),
        },
      },
    },
  },
  {
    desc: 'host network mode uses the configured host address',
    options: { hostNetworkAddress: '192.0.2.10' },
    workloads: [container({ name: 'h', labels: enable, networkMode: 'host', networks: [{ name: 'host', ip: '' }] })],
    expected: {
      http: {
        routers: { h: { rule: 'Host(`h`)', service: 'h' } },
        services: { h: defaultService('http://192.0.2.10:80') },
      },
    },
  },
  {
    desc: 'container network mode takes the address of the container it shares, honouring its network label',
    workloads: [
      container({
        name: 'side',
        labels: enable,
        networkMode: 'container:main-id',
        networks: [],
        networkContainer: container({
          name: 'main',
          labels: { 'appproxy.docker.network': 'b' },
          networks: [
            { name: 'a', ip: '10.0.0.1' },
            { name: 'b', ip: '10.0.0.2' },
          ],
        }),
      }),
    ],
    expected: {
      http: {
        routers: { side: { rule: 'Host(`side`)', service: 'side' } },
        services: { side: defaultService('http://10.0.0.2:80') },
      },
    },
  },
  {
    desc: 'useBindPortIP takes the published address, and falls back when bound to 0.0.0.0',
    options: { useBindPortIP: true },
    workloads: [
      container({
        name: 'a',
        labels: enable,
        ports: [{ name: '80/tcp', bindings: [{ hostIp: '192.0.2.1', hostPort: '8001' }] }],
      }),
      container({
        name: 'b',
        labels: enable,
        ports: [{ name: '80/tcp', bindings: [{ hostIp: '0.0.0.0', hostPort: '8002' }] }],
        networks: [{ name: 'bridge', ip: '172.17.0.9' }],
      }),
    ],
    expected: {
      http: {
        routers: { a: { rule: 'Host(`a`)', service: 'a' }, b: { rule: 'Host(`b`)', service: 'b' } },
        services: { a: defaultService('http://192.0.2.1:8001'), b: defaultService('http://172.17.0.9:80') },
      },
    },
  },
  {
    desc: "advertised address: published ports on this host's address, opt-out per container, unpublished ports reported",
    options: { advertiseAddress: '192.0.2.7' },
    workloads: [
      container({
        name: 'pub',
        labels: enable,
        ports: [
          {
            name: '80/tcp',
            bindings: [
              { hostIp: '0.0.0.0', hostPort: '8080' },
              { hostIp: '::', hostPort: '8080' },
            ],
          },
        ],
      }),
      container({
        name: 'own',
        labels: { ...enable, 'appproxy.sidecar.address': 'container' },
        networks: [{ name: 'bridge', ip: '172.17.0.4' }],
      }),
      container({ name: 'hidden', labels: enable, networks: [{ name: 'bridge', ip: '172.17.0.5' }] }),
    ],
    expected: {
      http: {
        routers: { pub: { rule: 'Host(`pub`)', service: 'pub' }, own: { rule: 'Host(`own`)', service: 'own' } },
        services: { pub: defaultService('http://192.0.2.7:8080'), own: defaultService('http://172.17.0.4:80') },
      },
    },
    errors: [{ workload: 'hidden', includes: 'port 80 of "hidden" is not published' }],
  },
  {
    // Seen on a three-node Swarm (test/real/multi-node-stack.test.ts): the elected writer, started
    // with its node's advertised address, refused every task of the demo as "not published".
    desc: 'advertised address: Swarm tasks keep their overlay address (they publish no port)',
    options: { advertiseAddress: '192.0.2.7' },
    workloads: [
      swarmService('sw', { ...enable, 'appproxy.http.services.sw.loadbalancer.server.port': '5000' }, ['10.0.1.5']),
    ],
    expected: {
      http: {
        routers: { sw: { rule: 'Host(`sw`)', service: 'sw' } },
        services: { sw: defaultService('http://10.0.1.5:5000') },
      },
    },
  },
  {
    desc: 'sidecar.address=published without an advertised address uses the address the port is bound to; a bad value is refused',
    workloads: [
      container({
        name: 'bound',
        labels: { ...enable, 'appproxy.sidecar.address': 'published' },
        ports: [{ name: '80/tcp', bindings: [{ hostIp: '198.51.100.2', hostPort: '9000' }] }],
      }),
      container({ name: 'typo', labels: { ...enable, 'appproxy.sidecar.address': 'public' } }),
    ],
    expected: {
      http: {
        routers: { bound: { rule: 'Host(`bound`)', service: 'bound' } },
        services: { bound: defaultService('http://198.51.100.2:9000') },
      },
    },
    errors: [{ workload: 'typo', includes: 'expects "published"' }],
  },
  {
    desc: 'only running containers; healthy ones where a health check exists',
    workloads: [
      container({ name: 'stopped', labels: enable, status: 'exited' }),
      container({ name: 'starting', labels: enable, health: 'starting' }),
      container({ name: 'sick', labels: enable, health: 'unhealthy' }),
      container({ name: 'well', labels: enable, health: 'healthy', networks: [{ name: 'bridge', ip: '172.17.0.8' }] }),
    ],
    expected: {
      http: {
        routers: { well: { rule: 'Host(`well`)', service: 'well' } },
        services: { well: defaultService('http://172.17.0.8:80') },
      },
    },
    filtered: [
      { workload: 'stopped', includes: 'not running (exited)' },
      { workload: 'starting', includes: 'health check starting' },
      { workload: 'sick', includes: 'health check unhealthy' },
    ],
  },
  {
    desc: 'allowEmptyServices keeps the routes of an unhealthy container, with no servers',
    options: { allowEmptyServices: true },
    workloads: [container({ name: 'sick', labels: enable, health: 'unhealthy' })],
    expected: {
      http: { routers: { sick: { rule: 'Host(`sick`)', service: 'sick' } }, services: { sick: { loadBalancer: {} } } },
    },
  },
  {
    desc: 'constraints filter on labels',
    options: { constraints: 'Label("team","a")' },
    workloads: [
      container({ name: 'a', labels: { ...enable, team: 'a' } }),
      container({ name: 'b', labels: { ...enable, team: 'b' } }),
    ],
    expected: {
      http: {
        routers: { a: { rule: 'Host(`a`)', service: 'a' } },
        services: { a: defaultService('http://172.17.0.2:80') },
      },
    },
    filtered: [{ workload: 'b', includes: 'constraints' }],
  },
  {
    desc: "a sticky cookie without a name gets the name Traefik's Docker (or Swarm) provider would give it",
    workloads: [
      container({
        name: 'web',
        labels: { ...enable, 'appproxy.http.services.p09-s.loadbalancer.sticky.cookie': 'true' },
      }),
      swarmService(
        'sw',
        {
          ...enable,
          'appproxy.http.services.sw.loadbalancer.sticky.cookie.secure': 'true',
          'appproxy.http.services.sw.loadbalancer.server.port': '80',
        },
        ['10.0.1.5'],
      ),
    ],
    expected: {
      http: {
        routers: { web: { rule: 'Host(`web`)', service: 'p09-s' }, sw: { rule: 'Host(`sw`)', service: 'sw' } },
        services: {
          'p09-s': {
            loadBalancer: { sticky: { cookie: { name: '_beffe' } }, servers: [{ url: 'http://172.17.0.2:80' }] },
          },
          sw: {
            loadBalancer: {
              sticky: { cookie: { secure: true, name: '_a565d' } },
              servers: [{ url: 'http://10.0.1.5:80' }],
            },
          },
        },
      },
    },
  },
  {
    desc: 'same-named identical services merge their servers; routers that are equal merge',
    workloads: [
      container({
        name: 'w1',
        labels: {
          ...enable,
          'appproxy.http.routers.chat.rule': 'PathPrefix(`/c`)',
          'appproxy.http.services.chat.loadbalancer.sticky.cookie.name': 'c',
        },
      }),
      container({
        name: 'w2',
        labels: {
          ...enable,
          'appproxy.http.routers.chat.rule': 'PathPrefix(`/c`)',
          'appproxy.http.services.chat.loadbalancer.sticky.cookie.name': 'c',
        },
        networks: [{ name: 'bridge', ip: '172.17.0.3' }],
      }),
    ],
    expected: {
      http: {
        routers: { chat: { rule: 'PathPrefix(`/c`)', service: 'chat' } },
        services: {
          chat: {
            loadBalancer: {
              sticky: { cookie: { name: 'c' } },
              servers: [{ url: 'http://172.17.0.2:80' }, { url: 'http://172.17.0.3:80' }],
            },
          },
        },
      },
    },
  },
  {
    desc: 'same-named resources defined differently are all dropped with an error naming both workloads',
    workloads: [
      container({
        name: 'w1',
        labels: {
          ...enable,
          'appproxy.http.routers.chat.rule': 'PathPrefix(`/a`)',
          'appproxy.http.services.chat.loadbalancer.sticky.cookie.name': 'a',
        },
      }),
      container({
        name: 'w2',
        labels: {
          ...enable,
          'appproxy.http.routers.chat.rule': 'PathPrefix(`/b`)',
          'appproxy.http.services.chat.loadbalancer.sticky.cookie.name': 'b',
        },
        networks: [{ name: 'bridge', ip: '172.17.0.3' }],
      }),
    ],
    expected: {},
    errors: [
      { workload: 'w1', includes: 'http routers "chat" is defined differently by w1, w2' },
      { workload: 'w2', includes: 'http routers "chat" is defined differently by w1, w2' },
      { workload: 'w1', includes: 'http services "chat" is defined differently' },
      { workload: 'w2', includes: 'http services "chat" is defined differently' },
    ],
  },
  {
    desc: 'names that differ only in case across workloads are dropped (they would be one key in etcd)',
    workloads: [
      container({
        name: 'w1',
        labels: {
          ...enable,
          'appproxy.http.routers.Chat.rule': 'Host(`a`)',
          'appproxy.http.routers.Chat.service': 'noop@internal',
        },
      }),
      container({
        name: 'w2',
        labels: {
          ...enable,
          'appproxy.http.routers.chat.rule': 'Host(`a`)',
          'appproxy.http.routers.chat.service': 'noop@internal',
        },
        networks: [{ name: 'bridge', ip: '172.17.0.3' }],
      }),
    ],
    expected: {
      http: { services: { w1: defaultService('http://172.17.0.2:80'), w2: defaultService('http://172.17.0.3:80') } },
    },
    errors: [
      { workload: 'w1', includes: 'differ only in case' },
      { workload: 'w2', includes: 'differ only in case' },
    ],
  },
  {
    desc: '@docker and @swarm references are rewritten; other providers kept',
    workloads: [
      container({
        name: 'web',
        labels: {
          ...enable,
          'appproxy.http.routers.web.middlewares': 'a@docker,b@file,c',
          'appproxy.http.middlewares.a.chain.middlewares': 'd@swarm',
        },
      }),
    ],
    expected: {
      http: {
        routers: { web: { middlewares: ['a', 'b@file', 'c'], rule: 'Host(`web`)', service: 'web' } },
        middlewares: { a: { chain: { middlewares: ['d'] } } },
        services: { web: defaultService('http://172.17.0.2:80') },
      },
    },
  },
  {
    desc: 'bad labels leave that one workload out, the others are routed',
    workloads: [
      container({
        name: 'bad',
        labels: { ...enable, 'appproxy.http.services.bad.loadbalancer.sticky.cookie.samesite': 'io' },
      }),
      container({ name: 'good', labels: enable, networks: [{ name: 'bridge', ip: '172.17.0.5' }] }),
    ],
    expected: {
      http: {
        routers: { good: { rule: 'Host(`good`)', service: 'good' } },
        services: { good: defaultService('http://172.17.0.5:80') },
      },
    },
    errors: [{ workload: 'bad', includes: '"io" is not one of none, lax, strict' }],
  },
  {
    desc: 'a name that cannot be an etcd key segment leaves out that entry only, and what referred to it',
    workloads: [
      container({ name: 'a', labels: { ...enable, 'appproxy.http.routers.123.rule': 'Host(`x`)' } }),
      container({
        name: 'b',
        labels: {
          ...enable,
          'appproxy.http.middlewares.m.headers.customrequestheaders.X/Y': 'z',
          'appproxy.http.middlewares.m.headers.customrequestheaders.X-Z': 'z',
        },
        networks: [{ name: 'bridge', ip: '172.17.0.3' }],
      }),
      container({
        name: 'c',
        labels: { ...enable, 'appproxy.http.services.c@x.loadbalancer.server.port': '81' },
        networks: [{ name: 'bridge', ip: '172.17.0.4' }],
      }),
    ],
    expected: {
      http: {
        middlewares: { m: { headers: { customRequestHeaders: { 'X-Z': 'z' } } } },
        routers: { b: { rule: 'Host(`b`)', service: 'b' } },
        services: { a: defaultService('http://172.17.0.2:80'), b: defaultService('http://172.17.0.3:80') },
      },
    },
    errors: [
      { workload: 'a', includes: 'is only digits' },
      { workload: 'b', includes: 'contains "/"' },
      { workload: 'c', includes: 'contains "@"' },
      { workload: 'c', includes: 'http.routers "c" refers to "c@x", which is left out' },
    ],
  },
  {
    desc: 'a Swarm service with appproxy labels on its containers only: nothing routed, and a warning names the service and the fix',
    workloads: [
      swarmService('slip', { 'com.docker.stack.namespace': 'demo' }, ['10.0.1.7'], {
        containerLabels: {
          'appproxy.enable': 'true',
          'appproxy.http.routers.slip.rule': 'Host(`slip`)',
          'com.docker.stack.namespace': 'demo',
        },
      }),
      swarmService('fine', { ...enable, 'appproxy.http.services.fine.loadbalancer.server.port': '80' }, ['10.0.1.8'], {
        containerLabels: { 'com.docker.stack.namespace': 'demo' },
      }),
    ],
    expected: {
      http: {
        routers: { fine: { rule: 'Host(`fine`)', service: 'fine' } },
        services: { fine: defaultService('http://10.0.1.8:80') },
      },
    },
    warnings: [
      {
        workload: 'slip',
        includes:
          'Swarm service "slip" has appproxy.enable, appproxy.http.routers.slip.rule on its containers, which are not read (a service is routed by its service labels): move them to deploy.labels',
      },
    ],
  },
  {
    desc: 'TCP only: no HTTP service or router is created; a TCP router without rule is dropped',
    workloads: [
      container({
        name: 'db',
        labels: {
          ...enable,
          'appproxy.tcp.routers.db.rule': 'HostSNI(`*`)',
          'appproxy.tcp.routers.norule.entrypoints': 'tcpep',
          'appproxy.tcp.services.db.loadbalancer.server.port': '5432',
        },
      }),
    ],
    expected: {
      tcp: {
        routers: { db: { rule: 'HostSNI(`*`)', service: 'db' } },
        services: { db: { loadBalancer: { servers: [{ address: '172.17.0.2:5432' }] } } },
      },
    },
    warnings: [{ workload: 'db', includes: 'TCP router "norule" has no rule' }],
  },
  {
    desc: 'UDP router gets the automatic service',
    workloads: [
      container({
        name: 'dns',
        labels: { ...enable, 'appproxy.udp.routers.dns.entrypoints': 'udpep' },
        ports: [{ name: '53/udp', bindings: [] }],
      }),
    ],
    expected: {
      udp: {
        routers: { dns: { entryPoints: ['udpep'], service: 'dns' } },
        services: { dns: { loadBalancer: { servers: [{ address: '172.17.0.2:53' }] } } },
      },
    },
  },
  {
    desc: 'Swarm service: one server per running task, port from the label',
    workloads: [
      swarmService('stack_chat', { ...enable, 'appproxy.http.services.chat.loadbalancer.server.port': '5000' }, [
        '10.0.1.5',
        '10.0.1.6',
      ]),
    ],
    expected: {
      http: {
        routers: { 'stack-chat': { rule: 'Host(`stack-chat`)', service: 'chat' } },
        services: {
          chat: { loadBalancer: { servers: [{ url: 'http://10.0.1.5:5000' }, { url: 'http://10.0.1.6:5000' }] } },
        },
      },
    },
  },
  {
    desc: 'Swarm service without a port label is an error (Swarm gives no ports)',
    workloads: [swarmService('app', enable, ['10.0.1.5'])],
    expected: {},
    errors: [{ workload: 'app.1', includes: 'port is missing' }],
  },
  {
    desc: 'Swarm lbswarm routes to the service VIP; docker.* and swarm.* together are refused',
    workloads: [
      swarmService(
        'vip',
        { ...enable, 'appproxy.swarm.lbswarm': 'true', 'appproxy.http.services.vip.loadbalancer.server.port': '80' },
        ['10.0.1.5'],
      ),
      swarmService('mixed', { ...enable, 'appproxy.swarm.network': 'a', 'appproxy.docker.network': 'b' }, ['10.0.1.7']),
    ],
    expected: {
      http: {
        routers: { vip: { rule: 'Host(`vip`)', service: 'vip' } },
        services: { vip: defaultService('http://10.0.1.2:80') },
      },
    },
    errors: [{ workload: 'mixed', includes: 'keep only appproxy.swarm.*' }],
  },
];

/** A copy without the `defaultRule` flags of HTTP routers, which the cases leave out for brevity. */
function withoutDefaultRuleFlags(configuration: ConfigObject): ConfigObject {
  const copy = structuredClone(configuration);
  const routers = (copy['http'] as ConfigObject | undefined)?.['routers'] as Record<string, ConfigObject> | undefined;
  for (const router of Object.values(routers ?? {})) delete router['defaultRule'];
  return copy;
}

test("build: exactly the routers given the default rule carry defaultRule=true, as Traefik's label providers set it", () => {
  const compiled = compileTranslateOptions(defaultTranslateOptions);
  assert.ok(compiled.ok);
  const result = buildConfiguration(
    [
      container({ name: 'auto', labels: enable }),
      container({
        name: 'norule',
        labels: { ...enable, 'appproxy.http.routers.named.entrypoints': 'web' },
        networks: [{ name: 'bridge', ip: '172.17.0.3' }],
      }),
      container({
        name: 'ruled',
        labels: { ...enable, 'appproxy.http.routers.ruled.rule': 'Host(`x`)' },
        networks: [{ name: 'bridge', ip: '172.17.0.4' }],
      }),
      container({
        name: 'tcp',
        labels: { ...enable, 'appproxy.tcp.routers.t.rule': 'HostSNI(`*`)' },
        networks: [{ name: 'bridge', ip: '172.17.0.5' }],
      }),
    ],
    compiled.value,
  );
  const routers = (result.configuration['http'] as ConfigObject)['routers'] as Record<string, ConfigObject>;
  assert.deepEqual(routers['auto'], { rule: 'Host(`auto`)', service: 'auto', defaultRule: true });
  assert.deepEqual(routers['named'], {
    entryPoints: ['web'],
    rule: 'Host(`norule`)',
    service: 'norule',
    defaultRule: true,
  });
  assert.equal(routers['ruled']?.['defaultRule'], undefined);
  assert.equal(
    ((result.configuration['tcp'] as ConfigObject)['routers'] as Record<string, ConfigObject>)['t']?.['defaultRule'],
    undefined,
    'TCP routers have no default rule',
  );
});

test('build: a defaultRule label is refused: the provider sets it', () => {
  const compiled = compileTranslateOptions(defaultTranslateOptions);
  assert.ok(compiled.ok);
  const result = buildConfiguration(
    [container({ name: 'flag', labels: { ...enable, 'appproxy.http.routers.flag.defaultrule': 'true' } })],
    compiled.value,
  );
  assert.ok(
    result.problems.some(
      (problem) =>
        problem.label === 'appproxy.http.routers.flag.defaultrule' &&
        problem.message.includes('set by the provider itself'),
    ),
    JSON.stringify(result.problems),
  );
});

for (const entry of cases) {
  test(`build: ${entry.desc}`, () => {
    const compiled = compileTranslateOptions({ ...defaultTranslateOptions, ...entry.options });
    assert.ok(compiled.ok, JSON.stringify(compiled.ok ? '' : compiled.errors));
    const result = buildConfiguration(entry.workloads, compiled.value);
    // Routers given the default rule carry Traefik's defaultRule flag; the test below pins where.
    assert.deepEqual(withoutDefaultRuleFlags(result.configuration), entry.expected);
    const check = (severity: 'error' | 'warning', expected: readonly { workload: string; includes: string }[] = []) => {
      const actual = result.problems.filter((problem) => problem.severity === severity);
      for (const want of expected) {
        assert.ok(
          actual.some((problem) => problem.workload === want.workload && problem.message.includes(want.includes)),
          `no ${severity} for ${want.workload} including ${JSON.stringify(want.includes)}; got ${JSON.stringify(actual)}`,
        );
      }
      assert.equal(actual.length, expected.length, `unexpected ${severity}s: ${JSON.stringify(actual)}`);
    };
    check('error', entry.errors);
    check('warning', entry.warnings);
    for (const want of entry.filtered ?? []) {
      assert.ok(
        result.filtered.some((item) => item.workload === want.workload && item.reason.includes(want.includes)),
        `not filtered: ${want.workload} (${JSON.stringify(result.filtered)})`,
      );
    }
  });
}

test('build: bad options are reported once, before any work', () => {
  const compiled = compileTranslateOptions({
    ...defaultTranslateOptions,
    defaultRule: 'Host(`{{ nosuchfunc .Name }}`)',
    constraints: 'Label("a"',
    prefix: 'bad prefix',
  });
  assert.ok(!compiled.ok);
  assert.equal(compiled.errors.length, 3, JSON.stringify(compiled.errors));
});
