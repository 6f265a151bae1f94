import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { removeLabelled, testDocker } from '../support/test-docker.ts';
import { waitFor } from '../support/traefik-api.ts';
import { fetchWithin, within } from '../support/within.ts';

// `appproxy run` against an etcd of this test's own that demands TLS with client certificates and
// a user and password: it connects and writes with the right credentials, and refuses to start,
// saying why, with wrong ones or a user without rights.

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'appproxy-etcd-tls-'));
const ENDPOINT = 'https://127.0.0.1:23795';
const file = (name: string) => join(dir, name);
let etcd: ChildProcess;
let etcdLog = '';
const daemons: DaemonProcess[] = [];
/** Containers this file starts carry it. */
const RUN_LABEL = 'appproxy-etcd-tls-test';

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 30_000 });
}

function etcdctl(...args: string[]): Promise<{ stdout: string }> {
  return run(
    'etcdctl',
    [
      `--endpoints=${ENDPOINT}`,
      `--cacert=${file('ca.pem')}`,
      `--cert=${file('client.pem')}`,
      `--key=${file('client-key.pem')}`,
      ...args,
    ],
    {
      env: { ...process.env, ETCDCTL_API: '3' },
      timeout: 30_000,
    },
  );
}

/** Starts (or, with its data, starts again) the file's own TLS etcd and waits until it is healthy. */
async function startEtcd(): Promise<void> {
  etcd = spawn(
    'etcd',
    [
      '--name=tls',
      `--data-dir=${file('data')}`,
      `--listen-client-urls=${ENDPOINT}`,
      `--advertise-client-urls=${ENDPOINT}`,
      '--listen-peer-urls=http://127.0.0.1:23796',
      '--initial-advertise-peer-urls=http://127.0.0.1:23796',
      '--initial-cluster=tls=http://127.0.0.1:23796',
      `--cert-file=${file('server.pem')}`,
      `--key-file=${file('server-key.pem')}`,
      `--trusted-ca-file=${file('ca.pem')}`,
      '--client-cert-auth',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  etcd.stdout?.on('data', (chunk: Buffer) => (etcdLog += chunk.toString()));
  etcd.stderr?.on('data', (chunk: Buffer) => (etcdLog += chunk.toString()));
  await waitFor(
    'TLS etcd healthy',
    async () => {
      if (etcd.exitCode !== null) throw new Error(`etcd exited:\n${etcdLog.slice(-2000)}`);
      return await etcdctl('endpoint', 'health').then(
        () => true,
        () => undefined,
      );
    },
    20_000,
  );
}

/** Stops the file's etcd (SIGTERM) and waits until it is gone: etcd keeps its simple auth tokens in memory only. */
async function stopEtcd(): Promise<void> {
  const exited = new Promise<void>((resolve) =>
    etcd.exitCode !== null ? resolve() : etcd.once('exit', () => resolve()),
  );
  etcd.kill('SIGTERM');
  await within('the TLS etcd to exit', 20_000, exited);
}

before(async () => {
  await requireTestEnv();
  await openssl(
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
    'ca-key.pem',
    '-out',
    'ca.pem',
  );
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', 'root'],
  ] as const) {
    await openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
    );
    await openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  }
  await startEtcd();
  await etcdctl('user', 'add', 'root:s3cret-root');
  await etcdctl('auth', 'enable');
});

after(async () => {
  await Promise.all(daemons.map((daemon) => daemon.kill('SIGTERM')));
  etcd?.kill('SIGTERM');
});

const tlsArgs = () => [
  '--etcd-endpoints',
  ENDPOINT,
  '--etcd-ca',
  file('ca.pem'),
  '--etcd-cert',
  file('client.pem'),
  '--etcd-key',
  file('client-key.pem'),
  '--root-key',
  'tlstest',
];

test('etcd with TLS, client certificates and a user: appproxy connects, writes, and never logs the password', async () => {
  const appproxy = await startDaemon({
    owner: 'tls-ok',
    port: 19188,
    args: [...tlsArgs(), '--etcd-username', 'root'],
    env: { APPPROXY_ETCD_PASSWORD: 's3cret-root' },
  });
  daemons.push(appproxy);
  const root = await etcdctl('--user=root:s3cret-root', 'get', 'tlstest');
  assert.match(root.stdout, /appproxy/, 'the root key was written over TLS with the user');
  const metrics = await (await fetchWithin(`${appproxy.url}/metrics`)).text();
  assert.ok(
    !appproxy.logs().includes('s3cret-root') && !metrics.includes('s3cret-root'),
    'the password appears in no log line or metric',
  );
  await appproxy.kill('SIGTERM');
});

test('etcd with the wrong password: appproxy refuses to start, saying why, and never prints the password', async () => {
  const appproxy = await startDaemon({
    owner: 'tls-bad',
    port: 19189,
    args: [...tlsArgs(), '--etcd-username', 'root'],
    env: { APPPROXY_ETCD_PASSWORD: 'wrong-password' },
    waitReady: false,
  });
  daemons.push(appproxy);
  const code = await within('appproxy to exit', 30_000, appproxy.exited);
  assert.equal(code, 3, `appproxy exits with status 3 on refused credentials; got ${code}:\n${appproxy.logs()}`);
  assert.match(
    appproxy.logs(),
    /appproxy run: etcd refused the credentials \(user "root"\): .*authentication failed.*Check --etcd-username/,
  );
  assert.ok(!appproxy.logs().includes('wrong-password'), 'the password appears in no log line');
});

test('etcd user without rights on the root key: appproxy refuses to start and names the prefixes to grant', async () => {
  await etcdctl('--user=root:s3cret-root', 'user', 'add', 'norights:pw-norights');
  const appproxy = await startDaemon({
    owner: 'tls-norights',
    port: 19187,
    args: [...tlsArgs(), '--etcd-username', 'norights'],
    env: { APPPROXY_ETCD_PASSWORD: 'pw-norights' },
    waitReady: false,
  });
  daemons.push(appproxy);
  const code = await within('appproxy to exit', 30_000, appproxy.exited);
  assert.equal(code, 3, `appproxy exits with status 3 when etcd denies access; got ${code}:\n${appproxy.logs()}`);
  assert.match(
    appproxy.logs(),
    /etcd denied user "norights" access: .*permission denied.*"tlstest" and the prefixes "tlstest\/", "appproxy\/claims\/tlstest\/", "appproxy\/owners\/tlstest\/", "appproxy\/elections\/tlstest\/", "appproxy\/ports\/tlstest\/" and "appproxy\/apps\/tlstest\/"/,
  );
});

test('etcd user with exactly the rights the README grants: appproxy runs, and etcd refuses it anything else', async () => {
  const admin = '--user=root:s3cret-root';
  await etcdctl(admin, 'role', 'add', 'appproxy-tlstest');
  for (const [key, prefix] of [
    ['tlstest', false],
    ['tlstest/', true],
    ['appproxy/claims/tlstest/', true],
    ['appproxy/owners/tlstest/', true],
    ['appproxy/elections/tlstest/', true],
    ['appproxy/ports/tlstest/', true],
    ['appproxy/apps/tlstest/', true],
  ] as const) {
    await etcdctl(
      admin,
      'role',
      'grant-permission',
      ...(prefix ? ['--prefix=true'] : []),
      'appproxy-tlstest',
      'readwrite',
      key,
    );
  }
  await etcdctl(admin, 'user', 'add', 'apx:pw-apx');
  await etcdctl(admin, 'user', 'grant-role', 'apx', 'appproxy-tlstest');
  const appproxy = await startDaemon({
    owner: 'tls-rbac',
    port: 19186,
    args: [...tlsArgs(), '--etcd-username', 'apx'],
    env: { APPPROXY_ETCD_PASSWORD: 'pw-apx' },
  });
  daemons.push(appproxy);
  const owner = await etcdctl(admin, 'get', 'appproxy/owners/tlstest/tls-rbac');
  assert.match(owner.stdout, /tls-rbac/, 'the owner record was written with the least rights');
  await assert.rejects(
    etcdctl('--user=apx:pw-apx', 'put', 'other/key', 'x'),
    /permission denied/,
    'the same user may write nothing else',
  );
  await appproxy.kill('SIGTERM');
});

test('etcd restarted (its auth tokens, kept in its memory, are gone): appproxy watches again on a new, authenticated connection and goes on writing routes', async () => {
  const admin = '--user=root:s3cret-root';
  const appproxy = await startDaemon({
    owner: 'tls-restart',
    port: 19185,
    args: [...tlsArgs(), '--etcd-username', 'apx'],
    env: { APPPROXY_ETCD_PASSWORD: 'pw-apx' },
  });
  daemons.push(appproxy);
  // etcd's simple tokens live in its memory: after a restart every token the daemon held is unknown.
  await stopEtcd();
  await startEtcd();
  const docker = testDocker();
  const name = 'tls-restart-web';
  await removeLabelled(docker, [RUN_LABEL]);
  try {
    const container = await docker.createContainer({
      name,
      Image: testEnv.busyboxImage,
      Cmd: ['sleep', '600'],
      Labels: {
        [RUN_LABEL]: 'true',
        'appproxy.enable': 'true',
        [`appproxy.http.routers.${name}.rule`]: 'Host(`restart.test`)',
        [`appproxy.http.services.${name}.loadbalancer.server.port`]: '80',
      },
      StopSignal: 'SIGKILL',
    });
    await container.start();
    await waitFor(
      `the router of ${name}, started after etcd's restart, in etcd`,
      async () => {
        const { stdout } = await etcdctl(admin, 'get', `tlstest/http/routers/${name}/rule`);
        return stdout.includes('restart.test') ? true : undefined;
      },
      30_000,
    );
  } finally {
    await removeLabelled(docker, [RUN_LABEL]);
    await appproxy.kill('SIGTERM');
  }
});
