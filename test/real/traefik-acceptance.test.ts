import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startEchoBackends, type EchoBackend, type EchoReply } from '../support/echo-backends.ts';
import { parseKv } from '../support/etcd-kv.ts';
import { testStore, type TestStore } from '../support/test-store.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { httpGet } from '../support/http-get.ts';
import { runCli } from '../support/run-cli.ts';
import { rawData, waitFor, waitForTree } from '../support/traefik-api.ts';

// The kv output of `appproxy render` for label cases, written to a real store (etcd; Redis with
// APPPROXY_TEST_STORE=redis: test-stores: etcd redis), read by a real Traefik (its etcd or Redis
// provider), with requests through Traefik's entry point reaching real backends.
// Traefik loads the project's local plugin (test/fixtures/traefik-plugins), configured by labels.

const store: TestStore = testStore();
const traefik = store.traefik;
const at = (name: string) => `${name}${store.suffix}`;
const stamp = `appproxy.http.middlewares.acc-stamp.plugin.${testEnv.pluginKey}`;
let backends: EchoBackend[];
let tcpServer: import('node:net').Server;
let tcpPort = 0;

function inspect(name: string, port: number, labels: Record<string, string>): object {
  return {
    Id: `${name}-acceptance`,
    Name: `/${name}`,
    State: { Status: 'running' },
    Config: { Labels: { 'appproxy.enable': 'true', ...labels } },
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Ports: { [`${port}/tcp`]: null }, Networks: { lo: { IPAddress: '127.0.0.1' } } },
  };
}

function containers(): object[] {
  const [one, two] = backends as [EchoBackend, EchoBackend];
  const chat = {
    'com.docker.compose.project': 'acc',
    'com.docker.compose.service': 'chat',
    'appproxy.http.routers.acc-chat.rule': 'PathPrefix(`/wsk`)',
    'appproxy.http.routers.acc-chat.entrypoints': 'web',
    'appproxy.http.routers.acc-chat.middlewares': 'acc-strip@docker',
    'appproxy.http.middlewares.acc-strip.stripprefix.prefixes': '/wsk',
    'appproxy.http.services.acc-chat.loadbalancer.sticky.cookie.name': 'wsk_sticky',
    'appproxy.http.services.acc-chat.loadbalancer.sticky.cookie.samesite': 'lax',
    'appproxy.http.services.acc-chat.loadbalancer.sticky.cookie.httponly': 'true',
    'appproxy.http.services.acc-chat.loadbalancer.sticky.cookie.path': '/wsk',
  };
  return [
    inspect('acc-chat-1', one.port, chat),
    inspect('acc-chat-2', two.port, chat),
    inspect('acc-replace', one.port, {
      'appproxy.http.routers.acc-replace.rule': 'PathPrefix(`/rp`)',
      'appproxy.http.routers.acc-replace.entrypoints': 'web',
      'appproxy.http.routers.acc-replace.middlewares': 'acc-replace',
      'appproxy.http.middlewares.acc-replace.replacepath.path': '/replaced',
    }),
    inspect('acc-default-rule', two.port, { 'appproxy.http.routers.acc-default-rule.entrypoints': 'web' }),
    // The plugin stamps its options into headers: a string, a list in one label, a nested object.
    inspect('acc-plugin', one.port, {
      'appproxy.http.routers.acc-plugin.rule': 'PathPrefix(`/plg`)',
      'appproxy.http.routers.acc-plugin.entrypoints': 'web',
      'appproxy.http.routers.acc-plugin.middlewares': 'acc-stamp',
      [`${stamp}.prefix`]: 'X-Acc',
      [`${stamp}.tags`]: 'red,green,blue',
      [`${stamp}.stamp.name`]: 'X-Acc-Deep',
      [`${stamp}.stamp.value`]: 'from-labels',
    }),
    // A single status key (`418`), which etcd cannot carry as it is: appproxy writes `418-418`.
    inspect('acc-errors', one.port, {
      'appproxy.http.routers.acc-errors.rule': 'PathPrefix(`/status`)',
      'appproxy.http.routers.acc-errors.entrypoints': 'web',
      'appproxy.http.routers.acc-errors.middlewares': 'acc-errors',
      'appproxy.http.middlewares.acc-errors.errors.status': '418',
      'appproxy.http.middlewares.acc-errors.errors.service': 'acc-errors',
      'appproxy.http.middlewares.acc-errors.errors.query': '/page/{status}',
      'appproxy.http.middlewares.acc-errors.errors.statusrewrites.418': '404',
    }),
    inspect('acc-tcp', tcpPort, {
      'appproxy.tcp.routers.acc-tcp.rule': 'HostSNI(`*`)',
      'appproxy.tcp.routers.acc-tcp.entrypoints': 'tcpep',
    }),
  ];
}

/** A GET through Traefik's `web` entry point, with the backend's reply decoded. */
async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; reply: EchoReply | undefined; setCookie: string[] }> {
  const response = await httpGet(traefik.web, path, headers);
  let reply: EchoReply | undefined;
  try {
    reply = JSON.parse(response.body) as EchoReply;
  } catch {
    reply = undefined;
  }
  return { status: response.status, reply, setCookie: response.setCookie };
}

before(async () => {
  await requireTestEnv();
  backends = await startEchoBackends(2);
  const { createServer } = await import('node:net');
  tcpServer = createServer((socket) => socket.end('tcp-backend\n'));
  await new Promise<void>((resolve) => tcpServer.listen(0, '127.0.0.1', resolve));
  tcpPort = (tcpServer.address() as import('node:net').AddressInfo).port;

  // The cases use fields of Traefik 3.3 and 3.4 (a sticky cookie's path, statusRewrites): written for
  // the environment's Traefik, 3.7 (test/real/traefik-versions.test.ts runs the older ones).
  const rendered = await runCli(['render', '--input', '-', '--format', 'kv', '--strict', '--owner', 'acceptance', '--traefik-min-version', '3.7'], JSON.stringify(containers()));
  assert.equal(rendered.code, 0, rendered.stderr);
  assert.equal(rendered.stderr, '');
  const tree = parseKv(rendered.stdout);
  await store.replaceTree('traefik', tree);
  // Wait for this run's servers, not for routers an earlier run may have left in Traefik's memory.
  const urls = backends.map((backend) => `http://127.0.0.1:${backend.port}`).sort();
  await waitFor('this run\'s configuration in Traefik', async () => {
    const data = await waitForTree(traefik.api, store.suffix, 'traefik', tree);
    const chat = data.services?.[at('acc-chat')] as { loadBalancer?: { servers?: { url: string }[] } } | undefined;
    const tcp = data.tcpServices?.[at('acc-tcp')] as { loadBalancer?: { servers?: { address: string }[] } } | undefined;
    const seen = (chat?.loadBalancer?.servers ?? []).map((server) => server.url).sort();
    return JSON.stringify(seen) === JSON.stringify(urls) && tcp?.loadBalancer?.servers?.[0]?.address === `127.0.0.1:${tcpPort}` ? true : undefined;
  });
});

after(async () => {
  await store.clearTree('traefik');
  store.close();
  await Promise.all((backends ?? []).map((backend) => backend.close()));
  tcpServer?.close();
});

test('acceptance: Traefik shows every router, service and middleware enabled, with no error', async () => {
  const data = await rawData(traefik.api);
  const ours = (map: Record<string, Record<string, unknown>> | undefined) => Object.entries(map ?? {}).filter(([name]) => name.endsWith(store.suffix));
  const all = [...ours(data.routers), ...ours(data.services), ...ours(data.middlewares), ...ours(data.tcpRouters), ...ours(data.tcpServices)];
  assert.ok(all.length >= 9, `expected our resources, got ${all.map(([name]) => name).join(', ')}`);
  for (const [name, info] of all) {
    assert.equal(info['status'], 'enabled', `${name}: ${JSON.stringify(info)}`);
    assert.equal(info['error'], undefined, `${name}: ${JSON.stringify(info['error'])}`);
  }
  const chat = data.services?.[at('acc-chat')] as { loadBalancer: { servers: { url: string }[] } };
  assert.deepEqual(
    chat.loadBalancer.servers.map((server) => server.url).sort(),
    backends.map((backend) => `http://127.0.0.1:${backend.port}`).sort(),
    'one service with both containers as servers',
  );
});

test('acceptance: stripPrefix reaches the backend with the prefix removed, and the sticky cookie holds', async () => {
  const first = await get('/wsk/socket.io/?EIO=4');
  assert.equal(first.status, 200);
  assert.equal(first.reply?.path, '/socket.io/?EIO=4');
  const cookie = first.setCookie.find((value) => value.startsWith('wsk_sticky='));
  assert.ok(cookie, `sticky cookie under its configured name; got ${JSON.stringify(first.setCookie)}`);
  assert.match(cookie, /; Path=\/wsk/);
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Lax/);
  const value = cookie.split(';')[0] as string;
  const seen = new Set<string>();
  for (let index = 0; index < 20; index += 1) {
    const next = await get('/wsk/poll', { cookie: value });
    assert.equal(next.status, 200);
    seen.add(next.reply?.backend ?? '?');
  }
  assert.deepEqual([...seen], [first.reply?.backend], 'every request with the cookie reaches the same backend');
  const without = new Set<string>();
  for (let index = 0; index < 20; index += 1) without.add((await get('/wsk/poll')).reply?.backend ?? '?');
  assert.equal(without.size, 2, 'without the cookie, requests spread over both backends (the control)');
});

test('acceptance: replacePath changes the path the backend sees', async () => {
  const reply = await get('/rp/anything?q=1');
  assert.equal(reply.status, 200);
  assert.equal(reply.reply?.path, '/replaced?q=1');
  assert.equal(reply.reply?.headers['x-replaced-path'], '/rp/anything');
});

test('acceptance: a plugin middleware gets its string, list and nested options from labels and changes the request and the response', async () => {
  const data = await rawData(traefik.api);
  assert.deepEqual(
    (data.middlewares?.[at('acc-stamp')] as { plugin?: unknown } | undefined)?.plugin,
    { [testEnv.pluginKey]: { prefix: 'X-Acc', tags: 'red,green,blue', stamp: { name: 'X-Acc-Deep', value: 'from-labels' } } },
    'the options as Traefik read them from the store (a list given in one label stays the text, as from Traefik\'s Docker provider)',
  );
  const response = await httpGet(traefik.web, '/plg/x?q=1');
  assert.equal(response.status, 200, response.body);
  // The plugin's headers on the response: the list arrived as three items.
  assert.equal(response.headers['x-acc-prefix'], 'X-Acc');
  assert.equal(response.headers['x-acc-tags'], 'red|green|blue');
  assert.equal(response.headers['x-acc-tag-count'], '3');
  assert.equal(response.headers['x-acc-deep'], 'from-labels');
  // And on the request the backend received.
  const reply = JSON.parse(response.body) as EchoReply;
  assert.equal(reply.path, '/plg/x?q=1');
  assert.equal(reply.headers['x-acc-prefix'], 'X-Acc');
  assert.equal(reply.headers['x-acc-tags'], 'red|green|blue');
  assert.equal(reply.headers['x-acc-tag-count'], '3');
  assert.equal(reply.headers['x-acc-deep'], 'from-labels');
  // The control: a router without the plugin leaves both untouched.
  const control = await httpGet(traefik.web, '/rp/x');
  assert.equal(control.status, 200);
  assert.equal(control.headers['x-acc-prefix'], undefined);
  assert.equal((JSON.parse(control.body) as EchoReply).headers['x-acc-prefix'], undefined);
});

test('acceptance: the automatic router takes the default rule Host(`<name>`), with Traefik\'s loop guard', async () => {
  const reply = await get('/', { host: 'acc-default-rule' });
  assert.equal(reply.status, 200);
  assert.equal(reply.reply?.backend, backends[1]?.id);
  // The router carries Traefik's defaultRule flag, as its label providers set it: Traefik stamps the
  // request with the router's hash and refuses one that comes back with it (a loop into itself).
  const stamp = reply.reply?.headers['x-traefik-router'];
  assert.equal(typeof stamp, 'string', `the denyRouterRecursion stamp; headers: ${JSON.stringify(reply.reply?.headers)}`);
  const looped = await get('/', { host: 'acc-default-rule', 'x-traefik-router': stamp as string });
  assert.equal(looped.status, 400, 'a request that already passed this router is refused');
  assert.equal((await get('/rp/x')).reply?.headers['x-traefik-router'], undefined, 'a router with its own rule has no such stamp (the control)');
});

test('acceptance: an errors middleware with a single status in statusRewrites (418=404) rewrites that status', async () => {
  const rewritten = await get('/status/418');
  assert.equal(rewritten.status, 404, 'the backend\'s 418 comes back as 404');
  // Traefik fills {status} with the rewritten status.
  assert.equal(rewritten.reply?.path, '/page/404', 'with the error page the middleware asked for, for the new status');
  const untouched = await get('/status/503');
  assert.equal(untouched.status, 503, 'a status outside the middleware\'s range passes as it is (the control)');
  assert.equal(untouched.reply?.path, '/status/503');
});

test('acceptance: a TCP router forwards to its backend', async () => {
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(traefik.tcp.port, traefik.tcp.host);
    let data = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('TCP timeout')));
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
  assert.equal(answer, 'tcp-backend\n');
});
