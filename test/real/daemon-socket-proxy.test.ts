import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Dockerode from 'dockerode';
import type { Etcd3 } from 'etcd3';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { clearTree, testEtcd } from '../support/etcd-kv.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { httpGet } from '../support/http-get.ts';
import { waitFor } from '../support/traefik-api.ts';

// appproxy needs only read access to the Docker API: it runs here through a proxy that forwards
// GET requests to the engine and refuses everything else, as a socket proxy in production would.

const docker = new Dockerode({ socketPath: testEnv.dockerSocket });
const RUN = 'appproxy-proxy-test';
const socket = join(mkdtempSync(join(tmpdir(), 'appproxy-proxy-')), 'docker.sock');
const methods = new Map<string, number>();
let proxy: Server;
let etcd: Etcd3;
let appproxy: DaemonProcess | undefined;

before(async () => {
  await requireTestEnv();
  etcd = testEtcd(testEnv.etcdEndpoint);
  await clearTree(etcd, 'traefik');
  proxy = createServer((incoming, outgoing) => {
    methods.set(incoming.method ?? '?', (methods.get(incoming.method ?? '?') ?? 0) + 1);
    if (incoming.method !== 'GET' && incoming.method !== 'HEAD') {
      outgoing.writeHead(403, { 'content-type': 'text/plain' }).end('read-only proxy\n');
      return;
    }
    const upstream = request({ socketPath: testEnv.dockerSocket, path: incoming.url, method: incoming.method, headers: incoming.headers }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    incoming.on('close', () => upstream.destroy());
    upstream.end();
  });
  await new Promise<void>((resolve) => proxy.listen(socket, resolve));
  appproxy = await startDaemon({ owner: 'read-only', port: 19186, env: { DOCKER_HOST: `unix://${socket}` } });
});

after(async () => {
  await appproxy?.kill('SIGTERM');
  proxy?.closeAllConnections();
  proxy?.close();
  const containers = await docker.listContainers({ all: true, filters: { label: [RUN] } });
  await Promise.all(containers.map((info) => docker.getContainer(info.Id).remove({ force: true })));
  if (etcd !== undefined) {
    await clearTree(etcd, 'traefik');
    etcd.close();
  }
});

test('read-only Docker access: routes follow containers through a GET-only proxy', async () => {
  const container = await docker.createContainer({
    name: 'rp-web',
    Image: testEnv.busyboxImage,
    Cmd: ['sh', '-c', 'mkdir -p /www && echo rp-web > /www/index.html && exec httpd -f -p 80 -h /www'],
    Labels: { [RUN]: 'true', 'appproxy.enable': 'true' },
    ExposedPorts: { '80/tcp': {} },
    StopSignal: 'SIGKILL',
  });
  await container.start();
  await waitFor('rp-web live', async () => ((await httpGet(testEnv.traefikEtcd.web, '/', { host: 'rp-web' }, 2000).catch(() => undefined))?.body.trim() === 'rp-web' ? true : undefined), 15_000);
  assert.ok((methods.get('GET') ?? 0) > 0, 'appproxy read through the proxy');
  assert.deepEqual([...methods.keys()].filter((method) => method !== 'GET'), [], 'appproxy sent nothing but GET');
});
