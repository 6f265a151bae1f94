import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { enginePoll, type PollReply } from '../support/engine-io-polling.ts';
import { firstNode, requireTestEnv, testEnv } from '../support/env.ts';
import { httpGet } from '../support/http-get.ts';
import { stackEtcdctl } from '../support/stack-etcdctl.ts';
import { waitFor } from '../support/traefik-api.ts';

// The shipped stack, deployed with the real `docker stack deploy` (through scripts/demo.sh) on the
// test's own Docker engine as a one-node Swarm: Traefik reading etcd, etcd, appproxy behind its
// read-only Docker proxy, Redis and the socket.io demo with 3 replicas behind /wsk; then the same
// stack with stacks/redis-store.yml over it, where Traefik reads Redis.

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const STACK = 'apx-e2e';
const PORT = 18880;
// The stack publishes Traefik's port on the test node, in the node's own namespace: the host reaches
// it at the node's address, never on the machine's loopback, where the machine's own demo may listen.
const BASE = `http://${firstNode.address}:${PORT}`;
const SECRETS_DIR = `${testEnv.stateDir}/stack-secrets`;
const env = {
  ...process.env,
  ...testEnv.scriptEnv,
  STACK,
  HTTP_PORT: String(PORT),
  DEMO_ADDRESS: firstNode.address,
  DEMO_REPLICAS: '3',
  WAIT_SECONDS: '300',
  APPPROXY_SECRETS_DIR: SECRETS_DIR,
};

/** The stack's secrets, made anew for each run from files this run owns (Docker secrets cannot change). */
async function removeSecrets(): Promise<void> {
  // Secrets exist only on a Swarm manager: on a fresh engine (no Swarm yet) there are none to remove.
  const manager = (await docker('info', '--format', '{{.Swarm.ControlAvailable}}')).trim() === 'true';
  if (!manager) return;
  const names = (await docker('secret', 'ls', '--filter', 'label=appproxy.secret=true', '--format', '{{.Name}}'))
    .split('\n')
    .filter((name) => name !== '');
  if (names.length > 0) await docker('secret', 'rm', ...names);
}

/** etcdctl in a throwaway container on the stack's control network, with the secrets' files. */
async function etcdctl(credentials: string[], ...args: string[]): Promise<{ ok: boolean; output: string }> {
  const image =
    (await docker('service', 'inspect', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', `${STACK}_etcd`))
      .trim()
      .split('@')[0] ?? '';
  const etcd = { stack: STACK, secretsDir: SECRETS_DIR, image, members: ['etcd'] };
  return stackEtcdctl((run) => docker(...run), etcd, credentials, args);
}
const artifacts = new URL('../artifacts/', import.meta.url).pathname;
const sockets: Socket[] = [];

async function docker(...args: string[]): Promise<string> {
  // execFile's timeout kills the client; the error then names the command line.
  return (await run('docker', args, { env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000, killSignal: 'SIGKILL' }))
    .stdout;
}

/** Traefik's API is not published: ask it from inside its container. */
async function traefikApi(path: string): Promise<unknown> {
  const id = (await docker('ps', '-q', '--filter', `name=${STACK}_traefik`)).trim().split('\n')[0] ?? '';
  return JSON.parse(await docker('exec', id, 'wget', '-qO-', `http://127.0.0.1:8080${path}`));
}

async function chatServers(): Promise<string[]> {
  const service = (await traefikApi('/api/http/services/chat@etcd').catch(() => undefined)) as
    { loadBalancer?: { servers?: { url: string }[] } } | undefined;
  return (service?.loadBalancer?.servers ?? []).map((server) => server.url).sort();
}

async function runningReplicas(): Promise<number> {
  return (
    await docker('service', 'ps', `${STACK}_chat`, '--filter', 'desired-state=running', '--format', '{{.CurrentState}}')
  )
    .split('\n')
    .filter((line) => line.startsWith('Running')).length;
}

/** An engine.io request through Traefik, with or without the sticky cookie. */
function poll(
  method: 'GET' | 'POST',
  query: string,
  body: string | undefined,
  cookie: string | undefined,
): Promise<PollReply> {
  return enginePoll(BASE, method, query, body, cookie);
}

interface Welcome {
  readonly replica: string;
}

function connect(): Promise<{ socket: Socket; replica: string }> {
  const socket = io(BASE, {
    path: '/wsk/socket.io',
    transports: ['polling', 'websocket'],
    withCredentials: true,
    reconnectionDelay: 200,
    reconnectionDelayMax: 1000,
  });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no welcome within 10 s')), 10_000);
    socket.once('welcome', (welcome: Welcome) => {
      clearTimeout(timer);
      resolve({ socket, replica: welcome.replica });
    });
  });
}

/**
 * Whether the engine was a Swarm manager before this file: demo.sh makes it one when it was not, and the file then
 * leaves that Swarm.
 */
let managerBefore = true;

before(async () => {
  await requireTestEnv();
  managerBefore = (await docker('info', '--format', '{{.Swarm.ControlAvailable}}')).trim() === 'true';
  await run('bash', [`${root}scripts/demo.sh`, 'down', '--volumes'], { env, timeout: 180_000 }).catch(() => undefined);
  await removeSecrets();
  rmSync(SECRETS_DIR, { recursive: true, force: true });
  const started = performance.now();
  await run('bash', [`${root}scripts/demo.sh`], { env, timeout: 600_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (error: { stdout?: string; stderr?: string }) => {
      throw new Error(`scripts/demo.sh failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    },
  );
  process.stdout.write(
    `# stack ready through Traefik after ${((performance.now() - started) / 1000).toFixed(1)} s (images built or reused, deploy, 3 replicas healthy)\n`,
  );
  await waitFor(
    '3 chat servers in Traefik',
    async () => ((await chatServers()).length === 3 ? true : undefined),
    60_000,
  );
});

after(async () => {
  for (const socket of sockets) socket.disconnect();
  await run('bash', [`${root}scripts/demo.sh`, 'down', '--volumes'], { env, timeout: 180_000 }).catch(
    (error: unknown) => console.error(error),
  );
  await removeSecrets().catch((error: unknown) => console.error(error));
  if (!managerBefore) await docker('swarm', 'leave', '--force').catch((error: unknown) => console.error(error));
});

test("stack: etcd is secured: no client without the CA's certificate, Traefik's user reads and cannot write, appproxy's user writes its keys only", async () => {
  const traefik = ['--cert=/s/traefik.crt', '--key=/s/traefik.key'];
  const appproxy = [
    '--cert=/s/appproxy.crt',
    '--key=/s/appproxy.key',
    `--user=appproxy:${readFileSync(`${SECRETS_DIR}/appproxy.password`, 'utf8').trim()}`,
  ];
  const anonymous = await etcdctl([], 'get', 'traefik');
  assert.equal(anonymous.ok, false, `a client without a certificate was served: ${anonymous.output}`);
  const read = await etcdctl(traefik, 'get', '--prefix', '--keys-only', 'traefik/http/routers/chat/');
  assert.ok(
    read.ok && read.output.includes('traefik/http/routers/chat/rule'),
    `Traefik's user reads the routes: ${read.output}`,
  );
  const write = await etcdctl(traefik, 'put', 'traefik/http/routers/evil/rule', 'Host(`evil`)');
  assert.equal(write.ok, false, `Traefik's user wrote a route: ${write.output}`);
  assert.match(write.output, /permission denied/);
  const own = await etcdctl(appproxy, 'get', '--prefix', '--keys-only', 'appproxy/owners/traefik/');
  assert.ok(
    own.ok && own.output.includes('appproxy/owners/traefik/'),
    `appproxy's user reads its owner records: ${own.output}`,
  );
  const outside = await etcdctl(appproxy, 'put', 'somebody-else/key', 'x');
  assert.equal(outside.ok, false, `appproxy's user wrote outside its keys: ${outside.output}`);
  assert.match(outside.output, /permission denied/);
});

test("stack: appproxy reads back Traefik's API (appproxy traefiks: current, no refusal); a demo replica is refused that API", async () => {
  const appproxy = (await docker('ps', '-q', '--filter', `name=${STACK}_appproxy`)).trim().split('\n')[0] ?? '';
  const listing = await waitFor(
    'appproxy traefiks in the appproxy task: every Traefik reachable and current',
    async () => {
      const out = await docker('exec', appproxy, 'node', '/app/dist/cli.js', 'traefiks', '--format', 'json').catch(
        (error: { stdout?: string }) => error.stdout ?? '',
      );
      const parsed = JSON.parse(out || '{}') as {
        traefiks?: { reachable: boolean; current: boolean; version: string }[];
      };
      const traefiks = parsed.traefiks ?? [];
      return traefiks.length > 0 && traefiks.every((entry) => entry.reachable && entry.current) ? traefiks : undefined;
    },
    60_000,
  );
  assert.equal(listing.length, 1, 'one Traefik (one node)');
  assert.match(listing[0]?.version ?? '', /^3\./);
  // A demo replica shares the demo network with Traefik: the API must answer it 403, not the routes
  // (it is asked at Traefik's own address on that network, as an app would find it).
  const traefikTask = (await docker('ps', '-q', '--filter', `name=${STACK}_traefik`)).trim().split('\n')[0] ?? '';
  const networks = JSON.parse(
    await docker('inspect', '--format', '{{json .NetworkSettings.Networks}}', traefikTask),
  ) as Record<string, { IPAddress: string }>;
  const address = networks['appproxy-demo']?.IPAddress;
  assert.ok(address, `Traefik's address on the demo network: ${JSON.stringify(networks)}`);
  const chat = (await docker('ps', '-q', '--filter', `name=${STACK}_chat`)).trim().split('\n')[0] ?? '';
  const status = (
    await docker(
      'exec',
      chat,
      'node',
      '-e',
      `fetch('http://${address}:8080/api/http/routers', { signal: AbortSignal.timeout(5000) }).then((r) => console.log(r.status), (e) => console.log('error ' + e.message + ' ' + (e.cause?.code ?? '')))`,
    )
  ).trim();
  assert.equal(status, '403', "a demo replica reading Traefik's API");
});

test('stack: a long-polling handshake gets a session id and the sticky cookie; with the cookie every poll succeeds', async () => {
  const handshake = await poll('GET', '', undefined, undefined);
  assert.equal(handshake.status, 200, handshake.text);
  const sid = (JSON.parse(handshake.text.slice(1)) as { sid: string }).sid;
  const cookie = handshake.setCookie.find((value) => value.startsWith('wsk_sticky='));
  assert.ok(cookie, `sticky cookie wsk_sticky set; got ${JSON.stringify(handshake.setCookie)}`);
  assert.match(cookie, /Path=\/wsk/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Lax/);
  const sticky = cookie.split(';')[0] as string;
  assert.equal((await poll('POST', `&sid=${sid}`, '40', sticky)).text, 'ok');
  for (let index = 0; index < 40; index += 1) {
    const reply = await poll('POST', `&sid=${sid}`, `42["chat",{"text":"poll ${index}"}]`, sticky);
    assert.equal(reply.status, 200, `poll ${index} with the cookie: ${reply.text}`);
  }
});

test('stack: without the cookie (the control), polls reach other replicas and fail with "Session ID unknown"', async () => {
  const handshake = await poll('GET', '', undefined, undefined);
  const sid = (JSON.parse(handshake.text.slice(1)) as { sid: string }).sid;
  let unknown = 0;
  for (let index = 0; index < 30; index += 1) {
    const reply = await poll('POST', `&sid=${sid}`, '40', undefined);
    if (reply.status === 400 && reply.text.includes('Session ID unknown')) unknown += 1;
  }
  assert.ok(unknown >= 10, `with 3 replicas most cookie-less polls miss the session; ${unknown} of 30 did`);
});

test('stack: a socket.io client (polling, then upgrade) stays on one replica and receives broadcasts from the others', async () => {
  const listener = await connect();
  await waitFor(
    'upgrade to websocket',
    async () => (listener.socket.io.engine.transport.name === 'websocket' ? true : undefined),
    15_000,
  );
  const fromOthers = new Set<string>();
  listener.socket.on('chat', (message: { fromReplica: string }) => {
    if (message.fromReplica !== listener.replica) fromOthers.add(message.fromReplica);
  });
  // Senders until two of them sit on other replicas than the listener (bounded).
  for (let attempt = 0; attempt < 12 && fromOthers.size < 2; attempt += 1) {
    const sender = await connect();
    sender.socket.emit('chat', { text: `hello from attempt ${attempt}` });
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(fromOthers.size >= 1, `broadcasts from other replicas reached the listener on ${listener.replica}`);
  assert.equal(listener.socket.io.engine.transport.name, 'websocket');
});

test('stack: new clients spread over the replicas', async () => {
  const counts = new Map<string, number>();
  for (let index = 0; index < 30; index += 1) {
    const { socket, replica } = await connect();
    counts.set(replica, (counts.get(replica) ?? 0) + 1);
    socket.disconnect();
  }
  process.stdout.write(`# 30 new clients over replicas: ${JSON.stringify(Object.fromEntries([...counts].sort()))}\n`);
  assert.equal(counts.size, 3, `all 3 replicas took clients: ${JSON.stringify([...counts])}`);
});

test("stack: scaling to 5 and then to 2: Traefik's servers follow, clients of removed replicas reconnect elsewhere", async () => {
  await docker('service', 'scale', '--detach', `${STACK}_chat=5`);
  await waitFor(
    '5 servers',
    async () => ((await runningReplicas()) === 5 && (await chatServers()).length === 5 ? true : undefined),
    120_000,
  );
  const clients = await Promise.all(Array.from({ length: 15 }, () => connect()));
  await docker('service', 'scale', '--detach', `${STACK}_chat=2`);
  await waitFor(
    '2 servers',
    async () => ((await runningReplicas()) === 2 && (await chatServers()).length === 2 ? true : undefined),
    120_000,
  );
  const remaining = new Set<string>();
  for (let index = 0; index < 10; index += 1) {
    const { socket, replica } = await connect();
    remaining.add(replica);
    socket.disconnect();
  }
  assert.equal(remaining.size, 2, `new clients go only to the 2 remaining replicas: ${[...remaining].join(', ')}`);
  // Every client is connected again, on a remaining replica.
  await waitFor(
    'clients reconnected',
    async () => (clients.every(({ socket }) => socket.connected) ? true : undefined),
    30_000,
  );
  const health = await httpGet(BASE, '/wsk/health');
  assert.equal(health.status, 200);
});

test('stack: the page in headless Chromium shows its replica and a broadcast from another replica', async () => {
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${BASE}/wsk`);
    await page.locator('#replica', { hasText: /^\s*chat\./ }).waitFor({ timeout: 15_000 });
    const replica = ((await page.textContent('#replica')) ?? '').trim();
    // Send from other clients until one on another replica broadcasts (bounded).
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const sender = await connect();
      sender.socket.emit('chat', { text: `from ${sender.replica}` });
      if (sender.replica !== replica) break;
    }
    await page.waitForSelector(`#messages [data-from-replica]:not([data-from-replica="${replica}"])`, {
      timeout: 15_000,
    });
    await page.screenshot({ path: `${artifacts}demo-page.png`, fullPage: true });
    assert.match(((await page.textContent('#transport')) ?? '').trim(), /polling|websocket/);
  } finally {
    await browser.close();
  }
});

/** redis-cli in a throwaway container on the stack's control network (the image of its store). */
async function storeCli(...args: string[]): Promise<{ ok: boolean; output: string }> {
  const image =
    (await docker('service', 'inspect', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', `${STACK}_store`))
      .trim()
      .split('@')[0] ?? '';
  try {
    const output = await docker(
      'run',
      '--rm',
      '--network',
      `${STACK}_control`,
      '--entrypoint',
      'redis-cli',
      image,
      '-h',
      'store',
      '--no-auth-warning',
      ...args,
    );
    return { ok: !/^(ERR|NOPERM|WRONGPASS|NOAUTH)/m.test(output), output };
  } catch (error) {
    return {
      ok: false,
      output: `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`,
    };
  }
}

// Last: it redeploys the same stack over itself with stacks/redis-store.yml.
test('stack: the Redis variant (STORE=redis): Traefik reads Redis and serves the demo; its user reads and cannot write', async () => {
  const started = performance.now();
  await run('bash', [`${root}scripts/demo.sh`], {
    env: { ...env, STORE: 'redis' },
    timeout: 600_000,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`STORE=redis scripts/demo.sh failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  await waitFor(
    '3 chat servers in Traefik, from Redis',
    async () => {
      const service = (await traefikApi('/api/http/services/chat@redis').catch(() => undefined)) as
        { loadBalancer?: { servers?: unknown[] } } | undefined;
      return service?.loadBalancer?.servers?.length === 3 ? true : undefined;
    },
    120_000,
  );
  process.stdout.write(
    `# Redis variant ready through Traefik ${((performance.now() - started) / 1000).toFixed(1)} s after its deploy began\n`,
  );
  const routers = (await traefikApi('/api/http/routers')) as { name: string }[];
  assert.ok(
    routers.some((router) => router.name === 'chat@redis'),
    `the chat router comes from Redis: ${routers.map((router) => router.name).join(', ')}`,
  );
  assert.ok(!routers.some((router) => router.name.endsWith('@etcd')), 'nothing from etcd any more');
  const page = await httpGet(BASE, '/wsk/socket.io/?EIO=4&transport=polling');
  assert.equal(page.status, 200, page.body);
  const read = await storeCli('--scan', '--pattern', 'traefik/http/routers/chat/*');
  assert.ok(
    read.ok && read.output.includes('traefik/http/routers/chat/rule'),
    `Traefik's (default) user reads the routes: ${read.output}`,
  );
  const write = await storeCli('SET', 'traefik/http/routers/evil/rule', 'Host(`evil`)');
  assert.equal(write.ok, false, `Traefik's user wrote a route: ${write.output}`);
  assert.match(write.output, /NOPERM/);
  // Nor anything beyond what Traefik's provider sends (issue 26, point 4): pausing or killing
  // clients, publishing, listing every key, changing the configuration.
  for (const command of [
    ['CLIENT', 'PAUSE', '10000'],
    ['CLIENT', 'KILL', 'TYPE', 'normal'],
    ['PUBLISH', '__keyspace@0__:traefik/x', 'set'],
    ['KEYS', '*'],
    ['CONFIG', 'SET', 'notify-keyspace-events', ''],
  ]) {
    const refused = await storeCli(...command);
    assert.equal(refused.ok, false, `Traefik's user ran ${command.join(' ')}: ${refused.output}`);
    assert.match(refused.output, /NOPERM/, command.join(' '));
  }
  const password = readFileSync(`${SECRETS_DIR}/redis-appproxy.password`, 'utf8').trim();
  const asAppproxy = (...command: string[]) => storeCli('--user', 'appproxy', '--pass', password, ...command);
  const own = await asAppproxy('GET', 'appproxy/store/epoch');
  assert.ok(own.ok && /^[0-9a-f]{16}$/m.test(own.output), `appproxy's user reads its bookkeeping: ${own.output}`);
  // appproxy's user: its scripts and reads, on its keys, and nothing that governs Redis (issue 26,
  // point 4). The daemon above ran with exactly these rights.
  for (const command of [
    ['FLUSHALL'],
    ['CONFIG', 'SET', 'notify-keyspace-events', ''],
    ['ACL', 'SETUSER', 'default', 'on', '+@all'],
    ['KEYS', '*'],
    ['CLIENT', 'KILL', 'TYPE', 'normal'],
    ['SET', 'elsewhere/x', '1'],
  ]) {
    const refused = await asAppproxy(...command);
    assert.equal(refused.ok, false, `appproxy's user ran ${command.join(' ')}: ${refused.output}`);
    assert.match(refused.output, /NOPERM/, command.join(' '));
  }
});
