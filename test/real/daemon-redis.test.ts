import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { redisFromConfig } from '../../src/redis/redis-client.ts';
import { RedisStore } from '../../src/redis/redis-store.ts';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { requireTestEnv } from '../support/env.ts';
import { waitFor } from '../support/traefik-api.ts';
import { within } from '../support/within.ts';

// What appproxy checks of a Redis before it trusts it with Traefik's tree, on Redis servers of the
// test's own (ports 16390-16399, killed by their pids): keyspace notifications (set when missing,
// a clear refusal when they cannot be), credentials, and TLS.

const dir = mkdtempSync(join(tmpdir(), 'appproxy-redis-'));
const servers: ChildProcess[] = [];

function redisCli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 5000 }).trim();
}

/** A redis-server of this test's own, ready when this resolves. */
async function redis(
  port: number,
  args: readonly string[],
  ping: () => boolean = () => redisCli(port, 'PING') === 'PONG',
): Promise<void> {
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, ...args],
    { stdio: 'ignore' },
  );
  servers.push(child);
  await waitFor(
    `redis-server on ${port}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${child.exitCode}`);
      try {
        return ping() ? true : undefined;
      } catch {
        return undefined;
      }
    },
    10_000,
  );
}

async function exitOf(daemon: DaemonProcess): Promise<{ code: number | null; logs: string }> {
  const code = await within('appproxy to exit on its own', 30_000, daemon.exited);
  return { code, logs: daemon.logs() };
}

before(async () => {
  await requireTestEnv();
});

after(() => {
  for (const child of servers) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('redis: keyspace notifications off, CONFIG allowed: appproxy sets them (Traefik would hear nothing otherwise)', async () => {
  await redis(16390, ['--notify-keyspace-events', '']);
  assert.equal(redisCli(16390, 'CONFIG', 'GET', 'notify-keyspace-events').split('\n')[1] ?? '', '');
  const daemon = await startDaemon({
    owner: 'redis-notify',
    port: 19190,
    args: ['--store', 'redis', '--redis-url', 'redis://127.0.0.1:16390', '--root-key', 'rnotify'],
  });
  try {
    const flags = redisCli(16390, 'CONFIG', 'GET', 'notify-keyspace-events').split('\n')[1] ?? '';
    assert.ok(
      flags.includes('K') && flags.includes('$') && flags.includes('g'),
      `notify-keyspace-events is now "${flags}"`,
    );
  } finally {
    await daemon.kill('SIGTERM');
  }
});

test('redis: keyspace notifications off and CONFIG refused: appproxy stops (exit 3) and says what to set', async () => {
  await redis(16391, ['--notify-keyspace-events', '', '--rename-command', 'CONFIG', '']);
  const daemon = await startDaemon({
    owner: 'redis-noconfig',
    port: 19191,
    waitReady: false,
    args: ['--store', 'redis', '--redis-url', 'redis://127.0.0.1:16391', '--root-key', 'rnoconfig'],
  });
  const { code, logs } = await exitOf(daemon);
  assert.equal(code, 3, logs.slice(-2000));
  assert.match(logs, /notify-keyspace-events .* in the Redis configuration/);
});

test('redis: a wrong password: appproxy stops (exit 3) naming the setting to fix', async () => {
  await redis(
    16392,
    ['--requirepass', 'right-password', '--notify-keyspace-events', 'KEA'],
    () => redisCli(16392, '-a', 'right-password', '--no-auth-warning', 'PING') === 'PONG',
  );
  const daemon = await startDaemon({
    owner: 'redis-auth',
    port: 19192,
    waitReady: false,
    args: ['--store', 'redis', '--redis-url', 'redis://127.0.0.1:16392', '--root-key', 'rauth'],
    env: { APPPROXY_REDIS_PASSWORD: 'wrong-password' },
  });
  const { code, logs } = await exitOf(daemon);
  assert.equal(code, 3, logs.slice(-2000));
  assert.match(logs, /Redis refused the credentials/);
  assert.doesNotMatch(logs, /wrong-password/, 'the password is never logged');
});

test("redis: rediss:// with the server's CA and a password from a file: routes are written", async () => {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, timeout: 20_000, stdio: 'ignore' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=appproxy-test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  );
  writeFileSync(join(dir, 'password'), 'tls-password\n');
  const tlsArgs = [
    '--tls-cert-file',
    join(dir, 'server.pem'),
    '--tls-key-file',
    join(dir, 'server.key'),
    '--tls-ca-cert-file',
    join(dir, 'ca.pem'),
    '--tls-auth-clients',
    'no',
  ];
  const tlsCli = () =>
    execFileSync(
      'redis-cli',
      ['--tls', '--cacert', join(dir, 'ca.pem'), '-p', '16393', '-a', 'tls-password', '--no-auth-warning', 'PING'],
      { encoding: 'utf8', timeout: 5000 },
    ).trim() === 'PONG';
  await redis(
    16394,
    [
      '--port',
      '0',
      '--tls-port',
      '16393',
      ...tlsArgs,
      '--requirepass',
      'tls-password',
      '--notify-keyspace-events',
      'KEA',
    ],
    tlsCli,
  );
  const daemon = await startDaemon({
    owner: 'redis-tls',
    port: 19193,
    args: [
      '--store',
      'redis',
      '--redis-url',
      'rediss://127.0.0.1:16393',
      '--redis-ca',
      join(dir, 'ca.pem'),
      '--root-key',
      'rtls',
    ],
    env: { APPPROXY_REDIS_PASSWORD_FILE: join(dir, 'password') },
  });
  try {
    // Ready means connected, lease granted and the first pass written: its owner record is there.
    const owners = execFileSync(
      'redis-cli',
      [
        '--tls',
        '--cacert',
        join(dir, 'ca.pem'),
        '-p',
        '16393',
        '-a',
        'tls-password',
        '--no-auth-warning',
        '--scan',
        '--pattern',
        'appproxy/owners/rtls/*',
      ],
      { encoding: 'utf8', timeout: 5000 },
    );
    assert.match(owners, /appproxy\/owners\/rtls\/redis-tls/);
  } finally {
    await daemon.kill('SIGTERM');
  }
});

// Issue 26, point 4: a Redis that lost its data (a restart without persistence, a flush) starts
// its revisions again, so revisions alone cannot tell a plan or a leader of the old life from
// one of the new: every write carries the epoch it was planned in, and the fence carries it too.
test('redis: a flushed Redis with the leader key created again at the same revision fences the old writer; a plan read before the flush is refused', async () => {
  await redis(16396, ['--notify-keyspace-events', 'KEA']);
  const quiet = pino({ level: 'silent' });
  const open = () =>
    new RedisStore(redisFromConfig({ url: 'redis://127.0.0.1:16396', timeoutSeconds: 5 }), quiet, 5000);
  const old = open();
  const next = open();
  const put = (key: string, value: string) => ({ type: 'put' as const, key, value, leased: false });
  let before: ReturnType<RedisStore['campaign']> | undefined;
  try {
    before = old.campaign('appproxy/election/', 'swarm', 'writer-a', 15, () => undefined);
    await within('the first leader elected', 15_000, before.elected());
    const fence = await before.fence();
    assert.equal((await old.apply({ operations: [put('traefik/x', 'a')], guards: [], fence }, '0')).applied, true);
    const planned = await old.load([{ key: 'traefik/claims/', prefix: true }]);
    assert.ok(planned.epoch !== undefined && planned.epoch !== '', 'a snapshot names its epoch');

    redisCli(16396, 'FLUSHALL');
    // The new life's revisions reach the old leader key's: its next leader key is created at it.
    while ((await next.load([])).revision < fence.createRevision - 1n)
      await next.apply(
        { operations: [put('traefik/filler', 'y')], guards: [], epoch: (await next.load([])).epoch! },
        '0',
      );
    const after = next.campaign('appproxy/election/', 'swarm', 'writer-b', 15, () => undefined);
    await within('the leader of the new life elected', 15_000, after.elected());
    const newFence = await after.fence();
    assert.equal(newFence.createRevision, fence.createRevision, 'the same key at the same revision, in another life');
    assert.notEqual(newFence.epoch, fence.epoch);

    const stale = await old.apply({ operations: [put('traefik/x', 'stale leader')], guards: [], fence }, '0');
    assert.deepEqual([stale.applied, stale.fenced], [false, true], 'the old leader is fenced');
    assert.equal(redisCli(16396, 'GET', 'traefik/x'), '', 'nothing written by it');

    // Another writer claims in the new life (a low revision); a plan from the old life is refused
    // although its guard, a revision of the old life, is higher than anything now.
    await next.apply({ operations: [put('traefik/claims/web/owner-b', 'b')], guards: [], epoch: newFence.epoch! }, '0');
    const replay = await old.apply(
      {
        operations: [put('traefik/claims/web/owner-a', 'a')],
        guards: [{ range: { key: 'traefik/claims/', prefix: true }, notModifiedAfter: planned.revision }],
        epoch: planned.epoch!,
      },
      '0',
    );
    assert.deepEqual([replay.applied, replay.epochChanged], [false, true], 'planned in the old life: refused');
    assert.equal(redisCli(16396, 'GET', 'traefik/claims/web/owner-a'), '');
    await after.resign();
  } finally {
    await before?.resign().catch(() => undefined);
    old.client.disconnect();
    next.client.disconnect();
  }
});
