import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { daemonConfigSchema } from '../../src/config/settings.ts';
import { credentialProblem } from '../../src/daemon/credential-problem.ts';
import { StoreAccessRefusedError, StoreFullError, StoreUnavailableError } from '../../src/sync/kv-store.ts';

// The daemon reads only the port's typed errors: each store's adapter turns its client's refusals
// into StoreAccessRefusedError, and nothing else stops it.

function config(env: Record<string, string>) {
  return loadConfig(daemonConfigSchema, { flags: {}, env: { APPPROXY_OWNER: 'host-a', ...env }, scope: 'run' });
}

const cases = [
  {
    desc: 'etcd refused the credentials, wrapped by a caller',
    env: { APPPROXY_ETCD_USERNAME: 'apx', APPPROXY_ETCD_PASSWORD: 'pw' },
    error: new Error('connect', {
      cause: new StoreAccessRefusedError(
        'etcd',
        'read',
        new Error('etcdserver: authentication failed, invalid user ID or password'),
        'credentials',
      ),
    }),
    expected:
      /^etcd refused the credentials \(user "apx"\): etcdserver: authentication failed, invalid user ID or password\. Check --etcd-username/,
  },
  {
    desc: "etcd denied the user's rights",
    env: {},
    error: new StoreAccessRefusedError('etcd', 'read', new Error('etcdserver: permission denied'), 'rights'),
    expected:
      /^etcd denied no user access: etcdserver: permission denied\. Grant its role readwrite on the key "traefik" and the prefixes "traefik\/", /,
  },
  {
    desc: 'Redis refused the password',
    env: { APPPROXY_STORE: 'redis' },
    error: new StoreAccessRefusedError(
      'redis',
      'read',
      new Error('WRONGPASS invalid username-password pair'),
      'credentials',
    ),
    expected:
      /^Redis refused the credentials \(the default user\): WRONGPASS invalid username-password pair\. Check --redis-username/,
  },
  {
    desc: "Redis denied the user's rights",
    env: { APPPROXY_STORE: 'redis' },
    error: new StoreAccessRefusedError(
      'redis',
      'read',
      new Error("NOPERM this user has no permissions to run the 'eval' command"),
      'rights',
    ),
    expected: /^Redis denied the default user a command or key: NOPERM .*Its ACL needs EVAL/,
  },
] as const;

for (const { desc, env, error, expected } of cases) {
  test(`credential problem: ${desc}`, () => {
    assert.match(credentialProblem(error, config(env)) ?? '', expected);
  });
}

test('credential problem: an outage, a full store or an error that only says WRONGPASS in its text is none (the adapter decides)', () => {
  const etcd = config({});
  assert.equal(
    credentialProblem(new StoreUnavailableError('etcd', 'read', new Error('connect ECONNREFUSED')), etcd),
    undefined,
  );
  assert.equal(
    credentialProblem(
      new StoreFullError('etcd', 'transaction', new Error('mvcc: database space exceeded'), 'compact'),
      etcd,
    ),
    undefined,
  );
  assert.equal(
    credentialProblem(new Error('WRONGPASS invalid username-password pair'), config({ APPPROXY_STORE: 'redis' })),
    undefined,
  );
});
