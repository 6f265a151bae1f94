import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';
import { daemonConfigSchema, type DaemonConfig } from '../../src/config/settings.ts';

// Malformed files, variables and flags: each bad value must come back as exactly one line that
// names the file key, the variable or the flag and says what to write instead, never a parser's
// stack trace or zod's type names, and never a secret. Good values around a bad one do not matter.

const dir = mkdtempSync(join(tmpdir(), 'appproxy-config-hostile-'));
const directory = join(dir, 'a-directory.yml');
mkdirSync(directory);

const SETTING_LIST =
  'prefix, exposedByDefault, constraints, defaultRule, network, allowEmptyServices, useBindPortIP, hostNetworkAddress, advertiseAddress, traefikMinVersion, ' +
  'maxWorkloadLabels, maxLabelNameBytes, maxWorkloadLabelBytes, maxListItems, maxWorkloadKeys, maxWorkloadBytes, policy.refuseProviders, policy.refuseServerOverride, policy.entryPoints, policy.hosts, policy.requireMiddlewares, rootKey, owner, dockerTimeoutSeconds, ' +
  'appFrontend, appPortRange, appPortEntrypointTemplate, appWildcardEntrypoint, appWildcardDomain, appWildcardPort, appPublicHost, ' +
  'store, redis.url, redis.username, redis.password, redis.ca, redis.cert, redis.key, redis.timeoutSeconds, ' +
  'etcd.endpoints, etcd.username, etcd.password, etcd.ca, etcd.cert, etcd.key, leaseSeconds, etcd.timeoutSeconds, etcd.maxTxnOps, swarmOwner, maxInstanceKeys, maxInstanceBytes, resyncSeconds, traefikMetricsUrls, traefikApiUrls, traefikLagWarnSeconds, writeHoldMaxSeconds, activityIntervalSeconds, listen, httpToken, logLevel, logPretty';
const LEASE = '(flag --lease-seconds, variable APPPROXY_LEASE_SECONDS)';
const ENDPOINTS = '(flag --etcd-endpoints, variable APPPROXY_ETCD_ENDPOINTS)';

interface Case {
  readonly desc: string;
  /** The YAML file's text, or a path given as is (missing, a directory). */
  readonly file?: { readonly text: string } | { readonly path: string };
  readonly env?: Readonly<Record<string, string>>;
  readonly flags?: Readonly<Record<string, unknown>>;
  /** Every line, in order (the file's path replaces `FILE`); a pattern where the text is the YAML parser's own. */
  readonly lines: readonly (string | RegExp)[];
}

const cases: Case[] = [
  {
    desc: 'a YAML syntax error: the parser message and its position, without its code excerpt',
    file: { text: 'rootKey: [unclosed\n' },
    lines: [/^FILE: not valid YAML: [^\n]+ at line 2, column 1$/],
  },
  {
    desc: 'a tab used for indentation',
    file: { text: 'rootKey: x\n\towner: y\n' },
    lines: [/^FILE: not valid YAML: Tabs [^\n]+ at line 2, column 1$/],
  },
  {
    desc: 'a key given twice',
    file: { text: 'rootKey: a\nrootKey: b\n' },
    lines: [/^FILE: not valid YAML: [^\n]*unique[^\n]* at line 2, column 1$/],
  },
  {
    desc: 'several YAML documents: said in the words of the file, not of the parser API',
    file: { text: 'rootKey: a\n---\nrootKey: b\n' },
    lines: ['FILE: holds several YAML documents (separated by "---"); keep one mapping of settings'],
  },
  {
    desc: 'a top-level list instead of a mapping',
    file: { text: '- rootKey: a\n- owner: b\n' },
    lines: ['FILE: expected a YAML mapping of settings ("key: value" lines), found a list'],
  },
  {
    desc: 'a top-level text instead of a mapping',
    file: { text: 'hello\n' },
    lines: ['FILE: expected a YAML mapping of settings ("key: value" lines), found "hello"'],
  },
  {
    desc: 'a top-level number instead of a mapping',
    file: { text: '42\n' },
    lines: ['FILE: expected a YAML mapping of settings ("key: value" lines), found 42'],
  },
  {
    desc: 'a YAML alias bomb is refused by the parser, not expanded',
    file: {
      text: `a: &a [x, x, x, x, x, x, x, x, x]\n${['b', 'c', 'd', 'e', 'f', 'g'].map((name, index) => `${name}: &${name} [${Array(9).fill(`*${'abcdefg'[index]}`).join(', ')}]`).join('\n')}\n`,
    },
    lines: [/^FILE: cannot be read as YAML: .*alias/i],
  },
  {
    desc: 'unknown keys: one line each, with the closest setting (case, nesting, the flag spelling)',
    file: { text: 'rootkey: x\nleaseSecond: 5\nroot-key: y\netcd:\n  endpoint: [http://etcd:2379]\n' },
    lines: [
      'FILE: unknown setting "etcd.endpoint" (did you mean "etcd.endpoints"?)',
      'FILE: unknown setting "rootkey" (did you mean "rootKey"?)',
      'FILE: unknown setting "leaseSecond" (did you mean "leaseSeconds"?)',
      'FILE: unknown setting "root-key" (did you mean "rootKey"?)',
    ],
  },
  {
    desc: 'an unknown key like no setting gets the list of settings',
    file: { text: 'frobnicate: true\n' },
    lines: [`FILE: unknown setting "frobnicate"; the settings are ${SETTING_LIST}`],
  },
  {
    desc: 'a __proto__ key is an unknown setting, not a prototype whose settings would be inherited',
    file: { text: '__proto__:\n  rootKey: hijacked\n' },
    lines: [`FILE: unknown setting "__proto__"; the settings are ${SETTING_LIST}`],
  },
  {
    desc: 'wrong types: text for a number, a list for text, a number for text, yes for a boolean (YAML 1.2 reads it as text)',
    file: { text: 'prefix: 12\nexposedByDefault: yes\nrootKey: [a, b]\netcd:\n  leaseSeconds: "20"\n' },
    lines: [
      'prefix: expected text, got 12 (flag --prefix, variable APPPROXY_PREFIX)',
      'exposedByDefault: expected true or false, got "yes" (flag --exposed-by-default, variable APPPROXY_EXPOSED_BY_DEFAULT)',
      'rootKey: expected text, got a list (flag --root-key, variable APPPROXY_ROOT_KEY)',
      `etcd.leaseSeconds: expected a whole number, got "20" ${LEASE}`,
    ],
  },
  {
    desc: 'etcd given as a URL instead of a mapping',
    file: { text: 'etcd: http://etcd:2379\n' },
    lines: ['etcd: expected a mapping of settings, got "http://etcd:2379"'],
  },
  {
    desc: 'endpoints given as text instead of a list',
    file: { text: 'etcd:\n  endpoints: http://etcd:2379\n' },
    lines: [`etcd.endpoints: expected a list, got "http://etcd:2379" ${ENDPOINTS}`],
  },
  {
    desc: 'an empty endpoint list',
    file: { text: 'etcd:\n  endpoints: []\n' },
    lines: [`etcd.endpoints: give at least one endpoint ${ENDPOINTS}`],
  },
  {
    desc: 'empty and null endpoints in a file list: one line each',
    file: { text: 'etcd:\n  endpoints: [http://etcd:2379, ~, ""]\n' },
    lines: [
      `etcd.endpoints.1: expected text, got nothing ${ENDPOINTS}`,
      `etcd.endpoints.2: expected [http[s]://]host:port, got "" ${ENDPOINTS}`,
    ],
  },
  {
    desc: 'a negative lease',
    file: { text: 'etcd:\n  leaseSeconds: -5\n' },
    lines: [`etcd.leaseSeconds: at least 2 ${LEASE}`],
  },
  {
    desc: 'a zero lease',
    file: { text: 'etcd:\n  leaseSeconds: 0\n' },
    lines: [`etcd.leaseSeconds: at least 2 ${LEASE}`],
  },
  {
    desc: 'a lease of an hour and more',
    file: { text: 'etcd:\n  leaseSeconds: 4000\n' },
    lines: [`etcd.leaseSeconds: at most 3600 ${LEASE}`],
  },
  {
    desc: 'a fractional lease',
    file: { text: 'etcd:\n  leaseSeconds: 2.5\n' },
    lines: [`etcd.leaseSeconds: expected a whole number, got 2.5 ${LEASE}`],
  },
  {
    desc: 'a lease in words',
    file: { text: 'etcd:\n  leaseSeconds: soon\n' },
    lines: [`etcd.leaseSeconds: expected a whole number, got "soon" ${LEASE}`],
  },
  {
    desc: 'a lease beyond safe integers fails two checks but is one bad value: one line',
    file: { text: 'etcd:\n  leaseSeconds: 1e30\n' },
    lines: [`etcd.leaseSeconds: expected a whole number of a sensible size, got 1e+30 ${LEASE}`],
  },
  {
    desc: 'a missing file: the system error without its repeated path, and where the file name came from',
    file: { path: join(dir, 'missing.yml') },
    lines: ['FILE: ENOENT: no such file or directory; give a readable YAML file with --config or APPPROXY_CONFIG'],
  },
  {
    desc: 'a directory where the file should be',
    file: { path: directory },
    lines: [
      'FILE: EISDIR: illegal operation on a directory; give a readable YAML file with --config or APPPROXY_CONFIG',
    ],
  },
  {
    desc: 'bad booleans in variables, each named',
    env: { APPPROXY_EXPOSED_BY_DEFAULT: 'maybe', APPPROXY_LOG_PRETTY: 'on', APPPROXY_ALLOW_EMPTY_SERVICES: '2' },
    lines: [
      'exposedByDefault: expected true or false, got "maybe" (from APPPROXY_EXPOSED_BY_DEFAULT)',
      'allowEmptyServices: expected true or false, got "2" (from APPPROXY_ALLOW_EMPTY_SERVICES)',
      'logPretty: expected true or false, got "on" (from APPPROXY_LOG_PRETTY)',
    ],
  },
  {
    desc: 'bad integers in variables: units, exponents, beyond safe integers',
    env: { APPPROXY_LEASE_SECONDS: '10s', APPPROXY_RESYNC_SECONDS: '1e3' },
    lines: [
      'leaseSeconds: expected a whole number, got "10s" (from APPPROXY_LEASE_SECONDS)',
      'resyncSeconds: expected a whole number, got "1e3" (from APPPROXY_RESYNC_SECONDS)',
    ],
  },
  {
    desc: 'an integer variable too large to be exact',
    env: { APPPROXY_LEASE_SECONDS: '99999999999999999999999' },
    lines: ['leaseSeconds: expected a whole number, got "99999999999999999999999" (from APPPROXY_LEASE_SECONDS)'],
  },
  {
    desc: 'integer variables out of range: the range, from the schema',
    env: { APPPROXY_LEASE_SECONDS: '-5', APPPROXY_RESYNC_SECONDS: '0' },
    lines: [
      `leaseSeconds: at least 2 ${LEASE}`,
      'resyncSeconds: at least 1, got 0 (flag --resync-seconds, variable APPPROXY_RESYNC_SECONDS)',
    ],
  },
  {
    desc: 'an endpoint list of commas only',
    env: { APPPROXY_ETCD_ENDPOINTS: ', ,,' },
    lines: [`etcd.endpoints: give at least one endpoint ${ENDPOINTS}`],
  },
  {
    desc: 'bad endpoint URLs: another scheme, no port, a path, a space, ports out of range; each named with its value',
    env: {
      APPPROXY_ETCD_ENDPOINTS:
        'ftp://etcd:2379, http://etcd, http://etcd:2379/v3, http://et cd:2379, http://etcd:99999, etcd:0',
    },
    lines: [
      `etcd.endpoints.0: expected [http[s]://]host:port, got "ftp://etcd:2379" ${ENDPOINTS}`,
      `etcd.endpoints.1: expected [http[s]://]host:port, got "http://etcd" ${ENDPOINTS}`,
      `etcd.endpoints.2: expected [http[s]://]host:port, got "http://etcd:2379/v3" ${ENDPOINTS}`,
      `etcd.endpoints.3: expected [http[s]://]host:port, got "http://et cd:2379" ${ENDPOINTS}`,
      `etcd.endpoints.4: the port must be 1 to 65535 ${ENDPOINTS}`,
      `etcd.endpoints.5: the port must be 1 to 65535 ${ENDPOINTS}`,
    ],
  },
  {
    desc: 'a listen port out of range',
    env: { APPPROXY_LISTEN: '0.0.0.0:70000' },
    lines: ['listen: the port must be 1 to 65535 (flag --listen, variable APPPROXY_LISTEN)'],
  },
  {
    desc: 'an unknown log level lists the accepted ones',
    env: { APPPROXY_LOG_LEVEL: 'loud' },
    lines: [
      'logLevel: expected one of trace, debug, info, warn, error, got "loud" (flag --log-level, variable APPPROXY_LOG_LEVEL)',
    ],
  },
  {
    desc: 'a bad flag value names the flag',
    flags: { leaseSeconds: 'x' },
    lines: ['leaseSeconds: expected a whole number, got "x" (from --lease-seconds)'],
  },
  {
    desc: 'a password of the wrong type is reported without its value',
    file: { text: 'etcd:\n  username: u\n  password: 73310\n' },
    lines: ['etcd.password: expected text, got a number (flag --etcd-password, variable APPPROXY_ETCD_PASSWORD)'],
  },
  {
    desc: 'limits: zero, negative, fractional and worded values, each named with its flag and variable',
    file: { text: 'maxWorkloadLabels: 0\nmaxListItems: -1\nmaxWorkloadKeys: 2.5\nmaxInstanceBytes: lots\n' },
    lines: [
      'maxWorkloadLabels: at least 1, got 0 (flag --max-workload-labels, variable APPPROXY_MAX_WORKLOAD_LABELS)',
      'maxListItems: at least 1, got -1 (flag --max-list-items, variable APPPROXY_MAX_LIST_ITEMS)',
      'maxWorkloadKeys: expected a whole number, got 2.5 (flag --max-workload-keys, variable APPPROXY_MAX_WORKLOAD_KEYS)',
      'maxInstanceBytes: expected a whole number, got "lots" (flag --max-instance-bytes, variable APPPROXY_MAX_INSTANCE_BYTES)',
    ],
  },
  {
    desc: 'limits in variables: units and exponents are not numbers; beyond safe integers is no size',
    env: {
      APPPROXY_MAX_WORKLOAD_BYTES: '4MiB',
      APPPROXY_MAX_LABEL_NAME_BYTES: '4e3',
      APPPROXY_MAX_INSTANCE_KEYS: '99999999999999999999999',
    },
    lines: [
      'maxLabelNameBytes: expected a whole number, got "4e3" (from APPPROXY_MAX_LABEL_NAME_BYTES)',
      'maxWorkloadBytes: expected a whole number, got "4MiB" (from APPPROXY_MAX_WORKLOAD_BYTES)',
      'maxInstanceKeys: expected a whole number, got "99999999999999999999999" (from APPPROXY_MAX_INSTANCE_KEYS)',
    ],
  },
  {
    desc: 'a limit beyond safe integers in the file',
    file: { text: 'maxWorkloadLabelBytes: 1e30\n' },
    lines: [
      'maxWorkloadLabelBytes: expected a whole number of a sensible size, got 1e+30 (flag --max-workload-label-bytes, variable APPPROXY_MAX_WORKLOAD_LABEL_BYTES)',
    ],
  },
  {
    desc: 'a bad limit flag names the flag',
    flags: { maxListItems: 'many' },
    lines: ['maxListItems: expected a whole number, got "many" (from --max-list-items)'],
  },
  {
    desc: 'a label policy of bad names and patterns in variables: one line for each item, naming the flag and the variable',
    env: {
      APPPROXY_POLICY_REFUSE_PROVIDERS: 'internal,in ternal',
      APPPROXY_POLICY_HOSTS: '*,a.*.example.com',
      APPPROXY_POLICY_ENTRYPOINTS: 'web secure',
      APPPROXY_POLICY_REQUIRE_MIDDLEWARES: 'sure',
    },
    lines: [
      'policy.requireMiddlewares: expected true or false, got "sure" (from APPPROXY_POLICY_REQUIRE_MIDDLEWARES)',
      'policy.refuseProviders.1: expected a Traefik provider name such as internal or file (lower-case letters, digits, "_" or "-"), got "in ternal" (flag --policy-refuse-providers, variable APPPROXY_POLICY_REFUSE_PROVIDERS)',
      'policy.entryPoints.0: use 1 to 64 letters, digits, "_" or "-", got "web secure" (flag --policy-entrypoints, variable APPPROXY_POLICY_ENTRYPOINTS)',
      'policy.hosts.0: "*" would allow every host: leave the list empty to allow every host (flag --policy-hosts, variable APPPROXY_POLICY_HOSTS)',
      'policy.hosts.1: expected a host name (example.org) or "*." and a domain (*.apps.example.com: one label before .apps.example.com), got "a.*.example.com" (flag --policy-hosts, variable APPPROXY_POLICY_HOSTS)',
    ],
  },
  {
    desc: 'a label policy in the file: text for a list, "yes" for a boolean, a misspelt key, each named',
    file: { text: 'policy:\n  hosts: "*.apps.example.com"\n  refuseServerOverride: "yes"\n  entrypoints: [web]\n' },
    lines: [
      'policy.refuseServerOverride: expected true or false, got "yes" (flag --policy-refuse-server-override, variable APPPROXY_POLICY_REFUSE_SERVER_OVERRIDE)',
      'policy.hosts: expected a list, got "*.apps.example.com" (flag --policy-hosts, variable APPPROXY_POLICY_HOSTS)',
      'FILE: unknown setting "policy.entrypoints" (did you mean "policy.entryPoints"?)',
    ],
  },
  {
    desc: 'a label policy given as a boolean instead of a mapping',
    file: { text: 'policy: true\n' },
    lines: ['policy: expected a mapping of settings, got true'],
  },
  {
    desc: 'a file, variables and flags each with a bad value: one line for each, all at once',
    file: { text: 'logLevel: loud\n' },
    env: { APPPROXY_EXPOSED_BY_DEFAULT: 'maybe' },
    flags: { resyncSeconds: 'often' },
    lines: [
      'exposedByDefault: expected true or false, got "maybe" (from APPPROXY_EXPOSED_BY_DEFAULT)',
      'resyncSeconds: expected a whole number, got "often" (from --resync-seconds)',
      'logLevel: expected one of trace, debug, info, warn, error, got "loud" (flag --log-level, variable APPPROXY_LOG_LEVEL)',
    ],
  },
];

let fileNumber = 0;
function pathOf(file: Case['file']): string | undefined {
  if (file === undefined) return undefined;
  if ('path' in file) return file.path;
  fileNumber += 1;
  const path = join(dir, `case-${fileNumber}.yml`);
  writeFileSync(path, file.text);
  return path;
}

function load(
  file: string | undefined,
  env: Readonly<Record<string, string>> = {},
  flags: Readonly<Record<string, unknown>> = {},
): DaemonConfig {
  return loadConfig(daemonConfigSchema, { flags, env, file, scope: 'run' });
}

for (const testCase of cases) {
  test(`config: ${testCase.desc}`, () => {
    const file = pathOf(testCase.file);
    let problems: readonly string[] | undefined;
    try {
      load(file, testCase.env, testCase.flags);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    assert.ok(problems !== undefined, 'expected the configuration to be refused');
    assert.equal(problems.length, testCase.lines.length, `one line per bad value, got:\n${problems.join('\n')}`);
    testCase.lines.forEach((expected, index) => {
      const line = problems[index] ?? '';
      assert.ok(!line.includes('\n'), `a line with a line break: ${JSON.stringify(line)}`);
      if (typeof expected === 'string') assert.equal(line, expected.replace('FILE', file ?? ''));
      else assert.match(line.replace(file ?? '\u0000', 'FILE'), expected);
    });
    for (const line of problems) {
      assert.doesNotMatch(
        line,
        /Invalid input|received|Too (small|big)|parseAllDocuments|\bat \S+:\d+:\d+\)?$/,
        `zod's, the parser's or a stack's words: ${line}`,
      );
      assert.ok(!line.includes('73310'), `a secret in a message: ${line}`);
    }
  });
}

test('config: an empty file, or one of comments only, holds no settings: the defaults apply', () => {
  for (const text of ['', '# nothing yet\n', '---\n']) {
    const config = load(pathOf({ text }));
    assert.equal(config.rootKey, 'traefik');
    assert.equal(config.leaseSeconds, 15);
    assert.deepEqual(config.etcd.endpoints, ['http://127.0.0.1:2379']);
  }
});

test('config: empty items of a comma-separated variable are ignored (a trailing comma is common in templates)', () => {
  const config = load(undefined, { APPPROXY_ETCD_ENDPOINTS: 'http://a:2379,, ,http://b:2379,' });
  assert.deepEqual(config.etcd.endpoints, ['http://a:2379', 'http://b:2379']);
});

test('config: a bad value in the file is replaced by a good variable before validation, as precedence says', () => {
  const config = load(pathOf({ text: 'etcd:\n  leaseSeconds: soon\n' }), { APPPROXY_LEASE_SECONDS: '20' });
  assert.equal(config.leaseSeconds, 20);
});

test('config: the __proto__ key changes nothing even beside good settings', () => {
  assert.throws(
    () => load(pathOf({ text: 'owner: me\n__proto__:\n  rootKey: hijacked\n' })),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 1);
      assert.match(error.problems[0] ?? '', /unknown setting "__proto__"/);
      return true;
    },
  );
});
