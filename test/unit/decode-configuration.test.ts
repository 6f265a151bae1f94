import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigObject } from '../../src/core/config-tree.ts';
import { decodeConfigurationLabels } from '../../src/core/labels/decode-configuration.ts';
import { readLabels } from '../../src/core/labels/workload-labels.ts';
import { parseTraefikVersion } from '../../src/core/schema/traefik-version.ts';

interface Case {
  readonly desc: string;
  readonly labels: Record<string, string>;
  readonly expected?: ConfigObject;
  /** Substrings that must appear in the problems, each with the label it names. */
  readonly problems?: readonly { label: string; includes: string }[];
  readonly prefix?: string;
  /** The oldest Traefik written for (--traefik-min-version); the setting's default, 3.0, when not given. */
  readonly traefik?: string;
}

const cases: Case[] = [
  {
    desc: 'router with rule, entry points (comma list, trimmed) and middlewares',
    labels: {
      'appproxy.http.routers.chat.rule': 'PathPrefix(`/wsk`)',
      'appproxy.http.routers.chat.entrypoints': 'web, websecure',
      'appproxy.http.routers.chat.middlewares': 'strip,auth@file',
    },
    expected: {
      http: {
        routers: {
          chat: { rule: 'PathPrefix(`/wsk`)', entryPoints: ['web', 'websecure'], middlewares: ['strip', 'auth@file'] },
        },
      },
    },
  },
  {
    desc: 'field names match without regard to case, canonical spelling kept',
    labels: { 'appproxy.HTTP.Routers.Chat.RULE': 'Host(`a`)', 'appproxy.http.routers.chat.priority': '42' },
    expected: { http: { routers: { Chat: { rule: 'Host(`a`)', priority: 42 } } } },
  },
  {
    desc: 'resource names differing in case are one resource, first spelling (sorted labels) wins',
    labels: { 'appproxy.http.routers.Web.rule': 'Host(`a`)', 'appproxy.http.routers.web.service': 's' },
    expected: { http: { routers: { Web: { rule: 'Host(`a`)', service: 's' } } } },
  },
  {
    desc: 'sticky cookie with every option',
    traefik: '3.4',
    labels: {
      'appproxy.http.services.chat.loadbalancer.server.port': '5000',
      'appproxy.http.services.chat.loadbalancer.sticky.cookie.name': 'wsk_sticky',
      'appproxy.http.services.chat.loadbalancer.sticky.cookie.secure': 'true',
      'appproxy.http.services.chat.loadbalancer.sticky.cookie.httponly': 'TRUE',
      'appproxy.http.services.chat.loadbalancer.sticky.cookie.samesite': 'Lax',
      'appproxy.http.services.chat.loadbalancer.sticky.cookie.maxage': '3600',
      'appproxy.http.services.chat.loadbalancer.sticky.cookie.path': '/wsk',
      'appproxy.http.services.chat.loadbalancer.sticky.cookie.domain': 'example.com',
    },
    expected: {
      http: {
        services: {
          chat: {
            loadBalancer: {
              servers: [{ port: '5000' }],
              sticky: {
                cookie: {
                  name: 'wsk_sticky',
                  secure: true,
                  httpOnly: true,
                  sameSite: 'Lax',
                  maxAge: 3600,
                  path: '/wsk',
                  domain: 'example.com',
                },
              },
            },
          },
        },
      },
    },
  },
  {
    desc: 'allowEmpty objects: sticky.cookie=true, router tls=true, compress=true',
    labels: {
      'appproxy.http.services.s.loadbalancer.sticky.cookie': 'true',
      'appproxy.http.routers.r.tls': 'true',
      'appproxy.http.middlewares.c.compress': 'true',
    },
    expected: {
      http: {
        services: { s: { loadBalancer: { sticky: { cookie: {} } } } },
        routers: { r: { tls: {} } },
        middlewares: { c: { compress: {} } },
      },
    },
  },
  {
    desc: 'allowEmpty object with a value other than true is left unset, sub-fields included',
    labels: {
      'appproxy.http.routers.r.tls': 'false',
      'appproxy.http.routers.r.tls.certresolver': 'le',
      'appproxy.http.routers.r.rule': 'Host(`x`)',
    },
    expected: { http: { routers: { r: { rule: 'Host(`x`)' } } } },
  },
  {
    desc: 'path middlewares: replacePath, replacePathRegex, stripPrefix, stripPrefixRegex, addPrefix',
    labels: {
      'appproxy.http.middlewares.a.replacepath.path': '/foo',
      'appproxy.http.middlewares.b.replacepathregex.regex': '^/api/(.*)',
      'appproxy.http.middlewares.b.replacepathregex.replacement': '/$1',
      'appproxy.http.middlewares.c.stripprefix.prefixes': '/wsk,/other',
      'appproxy.http.middlewares.c.stripprefix.forceslash': 'false',
      'appproxy.http.middlewares.d.stripprefixregex.regex': '/x/[0-9]+',
      'appproxy.http.middlewares.e.addprefix.prefix': '/app',
    },
    expected: {
      http: {
        middlewares: {
          a: { replacePath: { path: '/foo' } },
          b: { replacePathRegex: { regex: '^/api/(.*)', replacement: '/$1' } },
          c: { stripPrefix: { prefixes: ['/wsk', '/other'], forceSlash: false } },
          d: { stripPrefixRegex: { regex: ['/x/[0-9]+'] } },
          e: { addPrefix: { prefix: '/app' } },
        },
      },
    },
  },
  {
    desc: 'headers: maps keep header-name spelling, lists split',
    labels: {
      'appproxy.http.middlewares.h.headers.customrequestheaders.X-Script-Name': '/wsk',
      'appproxy.http.middlewares.h.headers.customresponseheaders.X-Remove': '',
      'appproxy.http.middlewares.h.headers.accesscontrolallowmethods': 'GET,OPTIONS',
      'appproxy.http.middlewares.h.headers.stsseconds': '31536000',
    },
    expected: {
      http: {
        middlewares: {
          h: {
            headers: {
              customRequestHeaders: { 'X-Script-Name': '/wsk' },
              customResponseHeaders: { 'X-Remove': '' },
              accessControlAllowMethods: ['GET', 'OPTIONS'],
              stsSeconds: 31536000,
            },
          },
        },
      },
    },
  },
  {
    desc: 'redirects, basicAuth, rateLimit, ipAllowList, chain, retry, buffering, circuitBreaker, inFlightReq',
    labels: {
      'appproxy.http.middlewares.rs.redirectscheme.scheme': 'https',
      'appproxy.http.middlewares.rs.redirectscheme.permanent': 'true',
      'appproxy.http.middlewares.rr.redirectregex.regex': '^http://(.*)',
      'appproxy.http.middlewares.rr.redirectregex.replacement': 'https://$1',
      'appproxy.http.middlewares.ba.basicauth.users': 'test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/',
      'appproxy.http.middlewares.rl.ratelimit.average': '100',
      'appproxy.http.middlewares.rl.ratelimit.period': '1m',
      'appproxy.http.middlewares.rl.ratelimit.sourcecriterion.ipstrategy.depth': '2',
      'appproxy.http.middlewares.ip.ipallowlist.sourcerange': '127.0.0.1/32, 10.0.0.0/8',
      'appproxy.http.middlewares.ch.chain.middlewares': 'rs,ba@docker',
      'appproxy.http.middlewares.re.retry.attempts': '3',
      'appproxy.http.middlewares.re.retry.initialinterval': '100ms',
      'appproxy.http.middlewares.bu.buffering.maxrequestbodybytes': '2000000',
      'appproxy.http.middlewares.cb.circuitbreaker.expression': 'NetworkErrorRatio() > 0.5',
      'appproxy.http.middlewares.if.inflightreq.amount': '10',
    },
    expected: {
      http: {
        middlewares: {
          rs: { redirectScheme: { scheme: 'https', permanent: true } },
          rr: { redirectRegex: { regex: '^http://(.*)', replacement: 'https://$1' } },
          ba: { basicAuth: { users: ['test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'] } },
          rl: { rateLimit: { average: 100, period: '1m', sourceCriterion: { ipStrategy: { depth: 2 } } } },
          ip: { ipAllowList: { sourceRange: ['127.0.0.1/32', '10.0.0.0/8'] } },
          ch: { chain: { middlewares: ['rs', 'ba@docker'] } },
          re: { retry: { attempts: 3, initialInterval: '100ms' } },
          bu: { buffering: { maxRequestBodyBytes: 2000000 } },
          cb: { circuitBreaker: { expression: 'NetworkErrorRatio() > 0.5' } },
          if: { inFlightReq: { amount: 10 } },
        },
      },
    },
  },
  {
    desc: 'health check with duration in seconds and Go syntax, header map',
    labels: {
      'appproxy.http.services.s.loadbalancer.healthcheck.path': '/health',
      'appproxy.http.services.s.loadbalancer.healthcheck.interval': '10',
      'appproxy.http.services.s.loadbalancer.healthcheck.timeout': '1m30s',
      'appproxy.http.services.s.loadbalancer.healthcheck.headers.X-Probe': 'yes',
      'appproxy.http.services.s.loadbalancer.healthcheck.mode': 'grpc',
    },
    expected: {
      http: {
        services: {
          s: {
            loadBalancer: {
              healthCheck: {
                path: '/health',
                interval: '10',
                timeout: '1m30s',
                headers: { 'X-Probe': 'yes' },
                mode: 'grpc',
              },
            },
          },
        },
      },
    },
  },
  {
    desc: 'router TLS with domains (list of objects by index)',
    labels: {
      'appproxy.http.routers.r.tls.certresolver': 'le',
      'appproxy.http.routers.r.tls.domains[0].main': 'example.com',
      'appproxy.http.routers.r.tls.domains[0].sans': 'a.example.com,b.example.com',
      'appproxy.http.routers.r.tls.domains[1].main': 'example.org',
    },
    expected: {
      http: {
        routers: {
          r: {
            tls: {
              certResolver: 'le',
              domains: [{ main: 'example.com', sans: ['a.example.com', 'b.example.com'] }, { main: 'example.org' }],
            },
          },
        },
      },
    },
  },
  {
    desc: 'TCP router, service and middleware; UDP router and service',
    labels: {
      'appproxy.tcp.routers.db.rule': 'HostSNI(`*`)',
      'appproxy.tcp.routers.db.entrypoints': 'tcpep',
      'appproxy.tcp.routers.db.tls.passthrough': 'true',
      'appproxy.tcp.services.db.loadbalancer.server.port': '5432',
      'appproxy.tcp.services.db.loadbalancer.server.tls': 'false',
      'appproxy.tcp.middlewares.lim.inflightconn.amount': '5',
      'appproxy.udp.routers.dns.entrypoints': 'udpep',
      'appproxy.udp.services.dns.loadbalancer.server.port': '53',
    },
    expected: {
      tcp: {
        routers: { db: { rule: 'HostSNI(`*`)', entryPoints: ['tcpep'], tls: { passthrough: true } } },
        services: { db: { loadBalancer: { servers: [{ port: '5432', tls: false }] } } },
        middlewares: { lim: { inFlightConn: { amount: 5 } } },
      },
      udp: {
        routers: { dns: { entryPoints: ['udpep'] } },
        services: { dns: { loadBalancer: { servers: [{ port: '53' }] } } },
      },
    },
  },
  {
    desc: 'plugin options are free-form',
    labels: {
      'appproxy.http.middlewares.p.plugin.demo.headers.X-Demo': 'on',
      'appproxy.http.middlewares.p.plugin.demo.list[0]': 'a',
      'appproxy.http.middlewares.p.plugin.demo.list[1]': 'b',
    },
    expected: { http: { middlewares: { p: { plugin: { demo: { headers: { 'X-Demo': 'on' }, list: ['a', 'b'] } } } } } },
  },
  {
    desc: 'plugin options: a string, a list in one label (kept as the text Traefik gives the plugin), a nested object',
    labels: {
      'appproxy.http.middlewares.p.plugin.optionstamp.prefix': 'X-P',
      'appproxy.http.middlewares.p.plugin.optionstamp.tags': 'red,green,blue',
      'appproxy.http.middlewares.p.plugin.optionstamp.stamp.name': 'X-Deep',
      'appproxy.http.middlewares.p.plugin.optionstamp.stamp.value': 'v',
    },
    expected: {
      http: {
        middlewares: {
          p: {
            plugin: { optionstamp: { prefix: 'X-P', tags: 'red,green,blue', stamp: { name: 'X-Deep', value: 'v' } } },
          },
        },
      },
    },
  },
  {
    desc: 'plugin options: items of a list of objects may hold commas (etcd keeps each as its own key)',
    labels: {
      'appproxy.http.middlewares.p.plugin.demo.rules[0].hosts': 'a,b',
      'appproxy.http.middlewares.p.plugin.demo.rules[1].hosts': 'c',
    },
    expected: { http: { middlewares: { p: { plugin: { demo: { rules: [{ hosts: 'a,b' }, { hosts: 'c' }] } } } } } },
  },
  {
    desc: 'the default TLS store',
    labels: {
      'appproxy.tls.stores.default.defaultgeneratedcert.resolver': 'le',
      'appproxy.tls.stores.default.defaultgeneratedcert.domain.main': 'example.com',
    },
    expected: {
      tls: { stores: { default: { defaultGeneratedCert: { resolver: 'le', domain: { main: 'example.com' } } } } },
    },
  },
  {
    desc: 'labels outside the configuration sections, and other prefixes, are ignored',
    labels: {
      'appproxy.enable': 'true',
      'appproxy.docker.network': 'front',
      'appproxy.constraint-label': 'x',
      'traefik.http.routers.x.rule': 'bad',
    },
    expected: {},
  },
  {
    desc: 'prefix traefik reads Traefik labels unchanged',
    prefix: 'traefik',
    labels: { 'traefik.http.routers.x.rule': 'Host(`x`)', 'appproxy.http.routers.y.rule': 'Host(`y`)' },
    expected: { http: { routers: { x: { rule: 'Host(`x`)' } } } },
  },
  {
    desc: 'an empty list value leaves the list unset',
    labels: { 'appproxy.http.routers.r.entrypoints': '', 'appproxy.http.routers.r.rule': 'Host(`x`)' },
    expected: { http: { routers: { r: { rule: 'Host(`x`)' } } } },
  },
  // Bad input: each names the label and what is accepted.
  {
    desc: 'unknown field lists what is accepted',
    labels: { 'appproxy.http.routers.r.rulez': 'Host(`x`)' },
    problems: [
      {
        label: 'appproxy.http.routers.r.rulez',
        includes: 'unknown field "rulez" (accepted here: entryPoints, middlewares, service, rule',
      },
    ],
  },
  {
    desc: 'sameSite outside its enumeration',
    labels: { 'appproxy.http.services.s.loadbalancer.sticky.cookie.samesite': 'io' },
    problems: [
      {
        label: 'appproxy.http.services.s.loadbalancer.sticky.cookie.samesite',
        includes: '"io" is not one of none, lax, strict',
      },
    ],
  },
  {
    desc: 'wrong types: bool, int, duration, strategy',
    traefik: '3.7',
    labels: {
      'appproxy.http.services.s.loadbalancer.passhostheader': 'yes',
      'appproxy.http.routers.r.priority': '1.5',
      'appproxy.http.services.s.loadbalancer.healthcheck.interval': '10 seconds',
      'appproxy.http.services.s.loadbalancer.strategy': 'random',
    },
    problems: [
      { label: 'appproxy.http.services.s.loadbalancer.passhostheader', includes: 'expects true or false, got "yes"' },
      { label: 'appproxy.http.routers.r.priority', includes: 'expects a whole number' },
      { label: 'appproxy.http.services.s.loadbalancer.healthcheck.interval', includes: 'expects a duration' },
      { label: 'appproxy.http.services.s.loadbalancer.strategy', includes: 'not one of wrr, p2c, hrw, leasttime' },
    ],
  },
  {
    desc: 'an object cannot be set alone unless Traefik allows it',
    labels: { 'appproxy.http.middlewares.m.stripprefix': 'true' },
    problems: [
      {
        label: 'appproxy.http.middlewares.m.stripprefix',
        includes: '"stripprefix" cannot be set alone; set one of its fields (accepted here: prefixes, forceSlash)',
      },
    ],
  },
  {
    desc: 'fields Traefik refuses from labels are reported, not silently dropped',
    labels: { 'appproxy.http.services.w.weighted.services[0].name': 'a' },
    problems: [
      { label: 'appproxy.http.services.w.weighted.services[0].name', includes: '"weighted" cannot be set by labels' },
    ],
  },
  {
    desc: 'TLS options are not label material',
    labels: { 'appproxy.tls.options.foo.minversion': 'VersionTLS12' },
    problems: [{ label: 'appproxy.tls.options.foo.minversion', includes: 'only configure the default TLS store' }],
  },
  {
    desc: 'a list given with an index instead of commas',
    labels: { 'appproxy.http.routers.r.entrypoints[0]': 'web' },
    problems: [
      { label: 'appproxy.http.routers.r.entrypoints[0]', includes: 'give its items in one label, separated by commas' },
    ],
  },
  {
    desc: 'empty segment',
    labels: { 'appproxy.http.routers..rule': 'x' },
    problems: [{ label: 'appproxy.http.routers..rule', includes: 'empty segment' }],
  },
  {
    desc: 'plugin options: a list item with a comma is refused (through etcd it would reach the plugin as several items)',
    labels: {
      'appproxy.http.middlewares.p.plugin.demo.tags[0]': 'x,y',
      'appproxy.http.middlewares.p.plugin.demo.tags[1]': 'z',
      'appproxy.http.middlewares.p.plugin.demo.nested.more[0]': 'ok',
      'appproxy.http.middlewares.p.plugin.demo.nested.more[1]': 'not,ok',
    },
    problems: [
      {
        label: 'appproxy.http.middlewares.p.plugin.demo.tags[0]',
        includes: 'item "x,y" of the plugin option list "tags" contains a comma',
      },
      {
        label: 'appproxy.http.middlewares.p.plugin.demo.nested.more[1]',
        includes: 'item "not,ok" of the plugin option list "more" contains a comma',
      },
    ],
  },
  {
    desc: 'a scalar with sub-fields',
    labels: { 'appproxy.http.routers.r.rule.x': 'y' },
    problems: [{ label: 'appproxy.http.routers.r.rule.x', includes: 'takes a single value' }],
  },
  // Fields and values newer than the oldest Traefik that reads the root key (--traefik-min-version):
  // that Traefik would reject the whole tree, so the label is refused, naming the release and the setting.
  {
    desc: 'a 3.6 field (passiveHealthCheck) for Traefik 3.0 is refused, naming the field, its release and the setting',
    labels: { 'appproxy.http.services.s.loadbalancer.passivehealthcheck.maxfailedattempts': '3' },
    problems: [
      {
        label: 'appproxy.http.services.s.loadbalancer.passivehealthcheck.maxfailedattempts',
        includes:
          '"passiveHealthCheck" needs Traefik 3.6 or newer (introduced in 3.6), and appproxy writes for Traefik 3.0 and newer',
      },
    ],
  },
  {
    desc: 'the refusal says which setting to raise, and to what',
    labels: { 'appproxy.http.services.s.loadbalancer.passivehealthcheck.maxfailedattempts': '3' },
    problems: [
      {
        label: 'appproxy.http.services.s.loadbalancer.passivehealthcheck.maxfailedattempts',
        includes: 'raise --traefik-min-version (APPPROXY_TRAEFIK_MIN_VERSION, traefikMinVersion in the file) to 3.6',
      },
    ],
  },
  {
    desc: 'the same field for Traefik 3.7 is accepted',
    traefik: '3.7',
    labels: { 'appproxy.http.services.s.loadbalancer.passivehealthcheck.maxfailedattempts': '3' },
    expected: { http: { services: { s: { loadBalancer: { passiveHealthCheck: { maxFailedAttempts: 3 } } } } } },
  },
  {
    desc: 'the same field for the release that introduced it is accepted',
    traefik: '3.6',
    labels: { 'appproxy.http.services.s.loadbalancer.passivehealthcheck.failurewindow': '10s' },
    expected: { http: { services: { s: { loadBalancer: { passiveHealthCheck: { failureWindow: '10s' } } } } } },
  },
  {
    desc: 'a 3.7-only middleware field (retry.timeout) for Traefik 3.6 is refused; the rest of the middleware alone would not be',
    traefik: '3.6',
    labels: { 'appproxy.http.middlewares.r.retry.attempts': '3', 'appproxy.http.middlewares.r.retry.timeout': '5s' },
    problems: [
      {
        label: 'appproxy.http.middlewares.r.retry.timeout',
        includes:
          '"timeout" needs Traefik 3.7 or newer (introduced in 3.7), and appproxy writes for Traefik 3.6 and newer',
      },
    ],
  },
  {
    desc: 'a 3.7-only middleware (encodedCharacters) for Traefik 3.0 is refused once, at the middleware, not at each of its fields',
    labels: {
      'appproxy.http.middlewares.e.encodedcharacters.allowencodedslash': 'true',
      'appproxy.http.middlewares.e.encodedcharacters.allowencodedhash': 'true',
    },
    problems: [
      {
        label: 'appproxy.http.middlewares.e.encodedcharacters.allowencodedhash',
        includes: '"encodedCharacters" needs Traefik 3.7',
      },
    ],
  },
  {
    desc: 'a field of a patch release (errorRequestHeaders, 3.6.15) for Traefik 3.6.14 is refused',
    traefik: '3.6.14',
    labels: { 'appproxy.http.middlewares.e.errors.errorrequestheaders': 'X-Request-Id' },
    problems: [
      {
        label: 'appproxy.http.middlewares.e.errors.errorrequestheaders',
        includes: '"errorRequestHeaders" needs Traefik 3.6.15 or newer (introduced in 3.6.15)',
      },
    ],
  },
  {
    desc: 'the same field for Traefik 3.6.15 is accepted',
    traefik: '3.6.15',
    labels: { 'appproxy.http.middlewares.e.errors.errorrequestheaders': 'X-Request-Id' },
    expected: { http: { middlewares: { e: { errors: { errorRequestHeaders: ['X-Request-Id'] } } } } },
  },
  {
    desc: 'an enum value newer than its field (strategy hrw, 3.6) for Traefik 3.4 is refused, in any case',
    traefik: '3.4',
    labels: { 'appproxy.http.services.s.loadbalancer.strategy': 'HRW' },
    problems: [
      {
        label: 'appproxy.http.services.s.loadbalancer.strategy',
        includes:
          'the value "HRW" of "strategy" needs Traefik 3.6 or newer (introduced in 3.6), and appproxy writes for Traefik 3.4 and newer',
      },
    ],
  },
  {
    desc: 'a value as old as its field (strategy p2c) for Traefik 3.4 is accepted',
    traefik: '3.4',
    labels: { 'appproxy.http.services.s.loadbalancer.strategy': 'p2c' },
    expected: { http: { services: { s: { loadBalancer: { strategy: 'p2c' } } } } },
  },
  {
    desc: 'the newer value for Traefik 3.6 is accepted',
    traefik: '3.6',
    labels: { 'appproxy.http.services.s.loadbalancer.strategy': 'leasttime' },
    expected: { http: { services: { s: { loadBalancer: { strategy: 'leasttime' } } } } },
  },
  {
    desc: 'a field newer than the oldest Traefik is refused once, whatever its value',
    labels: { 'appproxy.http.services.s.loadbalancer.strategy': 'hrw' },
    problems: [
      { label: 'appproxy.http.services.s.loadbalancer.strategy', includes: '"strategy" needs Traefik 3.4 or newer' },
    ],
  },
  {
    desc: 'a value the listing cannot see, dated by hand (compress defaultEncoding zstd, 3.1) for Traefik 3.0.2 is refused',
    traefik: '3.0.2',
    labels: { 'appproxy.http.middlewares.c.compress.defaultencoding': 'zstd' },
    problems: [
      {
        label: 'appproxy.http.middlewares.c.compress.defaultencoding',
        includes: 'the value "zstd" of "defaultencoding" needs Traefik 3.1 or newer',
      },
    ],
  },
  {
    desc: 'fields as old as 3.0 are accepted for Traefik 3.0',
    labels: {
      'appproxy.http.routers.r.rule': 'Host(`a`)',
      'appproxy.http.routers.r.rulesyntax': 'v2',
      'appproxy.http.services.s.loadbalancer.sticky.cookie.samesite': 'strict',
    },
    expected: {
      http: {
        routers: { r: { rule: 'Host(`a`)', ruleSyntax: 'v2' } },
        services: { s: { loadBalancer: { sticky: { cookie: { sameSite: 'strict' } } } } },
      },
    },
  },
];

for (const entry of cases) {
  test(`decode labels: ${entry.desc}`, () => {
    const minVersion = parseTraefikVersion(entry.traefik ?? '3.0');
    assert.ok(minVersion !== undefined);
    const result = decodeConfigurationLabels(readLabels(entry.labels, entry.prefix ?? 'appproxy'), minVersion);
    if (entry.expected !== undefined) {
      assert.ok(result.ok, `unexpected problems: ${JSON.stringify(result.ok ? [] : result.problems)}`);
      assert.deepEqual(result.configuration, entry.expected);
    } else {
      assert.ok(!result.ok, 'expected problems');
      for (const expected of entry.problems ?? []) {
        const found = result.problems.find(
          (problem) => problem.label === expected.label && problem.message.includes(expected.includes),
        );
        assert.ok(
          found,
          `no problem on ${expected.label} including ${JSON.stringify(expected.includes)}; got ${JSON.stringify(result.problems)}`,
        );
      }
      assert.equal(
        result.problems.length,
        entry.problems?.length,
        `extra problems: ${JSON.stringify(result.problems)}`,
      );
    }
  });
}
