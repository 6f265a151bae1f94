import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import { translateOptionsOf } from '../../src/config/setting-flags.ts';
import { daemonConfigSchema } from '../../src/config/settings.ts';
import { compileHostPatterns, hostPatternProblem } from '../../src/core/policy/host-patterns.ts';
import { allowEverything, labelPolicyProblems, type LabelPolicy } from '../../src/core/policy/label-policy.ts';
import { ruleHosts } from '../../src/core/policy/rule-hosts.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import { compileTranslateOptions, defaultTranslateOptions } from '../../src/core/translate/translate-options.ts';
import type { Workload } from '../../src/core/workload.ts';
import { container } from '../support/workloads.ts';

// The operator's label policy: each rule allowed and refused, with the exact error, for one
// workload beside another that the policy allows and that stays routed.

const LEFT_OUT = 'the workload is left out';
const PROVIDERS = '--policy-refuse-providers (APPPROXY_POLICY_REFUSE_PROVIDERS, policy.refuseProviders in the file)';
const OVERRIDE =
  '--policy-refuse-server-override (APPPROXY_POLICY_REFUSE_SERVER_OVERRIDE, policy.refuseServerOverride in the file)';
const ENTRY_POINTS = '--policy-entrypoints (APPPROXY_POLICY_ENTRYPOINTS, policy.entryPoints in the file)';
const HOSTS = '--policy-hosts (APPPROXY_POLICY_HOSTS, policy.hosts in the file)';
const MIDDLEWARES =
  '--policy-require-middlewares (APPPROXY_POLICY_REQUIRE_MIDDLEWARES, policy.requireMiddlewares in the file)';
const ALLOWED_HOSTS =
  'the label policy allows only hosts matching *.apps.example.com, example.org ("*." stands for exactly one label)';

const refusedProvider = (reference: string, provider: string, refused = '@internal, @file') =>
  `"${reference}" names a resource of Traefik's "${provider}" provider, and the label policy refuses references to ${refused} from labels: ${LEFT_OUT}. Name a resource these labels define instead, or (the operator) remove "${provider}" from ${PROVIDERS}`;
const outsideHosts = (matchers: string, every = '') =>
  `the rule routes ${matchers}${every}, and ${ALLOWED_HOSTS}: ${LEFT_OUT}. Name an allowed host, or (the operator) add a pattern to ${HOSTS}`;
const anyHost = (matcher = 'Host') =>
  `the rule can match requests for any host (every alternative of the rule needs a ${matcher} matcher joined with &&, not only under ! or beside ||), and ${ALLOWED_HOSTS}: ${LEFT_OUT}. Add ${matcher}(\`<host>\`) && to the rule, or (the operator) clear ${HOSTS}`;

interface Case {
  readonly desc: string;
  readonly policy: Partial<LabelPolicy>;
  readonly labels: Record<string, string>;
  /** Without the router "web" and its allowed rule that every other case starts from. */
  readonly withoutRule?: true;
  /** [label, message] of each error, in order; empty: routed. */
  readonly refused: readonly (readonly [string, string])[];
}

const internalAndFile = { refuseProviders: ['internal', 'file'] };
const hosts = { hosts: ['*.apps.example.com', 'example.org'] };
const rule = (text: string) => ({ 'appproxy.http.routers.web.rule': text });
const tcpRule = (text: string) => ({
  'appproxy.tcp.routers.db.rule': text,
  'appproxy.tcp.routers.db.tls': 'true',
  'appproxy.tcp.services.db.loadbalancer.server.port': '5432',
});

const cases: Case[] = [
  // Providers.
  {
    desc: 'providers: a service of these labels is allowed',
    policy: internalAndFile,
    labels: { 'appproxy.http.routers.web.service': 'web' },
    refused: [],
  },
  {
    desc: 'providers: @docker and @swarm name these labels’ own resources',
    policy: internalAndFile,
    labels: { 'appproxy.http.routers.web.service': 'web@docker' },
    refused: [],
  },
  {
    desc: 'providers: another provider than those refused is allowed',
    policy: internalAndFile,
    labels: { 'appproxy.http.routers.web.middlewares': 'auth@etcd' },
    refused: [],
  },
  {
    desc: 'providers: api@internal as a service',
    policy: internalAndFile,
    labels: { 'appproxy.http.routers.web.service': 'api@internal' },
    refused: [['appproxy.http.routers.web.service', refusedProvider('api@internal', 'internal')]],
  },
  {
    desc: 'providers: one error per reference, among middlewares, a chain and TLS options; the label as the workload spells it',
    policy: internalAndFile,
    labels: {
      'appproxy.http.routers.web.Middlewares': 'ok, auth@file',
      'appproxy.http.middlewares.ok.chain.middlewares': 'x@Internal',
      'appproxy.http.routers.web.tls.options': 'strict@file',
    },
    refused: [
      ['appproxy.http.middlewares.ok.chain.middlewares', refusedProvider('x@Internal', 'internal')],
      ['appproxy.http.routers.web.Middlewares', refusedProvider('auth@file', 'file')],
      ['appproxy.http.routers.web.tls.options', refusedProvider('strict@file', 'file')],
    ],
  },
  {
    desc: 'providers: the errors middleware’s service',
    policy: { refuseProviders: ['internal'] },
    labels: {
      'appproxy.http.middlewares.e.errors.service': 'api@internal',
      'appproxy.http.middlewares.e.errors.status': '500',
    },
    refused: [['appproxy.http.middlewares.e.errors.service', refusedProvider('api@internal', 'internal', '@internal')]],
  },
  {
    desc: 'providers: a TCP router’s service',
    policy: { refuseProviders: ['internal'] },
    labels: { ...tcpRule('HostSNI(`db.test`)'), 'appproxy.tcp.routers.db.service': 'x@internal' },
    refused: [['appproxy.tcp.routers.db.service', refusedProvider('x@internal', 'internal', '@internal')]],
  },

  // Server overrides.
  {
    desc: 'server override: a port (and scheme) keep the workload’s own address',
    policy: { refuseServerOverride: true },
    labels: {
      'appproxy.http.services.web.loadbalancer.server.port': '8080',
      'appproxy.http.services.web.loadbalancer.server.scheme': 'https',
    },
    refused: [],
  },
  {
    desc: 'server override: a URL is refused',
    policy: { refuseServerOverride: true },
    labels: { 'appproxy.http.services.web.loadbalancer.server.url': 'http://etcd:2379' },
    refused: [
      [
        'appproxy.http.services.web.loadbalancer.server.url',
        `the label sends service "web" to "http://etcd:2379" instead of the workload's own address, and the label policy refuses server URLs set by labels: ${LEFT_OUT}. Set loadbalancer.server.port (and .scheme) to reach the workload itself, or (the operator) turn off ${OVERRIDE}`,
      ],
    ],
  },
  {
    desc: 'server override: allowed by default',
    policy: {},
    labels: { 'appproxy.http.services.web.loadbalancer.server.url': 'http://etcd:2379' },
    refused: [],
  },

  // Entry points.
  {
    desc: 'entry points: one of the list',
    policy: { entryPoints: ['web', 'websecure'] },
    labels: { 'appproxy.http.routers.web.entrypoints': 'websecure' },
    refused: [],
  },
  {
    desc: 'entry points: a router without any gets them all, and is refused',
    policy: { entryPoints: ['web', 'websecure'] },
    labels: {},
    refused: [
      [
        'appproxy.http.routers.web.entrypoints',
        `HTTP router "web" names no entry point, so Traefik puts it on every entry point, and the label policy allows only "web", "websecure": ${LEFT_OUT}. Set appproxy.http.routers.web.entrypoints to one of them, or (the operator) clear ${ENTRY_POINTS}`,
      ],
    ],
  },
  {
    desc: 'entry points: those outside the list are named, in one error per router',
    policy: { entryPoints: ['web', 'websecure'] },
    labels: { 'appproxy.http.routers.web.entrypoints': 'web,traefik,admin' },
    refused: [
      [
        'appproxy.http.routers.web.entrypoints',
        `HTTP router "web" uses entry points "traefik", "admin", and the label policy allows only "web", "websecure": ${LEFT_OUT}. Use one of them, or (the operator) add them to ${ENTRY_POINTS}`,
      ],
    ],
  },
  {
    desc: 'entry points: names compare with case, as Traefik’s',
    policy: { entryPoints: ['web'] },
    labels: { 'appproxy.http.routers.web.entrypoints': 'Web' },
    refused: [
      [
        'appproxy.http.routers.web.entrypoints',
        `HTTP router "web" uses entry point "Web", and the label policy allows only "web": ${LEFT_OUT}. Use one of them, or (the operator) add it to ${ENTRY_POINTS}`,
      ],
    ],
  },

  // Hosts.
  { desc: 'hosts: one label under a wildcard', policy: hosts, labels: rule('Host(`a.apps.example.com`)'), refused: [] },
  {
    desc: 'hosts: an exact host, in any case, with other matchers joined by &&',
    policy: hosts,
    labels: rule('Host(`Example.ORG`) && (PathPrefix(`/a`) || Method(`GET`))'),
    refused: [],
  },
  {
    desc: 'hosts: each alternative bounded by a host',
    policy: hosts,
    labels: rule('(Host(`a.apps.example.com`) && Path(`/x`)) || host(`example.org`)'),
    refused: [],
  },
  {
    desc: 'hosts: several hosts of one matcher (rule syntax v2), all allowed',
    policy: hosts,
    labels: { ...rule('Host(`a.apps.example.com`, `example.org`)'), 'appproxy.http.routers.web.rulesyntax': 'v2' },
    refused: [],
  },
  {
    desc: 'hosts: a negated host only narrows',
    policy: hosts,
    labels: rule('Host(`a.apps.example.com`) && !Host(`internal.test`)'),
    refused: [],
  },
  {
    desc: 'hosts: two labels under a one-label wildcard',
    policy: hosts,
    labels: rule('Host(`a.b.apps.example.com`)'),
    refused: [['appproxy.http.routers.web.rule', outsideHosts('Host(`a.b.apps.example.com`)')]],
  },
  {
    desc: 'hosts: the wildcard’s own domain',
    policy: hosts,
    labels: rule('Host(`apps.example.com`)'),
    refused: [['appproxy.http.routers.web.rule', outsideHosts('Host(`apps.example.com`)')]],
  },
  {
    desc: 'hosts: one host of several outside',
    policy: hosts,
    labels: rule('Host(`a.apps.example.com`) || Host(`etcd`)'),
    refused: [['appproxy.http.routers.web.rule', outsideHosts('Host(`etcd`)')]],
  },
  {
    desc: 'hosts: nested in && of another host',
    policy: hosts,
    labels: rule('Host(`example.org`) && (Host(`evil.test`) || Host(`example.org`))'),
    refused: [['appproxy.http.routers.web.rule', outsideHosts('Host(`evil.test`)')]],
  },
  {
    desc: 'hosts: no host matcher',
    policy: hosts,
    labels: rule('PathPrefix(`/`)'),
    refused: [['appproxy.http.routers.web.rule', anyHost()]],
  },
  {
    desc: 'hosts: a host beside || another matcher',
    policy: hosts,
    labels: rule('Host(`a.apps.example.com`) || PathPrefix(`/admin`)'),
    refused: [['appproxy.http.routers.web.rule', anyHost()]],
  },
  {
    desc: 'hosts: a host only under !',
    policy: hosts,
    labels: rule('!Host(`evil.test`)'),
    refused: [['appproxy.http.routers.web.rule', anyHost()]],
  },
  {
    desc: 'hosts: HostRegexp cannot be checked',
    policy: hosts,
    labels: rule('HostRegexp(`^.+\\.apps\\.example\\.com$`)'),
    refused: [
      [
        'appproxy.http.routers.web.rule',
        `the rule uses HostRegexp, whose hosts cannot be checked against patterns, and ${ALLOWED_HOSTS}: ${LEFT_OUT}. Use Host(\`<host>\`) for each allowed host, or (the operator) clear ${HOSTS}`,
      ],
    ],
  },
  {
    desc: 'hosts: a rule Traefik cannot read',
    policy: hosts,
    labels: rule('Host(`a.apps.example.com`'),
    refused: [
      [
        'appproxy.http.routers.web.rule',
        `the rule cannot be read (1:26: missing ',' before newline in argument list), so its hosts cannot be checked, and ${ALLOWED_HOSTS}: ${LEFT_OUT}. Correct the rule`,
      ],
    ],
  },
  {
    desc: 'hosts: the default rule’s host from the container name is checked too',
    policy: hosts,
    withoutRule: true,
    labels: { 'appproxy.http.routers.web.service': 'app' },
    refused: [
      [
        'appproxy.http.routers.web.rule',
        `the default rule (--default-rule) gives router "web" the rule "Host(\`app\`)"; the rule routes Host(\`app\`), and ${ALLOWED_HOSTS}: ${LEFT_OUT}. Set appproxy.http.routers.web.rule to a rule with Host(\`<host>\`) for an allowed host, or (the operator) add a pattern to ${HOSTS}`,
      ],
    ],
  },
  {
    desc: 'hosts: HostSNI of an allowed host',
    policy: hosts,
    labels: tcpRule('HostSNI(`db.apps.example.com`)'),
    refused: [],
  },
  {
    desc: 'hosts: HostSNI(`*`) matches every host',
    policy: hosts,
    labels: tcpRule('HostSNI(`*`)'),
    refused: [['appproxy.tcp.routers.db.rule', outsideHosts('HostSNI(`*`)', ' (`*` matches every host)')]],
  },
  {
    desc: 'hosts: a TCP rule of ClientIP alone',
    policy: hosts,
    labels: tcpRule('ClientIP(`10.0.0.0/8`)'),
    refused: [['appproxy.tcp.routers.db.rule', anyHost('HostSNI')]],
  },

  // Middlewares.
  {
    desc: 'middlewares: a router with one',
    policy: { requireMiddlewares: true },
    labels: {
      'appproxy.http.routers.web.middlewares': 'auth',
      'appproxy.http.middlewares.auth.basicauth.users': 'u:$apr1$x$y',
    },
    refused: [],
  },
  {
    desc: 'middlewares: each router without one is named',
    policy: { requireMiddlewares: true },
    labels: { ...rule('Host(`a.test`)'), ...tcpRule('HostSNI(`db.test`)') },
    refused: [
      [
        'appproxy.http.routers.web.middlewares',
        `HTTP router "web" has no middleware, and the label policy requires at least one on every router: ${LEFT_OUT}. Set appproxy.http.routers.web.middlewares, or (the operator) turn off ${MIDDLEWARES}`,
      ],
      [
        'appproxy.tcp.routers.db.middlewares',
        `TCP router "db" has no middleware, and the label policy requires at least one on every router: ${LEFT_OUT}. Set appproxy.tcp.routers.db.middlewares, or (the operator) turn off ${MIDDLEWARES}`,
      ],
    ],
  },
];

function translate(policy: Partial<LabelPolicy>, workloads: readonly Workload[]) {
  const compiled = compileTranslateOptions({ ...defaultTranslateOptions, policy: { ...allowEverything, ...policy } });
  assert.ok(compiled.ok, compiled.ok ? '' : compiled.errors.join('\n'));
  return buildConfiguration(workloads, compiled.value);
}

for (const spec of cases) {
  test(`label policy: ${spec.desc}`, () => {
    // A router "web" with an allowed rule, unless the case says otherwise: each case names what it adds.
    const base = spec.withoutRule === true ? {} : rule('Host(`a.apps.example.com`)');
    const subject = container({ name: 'app', labels: { 'appproxy.enable': 'true', ...base, ...spec.labels } });
    const bystander = container({
      name: 'allowed',
      id: 'allowed-id',
      networks: [{ name: 'bridge', ip: '172.17.0.3' }],
      labels: {
        'appproxy.enable': 'true',
        'appproxy.http.routers.ok.rule': 'Host(`ok.apps.example.com`)',
        'appproxy.http.routers.ok.entrypoints': 'web',
        'appproxy.http.routers.ok.middlewares': 'ok',
        'appproxy.http.middlewares.ok.headers.customresponseheaders.x': 'y',
      },
    });
    const result = translate(spec.policy, [subject, bystander]);
    const errors = result.problems.filter((problem) => problem.severity === 'error');
    assert.deepEqual(
      errors.map((problem) => [problem.label, problem.message]),
      spec.refused,
    );
    assert.ok(errors.every((problem) => problem.workload === 'app'));
    assert.equal(
      result.routed.includes('app'),
      spec.refused.length === 0,
      spec.refused.length === 0 ? 'allowed: routed' : 'refused: left out',
    );
    assert.ok(result.routed.includes('allowed'), 'the other workload stays routed');
  });
}

test('label policy: with the defaults, every label Traefik takes is allowed', () => {
  const labels = {
    'appproxy.enable': 'true',
    'appproxy.http.routers.web.rule': 'PathPrefix(`/`) || HostRegexp(`.+`)',
    'appproxy.http.routers.web.service': 'api@internal',
    'appproxy.http.routers.web.middlewares': 'a@file',
    'appproxy.http.routers.web.entrypoints': 'traefik',
    'appproxy.http.services.x.loadbalancer.server.url': 'http://127.0.0.1:2379',
  };
  const result = translate({}, [container({ name: 'app', labels })]);
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.routed, ['app']);
});

test('label policy: a Swarm service is checked for each task, and only it is left out', () => {
  const labels = {
    'appproxy.enable': 'true',
    'appproxy.http.routers.web.service': 'api@internal',
    'appproxy.http.services.web.loadbalancer.server.port': '80',
  };
  const service: Workload = {
    kind: 'swarm-service',
    id: 'svc',
    name: 'api',
    serviceName: 'api',
    labels,
    status: 'running',
    ports: [],
    networks: [],
    tasks: [
      {
        kind: 'task',
        id: 't1',
        name: 'api.1',
        serviceName: 'api',
        labels,
        status: 'running',
        ports: [],
        networks: [{ name: 'overlay', ip: '10.0.1.5' }],
      },
    ],
  };
  const result = translate({ refuseProviders: ['internal'] }, [service]);
  assert.deepEqual(
    result.problems.map((problem) => [problem.workload, problem.label]),
    [['api.1', 'appproxy.http.routers.web.service']],
  );
  assert.deepEqual(result.routed, []);
});

test('label policy: bad settings given to the core are reported by compileTranslateOptions', () => {
  assert.deepEqual(
    labelPolicyProblems({
      ...allowEverything,
      refuseProviders: ['In ternal'],
      entryPoints: ['web secure'],
      hosts: ['*', 'a.*.example.com'],
    }),
    [
      'policy refuse providers: expected a Traefik provider name such as internal or file (lower-case letters, digits, "_" or "-"), got "In ternal"',
      'policy entry points: use 1 to 64 letters, digits, "_" or "-", got "web secure"',
      'policy hosts: "*" would allow every host: leave the list empty to allow every host',
      'policy hosts: expected a host name (example.org) or "*." and a domain (*.apps.example.com: one label before .apps.example.com), got "a.*.example.com"',
    ],
  );
  const compiled = compileTranslateOptions({
    ...defaultTranslateOptions,
    policy: { ...allowEverything, hosts: ['**.example.com'] },
  });
  assert.equal(compiled.ok, false);
});

const patternCases: readonly (readonly [string, string, boolean])[] = [
  ['*.apps.example.com', 'a.apps.example.com', true],
  ['*.apps.example.com', 'A.Apps.Example.Com', true],
  ['*.apps.example.com', 'a-1_b.apps.example.com', true],
  ['*.apps.example.com', 'a.b.apps.example.com', false],
  ['*.apps.example.com', 'apps.example.com', false],
  ['*.apps.example.com', '.apps.example.com', false],
  ['*.apps.example.com', '*.apps.example.com', false],
  ['*.apps.example.com', 'a.apps.example.com.', false],
  ['*.apps.example.com', 'a.apps.example.com:443', false],
  ['*.apps.example.com', 'evilapps.example.com', false],
  ['example.org', 'example.org', true],
  ['example.org', 'www.example.org', false],
  ['EXAMPLE.org', 'example.ORG', true],
];

test('host patterns: "*." is exactly one label, as a TLS wildcard; hosts compare without case', () => {
  for (const [pattern, host, allowed] of patternCases) {
    assert.equal(hostPatternProblem(pattern), undefined, pattern);
    assert.equal(compileHostPatterns([pattern]).allows(host), allowed, `${pattern} ${host}`);
  }
  for (const bad of [
    '',
    '*',
    '*.',
    '**.example.com',
    'a.*.example.com',
    'example..org',
    '-a.example.org',
    'http://example.org',
    'example.org/',
  ])
    assert.notEqual(hostPatternProblem(bad), undefined, bad);
});

test('rule hosts: read through the Go expression parser, nested any way; long chains without deep recursion', () => {
  assert.deepEqual(ruleHosts('HOST(`a`) && (Hostsni(`b`) || hostheader("c"))'), {
    readable: true,
    hosts: [
      { matcher: 'HOST', host: 'a' },
      { matcher: 'Hostsni', host: 'b' },
      { matcher: 'hostheader', host: 'c' },
    ],
    regexps: [],
    bounded: true,
  });
  assert.deepEqual(ruleHosts('Host()'), { readable: true, hosts: [], regexps: [], bounded: false });
  assert.equal(ruleHosts('Host(`a`) + Path(`/`)').readable, false);
  assert.equal(ruleHosts('Host(a)').readable, false);
  const chain = Array.from({ length: 5000 }, (_, index) => `Path(\`/${index}\`)`).join(' || ');
  assert.deepEqual(ruleHosts(`Host(\`a\`) && (${chain})`), {
    readable: true,
    hosts: [{ matcher: 'Host', host: 'a' }],
    regexps: [],
    bounded: true,
  });
  assert.equal((ruleHosts(`${chain} || Host(\`a\`)`) as { bounded: boolean }).bounded, false);
});

test('label policy settings: from variables, flags and the file, into the provider options; the defaults allow everything', () => {
  const load = (sources: { env?: Record<string, string>; flags?: Record<string, unknown>; file?: string }) =>
    translateOptionsOf(
      loadConfig(daemonConfigSchema, {
        env: sources.env ?? {},
        flags: sources.flags ?? {},
        file: sources.file,
        scope: 'translate',
      }),
    ).policy;
  assert.deepEqual(load({}), allowEverything);
  assert.deepEqual(
    load({
      env: {
        APPPROXY_POLICY_REFUSE_PROVIDERS: '@Internal, file',
        APPPROXY_POLICY_HOSTS: '*.apps.example.com,example.org',
        APPPROXY_POLICY_REQUIRE_MIDDLEWARES: 'true',
      },
      flags: { policyEntrypoints: 'web,websecure', policyRefuseServerOverride: true },
    }),
    {
      refuseProviders: ['internal', 'file'],
      refuseServerOverride: true,
      entryPoints: ['web', 'websecure'],
      hosts: ['*.apps.example.com', 'example.org'],
      requireMiddlewares: true,
    },
  );
  const file = join(mkdtempSync(join(tmpdir(), 'appproxy-policy-')), 'policy.yml');
  writeFileSync(file, 'policy:\n  refuseProviders: [internal]\n  hosts: ["*.apps.example.com"]\n');
  assert.deepEqual(load({ file }), {
    ...allowEverything,
    refuseProviders: ['internal'],
    hosts: ['*.apps.example.com'],
  });
});
