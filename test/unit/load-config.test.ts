import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, redactConfig } from '../../src/config/load-config.ts';
import { translateOptionsOf } from '../../src/config/setting-flags.ts';
import { daemonConfigSchema, settings } from '../../src/config/settings.ts';
import { LIMIT_SETTINGS } from '../../src/core/limits.ts';

const dir = mkdtempSync(join(tmpdir(), 'appproxy-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problems(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

test('config: defaults, then file, then variables, then flags', () => {
  const path = file(
    'ok.yml',
    'rootKey: from-file\nowner: file-owner\netcd:\n  leaseSeconds: 20\n  endpoints: [http://etcd:2379]\n',
  );
  const config = loadConfig(daemonConfigSchema, {
    flags: { owner: 'flag-owner' },
    env: { APPPROXY_ROOT_KEY: 'from-env', APPPROXY_ETCD_ENDPOINTS: 'http://a:2379, http://b:2379' },
    file: path,
    scope: 'run',
  });
  assert.equal(config.rootKey, 'from-env');
  assert.equal(config.owner, 'flag-owner');
  assert.deepEqual(config.etcd.endpoints, ['http://a:2379', 'http://b:2379']);
  assert.equal(config.leaseSeconds, 20, 'read from the file under its former spelling, etcd.leaseSeconds');
  assert.equal(config.prefix, 'appproxy');
  assert.equal(config.listen, '0.0.0.0:9180');
});

test('config: every bad value is reported, one readable line each, naming where to set it', () => {
  const found = problems(() =>
    loadConfig(daemonConfigSchema, {
      flags: { leaseSeconds: '0', logLevel: 'loud' },
      env: { APPPROXY_ETCD_ENDPOINTS: 'not a host', APPPROXY_EXPOSED_BY_DEFAULT: 'maybe', APPPROXY_LISTEN: 'nowhere' },
      scope: 'run',
    }),
  );
  assert.equal(found.length, 5, found.join('\n'));
  assert.ok(
    found.some((line) =>
      line.startsWith('exposedByDefault: expected true or false, got "maybe" (from APPPROXY_EXPOSED_BY_DEFAULT)'),
    ),
  );
  assert.ok(found.some((line) => line.startsWith('etcd.endpoints.0: expected [http[s]://]host:port')));
  assert.ok(
    found.some((line) =>
      line.includes('leaseSeconds: at least 2 (flag --lease-seconds, variable APPPROXY_LEASE_SECONDS)'),
    ),
  );
  assert.ok(found.some((line) => line.startsWith('logLevel:')));
  assert.ok(found.some((line) => line.startsWith('listen: expected host:port')));
});

test('config: a malformed or unknown-keyed file is reported with its name', () => {
  assert.match(
    problems(() =>
      loadConfig(daemonConfigSchema, {
        flags: {},
        env: {},
        file: file('bad.yml', 'rootKey: [unclosed\n'),
        scope: 'run',
      }),
    )[0] ?? '',
    /bad\.yml: /,
  );
  assert.match(
    problems(() =>
      loadConfig(daemonConfigSchema, { flags: {}, env: {}, file: file('list.yml', '- a\n- b\n'), scope: 'run' }),
    )[0] ?? '',
    /expected a YAML mapping/,
  );
  assert.match(
    problems(() =>
      loadConfig(daemonConfigSchema, { flags: {}, env: {}, file: file('extra.yml', 'rootkey: x\n'), scope: 'run' }),
    )[0] ?? '',
    /unknown setting "rootkey"/,
  );
  assert.match(
    problems(() =>
      loadConfig(daemonConfigSchema, { flags: {}, env: {}, file: join(dir, 'missing.yml'), scope: 'run' }),
    )[0] ?? '',
    /missing\.yml: ENOENT/,
  );
});

test('config: etcd credentials and client certificates go in pairs', () => {
  const found = problems(() =>
    loadConfig(daemonConfigSchema, {
      flags: {},
      env: { APPPROXY_ETCD_USERNAME: 'u', APPPROXY_ETCD_CERT: '/c.pem' },
      scope: 'run',
    }),
  );
  assert.ok(found.some((line) => line.includes('username and password go together')));
  assert.ok(found.some((line) => line.includes('client certificate and key go together')));
});

test('config: the password never reaches the start-up line', () => {
  const config = loadConfig(daemonConfigSchema, {
    flags: {},
    env: { APPPROXY_ETCD_USERNAME: 'u', APPPROXY_ETCD_PASSWORD: 's3cret' },
    scope: 'run',
  });
  assert.ok(!JSON.stringify(redactConfig(config)).includes('s3cret'));
  assert.equal(config.etcd.password, 's3cret');
});

test('config: the etcd password from a file (a Docker secret); the variable wins; an unreadable file names the setting and the file', () => {
  const secret = file('etcd-password', 's3cret\n');
  const base = { flags: {}, file: undefined, scope: 'run' as const };
  const fromFile = loadConfig(daemonConfigSchema, {
    ...base,
    env: { APPPROXY_ETCD_USERNAME: 'appproxy', APPPROXY_ETCD_PASSWORD_FILE: secret },
  });
  assert.equal(fromFile.etcd.password, 's3cret', 'one trailing newline dropped, as secrets are usually written');
  const both = loadConfig(daemonConfigSchema, {
    ...base,
    env: { APPPROXY_ETCD_USERNAME: 'appproxy', APPPROXY_ETCD_PASSWORD_FILE: secret, APPPROXY_ETCD_PASSWORD: 'direct' },
  });
  assert.equal(both.etcd.password, 'direct');
  const missing = join(dir, 'no-such-secret');
  const found = problems(() =>
    loadConfig(daemonConfigSchema, {
      ...base,
      env: { APPPROXY_ETCD_USERNAME: 'appproxy', APPPROXY_ETCD_PASSWORD_FILE: missing },
    }),
  );
  assert.ok(
    found.some(
      (line) =>
        line ===
        `etcd.password: cannot read APPPROXY_ETCD_PASSWORD_FILE=${missing}: ENOENT; give a readable file (a mounted secret) or set APPPROXY_ETCD_PASSWORD`,
    ),
    found.join('\n'),
  );
  assert.ok(!found.join('\n').includes('s3cret'));
});

test('config: limits default far above real use, and each comes from the file, its variable or its flag', () => {
  const defaults = loadConfig(daemonConfigSchema, { flags: {}, env: {}, scope: 'run' });
  assert.deepEqual(
    [
      defaults.maxWorkloadLabels,
      defaults.maxLabelNameBytes,
      defaults.maxWorkloadLabelBytes,
      defaults.maxListItems,
      defaults.maxWorkloadKeys,
      defaults.maxWorkloadBytes,
      defaults.maxInstanceKeys,
      defaults.maxInstanceBytes,
    ],
    [1000, 4096, 1_048_576, 1000, 10_000, 4_194_304, 1_000_000, 268_435_456],
  );
  const path = file('limits.yml', 'maxWorkloadLabels: 50\nmaxInstanceKeys: 5000\n');
  const config = loadConfig(daemonConfigSchema, {
    flags: { maxListItems: '7' },
    env: { APPPROXY_MAX_WORKLOAD_KEYS: '300', APPPROXY_MAX_INSTANCE_BYTES: '1048576' },
    file: path,
    scope: 'run',
  });
  assert.deepEqual(
    [
      config.maxWorkloadLabels,
      config.maxListItems,
      config.maxWorkloadKeys,
      config.maxInstanceKeys,
      config.maxInstanceBytes,
    ],
    [50, 7, 300, 5000, 1_048_576],
  );
  assert.deepEqual(translateOptionsOf(config).limits, {
    labels: 50,
    labelNameBytes: 4096,
    labelBytes: 1_048_576,
    listItems: 7,
    keys: 300,
    bytes: 4_194_304,
  });
});

test('config: every limit of the core is a setting, under the same path, flag and variable', () => {
  for (const limit of LIMIT_SETTINGS) {
    const setting = settings.find((candidate) => candidate.path === limit.path);
    assert.ok(setting !== undefined, limit.path);
    assert.deepEqual(
      [setting.flag, setting.env, setting.kind, setting.scope],
      [limit.flag, limit.env, 'integer', limit.scope],
    );
    assert.ok(setting.description.includes(`(default ${limit.default})`), `${limit.path} says its default`);
  }
});

test("config: the lease time is a setting of its own, whatever the store; the file's former etcd.leaseSeconds still works, not both at once", () => {
  const now = loadConfig(daemonConfigSchema, {
    flags: {},
    env: {},
    file: file('lease.yml', 'store: redis\nleaseSeconds: 30\n'),
    scope: 'run',
  });
  assert.equal(now.leaseSeconds, 30);
  const former = loadConfig(daemonConfigSchema, {
    flags: {},
    env: {},
    file: file('lease-former.yml', 'etcd:\n  leaseSeconds: 25\n'),
    scope: 'run',
  });
  assert.equal(former.leaseSeconds, 25);
  assert.equal(Object.hasOwn(former.etcd, 'leaseSeconds'), false);
  const both = problems(() =>
    loadConfig(daemonConfigSchema, {
      flags: {},
      env: {},
      file: file('lease-both.yml', 'leaseSeconds: 30\netcd:\n  leaseSeconds: 25\n'),
      scope: 'run',
    }),
  );
  assert.deepEqual(both, [
    `${join(dir, 'lease-both.yml')}: "etcd.leaseSeconds" and "leaseSeconds" both set; keep "leaseSeconds" (its former spelling is "etcd.leaseSeconds")`,
  ]);
  const bad = problems(() =>
    loadConfig(daemonConfigSchema, {
      flags: {},
      env: {},
      file: file('lease-bad.yml', 'leaseSeconds: 1\n'),
      scope: 'run',
    }),
  );
  assert.deepEqual(bad, ['leaseSeconds: at least 2 (flag --lease-seconds, variable APPPROXY_LEASE_SECONDS)']);
});
