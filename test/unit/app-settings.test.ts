import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { translateOptionsOf } from '../../src/config/setting-flags.ts';
import { daemonConfigSchema } from '../../src/config/settings.ts';
import { defaultAppOptions, type AppOptions } from '../../src/core/apps/app-options.ts';
import { parsePortRange } from '../../src/core/apps/port-range.ts';

interface Case {
  readonly desc: string;
  readonly env?: Record<string, string>;
  readonly flags?: Record<string, unknown>;
  /** The app options it gives (fields named), or the problem lines it gives (substrings, in order). */
  readonly expected?: Partial<AppOptions>;
  readonly problems?: readonly string[];
}

const cases: Case[] = [
  { desc: 'defaults: port mode, 10205-10300, the seed entry point names', expected: defaultAppOptions },
  {
    desc: 'every app setting from variables',
    env: {
      APPPROXY_APP_FRONTEND: 'wildcard',
      APPPROXY_APP_PORT_RANGE: '20000-20009',
      APPPROXY_APP_PORT_ENTRYPOINT_TEMPLATE: 'app{port}',
      APPPROXY_APP_WILDCARD_ENTRYPOINT: 'apps',
      APPPROXY_APP_WILDCARD_DOMAIN: '.Apps.Example.com',
      APPPROXY_APP_WILDCARD_PORT: '443',
      APPPROXY_APP_PUBLIC_HOST: 'apps.example.com',
    },
    expected: {
      frontend: 'wildcard',
      portRange: { first: 20000, last: 20009 },
      portEntryPoint: 'app{port}',
      wildcardEntryPoint: 'apps',
      wildcardDomain: '.apps.example.com',
      wildcardPort: 443,
      publicHost: 'apps.example.com',
    },
  },
  {
    desc: 'flags win over variables',
    env: { APPPROXY_APP_PORT_RANGE: '20000-20009' },
    flags: { appPortRange: '30000-30001' },
    expected: { portRange: { first: 30000, last: 30001 } },
  },
  {
    desc: 'a wildcard domain without its leading dot gets one',
    flags: { appWildcardDomain: 'apps.example.com' },
    expected: { wildcardDomain: '.apps.example.com' },
  },
  {
    desc: 'a range of one port',
    flags: { appPortRange: '10205' },
    expected: { portRange: { first: 10205, last: 10205 } },
  },
  {
    desc: 'a range of 1024 ports, the most',
    flags: { appPortRange: '10000-11023' },
    expected: { portRange: { first: 10000, last: 11023 } },
  },
  {
    desc: 'a range in the wrong order',
    flags: { appPortRange: '10300-10205' },
    problems: [
      'appPortRange: the first port must not be above the last, got "10300-10205" (flag --app-port-range, variable APPPROXY_APP_PORT_RANGE)',
    ],
  },
  {
    desc: 'a range beyond 65535',
    flags: { appPortRange: '65000-65536' },
    problems: ['appPortRange: ports must be 1 to 65535'],
  },
  {
    desc: 'a range from port 0',
    flags: { appPortRange: '0-10' },
    problems: ['appPortRange: ports must be 1 to 65535'],
  },
  {
    desc: 'a range too wide',
    flags: { appPortRange: '10000-20000' },
    problems: ['appPortRange: at most 1024 ports (each is one Traefik entry point), got 10001'],
  },
  {
    desc: 'a range that is not one',
    env: { APPPROXY_APP_PORT_RANGE: '10205:10300' },
    problems: ['appPortRange: expected a port range "<first>-<last>", e.g. 10205-10300, got "10205:10300"'],
  },
  {
    desc: 'an unknown frontend',
    flags: { appFrontend: 'vhost' },
    problems: ['appFrontend: expected one of port, wildcard, got "vhost"'],
  },
  {
    desc: 'wildcard mode needs a domain',
    flags: { appFrontend: 'wildcard' },
    problems: ['appWildcardDomain: the wildcard app frontend (--app-frontend wildcard) needs a domain'],
  },
  {
    desc: 'a bad wildcard domain',
    flags: { appWildcardDomain: '*.apps.example.com' },
    problems: ['appWildcardDomain: expected a domain such as .apps.example.com'],
  },
  {
    desc: 'a wildcard domain with an empty label',
    flags: { appWildcardDomain: '.apps..example.com' },
    problems: ['appWildcardDomain: expected a domain'],
  },
  {
    desc: 'a template without {port}',
    flags: { appPortEntrypointTemplate: 'portproxy' },
    problems: ['appPortEntrypointTemplate: must hold "{port}" exactly once'],
  },
  {
    desc: 'a template with {port} twice',
    flags: { appPortEntrypointTemplate: '{port}_{port}' },
    problems: ['appPortEntrypointTemplate: must hold "{port}" exactly once'],
  },
  {
    desc: 'a template with a dot',
    flags: { appPortEntrypointTemplate: 'port.{port}' },
    problems: ['appPortEntrypointTemplate: use letters, digits, "_" and "-" around {port}'],
  },
  {
    desc: 'a wildcard entry point with a space',
    flags: { appWildcardEntrypoint: 'domain proxy' },
    problems: ['appWildcardEntrypoint: use 1 to 64 letters'],
  },
  {
    desc: 'a wildcard port inside the range',
    flags: { appWildcardDomain: '.apps.example.com', appWildcardPort: '10210' },
    problems: ['appWildcardPort: port 10210 is inside the app port range 10205-10300'],
  },
  {
    desc: 'a wildcard port inside the range does not matter without a wildcard domain',
    flags: { appWildcardPort: '10210' },
    expected: { wildcardPort: 10210 },
  },
  {
    desc: 'a wildcard port out of range',
    env: { APPPROXY_APP_WILDCARD_PORT: '70000' },
    problems: [
      'appWildcardPort: at most 65535, got 70000 (flag --app-wildcard-port, variable APPPROXY_APP_WILDCARD_PORT)',
    ],
  },
  {
    desc: 'a public host that is not one',
    flags: { appPublicHost: 'http://apps.example.com/' },
    problems: ['appPublicHost: expected an IP address or a host name, got "http://apps.example.com/"'],
  },
  {
    desc: 'several bad app settings at once: one line each',
    flags: { appFrontend: 'x', appPortRange: 'y', appWildcardEntrypoint: '' },
    problems: [
      'appFrontend: expected one of port, wildcard',
      'appPortRange: expected a port range',
      'appWildcardEntrypoint: use 1 to 64 letters',
    ],
  },
];

function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

for (const entry of cases) {
  test(`app settings: ${entry.desc}`, () => {
    const sources = { flags: entry.flags ?? {}, env: entry.env ?? {}, scope: 'translate' as const };
    const problems = problemsOf(() => loadConfig(daemonConfigSchema, sources));
    if (entry.problems !== undefined) {
      assert.equal(problems.length, entry.problems.length, problems.join('\n'));
      entry.problems.forEach((expected, index) =>
        assert.ok(problems[index]?.includes(expected), `${problems[index]} should include ${expected}`),
      );
      return;
    }
    assert.deepEqual(problems, []);
    const apps = translateOptionsOf(loadConfig(daemonConfigSchema, sources)).apps;
    for (const [field, value] of Object.entries(entry.expected ?? {}))
      assert.deepEqual(apps[field as keyof AppOptions], value, field);
  });
}

test('app settings: from a YAML file too, keyed as in the configuration', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'appproxy-app-settings-')), 'config.yml');
  writeFileSync(
    file,
    'appFrontend: wildcard\nappWildcardDomain: .apps.example.com\nappPortRange: 11000-11010\nappWildcardPort: 8443\n',
  );
  const apps = translateOptionsOf(loadConfig(daemonConfigSchema, { flags: {}, env: {}, file, scope: 'run' })).apps;
  assert.equal(apps.frontend, 'wildcard');
  assert.deepEqual(apps.portRange, { first: 11000, last: 11010 });
});

test('port ranges: spaces around the dash are read, anything else is refused with an example', () => {
  assert.deepEqual(parsePortRange(' 10205 - 10300 '), { ok: true, value: { first: 10205, last: 10300 } });
  for (const text of ['', '-', '10205-', '-10300', 'a-b', '10205-10300-10400', '1e4-2e4', '+1-2'])
    assert.equal(parsePortRange(text).ok, false, text);
});
