// Tests of the demo app itself (no Traefik): a local redis-server and two replicas "a" and "b".
//
// Run with Node 24:  cd examples/websocket-app && ../../node_modules/.bin/node --test test/
// Needs redis-server (Debian package `redis-server`). All traffic goes to 127.0.0.1.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { io as ioClient } from 'socket.io-client';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const SERVER = fileURLToPath(new URL('../server.js', import.meta.url));

function redisServerBinary() {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => srv.listen(0, '127.0.0.1', resolve).on('error', reject));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function waitFor(what, fn, { timeoutMs = 10_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** One process we started, with its output kept for failure messages. */
function startProcess(cmd, args, env, label) {
  const child = spawn(cmd, args, { cwd: APP_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { child, label, output: '', exited: null };
  const keep = (d) => {
    proc.output += d.toString();
    if (proc.output.length > 20_000) proc.output = proc.output.slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  proc.exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      proc.exited = { code, signal };
      resolve(proc.exited);
    });
  });
  return proc;
}

async function stopProcess(proc, { timeoutMs = 6_000 } = {}) {
  if (!proc || proc.exited) return proc?.exited;
  process.kill(proc.child.pid, 'SIGTERM');
  const r = await Promise.race([proc.exitPromise, sleep(timeoutMs, null, { ref: false })]);
  if (r) return r;
  process.kill(proc.child.pid, 'SIGKILL');
  return proc.exitPromise;
}

async function startRedis(port) {
  const proc = startProcess(
    redisBin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    {},
    `redis:${port}`,
  );
  await waitFor(`redis-server on ${port}`, () => redisPing(port), { timeoutMs: 10_000 });
  return proc;
}

function redisPing(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.on('error', () => done(false));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
    s.on('connect', () => s.write('PING\r\n'));
  });
}

async function startApp(replica, redisPort, { waitHealthy = true } = {}) {
  const port = await freePort();
  const proc = startProcess(
    process.execPath,
    [SERVER],
    { PORT: String(port), REPLICA: replica, REDIS_URL: `redis://127.0.0.1:${redisPort}`, NODE_ENV: 'test' },
    `app:${replica}`,
  );
  proc.port = port;
  proc.base = `http://127.0.0.1:${port}`;
  if (waitHealthy) {
    await waitFor(`replica ${replica} healthy`, async () => {
      if (proc.exited) throw new Error(`exited ${JSON.stringify(proc.exited)}:\n${proc.output}`);
      return (await fetch(`${proc.base}/health`)).status === 200;
    });
  }
  return proc;
}

function connectClient(base, opts = {}) {
  return ioClient(base, { transports: ['polling', 'websocket'], reconnection: false, forceNew: true, ...opts });
}

function once(socket, event, timeoutMs = 8_000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "${event}" within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (arg) => {
      clearTimeout(t);
      resolve(arg);
    });
  });
}

// A missing Redis fails the suite loudly (bash scripts/test-env.sh install provides it).
const redisBin = redisServerBinary();

let redisPort;
let redis;
let a;
let b;
const clients = [];
const extraProcs = [];

before(async () => {
  if (!redisBin)
    throw new Error(
      'redis-server is not installed: run `bash scripts/test-env.sh install` (or apt-get install redis-server)',
    );
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  [a, b] = await Promise.all([startApp('a', redisPort), startApp('b', redisPort)]);
});

after(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all([a, b, ...extraProcs].map((p) => stopProcess(p)));
  if (redis) await stopProcess(redis);
});

test('GET /health answers 200 with the replica id', async () => {
  for (const [proc, id] of [
    [a, 'a'],
    [b, 'b'],
  ]) {
    const res = await fetch(`${proc.base}/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /application\/json/);
    assert.deepEqual(await res.json(), { status: 'ok', replica: id });
  }
});

test('GET / serves the page with relative URLs and the stable element ids', async () => {
  const res = await fetch(`${a.base}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/html/);
  const html = await res.text();
  for (const id of ['replica', 'transport', 'status', 'messages', 'text', 'send', 'replicas']) {
    assert.match(html, new RegExp(`id="${id}"`), `element #${id}`);
  }
  // Behind a stripped path prefix only relative URLs work: no src/href starting with "/" or a
  // scheme (data: excepted). The inline loader adds style.css and the two scripts, relative too.
  const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  for (const u of urls.filter((x) => !x.startsWith('data:'))) {
    assert.doesNotMatch(u, /^(\/|[a-z]+:)/i, `relative URL: ${u}`);
  }
  assert.match(html, /\['socket\.io\/socket\.io\.js', 'app\.js'\]/);
  assert.match(html, /css\.href = 'style\.css'/);
  assert.doesNotMatch(html, /['"]\/(socket\.io|app\.js|style\.css)/);

  for (const [path, type] of [
    ['/app.js', /javascript/],
    ['/style.css', /text\/css/],
    ['/socket.io/socket.io.js', /javascript/],
  ]) {
    const r = await fetch(`${a.base}${path}`);
    assert.equal(r.status, 200, path);
    assert.match(r.headers.get('content-type'), type, path);
    await r.arrayBuffer();
  }
  const appJs = await (await fetch(`${a.base}/app.js`)).text();
  assert.match(appJs, /path: pathPrefix\(location\.pathname\) \+ '\/socket\.io'/);

  assert.equal((await fetch(`${a.base}/nope`)).status, 404);
});

test('the page derives the socket.io path from its own location (prefix or not)', async () => {
  const appJs = await (await fetch(`${a.base}/app.js`)).text();
  const src = appJs.match(/function pathPrefix\(pathname\) \{[\s\S]*?\n  \}/)[0];
  const pathPrefix = new Function(`${src}; return pathPrefix;`)();
  assert.equal(pathPrefix('/'), '');
  assert.equal(pathPrefix('/index.html'), '');
  assert.equal(pathPrefix('/wsk/'), '/wsk');
  assert.equal(pathPrefix('/wsk/index.html'), '/wsk');
  assert.equal(pathPrefix('/a/b/'), '/a/b');
});

test('welcome names the replica; the transport upgrades from polling to websocket', async () => {
  const c = connectClient(a.base);
  clients.push(c);
  const welcome = once(c, 'welcome');
  const transport = once(c, 'transport');
  const w = await welcome;
  assert.equal(w.replica, 'a');
  assert.equal(w.transport, 'polling');
  assert.deepEqual(await transport, { replica: 'a', transport: 'websocket' });
  assert.equal(c.io.engine.transport.name, 'websocket');
  c.disconnect();
});

test('a chat sent through replica b reaches a client of replica a (Redis adapter)', async () => {
  const ca = connectClient(a.base);
  const cb = connectClient(b.base);
  clients.push(ca, cb);
  // Both listeners first: b's welcome may well arrive before a's.
  const [welcomeA, welcomeB] = await Promise.all([once(ca, 'welcome'), once(cb, 'welcome')]);
  assert.equal(welcomeA.replica, 'a');
  assert.equal(welcomeB.replica, 'b');

  const text = `hello from b ${Date.now()}`;
  const got = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('chat not received on a')), 8_000);
    ca.on('chat', (m) => {
      if (m.text === text) {
        clearTimeout(t);
        resolve(m);
      }
    });
  });
  const echo = once(cb, 'chat');
  cb.emit('chat', { text: `  ${text}  ` });
  const m = await got;
  assert.equal(m.fromReplica, 'b');
  assert.equal(m.text, text);
  assert.ok(!Number.isNaN(Date.parse(m.at)));
  assert.equal((await echo).text, text, 'the sender gets its own broadcast too');

  // Empty and non-string messages are ignored.
  let stray = null;
  ca.on('chat', (x) => {
    if (x.text !== text) stray = x;
  });
  cb.emit('chat', { text: '   ' });
  cb.emit('chat', { text: 42 });
  cb.emit('chat', 'plain');
  await sleep(500);
  assert.equal(stray, null);
  ca.disconnect();
  cb.disconnect();
});

test("ticks of both replicas reach every client, with each replica's local client count", async () => {
  const ca = connectClient(a.base);
  const cb1 = connectClient(b.base);
  const cb2 = connectClient(b.base);
  clients.push(ca, cb1, cb2);
  await Promise.all([once(ca, 'connect'), once(cb1, 'connect'), once(cb2, 'connect')]);
  const seen = new Map();
  ca.on('tick', (t) => seen.set(t.fromReplica, t.clients));
  // Ticks are every 2 s; counts settle after one round.
  await waitFor('ticks with counts a=1 b=2', () => seen.get('a') === 1 && seen.get('b') === 2, { timeoutMs: 9_000 });

  for (const proc of [a, b]) {
    const stats = await (await fetch(`${proc.base}/stats`)).json();
    assert.equal(stats.redis, 'connected');
    assert.deepEqual(Object.keys(stats.replicas).sort(), ['a', 'b']);
    assert.equal(stats.replicas.a.clients, 1);
    assert.equal(stats.replicas.b.clients, 2);
    assert.ok(stats.replicas.a.ageMs < 10_000);
  }
  const statsB = await (await fetch(`${b.base}/stats`)).json();
  assert.equal(statsB.replica, 'b');
  assert.equal(statsB.clients, 2);
  ca.disconnect();
  cb1.disconnect();
  cb2.disconnect();
});

test('a long-polling session is unknown on the other replica: HTTP 400 (what stickiness fixes)', async () => {
  const hs = await fetch(`${a.base}/socket.io/?EIO=4&transport=polling`);
  assert.equal(hs.status, 200);
  const body = await hs.text();
  assert.equal(body[0], '0', `engine.io open packet, got ${body.slice(0, 80)}`);
  const { sid } = JSON.parse(body.slice(1));
  assert.ok(sid);

  const wrong = await fetch(`${b.base}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`);
  assert.equal(wrong.status, 400);
  assert.deepEqual(await wrong.json(), { code: 1, message: 'Session ID unknown' });

  // The same poll on the replica that owns the session works (socket.io CONNECT, then its answer).
  const connect = await fetch(`${a.base}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
    method: 'POST',
    body: '40',
  });
  assert.equal(connect.status, 200);
  await connect.text();
  const right = await fetch(`${a.base}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`);
  assert.equal(right.status, 200);
  assert.match(await right.text(), /^40/);
  // Close the session politely (engine.io close packet).
  await (
    await fetch(`${a.base}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
      method: 'POST',
      body: '1',
    })
  ).text();
});

test('without Redis at start: /health is 503 and sessions are refused, until Redis comes up', async () => {
  const laterRedisPort = await freePort();
  const c = await startApp('late', laterRedisPort, { waitHealthy: false });
  extraProcs.push(c);
  await waitFor('late replica listening', async () => (await fetch(`${c.base}/health`)).status === 503);
  const health = await (await fetch(`${c.base}/health`)).json();
  assert.deepEqual(health, { status: 'waiting-for-redis', replica: 'late' });
  const hs = await fetch(`${c.base}/socket.io/?EIO=4&transport=polling`);
  assert.equal(hs.status, 503);
  await hs.arrayBuffer();
  assert.match(c.output, /connecting to redis/);
  assert.match(c.output, /not reachable/);

  const r2 = await startRedis(laterRedisPort);
  extraProcs.push(r2);
  await waitFor('late replica healthy', async () => (await fetch(`${c.base}/health`)).status === 200, {
    timeoutMs: 15_000,
  });
  assert.match(c.output, /redis adapter ready/);
  const sock = connectClient(c.base);
  clients.push(sock);
  assert.equal((await once(sock, 'welcome')).replica, 'late');
  sock.disconnect();
});

test('SIGTERM: clients are dropped so that they reconnect elsewhere, the process exits 0 within 5 s', async () => {
  const d = await startApp('doomed', redisPort);
  extraProcs.push(d);
  const watcher = connectClient(a.base);
  const victim = connectClient(d.base, { reconnection: true, reconnectionDelay: 10_000 });
  clients.push(watcher, victim);
  await Promise.all([once(watcher, 'welcome'), once(victim, 'welcome')]);
  await once(victim, 'transport'); // on websocket
  const bye = new Promise((resolve) => {
    watcher.on('bye', (x) => x.fromReplica === 'doomed' && resolve(x));
  });
  const disconnected = once(victim, 'disconnect');

  const t0 = Date.now();
  process.kill(d.child.pid, 'SIGTERM');
  const reason = await disconnected;
  const exit = await Promise.race([d.exitPromise, sleep(6_000, null, { ref: false })]);
  const elapsed = Date.now() - t0;
  assert.ok(exit, `exited within 6 s\n${d.output}`);
  assert.deepEqual(exit, { code: 0, signal: null });
  // The 4.5 s deadline also exits 0: what matters is that the graceful path ended first.
  assert.ok(
    !d.output.includes('shutdown deadline reached'),
    `the graceful path finished before the deadline (exit after ${elapsed} ms)\n${d.output}`,
  );
  // Not "io server disconnect" (which would stop the client's automatic reconnection).
  assert.equal(reason, 'transport close');
  assert.equal(victim.active, true, 'the client keeps reconnecting');
  victim.disconnect();
  await bye;
  assert.match(d.output, /SIGTERM: shutting down/);
  const stats = await (await fetch(`${a.base}/stats`)).json();
  assert.ok(!('doomed' in stats.replicas), 'a dropped the replica that said bye');
});
