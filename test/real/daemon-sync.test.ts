import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import Dockerode from 'dockerode';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { testStore, type TestStore } from '../support/test-store.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { httpGet } from '../support/http-get.ts';
import { rawData, serviceServerUrls, waitFor } from '../support/traefik-api.ts';
import { removeLabelled, testDocker } from '../support/test-docker.ts';
import { HttpProviderTraefik } from '../support/http-provider-traefik.ts';
import { fetchWithin } from '../support/within.ts';
import { keyValuesToConfiguration } from '../../src/core/kv/key-values-to-configuration.ts';

// `appproxy run` on real components: a real Docker engine, a real store (etcd, or Redis with
// APPPROXY_TEST_STORE=redis), a real Traefik reading it. test-stores: etcd redis

const docker = testDocker();
const RUN = 'appproxy-daemon-test';
const store: TestStore = testStore();
const traefik = store.traefik;
const at = (name: string) => `${name}${store.suffix}`;
const daemons: DaemonProcess[] = [];

/** A busybox web server answering its own name, labelled for appproxy. */
async function webContainer(
  name: string,
  labels: Record<string, string>,
  options: { health?: boolean } = {},
): Promise<Dockerode.Container> {
  const container = await docker.createContainer({
    name,
    Image: testEnv.busyboxImage,
    Cmd: [
      'sh',
      '-c',
      `mkdir -p /www && echo ${name} > /www/index.html && touch /tmp/healthy && exec httpd -f -p 80 -h /www`,
    ],
    Labels: { [RUN]: 'true', 'appproxy.enable': 'true', ...labels },
    ExposedPorts: { '80/tcp': {} },
    StopSignal: 'SIGKILL',
    Healthcheck: options.health
      ? { Test: ['CMD', 'test', '-f', '/tmp/healthy'], Interval: 300_000_000, Retries: 1 }
      : undefined,
  });
  return container;
}

async function removeOurs(): Promise<void> {
  await removeLabelled(docker, [RUN]);
  const services = await docker.listServices({ filters: { label: [RUN] } }).catch(() => []);
  await Promise.all(services.map((service) => docker.getService(service.ID).remove()));
}

async function answer(host: string): Promise<string> {
  const reply = await httpGet(traefik.web, '/', { host }, 2000).catch((error: Error) => ({
    status: 0,
    body: error.message,
    setCookie: [],
  }));
  return reply.status === 200 ? reply.body.trim() : `HTTP ${reply.status}`;
}

async function daemon(owner: string, port: number, args: string[] = []): Promise<DaemonProcess> {
  const started = await startDaemon({ owner, port, args });
  daemons.push(started);
  return started;
}

before(async () => {
  await requireTestEnv();
  await removeOurs();
  await store.clearTree('traefik');
});

after(async () => {
  await Promise.all(daemons.map((process) => process.kill('SIGTERM')));
  await removeOurs();
  await store.clearTree('traefik');
  store.close();
});

test('daemon: a labelled container starts and its route is live; it stops and the route is gone', async () => {
  const appproxy = await daemon('host-a', 19181);
  const container = await webContainer('dm-live', { 'appproxy.http.routers.dm-live.rule': 'Host(`dm-live`)' });
  const started = performance.now();
  await container.start();
  await waitFor(
    'route dm-live to answer',
    async () => ((await answer('dm-live')) === 'dm-live' ? true : undefined),
    15_000,
  );
  const liveMs = performance.now() - started;
  const router = (await rawData(traefik.api)).routers?.[at('dm-live')];
  assert.equal(router?.['status'], 'enabled');
  process.stdout.write(`# container start to route live: ${liveMs.toFixed(0)} ms\n`);

  await container.stop({ t: 0 });
  await waitFor(
    'route dm-live to go',
    async () => ((await answer('dm-live')) === 'HTTP 404' ? true : undefined),
    15_000,
  );
  assert.equal((await rawData(traefik.api)).routers?.[at('dm-live')], undefined);
  await container.remove({ force: true });
  await appproxy.kill('SIGTERM');
});

test("daemon: GET /traefik/dynamic serves the store's tree; a Traefik polling it with its HTTP provider routes a container, and drops it when it stops", async () => {
  const appproxy = await daemon('host-h', 19190);
  const container = await webContainer('dm-http', { 'appproxy.http.routers.dm-http.rule': 'Host(`dm-http`)' });
  let viaHttp: HttpProviderTraefik | undefined;
  try {
    await container.start();
    await waitFor('route dm-http live through the store', async () =>
      (await answer('dm-http')) === 'dm-http' ? true : undefined,
    );
    // What it serves is what the store holds (every owner's keys), as Traefik's KV provider reads it.
    let last = '';
    await waitFor('/traefik/dynamic equal to the store', async () => {
      const [stored, body] = await Promise.all([
        store.read('traefik/'),
        fetchWithin(`${appproxy.url}/traefik/dynamic`).then((reply) => reply.json() as Promise<unknown>),
      ]);
      const expected = keyValuesToConfiguration(stored, 'traefik');
      last = `served ${JSON.stringify(body)}, the store ${JSON.stringify(expected)}`;
      return isDeepStrictEqual(body, JSON.parse(JSON.stringify(expected))) ? true : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}: ${last}`);
    });
    viaHttp = await HttpProviderTraefik.start(`${appproxy.url}/traefik/dynamic`, 18581);
    const web = 'http://127.0.0.1:18582';
    const through = async (): Promise<string> => {
      const reply = await httpGet(web, '/', { host: 'dm-http' }, 2000).catch(() => undefined);
      return reply === undefined ? 'no answer' : reply.status === 200 ? reply.body.trim() : `HTTP ${reply.status}`;
    };
    await waitFor("route dm-http live through the HTTP provider's Traefik", async () =>
      (await through()) === 'dm-http' ? true : undefined,
    );
    assert.equal((await rawData(viaHttp.api)).routers?.['dm-http@http']?.['status'], 'enabled');
    await container.stop({ t: 0 });
    await waitFor("route dm-http gone from the HTTP provider's Traefik", async () =>
      (await through()) === 'HTTP 404' ? true : undefined,
    );
  } finally {
    await viaHttp?.stop();
    await container.remove({ force: true });
    await appproxy.kill('SIGTERM');
  }
});

test('daemon: a container that turns unhealthy loses its route', async () => {
  const appproxy = await daemon('host-a', 19181);
  const container = await webContainer(
    'dm-health',
    { 'appproxy.http.routers.dm-health.rule': 'Host(`dm-health`)' },
    { health: true },
  );
  await container.start();
  await waitFor('healthy route', async () => ((await answer('dm-health')) === 'dm-health' ? true : undefined), 15_000);
  const exec = await container.exec({ Cmd: ['rm', '/tmp/healthy'] });
  await exec.start({});
  await waitFor(
    'unhealthy route to go',
    async () => ((await answer('dm-health')) === 'HTTP 404' ? true : undefined),
    15_000,
  );
  await container.remove({ force: true });
  await appproxy.kill('SIGTERM');
});

test('daemon: a paused container loses its route at once and gets it back when unpaused', async () => {
  const appproxy = await daemon('host-a', 19181);
  const container = await webContainer('dm-pause', { 'appproxy.http.routers.dm-pause.rule': 'Host(`dm-pause`)' });
  await container.start();
  await waitFor(
    'route dm-pause to answer',
    async () => ((await answer('dm-pause')) === 'dm-pause' ? true : undefined),
    15_000,
  );
  await container.pause();
  // Gone, not hanging: Traefik's Docker provider would keep the paused server until its next listing.
  await waitFor(
    'paused route dm-pause to go',
    async () => ((await answer('dm-pause')) === 'HTTP 404' ? true : undefined),
    15_000,
  );
  await container.unpause();
  await waitFor(
    'unpaused route dm-pause to answer',
    async () => ((await answer('dm-pause')) === 'dm-pause' ? true : undefined),
    15_000,
  );
  await container.remove({ force: true });
  await appproxy.kill('SIGTERM');
});

test(`daemon: one change is one ${store.name} transaction; a resync with nothing changed writes nothing`, async () => {
  const appproxy = await daemon('host-a', 19181);
  await waitFor('first sync', async () =>
    (await appproxy.metric('appproxy_reconciles_total')) > 0 ? true : undefined,
  );
  const before = await appproxy.metric('appproxy_store_transactions_total');
  const operationsBefore = await appproxy.metric('appproxy_store_operations_total');
  const formerBefore = await appproxy.metric('appproxy_etcd_transactions_total');
  const container = await webContainer('dm-count', { 'appproxy.http.routers.dm-count.rule': 'Host(`dm-count`)' });
  await container.start();
  await waitFor('route dm-count', async () => ((await answer('dm-count')) === 'dm-count' ? true : undefined), 15_000);
  // Let any trailing event (health, network) pass through a reconcile.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const transactions = (await appproxy.metric('appproxy_store_transactions_total')) - before;
  const operations = (await appproxy.metric('appproxy_store_operations_total')) - operationsBefore;
  // rule, service, the router's claim; the service's claim, its server; the placeholder removed.
  assert.equal(transactions, 1, `transactions for one container start (logs:\n${appproxy.logs().slice(-2000)})`);
  assert.equal(operations, 6, 'operations for one container start');
  assert.equal(
    (await appproxy.metric('appproxy_etcd_transactions_total')) - formerBefore,
    transactions,
    'the former metric name (kept for dashboards) counts alike',
  );

  const reconciles = await appproxy.metric('appproxy_reconciles_total');
  const idle = await appproxy.metric('appproxy_store_transactions_total');
  // An event that changes nothing (a container without labels) runs a reconcile that writes nothing.
  const other = await docker.createContainer({
    name: 'dm-unlabelled',
    Image: testEnv.busyboxImage,
    Cmd: ['sleep', '60'],
    Labels: { [RUN]: 'true' },
    StopSignal: 'SIGKILL',
  });
  await other.start();
  await waitFor('a reconcile after the event', async () =>
    (await appproxy.metric('appproxy_reconciles_total')) > reconciles ? true : undefined,
  );
  assert.equal(
    await appproxy.metric('appproxy_store_transactions_total'),
    idle,
    'nothing written when nothing changed',
  );
  await Promise.all([container.remove({ force: true }), other.remove({ force: true })]);
  await appproxy.kill('SIGTERM');
});

test('daemon: killed with SIGKILL and restarted within its lease time while a client polls: no request fails', async () => {
  // A 10 s lease: the restart (about 2 s here) comes well within it, as the takeover promises.
  let appproxy = await daemon('host-kill', 19181, ['--lease-seconds', '10']);
  const container = await webContainer('dm-kill', { 'appproxy.http.routers.dm-kill.rule': 'Host(`dm-kill`)' });
  await container.start();
  await waitFor('route dm-kill', async () => ((await answer('dm-kill')) === 'dm-kill' ? true : undefined), 15_000);
  const failures: string[] = [];
  const started = performance.now();
  let requests = 0;
  let polling = true;
  const poller = (async () => {
    // Bounded: at most 2000 requests, stopped by the test.
    while (polling && requests < 2000) {
      requests += 1;
      const body = await answer('dm-kill');
      if (body !== 'dm-kill') failures.push(`${(performance.now() - started).toFixed(0)} ms: ${body}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  await appproxy.kill('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  appproxy = await daemon('host-kill', 19181, ['--lease-seconds', '10']);
  await waitFor('takeover reconcile', async () =>
    (await appproxy.metric('appproxy_reconciles_total')) > 0 ? true : undefined,
  );
  // The old lease is revoked after the takeover: the route must already live on the new one.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  polling = false;
  await poller;
  assert.ok(requests > 50, `the client polled (${requests} requests)`);
  assert.deepEqual(
    failures,
    [],
    `failed requests out of ${requests}; appproxy logged:\n${appproxy.logs().slice(-3000)}`,
  );
  await container.remove({ force: true });
  await appproxy.kill('SIGTERM');
});

test("daemon: two owners serving one service give one service with both servers; a killed owner's server leaves within the lease time", async () => {
  const shared = {
    'com.docker.compose.project': 'dm',
    'com.docker.compose.service': 'shared',
    'appproxy.http.routers.dm-shared.rule': 'Host(`dm-shared`)',
  };
  const a = await daemon('host-a', 19181, ['--constraints', 'Label("side","a")']);
  const b = await daemon('host-b', 19182, ['--constraints', 'Label("side","b")']);
  const ca = await webContainer('dm-shared-a', { ...shared, side: 'a' });
  const cb = await webContainer('dm-shared-b', { ...shared, side: 'b' });
  await Promise.all([ca.start(), cb.start()]);
  const servers = () => serviceServerUrls(traefik.api, at('shared-dm'));
  const ipOf = async (container: Dockerode.Container) => {
    const info = await container.inspect();
    return `http://${Object.values(info.NetworkSettings.Networks)[0]?.IPAddress}:80`;
  };
  const [urlA, urlB] = await Promise.all([ipOf(ca), ipOf(cb)]);
  await waitFor(
    'both servers in one service',
    async () => (JSON.stringify(await servers()) === JSON.stringify([urlA, urlB].sort()) ? true : undefined),
    15_000,
  );
  const seen = new Set<string>();
  for (let index = 0; index < 20; index += 1) seen.add(await answer('dm-shared'));
  assert.deepEqual([...seen].sort(), ['dm-shared-a', 'dm-shared-b']);

  // B's container stops: only B's server goes.
  await cb.stop({ t: 0 });
  await waitFor(
    "only A's server",
    async () => (JSON.stringify(await servers()) === JSON.stringify([urlA]) ? true : undefined),
    15_000,
  );
  await cb.start();
  const urlB2 = await ipOf(cb);
  await waitFor('B back', async () => ((await servers()).includes(urlB2) ? true : undefined), 15_000);

  // A dies without a word: its server leaves within the lease time (3 s), B's route stays.
  const killed = performance.now();
  await a.kill('SIGKILL');
  await waitFor(
    "A's server to leave",
    async () => (JSON.stringify(await servers()) === JSON.stringify([urlB2]) ? true : undefined),
    15_000,
  );
  const goneMs = performance.now() - killed;
  assert.equal(await answer('dm-shared'), 'dm-shared-b');
  process.stdout.write(`# killed owner's server left after ${goneMs.toFixed(0)} ms (lease 3 s)\n`);
  await Promise.all([ca.remove({ force: true }), cb.remove({ force: true })]);
  await b.kill('SIGTERM');
});

test("daemon: two owners defining one router differently: both report it, neither takes the other's route", async () => {
  const a = await daemon('host-a', 19181, ['--constraints', 'Label("side","a")']);
  const b = await daemon('host-b', 19182, ['--constraints', 'Label("side","b")']);
  const ca = await webContainer('dm-clash-a', {
    side: 'a',
    'appproxy.http.routers.dm-clash.rule': 'Host(`dm-clash`)',
    'appproxy.http.routers.dm-clash.service': 'dm-clash-a',
  });
  await ca.start();
  await waitFor("A's route", async () => ((await answer('dm-clash')) === 'dm-clash-a' ? true : undefined), 15_000);
  const cb = await webContainer('dm-clash-b', {
    side: 'b',
    'appproxy.http.routers.dm-clash.rule': 'Host(`dm-clash`)',
    'appproxy.http.routers.dm-clash.service': 'dm-clash-b',
  });
  await cb.start();
  await waitFor(
    'both to report the conflict',
    async () =>
      a.logs().includes('another owner defines this resource differently') &&
      b.logs().includes('another owner defines this resource differently')
        ? true
        : undefined,
    15_000,
  );
  for (let index = 0; index < 10; index += 1)
    assert.equal(await answer('dm-clash'), 'dm-clash-a', "A's route is not hijacked");
  await Promise.all([ca.remove({ force: true }), cb.remove({ force: true })]);
  await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
});

test('daemon: SIGTERM stops it gracefully (its watchdog would exit 1 after 9 s)', async () => {
  const appproxy = await daemon('host-a', 19181);
  const started = performance.now();
  const code = await appproxy.kill('SIGTERM');
  assert.equal(code, 0, `a graceful stop, not the 9 s watchdog:\n${appproxy.logs().slice(-1500)}`);
  process.stdout.write(`# SIGTERM to exit: ${(performance.now() - started).toFixed(0)} ms\n`);
});
