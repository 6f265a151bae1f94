import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import Dockerode from 'dockerode';
import { pino } from 'pino';
import { DockerApiError } from '../../src/docker/docker-api-error.ts';
import { DockerCallTimeoutError } from '../../src/docker/docker-call-limit.ts';
import { DockerEventWatcher } from '../../src/docker/docker-events.ts';
import { DockerEngineSource } from '../../src/docker/docker-source.ts';
import { DockerodeEngine } from '../../src/docker/dockerode-engine.ts';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { limitDockerCalls } from '../support/limited-dockerode.ts';
import { runCli } from '../support/run-cli.ts';
import { SocketForwarder } from '../support/socket-forwarder.ts';
import { waitFor } from '../support/traefik-api.ts';
import { fetchWithin, within } from '../support/within.ts';

// A wedged Docker engine accepts connections and never answers. Nothing real is wedged here: a
// socket forwarder in front of the test engine stops answering on command (SocketForwarder.wedge),
// and a plain TCP server of the test's own plays a silent HTTP peer. Each client of the product and
// of the tests must give up within its limit, with an error that names the call and the limit.

let forwarder: SocketForwarder;
let silentTcp: Server;
const silentSockets = new Set<Socket>();
let silentPort = 0;
const daemons: DaemonProcess[] = [];
const quiet = pino({ level: 'silent' });

/** Slack for a busy 2-core machine: a limit of L ms must end the wait before L + SLACK_MS. */
const SLACK_MS = 5_000;

async function elapsed<T>(work: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const started = Date.now();
  const [result] = await Promise.allSettled([work()]);
  return { ms: Date.now() - started, result: result as PromiseSettledResult<T> };
}

/** Waits until the daemon's /readyz says not ready for `reason`, and returns what it said. */
function notReadyBecause(daemon: DaemonProcess, reason: RegExp, limitMs: number): Promise<string> {
  return waitFor(
    `/readyz to report ${reason.source}`,
    async () => {
      const response = await fetchWithin(`${daemon.url}/readyz`);
      const body = await response.text();
      return response.status === 503 && reason.test(body) ? body : undefined;
    },
    limitMs,
  );
}

/** Waits until /readyz is ready again, failing at once (with the logs) if the daemon exited. */
function readyAgain(daemon: DaemonProcess, after: string): Promise<true> {
  return waitFor(
    `/readyz to be ready again once ${after} answers`,
    async () => {
      if (daemon.child.exitCode !== null)
        throw new Error(`appproxy exited with ${daemon.child.exitCode}:\n${daemon.logs().slice(-3000)}`);
      return (await fetchWithin(`${daemon.url}/readyz`)).status === 200 ? true : undefined;
    },
    30_000,
  );
}

function rejection(result: PromiseSettledResult<unknown>): Error {
  assert.equal(result.status, 'rejected', 'the call must fail, not succeed');
  return (result as PromiseRejectedResult).reason as Error;
}

before(async () => {
  await requireTestEnv();
  forwarder = await SocketForwarder.start(testEnv.dockerSocket);
  silentTcp = createServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => silentTcp.listen(0, '127.0.0.1', resolve));
  silentPort = (silentTcp.address() as { port: number }).port;
});

after(async () => {
  for (const daemon of daemons) await daemon.kill('SIGTERM').catch(() => undefined);
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silentTcp.close(resolve));
  await forwarder.close();
});

test('wedged engine: a Docker call of the product fails within its limit, naming the call and the limit', async () => {
  forwarder.wedge();
  try {
    const source = new DockerEngineSource(DockerodeEngine.fromEnv({ DOCKER_HOST: `unix://${forwarder.path}` }, 1_000));
    const { ms, result } = await elapsed(() => source.listWorkloads());
    const error = rejection(result);
    assert.ok(error instanceof DockerApiError, `a DockerApiError, got ${error}`);
    assert.ok(error.cause instanceof DockerCallTimeoutError, `caused by the limit, got ${String(error.cause)}`);
    assert.match(error.message, /GET \/(containers\/json|info): no answer from the Docker engine within 1000 ms/);
    assert.ok(ms < 1_000 + SLACK_MS, `gave up after ${ms} ms`);
  } finally {
    forwarder.unwedge();
  }
});

test('wedged engine: the event watcher stops trusting a silent stream once pings go unanswered', async () => {
  const states: boolean[] = [];
  const engine = DockerodeEngine.fromEnv({ DOCKER_HOST: `unix://${forwarder.path}` }, 1_000);
  const watcher = new DockerEventWatcher(
    engine,
    quiet,
    () => undefined,
    (connected) => states.push(connected),
    { pingIntervalMs: 200, pingLimitMs: 500 },
  );
  watcher.start();
  try {
    await waitFor(
      'the event stream through the forwarder to connect',
      async () => (states.includes(true) ? true : undefined),
      10_000,
    );
    forwarder.wedge();
    const wedgedAt = Date.now();
    await waitFor(
      'the watcher to report the engine gone',
      async () => (states.at(-1) === false ? true : undefined),
      200 + 500 + SLACK_MS,
    );
    const ms = Date.now() - wedgedAt;
    assert.ok(ms < 200 + 500 + SLACK_MS, `noticed after ${ms} ms`);
    forwarder.unwedge();
    await waitFor(
      'the watcher to reconnect once the engine answers again',
      async () => (states.at(-1) === true ? true : undefined),
      15_000,
    );
  } finally {
    watcher.stop();
    forwarder.unwedge();
  }
});

test('wedged engine: the test helpers give up within their limits and say what they waited for', async () => {
  forwarder.wedge();
  try {
    const docker = limitDockerCalls(new Dockerode({ socketPath: forwarder.path }), 800);
    const listed = await elapsed(() => docker.listContainers({ all: true }));
    assert.match(
      rejection(listed.result).message,
      /^GET \/containers\/json: no answer from the Docker engine within 800 ms$/,
    );
    assert.ok(listed.ms < 800 + SLACK_MS, `docker call gave up after ${listed.ms} ms`);

    const fetched = await elapsed(() => fetchWithin(`http://127.0.0.1:${silentPort}/api/rawdata`, {}, 700));
    assert.equal(
      rejection(fetched.result).message,
      `GET http://127.0.0.1:${silentPort}/api/rawdata: no answer within 700 ms`,
    );
    assert.ok(fetched.ms < 700 + SLACK_MS, `fetch gave up after ${fetched.ms} ms`);

    const waited = await elapsed(() =>
      waitFor('a router that never comes', () => new Promise<undefined>(() => undefined), 600),
    );
    assert.match(rejection(waited.result).message, /a router that never comes/);
    assert.ok(waited.ms < 600 + 1_000 + SLACK_MS, `waitFor gave up after ${waited.ms} ms`);

    const bounded = await elapsed(() => within('container web-1 to stop', 500, new Promise(() => undefined)));
    assert.equal(rejection(bounded.result).message, 'container web-1 to stop: no answer within 500 ms');
  } finally {
    forwarder.unwedge();
  }
});

test('wedged engine: render exits 3 within its limit and says which call got no answer', async () => {
  forwarder.wedge();
  try {
    const { ms, result } = await elapsed(() =>
      within(
        'appproxy render to exit',
        30_000,
        runCli(['render', '--docker-timeout-seconds', '1'], undefined, {
          ...process.env,
          DOCKER_HOST: `unix://${forwarder.path}`,
        }),
      ),
    );
    assert.equal(result.status, 'fulfilled');
    const { code, stdout, stderr } = (
      result as PromiseFulfilledResult<{ code: number | null; stdout: string; stderr: string }>
    ).value;
    assert.equal(code, 3, stderr);
    assert.equal(stdout, '', 'nothing rendered: a partial rendering would look complete');
    assert.match(
      stderr,
      /appproxy render: Docker API: .* failed: GET \/\S+: no answer from the Docker engine within 1000 ms/,
    );
    assert.match(stderr, /--docker-timeout-seconds/);
    assert.ok(ms < 1_000 + 10_000, `render took ${ms} ms`);
  } finally {
    forwarder.unwedge();
  }
});

test('wedged engine: the daemon keeps serving /livez, reports Docker unreachable on /readyz and in a metric, and recovers', async () => {
  const daemon = await startDaemon({
    owner: 'wedge-test',
    port: 19191,
    args: ['--root-key', 'apx-wedge', '--docker-timeout-seconds', '2', '--resync-seconds', '2'],
    env: { DOCKER_HOST: `unix://${forwarder.path}` },
  });
  daemons.push(daemon);
  assert.equal(await daemon.metric('appproxy_dependency_up{dependency="docker"}'), 1);

  forwarder.wedge();
  try {
    const reason = await notReadyBecause(daemon, /Docker unreachable/, 2_000 + 10_000 + 5_000 + SLACK_MS);
    assert.match(reason, /not ready: .*Docker unreachable/);
    const live = await fetchWithin(`${daemon.url}/livez`);
    assert.equal(live.status, 200, '/livez answers while Docker does not');
    assert.equal(await daemon.metric('appproxy_dependency_up{dependency="docker"}'), 0);
    await waitFor(
      'a log line naming the call and the limit',
      async () => (/no answer from the Docker engine within (2000|5000) ms/.test(daemon.logs()) ? true : undefined),
      15_000,
    );
  } finally {
    forwarder.unwedge();
  }
  await readyAgain(daemon, 'the engine');
  assert.equal(await daemon.metric('appproxy_dependency_up{dependency="docker"}'), 1);
});

test('wedged etcd: the daemon reports etcd unreachable on /readyz and in a metric, keeps /livez, and recovers', async () => {
  const [host = '127.0.0.1', port = '23790'] = testEnv.etcdEndpoint.split(':');
  const etcdForwarder = await SocketForwarder.startTcp(host, Number(port));
  try {
    const daemon = await startDaemon({
      owner: 'wedge-etcd-test',
      port: 19192,
      args: [
        '--root-key',
        'apx-wedge-etcd',
        '--etcd-endpoints',
        etcdForwarder.path,
        '--etcd-timeout-seconds',
        '2',
        '--lease-seconds',
        '10',
      ],
    });
    daemons.push(daemon);
    etcdForwarder.wedge();
    try {
      const reason = await notReadyBecause(daemon, /etcd unreachable/, 5_000 + 2_000 * 4 + SLACK_MS);
      assert.match(reason, /etcd unreachable/);
      assert.equal((await fetchWithin(`${daemon.url}/livez`)).status, 200);
      assert.equal(await daemon.metric('appproxy_dependency_up{dependency="etcd"}'), 0);
    } finally {
      etcdForwarder.unwedge();
    }
    await readyAgain(daemon, 'etcd');
  } finally {
    await etcdForwarder.close();
  }
});
