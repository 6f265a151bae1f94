import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configurationToKeyValues, type KeyValues } from '../../src/core/kv/configuration-to-kv.ts';
import { buildConfiguration, type BuildResult } from '../../src/core/translate/build-configuration.ts';
import { compileTranslateOptions, defaultTranslateOptions } from '../../src/core/translate/translate-options.ts';
import { MAX_LABEL_VALUE_BYTES } from '../../src/core/provider/workload-limit-problems.ts';
import type { Workload } from '../../src/core/workload.ts';
import type { WorkloadLimits } from '../../src/core/limits.ts';
import { container } from '../support/workloads.ts';

// Labels are written by whoever can start a container, so the core must treat them as hostile:
// hand-picked cases (beside the generated ones of core-properties.test.ts) run through the whole
// pure core. Whatever a case throws at it, nothing throws back, every key stays a well-formed key
// under the root key, a workload left out is explained by an error naming its label or resource,
// nothing one container says can change what another container defined, and a well-behaved
// neighbour is routed as if nothing happened.

const ROOT = 'traefik/worker_a1';
const compiled = compileTranslateOptions(defaultTranslateOptions);
assert.ok(compiled.ok);
const provider = compiled.value;
// For the cases about fields newer than the default oldest Traefik (3.0): the schema's own release.
const compiled37 = compileTranslateOptions({
  ...defaultTranslateOptions,
  traefikMinVersion: { major: 3, minor: 7, patch: 0 },
});
assert.ok(compiled37.ok);
const provider37 = compiled37.value;

/** An enabled container on the bridge network, with its own address so that its server is its own. */
function box(name: string, ip: string, labels: Record<string, string>): Workload {
  return container({ name, labels: { 'appproxy.enable': 'true', ...labels }, networks: [{ name: 'bridge', ip }] });
}

// Every case runs beside this one: a hostile container must never cost anyone else their route.
const neighbour = box('neighbour', '172.17.0.250', {});
const NEIGHBOUR_PAIRS = {
  'http/routers/neighbour/rule': 'Host(`neighbour`)',
  'http/routers/neighbour/service': 'neighbour',
};

interface ExpectedError {
  readonly workload: string;
  /**
   * The label the problem must name; absent for a conflict between workloads, which names the resource in its message.
   */
  readonly label?: string;
  readonly includes: string;
}

interface Case {
  readonly desc: string;
  readonly workloads: readonly Workload[];
  /** Workloads that contribute configuration, exactly (the neighbour is added). */
  readonly routed: readonly string[];
  /** Every error, and no other. */
  readonly errors?: readonly ExpectedError[];
  /** Pairs that must be written exactly so, keys relative to the root key. */
  readonly pairs?: Readonly<Record<string, string>>;
  /** Key prefixes, relative to the root key, under which nothing may be written. */
  readonly absent?: readonly string[];
  /** How many keys (relative to the root key) must match a pattern. */
  readonly counts?: readonly { readonly pattern: RegExp; readonly count: number }[];
  /** The exact server URLs of HTTP services, by service name. */
  readonly servers?: Readonly<Record<string, readonly string[]>>;
  /** Write for Traefik 3.7 and newer, for fields the default oldest Traefik (3.0) cannot read. */
  readonly traefik37?: true;
  /** Limits other than the defaults (--max-workload-labels and the others). */
  readonly limits?: Partial<WorkloadLimits>;
}

const x = (name: string): string => `Host(\`${name}.example\`)`;

const hostileNames: readonly { readonly name: string; readonly why: string; readonly includes: string }[] = [
  { name: 'a/b', why: 'a slash would split the etcd key and nest the resource', includes: 'contains "/"' },
  {
    name: 'a@docker',
    why: '"@docker" is a provider suffix to Traefik: the name could not be referenced',
    includes: 'contains "@"',
  },
  { name: 'a@file', why: 'a name could pose as a resource of the file provider', includes: 'contains "@"' },
  { name: 'a b', why: 'a space makes a name nobody can reference', includes: 'white space or control characters' },
  {
    name: 'a\nb',
    why: 'a newline would break every line-oriented view of the keys',
    includes: 'white space or control characters',
  },
  { name: 'a\tb', why: 'a tab likewise', includes: 'white space or control characters' },
  { name: 'a\u0000b', why: 'a NUL byte likewise', includes: 'white space or control characters' },
  { name: '0042', why: "digits only read as a list index by Traefik's KV decoder", includes: 'is only digits' },
];

// A resource with such a name is left out alone; what the workload defined beside it stays, and
// what referred to it (the automatic router of a service) is left out with it.
const resourceKinds: readonly {
  readonly kind: string;
  readonly field: string;
  readonly value: string;
  readonly remains: string | undefined;
  readonly referrer?: boolean;
}[] = [
  { kind: 'http.routers', field: 'rule', value: x('r'), remains: 'http/services/bad/loadBalancer/servers/' },
  { kind: 'http.services', field: 'loadbalancer.server.port', value: '8080', remains: undefined, referrer: true },
  { kind: 'http.middlewares', field: 'stripprefix.prefixes', value: '/x', remains: 'http/routers/bad/rule' },
  { kind: 'tcp.routers', field: 'rule', value: 'HostSNI(`*`)', remains: 'tcp/services/bad/loadBalancer/servers/' },
  { kind: 'udp.services', field: 'loadbalancer.server.port', value: '53', remains: undefined },
];

const nameCases: Case[] = hostileNames.flatMap(({ name, why, includes }) =>
  resourceKinds.map(({ kind, field, value, remains, referrer }) => ({
    desc: `${kind.replace('.', ' ')} named ${JSON.stringify(name)}: that resource is left out (${why})`,
    workloads: [box('bad', '172.17.0.2', { [`appproxy.${kind}.${name}.${field}`]: value })],
    routed: remains === undefined ? [] : ['bad'],
    errors: [
      { workload: 'bad', label: `appproxy.${kind}.${name}`, includes },
      ...(referrer === true
        ? [{ workload: 'bad', label: `appproxy.${kind}.${name}`, includes: 'http.routers "bad" refers to' }]
        : []),
    ],
    absent: [
      `${kind.replace('.', '/')}/${name[0] ?? ''}`,
      ...(remains === undefined ? ['http/routers/bad', 'http/services/bad'] : []),
    ],
    counts: remains === undefined ? [] : [{ pattern: new RegExp(`^${remains}`), count: 1 }],
  })),
);

// A list Traefik splits: strings.Split(value, ","), each item TrimSpace'd, empty items kept
// (paerser's filler), and read back from etcd by joining the numbered items with commas.
const listCases: Case[] = [
  {
    desc: 'entrypoints with spaces and a trailing comma: the empty item is kept, as Traefik keeps it',
    workloads: [
      box('lists', '172.17.0.2', {
        'appproxy.http.routers.r.rule': x('r'),
        'appproxy.http.routers.r.entrypoints': ' web , websecure,',
      }),
    ],
    routed: ['lists'],
    pairs: {
      'http/routers/r/entryPoints/0': 'web',
      'http/routers/r/entryPoints/1': 'websecure',
      'http/routers/r/entryPoints/2': '',
    },
    counts: [{ pattern: /^http\/routers\/r\/entryPoints\//, count: 3 }],
  },
  {
    desc: 'a router middlewares list: items trimmed, an empty one kept, @docker/@swarm dropped, other providers kept',
    workloads: [
      box('lists', '172.17.0.2', {
        'appproxy.http.routers.r.rule': x('r'),
        'appproxy.http.routers.r.middlewares': ' a , b@docker,,c@swarm,d@file, api@internal ',
      }),
    ],
    routed: ['lists'],
    pairs: {
      'http/routers/r/middlewares/0': 'a',
      'http/routers/r/middlewares/1': 'b',
      'http/routers/r/middlewares/2': '',
      'http/routers/r/middlewares/3': 'c',
      'http/routers/r/middlewares/4': 'd@file',
      'http/routers/r/middlewares/5': 'api@internal',
    },
    counts: [{ pattern: /^http\/routers\/r\/middlewares\//, count: 6 }],
  },
  {
    desc: 'stripPrefix prefixes with a doubled comma',
    workloads: [box('lists', '172.17.0.2', { 'appproxy.http.middlewares.m.stripprefix.prefixes': '/a, /b,,/c' })],
    routed: ['lists'],
    pairs: {
      'http/middlewares/m/stripPrefix/prefixes/0': '/a',
      'http/middlewares/m/stripPrefix/prefixes/1': '/b',
      'http/middlewares/m/stripPrefix/prefixes/2': '',
      'http/middlewares/m/stripPrefix/prefixes/3': '/c',
    },
    counts: [{ pattern: /^http\/middlewares\/m\/stripPrefix\/prefixes\//, count: 4 }],
  },
  {
    desc: 'ipAllowList sourceRange: CIDRs and addresses, a blank last item kept',
    workloads: [
      box('lists', '172.17.0.2', {
        'appproxy.http.middlewares.m.ipallowlist.sourcerange': '10.0.0.0/8, 192.168.1.1 , ',
      }),
    ],
    routed: ['lists'],
    pairs: {
      'http/middlewares/m/ipAllowList/sourceRange/0': '10.0.0.0/8',
      'http/middlewares/m/ipAllowList/sourceRange/1': '192.168.1.1',
      'http/middlewares/m/ipAllowList/sourceRange/2': '',
    },
    counts: [{ pattern: /^http\/middlewares\/m\/ipAllowList\/sourceRange\//, count: 3 }],
  },
  {
    desc: 'eleven entry points: zero-padded items, so that the text order Traefik reads is the list order',
    workloads: [
      box('lists', '172.17.0.2', {
        'appproxy.http.routers.r.rule': x('r'),
        'appproxy.http.routers.r.entrypoints': 'e0,e1,e2,e3,e4,e5,e6,e7,e8,e9,e10',
      }),
    ],
    routed: ['lists'],
    pairs: {
      'http/routers/r/entryPoints/00': 'e0',
      'http/routers/r/entryPoints/09': 'e9',
      'http/routers/r/entryPoints/10': 'e10',
    },
    counts: [{ pattern: /^http\/routers\/r\/entryPoints\//, count: 11 }],
  },
  {
    desc: 'a list given as items (entrypoints[0]) is refused, not silently dropped as Traefik would',
    workloads: [
      box('lists', '172.17.0.2', {
        'appproxy.http.routers.r.rule': x('r'),
        'appproxy.http.routers.r.entrypoints[0]': 'web',
      }),
    ],
    routed: [],
    errors: [{ workload: 'lists', label: 'appproxy.http.routers.r.entrypoints[0]', includes: 'separated by commas' }],
    absent: ['http/routers/r'],
  },
];

const shopLabels = {
  'appproxy.http.routers.shop.rule': x('shop'),
  'appproxy.http.services.shop.loadbalancer.server.port': '80',
};

// Traefik merges same-named resources of several containers when equal and drops them, with an
// error, when they differ; its etcd provider also matches keys with Go's strings.EqualFold, so
// names equal but for case (in Go's Unicode sense) must count as the same name.
const ownershipCases: Case[] = [
  {
    desc: 'a second container redefining a router differently: both definitions dropped, each container told',
    workloads: [
      box('shop', '172.17.0.2', shopLabels),
      box('evil', '172.17.0.66', {
        'appproxy.http.routers.shop.rule': x('shop'),
        'appproxy.http.routers.shop.service': 'evil',
        'appproxy.http.services.evil.loadbalancer.server.port': '80',
      }),
    ],
    routed: ['evil', 'shop'],
    errors: [
      { workload: 'shop', includes: 'http routers "shop" is defined differently by evil, shop' },
      { workload: 'evil', includes: 'http routers "shop" is defined differently by evil, shop' },
    ],
    absent: ['http/routers/shop'],
    servers: { shop: ['http://172.17.0.2:80'], evil: ['http://172.17.0.66:80'] },
  },
  {
    desc: 'a second container redefining a service differently (passHostHeader): both dropped; the router fails closed on a missing service',
    workloads: [
      box('shop', '172.17.0.2', shopLabels),
      box('evil', '172.17.0.66', {
        'appproxy.http.services.shop.loadbalancer.server.port': '80',
        'appproxy.http.services.shop.loadbalancer.passhostheader': 'false',
      }),
    ],
    routed: ['evil', 'shop'],
    errors: [
      { workload: 'shop', includes: 'http services "shop" is defined differently' },
      { workload: 'evil', includes: 'http services "shop" is defined differently' },
    ],
    absent: ['http/services/shop'],
    pairs: { 'http/routers/shop/service': 'shop' },
  },
  {
    desc: 'a second container redefining an authentication middleware: both dropped; the router keeps naming it, so Traefik refuses the router rather than serving it unauthenticated',
    workloads: [
      box('shop', '172.17.0.2', {
        ...shopLabels,
        'appproxy.http.routers.shop.middlewares': 'auth',
        'appproxy.http.middlewares.auth.basicauth.users': 'alice:$apr1$alice',
      }),
      box('evil', '172.17.0.66', { 'appproxy.http.middlewares.auth.basicauth.users': 'mallory:$apr1$mallory' }),
    ],
    routed: ['evil', 'shop'],
    errors: [
      { workload: 'shop', includes: 'http middlewares "auth" is defined differently' },
      { workload: 'evil', includes: 'http middlewares "auth" is defined differently' },
    ],
    absent: ['http/middlewares/auth'],
    pairs: { 'http/routers/shop/middlewares/0': 'auth', 'http/routers/shop/rule': x('shop') },
  },
  {
    desc: 'the same definition on two containers is merged, not a conflict: one router, the service with both servers (so anyone who can label a container can join a service by its name)',
    workloads: [box('shop', '172.17.0.2', shopLabels), box('shop2', '172.17.0.3', shopLabels)],
    routed: ['shop', 'shop2'],
    pairs: { 'http/routers/shop/rule': x('shop'), 'http/routers/shop/service': 'shop' },
    servers: { shop: ['http://172.17.0.2:80', 'http://172.17.0.3:80'] },
  },
  {
    desc: 'router names differing only in case on one container are one router, as Traefik reads the labels',
    workloads: [
      box('case', '172.17.0.2', {
        'appproxy.http.routers.Web.rule': x('web'),
        'appproxy.http.routers.web.entrypoints': 'web',
      }),
    ],
    routed: ['case'],
    pairs: {
      'http/routers/Web/rule': x('web'),
      'http/routers/Web/entryPoints/0': 'web',
      'http/routers/Web/service': 'case',
    },
    absent: ['http/routers/web/'],
  },
  {
    desc: 'router names differing only in case on two containers: Traefik would read them as one, so both are dropped',
    workloads: [
      box('one', '172.17.0.2', { 'appproxy.http.routers.Web.rule': x('web') }),
      box('two', '172.17.0.3', { 'appproxy.http.routers.web.rule': x('web') }),
    ],
    routed: ['one', 'two'],
    errors: [
      { workload: 'one', includes: 'http routers "Web / web" differ only in case' },
      { workload: 'two', includes: 'http routers "Web / web" differ only in case' },
    ],
    absent: ['http/routers/Web', 'http/routers/web'],
  },
  {
    desc: 'service names differing only in case on two containers: both dropped',
    workloads: [
      box('one', '172.17.0.2', { 'appproxy.http.services.STORE.loadbalancer.server.port': '80' }),
      box('two', '172.17.0.3', { 'appproxy.http.services.store.loadbalancer.server.port': '80' }),
    ],
    routed: ['one', 'two'],
    errors: [
      { workload: 'one', includes: 'http services "STORE / store" differ only in case' },
      { workload: 'two', includes: 'http services "STORE / store" differ only in case' },
    ],
    absent: ['http/services/STORE', 'http/services/store'],
  },
  {
    desc: '"ſhop" (long s) against "shop" on another container: one name to Go\'s EqualFold, so a takeover attempt; both dropped',
    workloads: [
      box('shop', '172.17.0.2', shopLabels),
      box('evil', '172.17.0.66', {
        'appproxy.http.routers.ſhop.rule': x('shop'),
        'appproxy.http.routers.ſhop.middlewares': 'steal',
        'appproxy.http.middlewares.steal.redirectregex.regex': '.*',
        'appproxy.http.middlewares.steal.redirectregex.replacement': 'https://evil.example/',
      }),
    ],
    routed: ['evil', 'shop'],
    errors: [
      { workload: 'shop', includes: 'http routers "ſhop / shop" differ only in case' },
      { workload: 'evil', includes: 'http routers "ſhop / shop" differ only in case' },
    ],
    absent: ['http/routers/shop', 'http/routers/ſhop'],
  },
  {
    desc: 'Greek final sigma against sigma, and the Kelvin sign against k, on two containers: both pairs dropped',
    workloads: [
      box('one', '172.17.0.2', {
        'appproxy.http.routers.paς.rule': x('pas'),
        'appproxy.http.routers.\u212Aube.rule': x('kube'),
      }),
      box('two', '172.17.0.3', {
        'appproxy.http.routers.paσ.rule': x('pas'),
        'appproxy.http.routers.kube.rule': x('kube'),
      }),
    ],
    routed: ['one', 'two'],
    errors: [
      { workload: 'one', includes: 'http routers "paς / paσ" differ only in case' },
      { workload: 'two', includes: 'http routers "paς / paσ" differ only in case' },
      { workload: 'one', includes: 'http routers "\u212Aube / kube" differ only in case' },
      { workload: 'two', includes: 'http routers "\u212Aube / kube" differ only in case' },
    ],
    absent: ['http/routers/pa', 'http/routers/kube', 'http/routers/\u212Aube'],
  },
  {
    desc: '"ſhop" and "shop" on one container are one router, as Traefik merges the labels',
    workloads: [
      box('one', '172.17.0.2', {
        'appproxy.http.routers.shop.rule': x('shop'),
        'appproxy.http.routers.ſhop.entrypoints': 'web',
      }),
    ],
    routed: ['one'],
    pairs: { 'http/routers/shop/rule': x('shop'), 'http/routers/shop/entryPoints/0': 'web' },
    absent: ['http/routers/ſhop'],
  },
];

const unicodeCases: Case[] = [
  {
    desc: 'letters of any script are valid names, written as they are',
    workloads: [
      box('uni', '172.17.0.2', {
        'appproxy.http.routers.rüß日本.rule': x('uni'),
        'appproxy.http.middlewares.ми-дл.stripprefix.prefixes': '/ü',
      }),
    ],
    routed: ['uni'],
    pairs: {
      'http/routers/rüß日本/rule': x('uni'),
      'http/routers/rüß日本/service': 'uni',
      'http/middlewares/ми-дл/stripPrefix/prefixes/0': '/ü',
    },
  },
  {
    desc: 'a container name in any script gives normalised default names',
    workloads: [box('wéb.日本_1', '172.17.0.2', {})],
    routed: ['wéb.日本_1'],
    pairs: { 'http/routers/wéb-日本-1/rule': 'Host(`wéb-日本-1`)', 'http/routers/wéb-日本-1/service': 'wéb-日本-1' },
  },
  {
    desc: 'an invisible zero-width space makes another name, not the same one: no conflict, nothing merged',
    workloads: [
      box('one', '172.17.0.2', { 'appproxy.http.routers.rx.rule': x('one') }),
      box('two', '172.17.0.3', { 'appproxy.http.routers.r\u200Bx.rule': x('two') }),
    ],
    routed: ['one', 'two'],
    pairs: {
      'http/routers/rx/rule': x('one'),
      'http/routers/rx/service': 'one',
      'http/routers/r\u200Bx/rule': x('two'),
      'http/routers/r\u200Bx/service': 'two',
    },
  },
];

// Go has no prototypes: names that every JavaScript object answers to are ordinary names there.
const prototypeCases: Case[] = [
  {
    desc: '__proto__, constructor and toString are ordinary names for routers, middlewares and headers',
    workloads: [
      box('proto', '172.17.0.2', {
        'appproxy.http.routers.__proto__.rule': x('p'),
        'appproxy.http.routers.constructor.rule': x('c'),
        'appproxy.http.routers.toString.rule': x('t'),
        'appproxy.http.routers.toString.middlewares': 'hasOwnProperty',
        'appproxy.http.middlewares.hasOwnProperty.headers.customrequestheaders.__proto__': 'v',
      }),
    ],
    routed: ['proto'],
    pairs: {
      'http/routers/__proto__/rule': x('p'),
      'http/routers/__proto__/service': 'proto',
      'http/routers/constructor/rule': x('c'),
      'http/routers/toString/rule': x('t'),
      'http/routers/toString/middlewares/0': 'hasOwnProperty',
      'http/middlewares/hasOwnProperty/headers/customRequestHeaders/__proto__': 'v',
    },
  },
  {
    desc: 'a service named __proto__ on two containers with the same definition is merged like any other',
    workloads: [
      box('one', '172.17.0.2', { 'appproxy.http.services.__proto__.loadbalancer.server.port': '80' }),
      box('two', '172.17.0.3', { 'appproxy.http.services.__proto__.loadbalancer.server.port': '80' }),
    ],
    routed: ['one', 'two'],
    // A computed key: `__proto__:` in a literal would set the prototype, and check nothing.
    servers: { ['__proto__']: ['http://172.17.0.2:80', 'http://172.17.0.3:80'] },
  },
  {
    desc: 'a router named constructor on two containers with different rules is an ordinary conflict',
    workloads: [
      box('one', '172.17.0.2', { 'appproxy.http.routers.constructor.rule': x('one') }),
      box('two', '172.17.0.3', { 'appproxy.http.routers.constructor.rule': x('two') }),
    ],
    routed: ['one', 'two'],
    errors: [
      { workload: 'one', includes: 'http routers "constructor" is defined differently by one, two' },
      { workload: 'two', includes: 'http routers "constructor" is defined differently by one, two' },
    ],
    absent: ['http/routers/constructor'],
  },
  {
    desc: 'docker.constructor and sidecar.__proto__ are unknown options, not members of an object',
    workloads: [box('opt', '172.17.0.2', { 'appproxy.docker.constructor': 'x', 'appproxy.sidecar.__proto__': 'x' })],
    routed: [],
    errors: [
      { workload: 'opt', label: 'appproxy.docker.constructor', includes: 'unknown docker option' },
      { workload: 'opt', label: 'appproxy.sidecar.__proto__', includes: 'unknown sidecar option' },
    ],
  },
];

// Names that are not resources (header names, plugin options at any depth) become key segments too.
const keyCases: Case[] = [
  {
    desc: 'a header name with a newline is left out, not written as a key with a line break; the other headers stay',
    workloads: [
      box('hdr', '172.17.0.2', {
        'appproxy.http.middlewares.m.headers.customrequestheaders.X-A\nInjected': '1',
        'appproxy.http.middlewares.m.headers.customrequestheaders.X-Ok': '2',
      }),
    ],
    routed: ['hdr'],
    errors: [
      {
        workload: 'hdr',
        label: 'appproxy.http.middlewares.m.headers.customRequestHeaders.X-A\nInjected',
        includes: 'control characters',
      },
    ],
    pairs: { 'http/middlewares/m/headers/customRequestHeaders/X-Ok': '2' },
    counts: [{ pattern: /^http\/middlewares\/m\//, count: 1 }],
  },
  {
    desc: 'nested plugin options with "/", a tab or only digits are left out (each would change the tree Traefik reads); the others stay',
    workloads: [
      box('plug', '172.17.0.2', {
        'appproxy.http.middlewares.m.plugin.p.a/b': '1',
        'appproxy.http.middlewares.m.plugin.p.c\td': '1',
        'appproxy.http.middlewares.m.plugin.p.outer.007': '1',
        'appproxy.http.middlewares.m.plugin.p.outer.fine': 'yes',
      }),
    ],
    routed: ['plug'],
    errors: [
      { workload: 'plug', label: 'appproxy.http.middlewares.m.plugin.p.a/b', includes: 'contains "/"' },
      { workload: 'plug', label: 'appproxy.http.middlewares.m.plugin.p.c\td', includes: 'control characters' },
      { workload: 'plug', label: 'appproxy.http.middlewares.m.plugin.p.outer.007', includes: 'is only digits' },
    ],
    pairs: { 'http/middlewares/m/plugin/p/outer/fine': 'yes' },
    counts: [{ pattern: /^http\/middlewares\/m\//, count: 1 }],
  },
  {
    desc: 'a middleware whose only entry is left out is left out as a whole, and so is the router using it (never a middleware of no type)',
    workloads: [
      box('empty', '172.17.0.2', {
        'appproxy.http.middlewares.m.plugin.foo.404': 'x',
        'appproxy.http.routers.r.rule': x('r'),
        'appproxy.http.routers.r.middlewares': 'm',
      }),
    ],
    routed: ['empty'],
    errors: [
      { workload: 'empty', label: 'appproxy.http.middlewares.m.plugin.foo.404', includes: 'is only digits' },
      { workload: 'empty', label: 'appproxy.http.middlewares.m.plugin.foo.404', includes: 'has nothing left' },
      {
        workload: 'empty',
        label: 'appproxy.http.middlewares.m.plugin.foo.404',
        includes: 'http.routers "r" refers to "m"',
      },
    ],
    absent: ['http/middlewares/m', 'http/routers/r'],
    counts: [{ pattern: /^http\/services\/empty\//, count: 1 }],
  },
  {
    desc: 'a single status in statusRewrites becomes its range, which etcd can carry; a range given too with another value wins and the single one is reported',
    workloads: [
      box('errs', '172.17.0.2', {
        'appproxy.http.middlewares.e.errors.status': '400-599',
        'appproxy.http.middlewares.e.errors.service': 'errs',
        'appproxy.http.middlewares.e.errors.statusrewrites.418': '404',
        'appproxy.http.middlewares.e.errors.statusrewrites.500-503': '502',
        'appproxy.http.middlewares.e.errors.statusrewrites.404': '410',
        'appproxy.http.middlewares.e.errors.statusrewrites.404-404': '400',
      }),
    ],
    traefik37: true,
    routed: ['errs'],
    errors: [
      {
        workload: 'errs',
        label: 'appproxy.http.middlewares.e.errors.statusRewrites.404',
        includes: 'also given as "404-404"',
      },
    ],
    pairs: {
      'http/middlewares/e/errors/statusRewrites/418-418': '404',
      'http/middlewares/e/errors/statusRewrites/500-503': '502',
      'http/middlewares/e/errors/statusRewrites/404-404': '400',
    },
    counts: [{ pattern: /^http\/middlewares\/e\/errors\/statusRewrites\//, count: 3 }],
  },
  {
    desc: 'plugin options of any depth, with list items, are written as nested keys',
    workloads: [
      box('plug', '172.17.0.2', {
        'appproxy.http.middlewares.m.plugin.p.outer.inner': 'v',
        'appproxy.http.middlewares.m.plugin.p.list[0]': 'a',
        'appproxy.http.middlewares.m.plugin.p.list[1]': 'b',
      }),
    ],
    routed: ['plug'],
    pairs: {
      'http/middlewares/m/plugin/p/outer/inner': 'v',
      'http/middlewares/m/plugin/p/list/0': 'a',
      'http/middlewares/m/plugin/p/list/1': 'b',
    },
  },
  {
    desc: "a plugin option list in one label is one key holding the text, as Traefik's Docker provider hands it to the plugin",
    workloads: [box('plug', '172.17.0.2', { 'appproxy.http.middlewares.m.plugin.p.tags': 'red,green,blue' })],
    routed: ['plug'],
    pairs: { 'http/middlewares/m/plugin/p/tags': 'red,green,blue' },
  },
  {
    desc: "a plugin option list item with a comma is refused (Traefik's etcd provider would split it into several items)",
    workloads: [
      box('plug', '172.17.0.2', {
        'appproxy.http.middlewares.m.plugin.p.tags[0]': 'x,y',
        'appproxy.http.middlewares.m.plugin.p.tags[1]': 'z',
      }),
    ],
    routed: [],
    errors: [{ workload: 'plug', label: 'appproxy.http.middlewares.m.plugin.p.tags[0]', includes: 'contains a comma' }],
    absent: ['http/middlewares/m'],
  },
];

const segmentCases: Case[] = [
  {
    desc: 'an empty router name (two dots in a row) is refused',
    workloads: [box('dots', '172.17.0.2', { 'appproxy.http.routers..rule': x('r') })],
    routed: [],
    errors: [{ workload: 'dots', label: 'appproxy.http.routers..rule', includes: 'empty segment' }],
  },
  {
    desc: 'a router named ".." cannot even be spelled: three dots are two empty segments',
    workloads: [box('dots', '172.17.0.2', { 'appproxy.http.routers...rule': x('r') })],
    routed: [],
    errors: [{ workload: 'dots', label: 'appproxy.http.routers...rule', includes: 'empty segment' }],
  },
  {
    desc: 'a trailing dot is refused',
    workloads: [box('dots', '172.17.0.2', { 'appproxy.http.routers.r.rule.': x('r') })],
    routed: [],
    errors: [{ workload: 'dots', label: 'appproxy.http.routers.r.rule.', includes: 'empty segment' }],
  },
  {
    desc: 'a doubled dot right after the prefix is refused (Traefik would drop it without a word)',
    workloads: [box('dots', '172.17.0.2', { 'appproxy..http.routers.r.rule': x('r') })],
    routed: [],
    errors: [{ workload: 'dots', label: 'appproxy..http.routers.r.rule', includes: 'empty segment' }],
  },
  {
    desc: 'the prefix and a dot alone is refused',
    workloads: [box('dots', '172.17.0.2', { 'appproxy.': 'x' })],
    routed: [],
    errors: [{ workload: 'dots', label: 'appproxy.', includes: 'empty segment' }],
  },
  {
    desc: 'an empty docker option is refused with the accepted ones',
    workloads: [box('dots', '172.17.0.2', { 'appproxy.docker..network': 'bridge' })],
    routed: [],
    errors: [{ workload: 'dots', label: 'appproxy.docker..network', includes: 'accepted: appproxy.docker.network' }],
  },
  {
    desc: 'a segment opening with a bracket is refused',
    workloads: [box('dots', '172.17.0.2', { 'appproxy.http.routers.[0].rule': x('r') })],
    routed: [],
    errors: [{ workload: 'dots', label: 'appproxy.http.routers.[0].rule', includes: 'starts with "["' }],
  },
  {
    desc: 'a service reference full of "../" stays a value: it is never a key',
    workloads: [
      box('ref', '172.17.0.2', {
        'appproxy.http.routers.r.rule': x('r'),
        'appproxy.http.routers.r.service': '../../../etc',
      }),
    ],
    routed: ['ref'],
    pairs: { 'http/routers/r/service': '../../../etc' },
  },
  {
    desc: 'huge indexes give one item each, in the sorted order of their labels, as Traefik fills a list of objects: no huge list',
    workloads: [
      box('idx', '172.17.0.2', {
        'appproxy.http.routers.r.rule': x('r'),
        'appproxy.http.routers.r.tls.domains[99999999].main': 'a.example',
        'appproxy.http.routers.r.tls.domains[99999999999999999999999].sans': 'b.example',
      }),
    ],
    routed: ['idx'],
    // "[999…9]" sorts before "[99999999]" ("9" < "]"), so the longer index is the first item.
    pairs: { 'http/routers/r/tls/domains/0/sans/0': 'b.example', 'http/routers/r/tls/domains/1/main': 'a.example' },
    counts: [{ pattern: /^http\/routers\/r\/tls\/domains\//, count: 2 }],
  },
  {
    desc: 'a huge index on a plugin option list gives one item',
    workloads: [box('idx', '172.17.0.2', { 'appproxy.http.middlewares.m.plugin.p.list[99999999]': 'a' })],
    routed: ['idx'],
    pairs: { 'http/middlewares/m/plugin/p/list/0': 'a' },
    counts: [{ pattern: /^http\/middlewares\/m\/plugin\/p\/list\//, count: 1 }],
  },
  {
    desc: 'a huge index on a list of strings is refused',
    workloads: [
      box('idx', '172.17.0.2', {
        'appproxy.http.routers.r.rule': x('r'),
        'appproxy.http.routers.r.entrypoints[99999999]': 'web',
      }),
    ],
    routed: [],
    errors: [
      { workload: 'idx', label: 'appproxy.http.routers.r.entrypoints[99999999]', includes: 'separated by commas' },
    ],
  },
];

const MEGABYTE = 1024 * 1024;
const bigRule = `Host(\`${'a'.repeat(MEGABYTE)}\`)`;

/** 30,000 labels: 10,000 routers of three fields each, all valid; `bad` makes one of them invalid. */
function manyLabels(bad: boolean): Record<string, string> {
  const labels: Record<string, string> = { 'appproxy.http.services.s.loadbalancer.server.port': '8080' };
  for (let index = 0; index < 10_000; index += 1) {
    labels[`appproxy.http.routers.r${index}.rule`] = x(`h${index}`);
    labels[`appproxy.http.routers.r${index}.entrypoints`] = 'web';
    labels[`appproxy.http.routers.r${index}.priority`] = String(index + 1);
  }
  if (bad) labels['appproxy.http.routers.r4321.priority'] = 'high';
  return labels;
}

/** Limits far above the defaults, for the cases about linear work on many labels. */
const MANY: Partial<WorkloadLimits> = {
  labels: 100_000,
  labelBytes: 64 * MEGABYTE,
  keys: 1_000_000,
  bytes: 64 * MEGABYTE,
};

/** The issue's case: 50 routers whose entry points are a 42 KB list `a,a,a,…` (1,050,104 keys before the limits). */
function commaLists(): Record<string, string> {
  const list = Array.from({ length: 21_000 }, () => 'a').join(',');
  const labels: Record<string, string> = {};
  for (let index = 0; index < 50; index += 1) {
    labels[`appproxy.http.routers.r${index}.rule`] = x('big');
    labels[`appproxy.http.routers.r${index}.entrypoints`] = list;
  }
  return labels;
}

const volumeCases: Case[] = [
  {
    desc: '50 lists of 21,000 items (2 MB of labels) leave that workload out on the bytes of its labels, before anything is decoded',
    workloads: [box('lists', '172.17.0.2', commaLists())],
    routed: [],
    errors: [
      { workload: 'lists', includes: 'are 2,104,249 bytes (names and values), more than the limit of 1,048,576' },
    ],
    absent: ['http/routers/r'],
  },
  {
    desc: 'the same lists past a raised label-bytes limit are refused on their items, in one error naming the first list',
    workloads: [box('lists', '172.17.0.2', commaLists())],
    limits: { labelBytes: 64 * MEGABYTE },
    routed: [],
    errors: [
      {
        workload: 'lists',
        label: 'appproxy.http.routers.r0.entrypoints',
        includes: 'the list has 21,000 items (and 49 other list labels of this workload), more than the limit of 1,000',
      },
    ],
    absent: ['http/routers/r'],
  },
  {
    desc: 'a value of 1 MB (beyond what one etcd request may carry with the rest) leaves that workload out, naming the label',
    workloads: [
      box('big', '172.17.0.2', {
        'appproxy.http.routers.r.rule': bigRule,
        'appproxy.http.services.s.loadbalancer.server.port': '80',
      }),
    ],
    routed: [],
    errors: [
      {
        workload: 'big',
        label: 'appproxy.http.routers.r.rule',
        includes: `more than the ${MAX_LABEL_VALUE_BYTES} appproxy writes`,
      },
    ],
    absent: ['http/routers/r', 'http/services/s'],
  },
  {
    desc: 'a value just under the limit is written whole',
    workloads: [
      box('large', '172.17.0.2', {
        'appproxy.http.middlewares.m.headers.customrequestheaders.X-Big': 'v'.repeat(MAX_LABEL_VALUE_BYTES),
      }),
    ],
    routed: ['large'],
    pairs: { 'http/middlewares/m/headers/customRequestHeaders/X-Big': 'v'.repeat(MAX_LABEL_VALUE_BYTES) },
  },
  {
    desc: 'a value of 1 MB of commas is refused before it becomes a million list items',
    workloads: [box('commas', '172.17.0.2', { 'appproxy.http.routers.r.entrypoints': ','.repeat(MEGABYTE) })],
    routed: [],
    errors: [{ workload: 'commas', label: 'appproxy.http.routers.r.entrypoints', includes: 'bytes, more than' }],
  },
  {
    desc: 'a huge label outside the prefix is none of our business',
    workloads: [
      box('other', '172.17.0.2', { 'com.example.blob': 'z'.repeat(MEGABYTE), 'appproxy.http.routers.o.rule': x('o') }),
    ],
    routed: ['other'],
    pairs: { 'http/routers/o/rule': x('o') },
  },
  {
    desc: '30,000 labels on one container are all translated, where the limits allow them',
    workloads: [box('many', '172.17.0.2', manyLabels(false))],
    limits: MANY,
    routed: ['many'],
    pairs: {
      'http/routers/r0/rule': x('h0'),
      'http/routers/r9999/priority': '10000',
      'http/routers/r9999/service': 's',
    },
    counts: [
      { pattern: /^http\/routers\/r\d+\/rule$/, count: 10_000 },
      { pattern: /^http\/routers\/r\d+\/entryPoints\/0$/, count: 10_000 },
    ],
  },
  {
    desc: 'one bad label among 30,000 leaves that container out with one error naming it, and only it',
    workloads: [box('many', '172.17.0.2', manyLabels(true))],
    limits: MANY,
    routed: [],
    errors: [
      {
        workload: 'many',
        label: 'appproxy.http.routers.r4321.priority',
        includes: 'expects a whole number, got "high"',
      },
    ],
    absent: ['http/routers/r'],
  },
];

const cases: Case[] = [
  ...nameCases,
  ...listCases,
  ...ownershipCases,
  ...unicodeCases,
  ...prototypeCases,
  ...keyCases,
  ...segmentCases,
  ...volumeCases,
];

function run(
  workloads: readonly Workload[],
  traefik37 = false,
  limits: Partial<WorkloadLimits> = {},
): { result: BuildResult; pairs: KeyValues } {
  const base = traefik37 ? provider37 : provider;
  const limited = compileTranslateOptions({ ...base.options, limits: { ...base.options.limits, ...limits } });
  assert.ok(limited.ok);
  const result = buildConfiguration([...workloads, neighbour], limited.value);
  return {
    result,
    pairs: configurationToKeyValues(result.configuration, result.servers, { rootKey: ROOT, ownerId: 'hostile' }),
  };
}

/** What must hold whatever the labels: well-formed keys under the root, and nobody left out unexplained. */
function assertInvariants(workloads: readonly Workload[], result: BuildResult, pairs: KeyValues): void {
  for (const key of pairs.keys()) {
    assert.ok(key.startsWith(`${ROOT}/`), `key outside the root key: ${JSON.stringify(key)}`);
    const segments = key.slice(ROOT.length + 1).split('/');
    assert.ok(
      !segments.some((segment) => segment === '' || segment === '.' || segment === '..'),
      `key with an empty or relative segment: ${JSON.stringify(key)}`,
    );
    assert.ok(!/\p{Cc}/u.test(key), `key with a control character (a newline, a tab): ${JSON.stringify(key)}`);
  }
  for (const workload of [...workloads, neighbour]) {
    const routed = result.routed.includes(workload.name);
    const explained = result.problems.some(
      (problem) => problem.severity === 'error' && problem.workload === workload.name,
    );
    assert.ok(routed || explained, `workload ${workload.name} was left out without an error`);
  }
  for (const problem of result.problems) {
    const workload = workloads.find((candidate) => candidate.name === problem.workload);
    assert.ok(workload !== undefined, `a problem about a workload nobody gave: ${JSON.stringify(problem)}`);
    if (problem.label !== undefined) {
      // The label named is the user's label, or the part of it that is wrong (a name, a field).
      const named = problem.label.toLowerCase();
      assert.ok(
        Object.keys(workload.labels).some((label) => label.toLowerCase().startsWith(named)),
        `problem names no label of ${workload.name}: ${JSON.stringify(problem)}`,
      );
    } else if (problem.limit === undefined) {
      // A limit on a total (labels, keys, bytes) names the total instead.
      assert.match(
        problem.message,
        /"[^"]+"/,
        `a problem without a label must name the resource: ${JSON.stringify(problem)}`,
      );
    }
  }
}

for (const testCase of cases) {
  test(`hostile labels: ${testCase.desc}`, { timeout: 120_000 }, () => {
    const { result, pairs } = run(testCase.workloads, testCase.traefik37, testCase.limits);
    assertInvariants(testCase.workloads, result, pairs);

    assert.deepEqual([...result.routed].sort(), [...testCase.routed, 'neighbour'].sort(), 'routed workloads');
    for (const [relative, value] of Object.entries(NEIGHBOUR_PAIRS))
      assert.equal(pairs.get(`${ROOT}/${relative}`), value, `the neighbour lost ${relative}`);

    const errors = result.problems.filter((problem) => problem.severity === 'error');
    const expected = testCase.errors ?? [];
    const unmatched = [...errors];
    for (const want of expected) {
      const index = unmatched.findIndex(
        (problem) =>
          problem.workload === want.workload && problem.label === want.label && problem.message.includes(want.includes),
      );
      assert.ok(index >= 0, `no error ${JSON.stringify(want)} among ${JSON.stringify(errors, null, 1)}`);
      unmatched.splice(index, 1);
    }
    assert.deepEqual(unmatched, [], 'errors nobody expected');

    for (const [relative, value] of Object.entries(testCase.pairs ?? {})) {
      const actual = pairs.get(`${ROOT}/${relative}`);
      assert.ok(
        actual === value,
        `${relative}: expected ${JSON.stringify(value.slice(0, 80))}, got ${JSON.stringify(actual?.slice(0, 80))}`,
      );
    }
    for (const prefix of testCase.absent ?? []) {
      const found = [...pairs.keys()].filter((key) => key.startsWith(`${ROOT}/${prefix}`));
      assert.deepEqual(found, [], `nothing may be written under ${prefix}`);
    }
    for (const { pattern, count } of testCase.counts ?? []) {
      assert.equal(
        [...pairs.keys()].filter((key) => pattern.test(key.slice(ROOT.length + 1))).length,
        count,
        `keys matching ${pattern}`,
      );
    }
    for (const [service, urls] of Object.entries(testCase.servers ?? {})) {
      const server = new RegExp(`^${ROOT}/http/services/${service}/loadBalancer/servers/\\d+/url$`);
      const actual = [...pairs].filter(([key]) => server.test(key)).map(([, url]) => url);
      assert.deepEqual(actual.sort(), [...urls].sort(), `servers of ${service}`);
    }
  });
}
