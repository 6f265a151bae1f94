import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { clearTree, testEtcd } from '../support/etcd-kv.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { httpGet } from '../support/http-get.ts';
import { environmentUp, PID_FILES, stopByPidFile } from '../support/test-env-control.ts';
import { waitFor } from '../support/traefik-api.ts';
import { removeLabelled, testDocker } from '../support/test-docker.ts';
import { fetchWithin, within } from '../support/within.ts';

// The Docker engine and etcd restart under a running `appproxy run`: it keeps running, reports
// not-ready while a dependency is away, and converges once it is back, with no update lost.

const docker = testDocker();
const RUN = 'appproxy-restart-test';
let etcd: Etcd3;
let appproxy: DaemonProcess;

async function startWeb(name: string): Promise<void> {
  const container = await docker.createContainer({
    name,
    Image: testEnv.busyboxImage,
    Cmd: ['sh', '-c', `mkdir -p /www && echo ${name} > /www/index.html && exec httpd -f -p 80 -h /www`],
    Labels: { [RUN]: 'true', 'appproxy.enable': 'true', [`appproxy.http.routers.${name}.rule`]: `Host(\`${name}\`)` },
    ExposedPorts: { '80/tcp': {} },
    StopSignal: 'SIGKILL',
  });
  await container.start();
}

async function answers(host: string): Promise<boolean> {
  const reply = await httpGet(testEnv.traefikEtcd.web, '/', { host }, 2000).catch(() => undefined);
  return reply?.status === 200 && reply.body.trim() === host;
}

async function readiness(): Promise<number> {
  return (await fetchWithin(`${appproxy.url}/readyz`).catch(() => undefined))?.status ?? 0;
}

before(async () => {
  await requireTestEnv();
  etcd = testEtcd(testEnv.etcdEndpoint);
  await clearTree(etcd, 'traefik');
  // Containers a run that was killed left behind (fixed names) would make the first create fail.
  await removeLabelled(docker, [RUN]);
  appproxy = await startDaemon({ owner: 'restarts', port: 19184 });
});

after(async () => {
  await appproxy?.kill('SIGTERM');
  await removeLabelled(docker, [RUN]);
  if (etcd !== undefined) {
    await clearTree(etcd, 'traefik').catch(() => undefined);
    etcd.close();
  }
});

test('restarts: the Docker engine restarts; appproxy reconnects, drops what stopped, routes what starts', async () => {
  await startWeb('rs-before');
  await waitFor('rs-before live', async () => ((await answers('rs-before')) ? true : undefined), 15_000);
  await stopByPidFile(PID_FILES.docker);
  await waitFor('not ready while Docker is away', async () => ((await readiness()) === 503 ? true : undefined), 15_000);
  await environmentUp();
  // The engine stopped the container (no restart policy): its route must go.
  await waitFor('rs-before gone', async () => (!(await answers('rs-before')) ? true : undefined), 30_000);
  await startWeb('rs-after-docker');
  await waitFor('rs-after-docker live', async () => ((await answers('rs-after-docker')) ? true : undefined), 30_000);
  await waitFor('ready again', async () => ((await readiness()) === 200 ? true : undefined), 15_000);
  assert.ok(appproxy.child.exitCode === null, 'appproxy kept running');
});

test('restarts: etcd restarts; a container started meanwhile is routed once etcd is back', async () => {
  await stopByPidFile(PID_FILES.etcd);
  await startWeb('rs-during-etcd');
  await waitFor('not ready while etcd is away', async () => ((await readiness()) === 503 ? true : undefined), 20_000);
  await environmentUp();
  await waitFor(
    'rs-during-etcd keys in etcd',
    async () => ((await etcd.get('traefik/http/routers/rs-during-etcd/rule').string()) !== null ? true : undefined),
    30_000,
  );
  // Traefik's own etcd watch reconnects with its backoff: give it time.
  await waitFor(
    'rs-during-etcd live through Traefik',
    async () => ((await answers('rs-during-etcd')) ? true : undefined),
    90_000,
  );
  await waitFor('ready again', async () => ((await readiness()) === 200 ? true : undefined), 15_000);
  assert.ok(appproxy.child.exitCode === null, 'appproxy kept running');
});

// Issue 26, point 3: an instance that stalls (SIGSTOP: a long pause, a frozen VM) cannot answer a
// twin's probe, so the twin takes the owner id; on waking, the stalled one must notice and stop
// writing (two writers of one id delete each other's servers), saying who took it.
test('restarts: an instance stalled past a twin’s probe loses its owner id; on waking it stops writing and exits 3 naming the twin', async () => {
  const stalled = await startDaemon({ owner: 'stalled-twin', port: 19186 });
  try {
    stalled.child.kill('SIGSTOP');
    const twin = await startDaemon({ owner: 'stalled-twin', port: 19187 });
    try {
      stalled.child.kill('SIGCONT');
      const code = await within('the stalled instance to exit once it sees its id taken', 30_000, stalled.exited);
      assert.equal(code, 3, stalled.logs().slice(-3000));
      assert.match(
        stalled.logs(),
        new RegExp(`owner id "stalled-twin" was taken by another instance \\([^)]*/${twin.child.pid}, lease`),
      );
      assert.equal(
        (await fetchWithin(`${twin.url}/readyz`).catch(() => undefined))?.status,
        200,
        'the twin holds the id and stays ready',
      );
    } finally {
      await twin.kill('SIGTERM');
    }
  } finally {
    if (stalled.child.exitCode === null) {
      stalled.child.kill('SIGCONT');
      await stalled.kill('SIGKILL');
    }
  }
});

test('restarts: an instance restarted while its Docker does not answer removes nothing the killed one wrote: Traefik serves it throughout, and the restarted one moves it once Docker answers', async () => {
  const owner = 'docker-away';
  const prefix = 'awayproxy';
  // A label prefix of its own: the file's other instance does not route this container too.
  const args = ['--prefix', prefix];
  const first = await startDaemon({ owner, port: 19188, args });
  let next: DaemonProcess | undefined;
  let last: DaemonProcess | undefined;
  try {
    const container = await docker.createContainer({
      name: 'away',
      Image: testEnv.busyboxImage,
      Cmd: ['sh', '-c', 'mkdir -p /www && echo away > /www/index.html && exec httpd -f -p 80 -h /www'],
      Labels: { [RUN]: 'true', [`${prefix}.enable`]: 'true', [`${prefix}.http.routers.away.rule`]: 'Host(`away`)' },
      ExposedPorts: { '80/tcp': {} },
      StopSignal: 'SIGKILL',
    });
    await container.start();
    await waitFor('Traefik to serve "away"', async () => ((await answers('away')) ? true : undefined), 30_000);
    await first.kill('SIGKILL');

    // The next run of the owner takes the killed one's keys over while its Docker socket answers
    // nobody (a node restarting, its docker-proxy not up yet): every pass fails to list.
    next = await startDaemon({
      owner,
      port: 19188,
      args,
      env: { DOCKER_HOST: 'unix:///nonexistent/appproxy-test/docker.sock' },
      waitReady: false,
    });
    const started = performance.now();
    // Four lease times (3 s each): past the killed one's lease, kept alive by the next run.
    while (performance.now() - started < 12_000) {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      assert.ok(await answers('away'), `Traefik stopped serving "away" ${seconds} s after the restart`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.match(next.logs(), /nonexistent\/appproxy-test\/docker\.sock/, 'its passes failed on the unanswered socket');
    await next.kill('SIGKILL');

    // Docker answers the run after it: the route is still served, now on that run's own lease.
    last = await startDaemon({ owner, port: 19188, args });
    await within('the route kept once Docker answers', 10_000, (async () => assert.ok(await answers('away')))());
    await last.kill('SIGTERM');
    last = undefined;
  } finally {
    await first.kill('SIGKILL').catch(() => undefined);
    await next?.kill('SIGKILL').catch(() => undefined);
    await last?.kill('SIGKILL').catch(() => undefined);
  }
});
