import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { clearTree, testEtcd } from '../support/etcd-kv.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { httpGet } from '../support/http-get.ts';
import { waitFor } from '../support/traefik-api.ts';
import { removeLabelled, testDocker } from '../support/test-docker.ts';
import { fetchWithin } from '../support/within.ts';

// appproxy needs only read access to the Docker API: here it runs through `appproxy docker-proxy`,
// the read-only proxy the stack ships, which refuses every request that is not a read it needs.

const docker = testDocker();
const RUN = 'appproxy-proxy-test';
const PROXY = '127.0.0.1:19190';
const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
let proxy: ChildProcess;
let proxyLog = '';
let etcd: Etcd3;
let appproxy: DaemonProcess | undefined;

before(async () => {
  await requireTestEnv();
  etcd = testEtcd(testEnv.etcdEndpoint);
  await clearTree(etcd, 'traefik');
  await removeLabelled(docker, [RUN]);
  proxy = spawn(process.execPath, [cli, 'docker-proxy', '--listen', PROXY, '--socket', testEnv.dockerSocket], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proxy.stdout?.on('data', (chunk: Buffer) => (proxyLog += chunk.toString()));
  proxy.stderr?.on('data', (chunk: Buffer) => (proxyLog += chunk.toString()));
  await waitFor('proxy up', async () =>
    (await fetchWithin(`http://${PROXY}/_ping`).catch(() => undefined))?.ok ? true : undefined,
  );
  appproxy = await startDaemon({ owner: 'read-only', port: 19186, env: { DOCKER_HOST: `tcp://${PROXY}` } });
});

after(async () => {
  await appproxy?.kill('SIGTERM');
  proxy?.kill('SIGTERM');
  await removeLabelled(docker, [RUN]);
  if (etcd !== undefined) {
    await clearTree(etcd, 'traefik');
    etcd.close();
  }
});

test('read-only Docker access: routes follow containers through appproxy docker-proxy', async () => {
  const container = await docker.createContainer({
    name: 'rp-web',
    Image: testEnv.busyboxImage,
    Cmd: ['sh', '-c', 'mkdir -p /www && echo rp-web > /www/index.html && exec httpd -f -p 80 -h /www'],
    Labels: { [RUN]: 'true', 'appproxy.enable': 'true' },
    ExposedPorts: { '80/tcp': {} },
    StopSignal: 'SIGKILL',
  });
  await container.start();
  await waitFor(
    'rp-web live',
    async () =>
      (await httpGet(testEnv.traefikEtcd.web, '/', { host: 'rp-web' }, 2000).catch(() => undefined))?.body.trim() ===
      'rp-web'
        ? true
        : undefined,
    15_000,
  );
  assert.ok(!proxyLog.includes('refused'), `appproxy asked for something the proxy refuses:\n${proxyLog}`);
});

test('read-only Docker access: the proxy refuses writes and paths appproxy does not need', async () => {
  const create = await fetchWithin(`http://${PROXY}/v1.41/containers/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Image: testEnv.busyboxImage }),
  });
  assert.equal(create.status, 403);
  const exec = await fetchWithin(`http://${PROXY}/containers/rp-web/exec`, { method: 'POST', body: '{}' });
  assert.equal(exec.status, 403);
  const secrets = await fetchWithin(`http://${PROXY}/secrets`);
  assert.equal(secrets.status, 403);
  const archive = await fetchWithin(`http://${PROXY}/containers/rp-web/archive?path=/etc`);
  assert.equal(archive.status, 403);
  assert.equal((await fetchWithin(`http://${PROXY}/v1.41/containers/json`)).status, 200);
});
