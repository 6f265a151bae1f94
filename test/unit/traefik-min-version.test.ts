import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { translateOptionsOf } from '../../src/config/setting-flags.ts';
import { daemonConfigSchema } from '../../src/config/settings.ts';
import { configurationToKeyValues } from '../../src/core/kv/configuration-to-kv.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import { compileTranslateOptions, defaultTranslateOptions } from '../../src/core/translate/translate-options.ts';
import { parseTraefikVersion } from '../../src/core/schema/traefik-version.ts';
import { container } from '../support/workloads.ts';

// --traefik-min-version: the oldest Traefik that reads the root key. One key it does not know makes
// such a Traefik reject the whole tree, so a label that needs a newer one leaves its workload out,
// and only it.

const dir = mkdtempSync(join(tmpdir(), 'appproxy-min-version-'));

function load(sources: {
  flags?: Record<string, unknown>;
  env?: Record<string, string>;
  yaml?: string;
}):
  | { ok: true; value: string; parsed: ReturnType<typeof translateOptionsOf>['traefikMinVersion'] }
  | { ok: false; problems: readonly string[] } {
  let file: string | undefined;
  if (sources.yaml !== undefined) {
    file = join(dir, `${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(file, sources.yaml);
  }
  try {
    const config = loadConfig(daemonConfigSchema, {
      flags: sources.flags ?? {},
      env: sources.env ?? {},
      file,
      scope: 'run',
    });
    return { ok: true, value: config.traefikMinVersion, parsed: translateOptionsOf(config).traefikMinVersion };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, problems: error.problems };
    throw error;
  }
}

const settingCases: readonly {
  desc: string;
  sources: Parameters<typeof load>[0];
  expected?: { major: number; minor: number; patch: number };
  includes?: string;
}[] = [
  { desc: 'the default is 3.0, the oldest 3.x', sources: {}, expected: { major: 3, minor: 0, patch: 0 } },
  {
    desc: 'a minor release from the flag',
    sources: { flags: { traefikMinVersion: '3.4' } },
    expected: { major: 3, minor: 4, patch: 0 },
  },
  {
    desc: 'a patch release from the variable',
    sources: { env: { APPPROXY_TRAEFIK_MIN_VERSION: '3.6.15' } },
    expected: { major: 3, minor: 6, patch: 15 },
  },
  {
    desc: 'a tag spelling, v3.7',
    sources: { env: { APPPROXY_TRAEFIK_MIN_VERSION: 'v3.7' } },
    expected: { major: 3, minor: 7, patch: 0 },
  },
  {
    desc: 'a quoted release in the file',
    sources: { yaml: 'traefikMinVersion: "3.10"\n' },
    expected: { major: 3, minor: 10, patch: 0 },
  },
  {
    desc: 'Traefik 2 is refused: appproxy writes v3 configuration',
    sources: { flags: { traefikMinVersion: '2.11' } },
    includes: "traefikMinVersion: appproxy writes Traefik v3's dynamic configuration",
  },
  { desc: 'Traefik 4 is refused', sources: { env: { APPPROXY_TRAEFIK_MIN_VERSION: '4.0' } }, includes: 'got "4.0"' },
  {
    desc: 'a major alone is refused',
    sources: { flags: { traefikMinVersion: '3' } },
    includes: 'expected a Traefik release such as 3.0, 3.4 or 3.6.2, got "3"',
  },
  { desc: 'words are refused', sources: { env: { APPPROXY_TRAEFIK_MIN_VERSION: 'latest' } }, includes: 'got "latest"' },
  { desc: 'an empty value is refused', sources: { flags: { traefikMinVersion: '' } }, includes: 'got ""' },
  { desc: 'four parts are refused', sources: { flags: { traefikMinVersion: '3.6.1.2' } }, includes: 'got "3.6.1.2"' },
  {
    desc: 'an unquoted YAML number is refused, with the advice to quote it (3.10 would be 3.1)',
    sources: { yaml: 'traefikMinVersion: 3.10\n' },
    includes: 'quote it in YAML',
  },
];

for (const entry of settingCases) {
  test(`traefik min version setting: ${entry.desc}`, () => {
    const result = load(entry.sources);
    if (entry.expected !== undefined) {
      assert.ok(result.ok, `unexpected problems: ${result.ok ? '' : result.problems.join('; ')}`);
      assert.deepEqual(result.parsed, entry.expected);
    } else {
      assert.ok(!result.ok, 'expected the value to be refused');
      assert.equal(result.problems.length, 1, result.problems.join('\n'));
      assert.ok(
        result.problems[0]?.includes(entry.includes ?? ''),
        `${JSON.stringify(result.problems[0])} lacks ${JSON.stringify(entry.includes)}`,
      );
    }
  });
}

const plain = container({
  name: 'plain',
  labels: { 'appproxy.enable': 'true', 'appproxy.http.routers.plain.rule': 'Host(`plain.test`)' },
  ports: [{ name: '80/tcp', bindings: [] }],
  networks: [{ name: 'bridge', ip: '172.17.0.2' }],
});
const passive = container({
  name: 'passive',
  labels: {
    'appproxy.enable': 'true',
    'appproxy.http.routers.passive.rule': 'Host(`passive.test`)',
    'appproxy.http.services.passive.loadbalancer.passivehealthcheck.maxfailedattempts': '3',
  },
  ports: [{ name: '80/tcp', bindings: [] }],
  networks: [{ name: 'bridge', ip: '172.17.0.3' }],
});
const retrying = container({
  name: 'retrying',
  labels: {
    'appproxy.enable': 'true',
    'appproxy.http.routers.retrying.rule': 'Host(`retrying.test`)',
    'appproxy.http.routers.retrying.middlewares': 'r',
    'appproxy.http.middlewares.r.retry.attempts': '2',
    'appproxy.http.middlewares.r.retry.timeout': '5s',
  },
  ports: [{ name: '80/tcp', bindings: [] }],
  networks: [{ name: 'bridge', ip: '172.17.0.4' }],
});

const buildCases: readonly {
  desc: string;
  traefik: string;
  routed: readonly string[];
  errors: readonly { workload: string; label: string; includes: readonly string[] }[];
}[] = [
  {
    desc: 'for Traefik 3.0, a 3.6 field and a 3.7 field each leave their workload out, the plain one routed',
    traefik: '3.0',
    routed: ['plain'],
    errors: [
      {
        workload: 'passive',
        label: 'appproxy.http.services.passive.loadbalancer.passivehealthcheck.maxfailedattempts',
        includes: [
          '"passiveHealthCheck"',
          'introduced in 3.6',
          'for Traefik 3.0 and newer',
          '--traefik-min-version',
          'to 3.6',
        ],
      },
      {
        workload: 'retrying',
        label: 'appproxy.http.middlewares.r.retry.timeout',
        includes: ['"timeout"', 'introduced in 3.7', '--traefik-min-version', 'to 3.7'],
      },
    ],
  },
  {
    desc: 'for Traefik 3.6, only the 3.7 field is refused',
    traefik: '3.6',
    routed: ['passive', 'plain'],
    errors: [
      {
        workload: 'retrying',
        label: 'appproxy.http.middlewares.r.retry.timeout',
        includes: ['introduced in 3.7', 'for Traefik 3.6 and newer'],
      },
    ],
  },
  {
    desc: 'for Traefik 3.7, everything is routed',
    traefik: '3.7',
    routed: ['passive', 'plain', 'retrying'],
    errors: [],
  },
];

for (const entry of buildCases) {
  test(`traefik min version build: ${entry.desc}`, () => {
    const traefikMinVersion = parseTraefikVersion(entry.traefik);
    assert.ok(traefikMinVersion !== undefined);
    const compiled = compileTranslateOptions({ ...defaultTranslateOptions, traefikMinVersion });
    assert.ok(compiled.ok);
    const result = buildConfiguration([plain, passive, retrying], compiled.value);
    assert.deepEqual([...result.routed].sort(), entry.routed);
    const errors = result.problems.filter((problem) => problem.severity === 'error');
    assert.equal(errors.length, entry.errors.length, JSON.stringify(errors, null, 2));
    for (const expected of entry.errors) {
      const found = errors.find(
        (problem) => problem.workload === expected.workload && problem.label === expected.label,
      );
      assert.ok(found, `no error for ${expected.workload} at ${expected.label}: ${JSON.stringify(errors)}`);
      for (const part of expected.includes)
        assert.ok(found.message.includes(part), `${JSON.stringify(found.message)} lacks ${JSON.stringify(part)}`);
    }
    // The plain workload's keys are those it has alone: the refusal moved nothing of it.
    const alone = buildConfiguration([plain], compiled.value);
    const keys = (configuration: typeof result) =>
      [
        ...configurationToKeyValues(configuration.configuration, configuration.servers, {
          rootKey: 'traefik',
          ownerId: 'x',
        }),
      ].filter(([key]) => key.includes('/plain'));
    assert.deepEqual(keys(result), keys(alone));
  });
}
