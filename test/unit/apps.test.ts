import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfigObject } from '../../src/core/config-tree.ts';
import { defaultAppOptions, type AppOptions } from '../../src/core/apps/app-options.ts';
import { appOwner, appResourceName, defaultSubdomain } from '../../src/core/apps/app-identity.ts';
import { decodeAppLabels, type AppSpec } from '../../src/core/apps/decode-app-labels.ts';
import { readLabels } from '../../src/core/labels/workload-labels.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import {
  compileTranslateOptions,
  defaultTranslateOptions,
  type TranslateOptions,
} from '../../src/core/translate/translate-options.ts';
import { translateWorkload } from '../../src/core/translate/translate-workload.ts';
import type { Workload } from '../../src/core/workload.ts';
import { container, swarmService } from '../support/workloads.ts';

// Decoding: labels in, apps (only the fields a case names) and problems out.
interface DecodeCase {
  readonly desc: string;
  readonly labels: Record<string, string>;
  readonly defaultFrontend?: 'port' | 'wildcard';
  readonly expected: readonly Partial<AppSpec>[];
  readonly errors?: readonly { label: string; includes: string }[];
  readonly warnings?: readonly { label: string; includes: string }[];
}

const decodeCases: DecodeCase[] = [
  {
    desc: 'a port alone: HTTP, the default frontend, nothing else',
    labels: { 'appproxy.apps.notebook.port': '8888' },
    expected: [
      {
        name: 'notebook',
        port: 8888,
        protocol: 'http',
        frontend: 'port',
        allow: [],
        sticky: false,
        health: undefined,
        subdomain: undefined,
        frontendPort: undefined,
        idleTimeoutSeconds: undefined,
      },
    ],
  },
  {
    desc: 'several apps, sorted by name, each with its own fields',
    labels: {
      'appproxy.apps.ssh.port': '22',
      'appproxy.apps.ssh.protocol': 'tcp',
      'appproxy.apps.notebook.port': '8888',
      'appproxy.apps.notebook.sticky': 'true',
    },
    expected: [
      { name: 'notebook', port: 8888, protocol: 'http', sticky: true },
      { name: 'ssh', port: 22, protocol: 'tcp', sticky: false },
    ],
  },
  {
    desc: 'field names and enumerations match without regard to case',
    labels: {
      'appproxy.apps.web.PORT': '80',
      'appproxy.apps.web.Protocol': 'TCP',
      'appproxy.apps.web.Frontend-Port': '10210',
    },
    expected: [{ name: 'web', protocol: 'tcp', frontendPort: 10210 }],
  },
  {
    desc: 'every field at once, in port mode',
    labels: {
      'appproxy.apps.lab.port': '8888',
      'appproxy.apps.lab.frontend': 'port',
      'appproxy.apps.lab.frontend-port': '10222',
      'appproxy.apps.lab.allow': '10.0.0.0/8, 192.0.2.7,2001:db8::/32',
      'appproxy.apps.lab.sticky': 'true',
      'appproxy.apps.lab.health': '/api/status',
      'appproxy.apps.lab.idle-timeout': '1h30m',
    },
    expected: [
      {
        name: 'lab',
        frontendPort: 10222,
        allow: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'],
        sticky: true,
        health: '/api/status',
        idleTimeoutSeconds: 5400,
      },
    ],
  },
  {
    desc: 'wildcard mode from the instance default, with a subdomain',
    defaultFrontend: 'wildcard',
    labels: { 'appproxy.apps.lab.port': '8888', 'appproxy.apps.lab.subdomain': 'my-lab' },
    expected: [{ name: 'lab', frontend: 'wildcard', subdomain: 'my-lab' }],
  },
  {
    desc: 'idle-timeout in seconds',
    labels: { 'appproxy.apps.lab.port': '8888', 'appproxy.apps.lab.idle-timeout': '600' },
    expected: [{ name: 'lab', idleTimeoutSeconds: 600 }],
  },
  {
    desc: 'no port: that app is left out, naming the label to set',
    labels: { 'appproxy.apps.lab.protocol': 'http', 'appproxy.apps.ok.port': '80' },
    expected: [{ name: 'ok' }],
    errors: [{ label: 'appproxy.apps.lab.port', includes: 'set appproxy.apps.lab.port' }],
  },
  {
    desc: 'bad values, each named with what is accepted; the good app stays',
    labels: {
      'appproxy.apps.a.port': '0',
      'appproxy.apps.b.port': '80',
      'appproxy.apps.b.protocol': 'udp',
      'appproxy.apps.c.port': '80',
      'appproxy.apps.c.frontend': 'vhost',
      'appproxy.apps.d.port': '80',
      'appproxy.apps.d.sticky': 'yes',
      'appproxy.apps.e.port': '80',
      'appproxy.apps.e.allow': '10.0.0.0/33',
      'appproxy.apps.f.port': '80',
      'appproxy.apps.f.health': 'healthz',
      'appproxy.apps.g.port': '80',
      'appproxy.apps.g.idle-timeout': '10 minutes',
      'appproxy.apps.h.port': '80',
      'appproxy.apps.h.frontend-port': '70000',
      'appproxy.apps.i.port': '80',
      'appproxy.apps.i.frontend': 'wildcard',
      'appproxy.apps.i.subdomain': 'Not_A_Label',
      'appproxy.apps.good.port': '80',
    },
    expected: [{ name: 'good' }],
    errors: [
      { label: 'appproxy.apps.a.port', includes: '1 to 65535, got "0"' },
      { label: 'appproxy.apps.b.protocol', includes: 'expects "http" or "tcp", got "udp"' },
      { label: 'appproxy.apps.c.frontend', includes: 'expects "port"' },
      { label: 'appproxy.apps.d.sticky', includes: 'expects true or false, got "yes"' },
      { label: 'appproxy.apps.e.allow', includes: '"10.0.0.0/33" is not one' },
      { label: 'appproxy.apps.f.health', includes: 'starting with "/"' },
      { label: 'appproxy.apps.g.idle-timeout', includes: 'expects a duration' },
      { label: 'appproxy.apps.h.frontend-port', includes: 'got "70000"' },
      { label: 'appproxy.apps.i.subdomain', includes: 'one DNS label' },
    ],
  },
  {
    desc: 'an allow list cannot smuggle text into a rule',
    labels: { 'appproxy.apps.a.port': '80', 'appproxy.apps.a.allow': '10.0.0.1`) || HostSNI(`*' },
    expected: [],
    errors: [{ label: 'appproxy.apps.a.allow', includes: 'is not one' }],
  },
  {
    desc: 'an empty allow list is an error, not everyone let in',
    labels: { 'appproxy.apps.a.port': '80', 'appproxy.apps.a.allow': ' , ' },
    expected: [],
    errors: [{ label: 'appproxy.apps.a.allow', includes: 'got nothing' }],
  },
  {
    desc: 'an unknown field leaves its app out with the accepted fields',
    labels: { 'appproxy.apps.a.port': '80', 'appproxy.apps.a.prot': 'tcp' },
    expected: [],
    errors: [{ label: 'appproxy.apps.a.prot', includes: 'accepted: port, protocol, frontend' }],
  },
  {
    desc: 'an app without a field, and apps without a name',
    labels: { 'appproxy.apps.a': '80', 'appproxy.apps': 'x', 'appproxy.apps..port': '80' },
    expected: [],
    errors: [
      { label: 'appproxy.apps', includes: 'expects appproxy.apps.<name>.<field>' },
      { label: 'appproxy.apps..port', includes: 'expects appproxy.apps.<name>.<field>' },
      { label: 'appproxy.apps.a', includes: 'a field is missing' },
      { label: 'appproxy.apps.a.port', includes: 'no port' },
    ],
  },
  {
    desc: 'app names are lower-case DNS labels: they become host and resource names',
    labels: { 'appproxy.apps.Notebook.port': '80', 'appproxy.apps.my_app.port': '80', 'appproxy.apps.-x.port': '80' },
    expected: [],
    errors: [
      { label: 'appproxy.apps.-x.port', includes: 'app "-x" is left out: an app name must be' },
      { label: 'appproxy.apps.Notebook.port', includes: 'app "Notebook"' },
      { label: 'appproxy.apps.my_app.port', includes: 'app "my_app"' },
    ],
  },
  {
    desc: 'TCP in wildcard mode is an error: plain TCP carries no host name',
    labels: {
      'appproxy.apps.ssh.port': '22',
      'appproxy.apps.ssh.protocol': 'tcp',
      'appproxy.apps.ssh.frontend': 'wildcard',
    },
    expected: [],
    errors: [{ label: 'appproxy.apps.ssh.frontend', includes: 'set appproxy.apps.ssh.frontend=port' }],
  },
  {
    desc: 'TCP under a wildcard default names the protocol label and the instance default',
    defaultFrontend: 'wildcard',
    labels: { 'appproxy.apps.ssh.port': '22', 'appproxy.apps.ssh.protocol': 'tcp' },
    expected: [],
    errors: [{ label: 'appproxy.apps.ssh.protocol', includes: '--app-frontend' }],
  },
  {
    desc: 'labels that do nothing for the app as it is are warnings; it is served',
    labels: {
      'appproxy.apps.ssh.port': '22',
      'appproxy.apps.ssh.protocol': 'tcp',
      'appproxy.apps.ssh.sticky': 'true',
      'appproxy.apps.ssh.health': '/x',
      'appproxy.apps.ssh.subdomain': 'ssh',
      'appproxy.apps.web.port': '80',
      'appproxy.apps.web.frontend': 'wildcard',
      'appproxy.apps.web.frontend-port': '10210',
    },
    expected: [
      { name: 'ssh', sticky: false, health: undefined, subdomain: undefined },
      { name: 'web', frontendPort: undefined },
    ],
    warnings: [
      { label: 'appproxy.apps.ssh.sticky', includes: 'needs HTTP' },
      { label: 'appproxy.apps.ssh.health', includes: 'HTTP request' },
      { label: 'appproxy.apps.ssh.subdomain', includes: 'has no host name' },
      { label: 'appproxy.apps.web.frontend-port', includes: 'no port of its own' },
    ],
  },
  {
    desc: 'labels under another prefix, or outside apps, are not apps',
    labels: {
      'traefik.apps.a.port': '80',
      'appproxy.http.routers.apps.rule': 'Host(`x`)',
      'appproxy.docker.network': 'n',
    },
    expected: [],
  },
];

for (const entry of decodeCases) {
  test(`apps decode: ${entry.desc}`, () => {
    const decoded = decodeAppLabels(readLabels(entry.labels, 'appproxy'), entry.defaultFrontend ?? 'port');
    assert.equal(
      decoded.apps.length,
      entry.expected.length,
      `apps: ${JSON.stringify(decoded.apps)}; errors: ${JSON.stringify(decoded.errors)}`,
    );
    entry.expected.forEach((expected, index) => {
      const actual = decoded.apps[index] as AppSpec;
      for (const [field, value] of Object.entries(expected))
        assert.deepEqual(actual[field as keyof AppSpec], value, `${actual.name}.${field}`);
    });
    const sorted = <T extends { label: string }>(problems: readonly T[]): T[] =>
      [...problems].sort((a, b) => (a.label < b.label ? -1 : 1));
    const errors = sorted(decoded.errors);
    assert.equal(errors.length, entry.errors?.length ?? 0, `errors: ${JSON.stringify(errors)}`);
    sorted(entry.errors ?? []).forEach((expected, index) => {
      assert.equal(errors[index]?.label, expected.label);
      assert.ok(
        errors[index]?.message.includes(expected.includes),
        `${errors[index]?.message} should include ${expected.includes}`,
      );
      if (/^appproxy\.apps\.[^.]+/.test(expected.label))
        assert.ok(errors[index]?.message.startsWith('app "'), 'an error says which app is left out');
    });
    const warnings = sorted(decoded.warnings);
    assert.equal(warnings.length, entry.warnings?.length ?? 0, `warnings: ${JSON.stringify(warnings)}`);
    sorted(entry.warnings ?? []).forEach((expected, index) => {
      assert.equal(warnings[index]?.label, expected.label);
      assert.ok(
        warnings[index]?.message.includes(expected.includes),
        `${warnings[index]?.message} should include ${expected.includes}`,
      );
    });
  });
}

// Translation: workloads in, each app's router (what users reach) and problems out.
interface AppRoute {
  readonly section: 'http' | 'tcp';
  readonly rule: string;
  readonly entryPoints: readonly string[];
  readonly servers: readonly string[];
  readonly middlewares?: ConfigObject;
  readonly service?: ConfigObject;
}

interface TranslateCase {
  readonly desc: string;
  readonly workloads: Workload[];
  readonly options?: Partial<TranslateOptions>;
  readonly apps?: Partial<AppOptions>;
  readonly held?: Record<string, number>;
  /** By `<workload readable>/<app>`. */
  readonly expected: Record<string, AppRoute>;
  /** Routers that are not apps', by name. */
  readonly ordinary?: readonly string[];
  readonly errors?: readonly { workload: string; includes: string }[];
  readonly filtered?: readonly string[];
}

const compose = (project: string, service: string, number: string) => ({
  'com.docker.compose.project': project,
  'com.docker.compose.service': service,
  'com.docker.compose.container-number': number,
});
const nb = { 'appproxy.apps.notebook.port': '8888' };

const translateCases: TranslateCase[] = [
  {
    desc: 'an app label opts in by itself: the app is served, the workload gets no automatic router',
    workloads: [container({ name: 'lab', labels: nb })],
    expected: {
      'lab/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://172.17.0.2:8888'],
      },
    },
    ordinary: [],
  },
  {
    desc: 'apps beside ordinary labels: both are served, independently',
    workloads: [
      container({
        name: 'lab',
        labels: { ...nb, 'appproxy.enable': 'true', 'appproxy.http.routers.site.rule': 'Host(`lab.example.com`)' },
      }),
    ],
    expected: {
      'lab/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://172.17.0.2:8888'],
      },
    },
    ordinary: ['site'],
  },
  {
    desc: 'enable=false wins over an app label',
    workloads: [container({ name: 'lab', labels: { ...nb, 'appproxy.enable': 'false' } })],
    expected: {},
    filtered: ['lab'],
  },
  {
    desc: 'constraints still apply to apps',
    options: { constraints: 'Label("team","a")' },
    workloads: [
      container({ name: 'lab', labels: nb }),
      container({ name: 'lab-a', labels: { ...nb, team: 'a' }, networks: [{ name: 'bridge', ip: '172.17.0.3' }] }),
    ],
    expected: {
      'lab-a/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://172.17.0.3:8888'],
      },
    },
    filtered: ['lab'],
  },
  {
    desc: 'a stopped container serves no app',
    workloads: [container({ name: 'lab', labels: nb, status: 'exited' })],
    expected: {},
    filtered: ['lab'],
  },
  {
    desc: 'a bad ordinary label leaves the apps served, and a bad app leaves the ordinary labels served',
    workloads: [
      container({
        name: 'a',
        labels: { ...nb, 'appproxy.enable': 'true', 'appproxy.http.routers.r.nosuchfield': 'x' },
      }),
      container({
        name: 'b',
        labels: { 'appproxy.apps.x.port': 'nope', 'appproxy.enable': 'true' },
        networks: [{ name: 'bridge', ip: '172.17.0.3' }],
      }),
    ],
    expected: {
      'a/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://172.17.0.2:8888'],
      },
    },
    ordinary: ['b'],
    errors: [
      { workload: 'a', includes: 'unknown field "nosuchfield"' },
      { workload: 'b', includes: 'app "x" is left out' },
    ],
  },
  {
    desc: 'HTTP with allow, sticky and health: middleware, cookie and health check',
    workloads: [
      container({
        name: 'lab',
        labels: {
          ...nb,
          'appproxy.apps.notebook.allow': '10.0.0.0/8,192.0.2.7',
          'appproxy.apps.notebook.sticky': 'true',
          'appproxy.apps.notebook.health': '/api',
        },
      }),
    ],
    expected: {
      'lab/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://172.17.0.2:8888'],
        middlewares: { ipAllowList: { sourceRange: ['10.0.0.0/8', '192.0.2.7'] } },
        service: { sticky: { cookie: { name: 'COOKIE' } }, healthCheck: { path: '/api' } },
      },
    },
  },
  {
    desc: 'TCP with allow: a ClientIP rule beside HostSNI(`*`)',
    workloads: [
      container({
        name: 'lab',
        labels: {
          'appproxy.apps.ssh.port': '22',
          'appproxy.apps.ssh.protocol': 'tcp',
          'appproxy.apps.ssh.allow': '10.0.0.0/8',
        },
      }),
    ],
    expected: {
      'lab/ssh': {
        section: 'tcp',
        rule: 'HostSNI(`*`) && ClientIP(`10.0.0.0/8`)',
        entryPoints: ['portproxy_10205'],
        servers: ['172.17.0.2:22'],
      },
    },
  },
  {
    desc: 'TCP with several allowed ranges: any of them',
    workloads: [
      container({
        name: 'lab',
        labels: {
          'appproxy.apps.ssh.port': '22',
          'appproxy.apps.ssh.protocol': 'tcp',
          'appproxy.apps.ssh.allow': '10.0.0.0/8,2001:db8::/32',
        },
      }),
    ],
    expected: {
      'lab/ssh': {
        section: 'tcp',
        rule: 'HostSNI(`*`) && (ClientIP(`10.0.0.0/8`) || ClientIP(`2001:db8::/32`))',
        entryPoints: ['portproxy_10205'],
        servers: ['172.17.0.2:22'],
      },
    },
  },
  {
    desc: 'wildcard mode: a host name from app and workload names, on the wildcard entry point',
    apps: { frontend: 'wildcard', wildcardDomain: '.apps.example.com' },
    workloads: [container({ name: 'My_Lab', labels: nb })],
    expected: {
      'my-lab/notebook': {
        section: 'http',
        rule: 'Host(`notebook-my-lab.apps.example.com`)',
        entryPoints: ['domainproxy'],
        servers: ['http://172.17.0.2:8888'],
      },
    },
  },
  {
    desc: 'wildcard mode with a chosen subdomain, and a TCP app that asks for port mode',
    apps: { frontend: 'wildcard', wildcardDomain: '.apps.example.com' },
    workloads: [
      container({
        name: 'lab',
        labels: {
          ...nb,
          'appproxy.apps.notebook.subdomain': 'nb',
          'appproxy.apps.ssh.port': '22',
          'appproxy.apps.ssh.protocol': 'tcp',
          'appproxy.apps.ssh.frontend': 'port',
        },
      }),
    ],
    expected: {
      'lab/notebook': {
        section: 'http',
        rule: 'Host(`nb.apps.example.com`)',
        entryPoints: ['domainproxy'],
        servers: ['http://172.17.0.2:8888'],
      },
      'lab/ssh': { section: 'tcp', rule: 'HostSNI(`*`)', entryPoints: ['portproxy_10205'], servers: ['172.17.0.2:22'] },
    },
  },
  {
    desc: 'wildcard mode without a wildcard domain: that app is left out, naming the setting',
    workloads: [
      container({
        name: 'lab',
        labels: { ...nb, 'appproxy.apps.notebook.frontend': 'wildcard', 'appproxy.apps.ssh.port': '22' },
      }),
    ],
    expected: {
      'lab/ssh': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://172.17.0.2:22'],
      },
    },
    errors: [{ workload: 'lab', includes: '--app-wildcard-domain' }],
  },
  {
    desc: 'two apps wanting one host name are both left out, each naming the other',
    apps: { frontend: 'wildcard', wildcardDomain: '.apps.example.com' },
    workloads: [
      container({ name: 'a', labels: { ...nb, 'appproxy.apps.notebook.subdomain': 'same' } }),
      container({
        name: 'b',
        labels: { 'appproxy.apps.web.port': '80', 'appproxy.apps.web.subdomain': 'same' },
        networks: [{ name: 'bridge', ip: '172.17.0.3' }],
      }),
    ],
    expected: {},
    errors: [
      { workload: 'a', includes: 'also wanted by container/b/web' },
      { workload: 'b', includes: 'also wanted by container/a/notebook' },
    ],
  },
  {
    desc: 'a Swarm service: one app served by every running task',
    workloads: [swarmService('jobs', nb, ['10.0.1.5', '10.0.1.6'])],
    expected: {
      'jobs/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://10.0.1.5:8888', 'http://10.0.1.6:8888'],
      },
    },
  },
  {
    desc: 'a Swarm service with lbswarm: its virtual IP',
    workloads: [swarmService('jobs', { ...nb, 'appproxy.swarm.lbswarm': 'true' }, ['10.0.1.5'])],
    expected: {
      'jobs/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://10.0.1.2:8888'],
      },
    },
  },
  {
    desc: 'the network label chooses the address, as for ordinary labels',
    workloads: [
      container({
        name: 'lab',
        labels: { ...nb, 'appproxy.docker.network': 'back' },
        networks: [
          { name: 'back', ip: '10.9.0.4' },
          { name: 'bridge', ip: '172.17.0.2' },
        ],
      }),
    ],
    expected: {
      'lab/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://10.9.0.4:8888'],
      },
    },
  },
  {
    desc: 'with --advertise-address an app whose port is not published is left out, saying how to publish it',
    options: { advertiseAddress: '192.0.2.10' },
    workloads: [container({ name: 'lab', labels: nb })],
    expected: {},
    errors: [{ workload: 'lab', includes: 'is not published' }],
  },
  {
    desc: 'ports: held ones are kept, requests served, the rest take the lowest free ports in identity order',
    held: { 'container/c/notebook': 10207 },
    workloads: [
      container({ name: 'c', labels: nb }),
      container({
        name: 'b',
        labels: { ...nb, 'appproxy.apps.notebook.frontend-port': '10205' },
        networks: [{ name: 'bridge', ip: '172.17.0.3' }],
      }),
      container({ name: 'a', labels: nb, networks: [{ name: 'bridge', ip: '172.17.0.4' }] }),
    ],
    expected: {
      'a/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10206'],
        servers: ['http://172.17.0.4:8888'],
      },
      'b/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://172.17.0.3:8888'],
      },
      'c/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10207'],
        servers: ['http://172.17.0.2:8888'],
      },
    },
  },
  {
    desc: 'range exhausted: the app last in identity order gets an error, the others are served',
    apps: { portRange: { first: 10205, last: 10206 } },
    workloads: [
      container({
        name: 'lab',
        labels: { 'appproxy.apps.a.port': '1', 'appproxy.apps.b.port': '2', 'appproxy.apps.c.port': '3' },
      }),
    ],
    expected: {
      'lab/a': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://172.17.0.2:1'],
      },
      'lab/b': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10206'],
        servers: ['http://172.17.0.2:2'],
      },
    },
    errors: [
      { workload: 'lab', includes: 'app "c" is left out: every port of the app port range 10205-10206 is taken' },
    ],
  },
  {
    desc: 'a requested port outside the range, or taken, is an error for that app',
    held: { 'container/other/x': 10210 },
    workloads: [
      container({
        name: 'lab',
        labels: {
          'appproxy.apps.a.port': '1',
          'appproxy.apps.a.frontend-port': '9000',
          'appproxy.apps.b.port': '2',
          'appproxy.apps.b.frontend-port': '10210',
          'appproxy.apps.c.port': '3',
        },
      }),
    ],
    expected: {
      'lab/c': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['portproxy_10205'],
        servers: ['http://172.17.0.2:3'],
      },
    },
    errors: [
      { workload: 'lab', includes: 'port 9000 is outside the app port range 10205-10300' },
      { workload: 'lab', includes: 'port 10210 is taken by container/other/x' },
    ],
  },
  {
    desc: 'the entry point name template',
    apps: { portEntryPoint: 'app-{port}-tcp' },
    workloads: [container({ name: 'lab', labels: nb })],
    expected: {
      'lab/notebook': {
        section: 'http',
        rule: 'PathPrefix(`/`)',
        entryPoints: ['app-10205-tcp'],
        servers: ['http://172.17.0.2:8888'],
      },
    },
  },
];

function compiledFor(options: Partial<TranslateOptions> = {}, apps: Partial<AppOptions> = {}) {
  const compiled = compileTranslateOptions({
    ...defaultTranslateOptions,
    ...options,
    apps: { ...defaultAppOptions, ...apps },
  });
  assert.ok(compiled.ok, compiled.ok ? '' : compiled.errors.join('; '));
  return compiled.value;
}

function resource(configuration: ConfigObject, section: string, kind: string, name: string): ConfigObject | undefined {
  const part = configuration[section] as ConfigObject | undefined;
  const kinds = part?.[kind] as ConfigObject | undefined;
  return kinds?.[name] as ConfigObject | undefined;
}

for (const entry of translateCases) {
  test(`apps translate: ${entry.desc}`, () => {
    const result = buildConfiguration(
      entry.workloads,
      compiledFor(entry.options, entry.apps),
      new Map(Object.entries(entry.held ?? {})),
    );
    const byName = new Map(entry.workloads.map((workload) => [workload.name, workload]));
    const served = new Set<string>();
    for (const [where, expected] of Object.entries(entry.expected)) {
      const [readable = '', app = ''] = where.split('/');
      const frontend = result.apps.find(
        (candidate) =>
          candidate.app === app && appOwner(byName.get(candidate.workload) as Workload).readable === readable,
      );
      assert.ok(
        frontend !== undefined,
        `${where} is served (apps: ${result.apps.map((a) => a.key).join(', ')}; problems: ${JSON.stringify(result.problems)})`,
      );
      served.add(frontend.resourceName);
      const router = resource(result.configuration, expected.section, 'routers', frontend.resourceName);
      assert.deepEqual(router?.['rule'], expected.rule, `${where} rule`);
      assert.deepEqual(router?.['entryPoints'], expected.entryPoints, `${where} entry points`);
      assert.equal(router?.['service'], frontend.resourceName);
      const service = resource(result.configuration, expected.section, 'services', frontend.resourceName)?.[
        'loadBalancer'
      ] as ConfigObject;
      const servers = ((service['servers'] ?? []) as ConfigObject[]).map(
        (server) => server['url'] ?? server['address'],
      );
      assert.deepEqual(servers, expected.servers, `${where} servers`);
      if (expected.middlewares !== undefined) {
        assert.deepEqual(router?.['middlewares'], [frontend.resourceName]);
        assert.deepEqual(
          resource(result.configuration, 'http', 'middlewares', frontend.resourceName),
          expected.middlewares,
        );
      } else {
        assert.equal(router?.['middlewares'], undefined, `${where} has no middleware`);
      }
      const { servers: _servers, ...rest } = service;
      const cookie = ((rest['sticky'] as ConfigObject | undefined)?.['cookie'] as ConfigObject | undefined)?.['name'];
      if (typeof cookie === 'string') assert.match(cookie, /^_[0-9a-f]{5}$/, 'a cookie name Traefik would derive');
      const shown = cookie === undefined ? rest : { ...rest, sticky: { cookie: { name: 'COOKIE' } } };
      assert.deepEqual(shown, expected.service ?? {}, `${where} load balancer`);
    }
    assert.equal(
      result.apps.length,
      Object.keys(entry.expected).length,
      `apps served: ${result.apps.map((a) => a.key).join(', ')}`,
    );
    if (entry.ordinary !== undefined) {
      const routers = Object.keys((result.configuration['http'] as ConfigObject | undefined)?.['routers'] ?? {}).filter(
        (name) => !served.has(name),
      );
      assert.deepEqual(routers.sort(), [...entry.ordinary].sort(), 'ordinary routers');
    }
    const errors = result.problems.filter((problem) => problem.severity === 'error');
    assert.equal(errors.length, entry.errors?.length ?? 0, `errors: ${JSON.stringify(errors)}`);
    for (const expected of entry.errors ?? []) {
      assert.ok(
        errors.some((problem) => problem.workload === expected.workload && problem.message.includes(expected.includes)),
        `an error for ${expected.workload} including ${expected.includes}: ${JSON.stringify(errors)}`,
      );
    }
    assert.deepEqual(
      result.filtered.map((item) => item.workload).sort(),
      [...(entry.filtered ?? [])].sort(),
      'filtered',
    );
  });
}

test('apps identity: what survives a restart, never an id', () => {
  assert.equal(
    appOwner(container({ name: 'proj-lab-1', id: 'abc', labels: compose('proj', 'lab', '1') })).key,
    'compose/proj/lab/1',
  );
  assert.equal(appOwner(container({ name: 'lab', id: 'abc' })).key, 'container/lab');
  assert.equal(
    appOwner(container({ name: 'lab', id: 'def' })).key,
    'container/lab',
    'a container recreated under its name keeps its identity',
  );
  assert.equal(appOwner(swarmService('jobs', {}, ['10.0.1.5'])).key, 'swarm/jobs');
  assert.equal(appOwner(container({ name: 'proj-lab-1', labels: compose('proj', 'lab', '1') })).readable, 'proj-lab-1');
});

test('apps names: unique for identities that read alike, apart from any name labels can give', () => {
  const names = [
    container({ name: 'a_b' }),
    container({ name: 'a-b' }),
    container({ name: 'A-B' }),
    container({ name: 'a-b-1', labels: compose('a', 'b', '1') }),
    container({ name: 'a-b-1' }),
  ].map((workload) => appResourceName(appOwner(workload), 'x'));
  assert.equal(new Set(names).size, names.length, names.join(', '));
  for (const name of names) {
    assert.match(name, /^app\.[a-z0-9-]+\.x\.[0-9a-f]{8}$/);
    // The label grammar ends a name at a dot, so no label-defined router, service or middleware can be named so.
    assert.ok(name.includes('.'));
  }
  assert.equal(
    appResourceName(appOwner(container({ name: 'lab' })), 'x'),
    appResourceName(appOwner(container({ name: 'lab', id: 'other' })), 'x'),
    'deterministic',
  );
});

test('apps subdomains: valid DNS labels of at most 63 characters, distinct when cut', () => {
  const long = 'a'.repeat(80);
  const first = defaultSubdomain(appOwner(container({ name: `${long}-one` })), 'notebook');
  const second = defaultSubdomain(appOwner(container({ name: `${long}-two` })), 'notebook');
  for (const subdomain of [first, second]) {
    assert.ok(subdomain.length <= 63, subdomain);
    assert.match(subdomain, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  }
  assert.notEqual(first, second);
  assert.equal(defaultSubdomain(appOwner(container({ name: 'Ünïcode_Lab' })), 'nb'), 'nb-n-code-lab');
});

test('apps: the translation of a workload holds its apps without ports, so that it can be cached by the workload alone', () => {
  const compiled = compiledFor();
  const translation = translateWorkload(container({ name: 'lab', labels: nb }), compiled);
  assert.deepEqual(translation.contributions, [], 'app routers are not part of the cached translation');
  assert.equal(translation.apps.length, 1);
  assert.equal(translation.apps[0]?.key, 'container/lab/notebook');
  assert.deepEqual(translation.apps[0]?.servers, [{ target: 'http://172.17.0.2:8888', workloadId: 'lab-id' }]);
  // Frontends follow the held ports, the translation does not change.
  const a = buildConfiguration([container({ name: 'lab', labels: nb })], compiled);
  const b = buildConfiguration(
    [container({ name: 'lab', labels: nb })],
    compiled,
    new Map([['container/lab/notebook', 10250]]),
  );
  assert.equal(a.apps[0]?.port, 10205);
  assert.equal(b.apps[0]?.port, 10250);
});

test('apps: URLs for listings, from the public host or the wildcard host name', () => {
  const port = buildConfiguration(
    [
      container({
        name: 'lab',
        labels: { ...nb, 'appproxy.apps.ssh.port': '22', 'appproxy.apps.ssh.protocol': 'tcp' },
      }),
    ],
    compiledFor({}, { publicHost: 'apps.example.com' }),
  );
  assert.deepEqual(
    port.apps.map((app) => app.url),
    ['http://apps.example.com:10205/', 'tcp://apps.example.com:10206'],
  );
  const none = buildConfiguration([container({ name: 'lab', labels: nb })], compiledFor());
  assert.equal(none.apps[0]?.url, '', 'no public host, no URL rather than a wrong one');
  const wildcard = buildConfiguration(
    [container({ name: 'lab', labels: { ...nb, 'appproxy.apps.notebook.idle-timeout': '30m' } })],
    compiledFor({}, { frontend: 'wildcard', wildcardDomain: '.apps.example.com', wildcardPort: 443 }),
  );
  assert.deepEqual(
    wildcard.apps.map((app) => [app.url, app.idleTimeoutSeconds]),
    [['http://notebook-lab.apps.example.com:443/', 1800]],
  );
});

test('apps: the options are checked when compiled', () => {
  const compiled = compileTranslateOptions({
    ...defaultTranslateOptions,
    apps: {
      ...defaultAppOptions,
      portEntryPoint: 'portproxy',
      wildcardEntryPoint: 'bad name',
      wildcardDomain: '.x.example',
      wildcardPort: 10210,
    },
  });
  assert.ok(!compiled.ok);
  assert.equal(compiled.errors.length, 3, compiled.errors.join('\n'));
});

test('apps: explain counts a workload with apps alone as routed, and says where each app label went', async () => {
  const { explainWorkload } = await import('../../src/core/explain/explain-workload.ts');
  const lab = container({ name: 'lab', labels: { ...nb, 'appproxy.apps.bad.port': 'x' } });
  const explanation = explainWorkload(lab, [lab], compiledFor(), { rootKey: 'traefik', ownerId: 'host' });
  assert.ok(!explanation.reasons.some((reason) => reason.startsWith('not enabled')), explanation.reasons.join('; '));
  const fates = Object.fromEntries(explanation.labels.map((label) => [label.label, `${label.fate}: ${label.detail}`]));
  assert.match(fates['appproxy.apps.notebook.port'] ?? '', /^used: app "notebook" → port 10205 \(app\.lab\.notebook\./);
  assert.match(fates['appproxy.apps.bad.port'] ?? '', /^refused: app "bad" is left out/);
});
