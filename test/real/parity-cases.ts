/**
 * Label cases for the parity test: each container carries the same labels under `traefik.` (read
 * by Traefik's own Docker provider) and `appproxy.` (read by appproxy). Resource names start with
 * the case id so that every case can run at once on one engine.
 */
import { testEnv } from '../support/env.ts';

export interface ParityContainer {
  readonly name: string;
  /** Label suffixes, written under both prefixes: `http.routers.x.rule` → `traefik.http...` and `appproxy.http...`. */
  readonly labels?: Record<string, string>;
  /** Labels written as they are (Compose labels). */
  readonly raw?: Record<string, string>;
  readonly ports?: readonly string[];
  readonly health?: 'healthy' | 'unhealthy';
  readonly networks?: readonly string[];
}

export interface ParityCase {
  readonly id: string;
  readonly desc: string;
  readonly containers: readonly ParityContainer[];
  /** Traefik routes nothing of this case (so an empty result is the expected one, not a failed set-up). */
  readonly routesNothing?: boolean;
  /**
   * Where appproxy differs from Traefik on purpose: why, the resources (`routers/<name>`, as the
   * test names them) that Traefik's Docker provider has and appproxy leaves out, and a text of
   * the problem appproxy reports. Everything else of the case must still match.
   */
  readonly difference?: { readonly why: string; readonly absent: readonly string[]; readonly problem: string };
}

const on = { enable: 'true' };
/** Options of the project's local plugin (test/fixtures/traefik-plugins), which both Traefiks load. */
const plugin = (middleware: string) => `http.middlewares.${middleware}.plugin.${testEnv.pluginKey}`;

export const parityCases: readonly ParityCase[] = [
  {
    id: 'p01',
    desc: 'enable only: automatic service and router with the default rule',
    containers: [{ name: 'p01-web', labels: on }],
  },
  {
    id: 'p02',
    desc: 'no enable label: not exposed (exposedByDefault=false on both)',
    routesNothing: true,
    containers: [{ name: 'p02-web' }],
  },
  {
    id: 'p03',
    desc: 'enable=false',
    routesNothing: true,
    containers: [{ name: 'p03-web', labels: { enable: 'false', 'http.routers.p03-r.rule': 'Host(`p03`)' } }],
  },
  {
    id: 'p04',
    desc: 'router with rule and entry points, automatic service',
    containers: [
      {
        name: 'p04-web',
        labels: { ...on, 'http.routers.p04-r.rule': 'PathPrefix(`/p04`)', 'http.routers.p04-r.entrypoints': 'web' },
      },
    ],
  },
  {
    id: 'p05',
    desc: 'named service with a port label, router linked to it',
    containers: [
      {
        name: 'p05-web',
        labels: {
          ...on,
          'http.routers.p05-r.rule': 'Host(`p05`)',
          'http.services.p05-s.loadbalancer.server.port': '8080',
        },
      },
    ],
  },
  {
    id: 'p06',
    desc: 'two services and no router: no automatic router',
    containers: [
      {
        name: 'p06-web',
        labels: {
          ...on,
          'http.services.p06-a.loadbalancer.server.port': '81',
          'http.services.p06-b.loadbalancer.server.port': '82',
        },
      },
    ],
  },
  {
    id: 'p07',
    desc: 'two services and a router without service: the router is dropped',
    containers: [
      {
        name: 'p07-web',
        labels: {
          ...on,
          'http.services.p07-a.loadbalancer.server.port': '81',
          'http.services.p07-b.loadbalancer.server.port': '82',
          'http.routers.p07-r.rule': 'Host(`p07`)',
        },
      },
    ],
  },
  {
    id: 'p08',
    desc: 'sticky cookie with every option',
    containers: [
      {
        name: 'p08-web',
        labels: {
          ...on,
          'http.services.p08-s.loadbalancer.sticky.cookie.name': 'p08_sticky',
          'http.services.p08-s.loadbalancer.sticky.cookie.secure': 'true',
          'http.services.p08-s.loadbalancer.sticky.cookie.httponly': 'true',
          'http.services.p08-s.loadbalancer.sticky.cookie.samesite': 'strict',
          'http.services.p08-s.loadbalancer.sticky.cookie.maxage': '600',
          'http.services.p08-s.loadbalancer.sticky.cookie.path': '/p08',
          'http.services.p08-s.loadbalancer.sticky.cookie.domain': 'example.com',
        },
      },
    ],
  },
  {
    id: 'p09',
    desc: 'sticky.cookie=true alone',
    containers: [{ name: 'p09-web', labels: { ...on, 'http.services.p09-s.loadbalancer.sticky.cookie': 'true' } }],
  },
  {
    id: 'p10',
    desc: 'stripPrefix middleware referenced with @docker',
    containers: [
      {
        name: 'p10-web',
        labels: {
          ...on,
          'http.routers.p10-r.rule': 'PathPrefix(`/p10`)',
          'http.routers.p10-r.middlewares': 'p10-strip@docker',
          'http.middlewares.p10-strip.stripprefix.prefixes': '/p10,/p10b',
        },
      },
    ],
  },
  {
    id: 'p11',
    desc: 'replacePath',
    containers: [
      {
        name: 'p11-web',
        labels: { ...on, 'http.routers.p11-r.middlewares': 'p11-m', 'http.middlewares.p11-m.replacepath.path': '/new' },
      },
    ],
  },
  {
    id: 'p12',
    desc: 'replacePathRegex',
    containers: [
      {
        name: 'p12-web',
        labels: {
          ...on,
          'http.middlewares.p12-m.replacepathregex.regex': '^/a/(.*)',
          'http.middlewares.p12-m.replacepathregex.replacement': '/b/$1',
        },
      },
    ],
  },
  {
    id: 'p13',
    desc: 'stripPrefixRegex',
    containers: [
      { name: 'p13-web', labels: { ...on, 'http.middlewares.p13-m.stripprefixregex.regex': '/foo/[a-z0-9]+' } },
    ],
  },
  {
    id: 'p14',
    desc: 'addPrefix',
    containers: [{ name: 'p14-web', labels: { ...on, 'http.middlewares.p14-m.addprefix.prefix': '/api' } }],
  },
  {
    id: 'p15',
    desc: 'headers: custom headers, CORS lists, STS',
    containers: [
      {
        name: 'p15-web',
        labels: {
          ...on,
          'http.middlewares.p15-m.headers.customrequestheaders.X-Script-Name': '/p15',
          'http.middlewares.p15-m.headers.customresponseheaders.X-Custom': 'yes',
          'http.middlewares.p15-m.headers.accesscontrolallowmethods': 'GET,OPTIONS,PUT',
          'http.middlewares.p15-m.headers.stsseconds': '31536000',
          'http.middlewares.p15-m.headers.framedeny': 'true',
        },
      },
    ],
  },
  {
    id: 'p16',
    desc: 'redirectScheme and redirectRegex',
    containers: [
      {
        name: 'p16-web',
        labels: {
          ...on,
          'http.middlewares.p16-a.redirectscheme.scheme': 'https',
          'http.middlewares.p16-a.redirectscheme.permanent': 'true',
          'http.middlewares.p16-b.redirectregex.regex': '^http://localhost/(.*)',
          'http.middlewares.p16-b.redirectregex.replacement': 'http://example.com/$1',
        },
      },
    ],
  },
  {
    id: 'p17',
    desc: 'basicAuth',
    containers: [
      {
        name: 'p17-web',
        labels: {
          ...on,
          'http.middlewares.p17-m.basicauth.users':
            'test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/,test2:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0',
          'http.middlewares.p17-m.basicauth.realm': 'p17',
        },
      },
    ],
  },
  {
    id: 'p18',
    desc: 'rateLimit with source criterion',
    containers: [
      {
        name: 'p18-web',
        labels: {
          ...on,
          'http.middlewares.p18-m.ratelimit.average': '100',
          'http.middlewares.p18-m.ratelimit.burst': '50',
          'http.middlewares.p18-m.ratelimit.period': '1m',
          'http.middlewares.p18-m.ratelimit.sourcecriterion.ipstrategy.depth': '1',
        },
      },
    ],
  },
  {
    id: 'p19',
    desc: 'ipAllowList',
    containers: [
      {
        name: 'p19-web',
        labels: { ...on, 'http.middlewares.p19-m.ipallowlist.sourcerange': '127.0.0.1/32,192.168.1.7' },
      },
    ],
  },
  {
    id: 'p20',
    desc: 'chain of middlewares',
    containers: [
      {
        name: 'p20-web',
        labels: {
          ...on,
          'http.middlewares.p20-a.addprefix.prefix': '/x',
          'http.middlewares.p20-c.chain.middlewares': 'p20-a,p20-a@docker',
          'http.routers.p20-r.middlewares': 'p20-c',
        },
      },
    ],
  },
  {
    id: 'p21',
    desc: 'retry',
    containers: [
      {
        name: 'p21-web',
        labels: {
          ...on,
          'http.middlewares.p21-m.retry.attempts': '4',
          'http.middlewares.p21-m.retry.initialinterval': '100ms',
        },
      },
    ],
  },
  {
    id: 'p22',
    desc: 'compress=true alone',
    containers: [{ name: 'p22-web', labels: { ...on, 'http.middlewares.p22-m.compress': 'true' } }],
  },
  {
    id: 'p23',
    desc: 'buffering, circuitBreaker, inFlightReq',
    containers: [
      {
        name: 'p23-web',
        labels: {
          ...on,
          'http.middlewares.p23-a.buffering.maxrequestbodybytes': '1000000',
          'http.middlewares.p23-b.circuitbreaker.expression': 'NetworkErrorRatio() > 0.30',
          'http.middlewares.p23-c.inflightreq.amount': '10',
        },
      },
    ],
  },
  {
    id: 'p24',
    desc: 'router TLS with domains',
    containers: [
      {
        name: 'p24-web',
        labels: {
          ...on,
          'http.routers.p24-r.entrypoints': 'websecure',
          'http.routers.p24-r.tls': 'true',
          'http.routers.p24-r.tls.domains[0].main': 'p24.example',
          'http.routers.p24-r.tls.domains[0].sans': 'a.p24.example,b.p24.example',
        },
      },
    ],
  },
  {
    id: 'p25',
    desc: 'service health check',
    containers: [
      {
        name: 'p25-web',
        labels: {
          ...on,
          'http.services.p25-s.loadbalancer.healthcheck.path': '/health',
          'http.services.p25-s.loadbalancer.healthcheck.interval': '30s',
          'http.services.p25-s.loadbalancer.healthcheck.timeout': '3',
        },
      },
    ],
  },
  {
    id: 'p26',
    desc: 'passHostHeader=false, strategy and response forwarding',
    containers: [
      {
        name: 'p26-web',
        labels: {
          ...on,
          'http.services.p26-s.loadbalancer.passhostheader': 'false',
          'http.services.p26-s.loadbalancer.strategy': 'p2c',
          'http.services.p26-s.loadbalancer.responseforwarding.flushinterval': '10ms',
        },
      },
    ],
  },
  {
    id: 'p27',
    desc: 'server scheme h2c',
    containers: [{ name: 'p27-web', labels: { ...on, 'http.services.p27-s.loadbalancer.server.scheme': 'h2c' } }],
  },
  {
    id: 'p28',
    desc: 'two containers of one Compose service: one service with both servers',
    containers: [
      {
        name: 'p28-app-1',
        labels: on,
        raw: { 'com.docker.compose.project': 'proj', 'com.docker.compose.service': 'p28-app' },
      },
      {
        name: 'p28-app-2',
        labels: on,
        raw: { 'com.docker.compose.project': 'proj', 'com.docker.compose.service': 'p28-app' },
      },
    ],
  },
  {
    id: 'p29',
    desc: 'two containers defining one router differently: the router is dropped',
    containers: [
      {
        name: 'p29-a',
        labels: { ...on, 'http.routers.p29-r.rule': 'Host(`a.p29`)', 'http.routers.p29-r.service': 'p29-a' },
      },
      {
        name: 'p29-b',
        labels: { ...on, 'http.routers.p29-r.rule': 'Host(`b.p29`)', 'http.routers.p29-r.service': 'p29-b' },
      },
    ],
  },
  {
    id: 'p30',
    desc: 'TCP router and service only: no HTTP configuration',
    containers: [
      {
        name: 'p30-db',
        labels: {
          ...on,
          'tcp.routers.p30-r.rule': 'HostSNI(`*`)',
          'tcp.routers.p30-r.entrypoints': 'tcpep',
          'tcp.services.p30-s.loadbalancer.server.port': '5432',
        },
      },
    ],
  },
  {
    id: 'p31',
    desc: 'UDP router with the automatic service',
    containers: [{ name: 'p31-dns', labels: { ...on, 'udp.routers.p31-r.entrypoints': 'udpep' }, ports: ['53/udp'] }],
  },
  {
    id: 'p32',
    desc: 'health checks: healthy container routed, unhealthy one not',
    containers: [
      { name: 'p32-well', labels: on, health: 'healthy' },
      { name: 'p32-sick', labels: on, health: 'unhealthy' },
    ],
  },
  {
    id: 'p33',
    desc: 'Compose names normalised in default names and rule',
    containers: [
      {
        name: 'p33-x',
        labels: on,
        raw: { 'com.docker.compose.project': 'my.proj', 'com.docker.compose.service': 'p33_my app' },
      },
    ],
  },
  {
    id: 'p34',
    desc: 'several exposed ports: the lowest is used',
    containers: [{ name: 'p34-web', labels: on, ports: ['9000/tcp', '8080/tcp', '443/tcp'] }],
  },
  {
    id: 'p35',
    desc: 'docker.network picks the address on that network',
    containers: [
      { name: 'p35-web', labels: { ...on, 'docker.network': 'parity-b' }, networks: ['parity-a', 'parity-b'] },
    ],
  },
  {
    id: 'p36',
    desc: 'server url label',
    containers: [
      { name: 'p36-web', labels: { ...on, 'http.services.p36-s.loadbalancer.server.url': 'http://192.0.2.36:8080' } },
    ],
  },
  {
    id: 'p37',
    desc: 'router priority, rule syntax and observability',
    containers: [
      {
        name: 'p37-web',
        labels: {
          ...on,
          'http.routers.p37-r.priority': '42',
          'http.routers.p37-r.observability.accesslogs': 'false',
          'http.routers.p37-r.observability.tracing': 'false',
        },
      },
    ],
  },
  {
    id: 'p38',
    desc: 'errors and forwardAuth middlewares',
    containers: [
      {
        name: 'p38-web',
        labels: {
          ...on,
          'http.middlewares.p38-e.errors.status': '500-599',
          'http.middlewares.p38-e.errors.service': 'p38-web@docker',
          'http.middlewares.p38-e.errors.query': '/{status}.html',
          'http.middlewares.p38-f.forwardauth.address': 'http://192.0.2.38/auth',
          'http.middlewares.p38-f.forwardauth.authresponseheaders': 'X-User,X-Groups',
          'http.middlewares.p38-f.forwardauth.trustforwardheader': 'true',
        },
      },
    ],
  },
  {
    id: 'p39',
    desc: 'an unknown field rejects the container in both',
    routesNothing: true,
    containers: [{ name: 'p39-web', labels: { ...on, 'http.routers.p39-r.rulez': 'Host(`p39`)' } }],
  },
  {
    id: 'p40',
    desc: 'a TCP router without rule is dropped; its service stays',
    containers: [{ name: 'p40-db', labels: { ...on, 'tcp.routers.p40-r.entrypoints': 'tcpep' }, ports: ['6379/tcp'] }],
  },
  {
    id: 'p60',
    desc: 'plugin middleware with a string, a list in one label and a nested object',
    containers: [
      {
        name: 'p60-web',
        labels: {
          ...on,
          'http.routers.p60-r.rule': 'PathPrefix(`/p60`)',
          'http.routers.p60-r.middlewares': 'p60-stamp',
          [`${plugin('p60-stamp')}.prefix`]: 'X-P60',
          [`${plugin('p60-stamp')}.tags`]: 'red,green,blue',
          [`${plugin('p60-stamp')}.stamp.name`]: 'X-P60-Deep',
          [`${plugin('p60-stamp')}.stamp.value`]: 'nested',
        },
      },
    ],
  },
  {
    id: 'p61',
    desc: 'plugin options: a list of objects whose values hold commas, option names keep their case',
    containers: [
      {
        name: 'p61-web',
        labels: {
          ...on,
          'http.routers.p61-r.middlewares': 'p61-stamp',
          [`${plugin('p61-stamp')}.prefix`]: 'X-P61',
          [`${plugin('p61-stamp')}.rules[0].hosts`]: 'a.p61,b.p61',
          [`${plugin('p61-stamp')}.rules[1].hosts`]: 'c.p61',
          [`${plugin('p61-stamp')}.rules[1].Path`]: '/p61',
        },
      },
    ],
  },
  {
    id: 'p70',
    desc: 'errors statusRewrites keyed by ranges, a one-status range among them (the form etcd carries; a bare "418" is written so)',
    containers: [
      {
        name: 'p70-web',
        labels: {
          ...on,
          'http.middlewares.p70-e.errors.status': '418,500-599',
          'http.middlewares.p70-e.errors.service': 'p70-web@docker',
          'http.middlewares.p70-e.errors.statusrewrites.418-418': '404',
          'http.middlewares.p70-e.errors.statusrewrites.500-503': '502',
        },
      },
    ],
  },
  {
    id: 'p71',
    desc: 'enumerations in another case (sameSite=Lax, strategy=P2C) are passed on as given, as Traefik does',
    containers: [
      {
        name: 'p71-web',
        labels: {
          ...on,
          'http.services.p71-s.loadbalancer.sticky.cookie.samesite': 'Lax',
          'http.services.p71-s.loadbalancer.strategy': 'P2C',
        },
      },
    ],
  },
  {
    id: 'd01',
    desc: "a field Traefik refuses from labels (a router's parentRefs)",
    containers: [{ name: 'd01-web', labels: { ...on, 'http.routers.d01-r.parentrefs': 'x' } }],
    difference: {
      why: 'Traefik silently ignores the label and routes the container; appproxy reports the label and leaves the container out',
      absent: ['routers/d01-r', 'services/d01-web'],
      problem: 'cannot be set by labels',
    },
  },
  {
    id: 'd02',
    desc: 'sameSite outside none, lax, strict',
    containers: [
      { name: 'd02-web', labels: { ...on, 'http.services.d02-s.loadbalancer.sticky.cookie.samesite': 'io' } },
    ],
    difference: {
      why: 'Traefik accepts any text and falls back to the browser default; appproxy rejects the value',
      absent: ['routers/d02-web', 'services/d02-s'],
      problem: 'is not one of none, lax, strict',
    },
  },
  {
    id: 'd03',
    desc: 'router names that differ only in case, on two containers',
    containers: [
      { name: 'd03-a', labels: { ...on, 'http.routers.d03-R.rule': 'Host(`a.d03`)' } },
      { name: 'd03-b', labels: { ...on, 'http.routers.d03-r.rule': 'Host(`b.d03`)' } },
    ],
    difference: {
      why: "Traefik's Docker provider keeps both routers; in etcd they would be one key, so appproxy drops both and says so",
      absent: ['routers/d03-R', 'routers/d03-r'],
      problem: 'differ only in case',
    },
  },
  {
    id: 'd10',
    desc: 'a plugin option list given item by item, an item holding a comma',
    containers: [
      {
        name: 'd10-web',
        labels: {
          ...on,
          'http.routers.d10-r.middlewares': 'd10-stamp',
          [`${plugin('d10-stamp')}.prefix`]: 'X-D10',
          [`${plugin('d10-stamp')}.tags[0]`]: 'x,y',
          [`${plugin('d10-stamp')}.tags[1]`]: 'z',
        },
      },
    ],
    difference: {
      why: "Traefik's Docker provider gives the plugin two items; its etcd provider joins a list's items with commas, so through etcd the plugin would get three: appproxy refuses the item and leaves the container out",
      absent: ['routers/d10-r', 'services/d10-web', 'middlewares/d10-stamp'],
      problem: 'contains a comma',
    },
  },
];
