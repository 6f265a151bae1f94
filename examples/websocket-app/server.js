// socket.io 4 demo: several replicas behind Traefik, sticky sessions, Redis adapter.
//
// Plain JavaScript (ESM) on Node 24, no build step.
//
// Environment:
//   PORT       HTTP port (default 5000)
//   REPLICA    id shown to clients (default: the host name, i.e. the container's hostname)
//   REDIS_URL  Redis for the socket.io adapter (default redis://redis:6379)
//
// HTTP:
//   GET /                      the page (public/index.html, app.js, style.css)
//   GET /health                200 {status:"ok", replica} once Redis is connected, 503 otherwise
//   GET /stats                 JSON: this replica, its clients and transports, all replicas seen
//   /socket.io/...             socket.io (client bundle at /socket.io/socket.io.js)
//
// socket.io events (server -> client): welcome, transport, chat, tick, replicas, bye
//                  (client -> server): chat

import http from 'node:http';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';

const PORT = parsePort(process.env.PORT, 5000);
const REPLICA = (process.env.REPLICA ?? '').trim() || os.hostname();
const REDIS_URL = process.env.REDIS_URL || 'redis://redis:6379';
const TICK_MS = 2_000;
const REPLICA_TTL_MS = 10_000;
const SHUTDOWN_DEADLINE_MS = 4_500; // exit within 5 s of SIGTERM
const MAX_TEXT = 500;

function parsePort(value, fallback) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`[${new Date().toISOString()}] invalid PORT ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return n;
}

function log(msg) {
  console.log(`[${new Date().toISOString()}] [replica ${REPLICA}] ${msg}`);
}

function redactUrl(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable REDIS_URL)';
  }
}

// ---------------------------------------------------------------------------
// Static files (small, read once)

const PUBLIC = new URL('./public/', import.meta.url);
const STATIC = new Map(
  [
    ['/', 'index.html', 'text/html; charset=utf-8'],
    ['/index.html', 'index.html', 'text/html; charset=utf-8'],
    ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
    ['/style.css', 'style.css', 'text/css; charset=utf-8'],
  ].map(([route, file, type]) => [route, { body: readFileSync(new URL(file, PUBLIC)), type }]),
);

// ---------------------------------------------------------------------------
// State

let redisReady = false; // adapter installed and both Redis connections up
let shuttingDown = false;

/** replica id -> { clients, lastSeen (ms epoch) } ; entries older than REPLICA_TTL_MS are dropped */
const replicas = new Map();

function pruneReplicas(now = Date.now()) {
  for (const [id, r] of replicas) {
    if (now - r.lastSeen > REPLICA_TTL_MS) replicas.delete(id);
  }
}

function replicasSnapshot() {
  pruneReplicas();
  const now = Date.now();
  const out = {};
  for (const [id, r] of [...replicas].sort(([a], [b]) => a.localeCompare(b))) {
    out[id] = { clients: r.clients, lastSeen: new Date(r.lastSeen).toISOString(), ageMs: now - r.lastSeen };
  }
  return out;
}

// ---------------------------------------------------------------------------
// HTTP

function sendJson(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
    'cache-control': 'no-store',
  });
  res.end(data);
}

function localSockets() {
  return io.of('/').sockets;
}

function handleRequest(req, res) {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' });
    res.end();
    return;
  }

  if (pathname === '/health') {
    if (shuttingDown) return sendJson(res, 503, { status: 'shutting-down', replica: REPLICA });
    if (!redisReady) return sendJson(res, 503, { status: 'waiting-for-redis', replica: REPLICA });
    return sendJson(res, 200, { status: 'ok', replica: REPLICA });
  }

  if (pathname === '/stats') {
    const transports = {};
    for (const s of localSockets().values()) {
      const t = s.conn.transport.name;
      transports[t] = (transports[t] ?? 0) + 1;
    }
    return sendJson(res, 200, {
      replica: REPLICA,
      redis: redisReady ? 'connected' : 'disconnected',
      shuttingDown,
      uptimeSeconds: Math.round(process.uptime()),
      clients: localSockets().size,
      transports,
      replicas: replicasSnapshot(),
    });
  }

  // Before socket.io has been attached (Redis not reached yet) its paths land here.
  if (pathname.startsWith('/socket.io/')) {
    return sendJson(res, 503, { status: 'waiting-for-redis', replica: REPLICA });
  }

  const file = STATIC.get(pathname);
  if (file) {
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'x-replica': REPLICA,
    });
    res.end(method === 'HEAD' ? undefined : file.body);
    return;
  }

  sendJson(res, 404, { error: 'not found', path: pathname });
}

const httpServer = http.createServer(handleRequest);
httpServer.keepAliveTimeout = 5_000;

// ---------------------------------------------------------------------------
// socket.io

// Default path /socket.io and default transports (polling first, then upgrade to websocket):
// the long-polling requests of one session must all reach the same replica, which is what the
// sticky cookie in Traefik guarantees. socket.io's own `cookie` option stays off (its default
// cookie name is `io`; the sticky cookie must use another name).
const io = new Server({
  serveClient: true,
  maxHttpBufferSize: 16 * 1024,
  pingInterval: 10_000,
  pingTimeout: 5_000,
  // Refuse new sessions until the Redis adapter is in place, and while shutting down.
  // The client sees a connect error and retries with backoff (possibly on another replica).
  allowRequest: (_req, callback) => callback(null, redisReady && !shuttingDown),
});

io.on('connection', (socket) => {
  const transport = socket.conn.transport.name;
  socket.emit('welcome', { replica: REPLICA, transport, id: socket.id });
  socket.emit('replicas', replicasSnapshot());

  socket.conn.on('upgrade', () => {
    socket.emit('transport', { replica: REPLICA, transport: socket.conn.transport.name });
  });

  socket.on('chat', (msg) => {
    const text = typeof msg?.text === 'string' ? msg.text.trim().slice(0, MAX_TEXT) : '';
    if (!text) return;
    // io.emit goes through the Redis adapter: clients of every replica receive it.
    io.emit('chat', { fromReplica: REPLICA, text, at: new Date().toISOString() });
  });
});

// Ticks of the other replicas (server-side, through the Redis adapter).
io.on('tick', (t) => {
  if (typeof t?.fromReplica !== 'string' || !Number.isFinite(t?.clients)) return;
  replicas.set(t.fromReplica, { clients: t.clients, lastSeen: Date.now() });
});
io.on('bye', (b) => {
  if (typeof b?.fromReplica === 'string') replicas.delete(b.fromReplica);
});

function tick() {
  if (!redisReady || shuttingDown) return;
  const payload = { fromReplica: REPLICA, clients: localSockets().size, at: new Date().toISOString() };
  replicas.set(REPLICA, { clients: payload.clients, lastSeen: Date.now() });
  pruneReplicas();
  io.serverSideEmit('tick', payload); // other replicas' /stats
  io.emit('tick', payload); // every page, on every replica
}

// ---------------------------------------------------------------------------
// Redis: connect with backoff, then install the adapter and attach socket.io

function backoff(retries) {
  const base = Math.min(250 * 2 ** Math.min(retries, 6), 10_000);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

function makeRedisClient(role) {
  let lastError = '';
  let lastErrorLogged = 0;
  const client = createClient({
    url: REDIS_URL,
    socket: {
      connectTimeout: 3_000,
      reconnectStrategy: (retries, err) => {
        if (shuttingDown) return false;
        const delay = backoff(retries);
        if (retries < 3 || retries % 10 === 0) {
          log(
            `redis ${role}: not reachable (${err?.code ?? err?.message ?? err}), retry #${retries + 1} in ${delay} ms`,
          );
        }
        return delay;
      },
    },
  });
  client.on('error', (err) => {
    // Must be handled or node-redis throws; log each distinct error at most every 10 s.
    const text = err?.code ?? err?.message ?? String(err);
    const now = Date.now();
    if (text !== lastError || now - lastErrorLogged > 10_000) {
      log(`redis ${role}: ${text}`);
      lastError = text;
      lastErrorLogged = now;
    }
  });
  client.on('ready', () => {
    log(`redis ${role}: connected to ${redactUrl(REDIS_URL)}`);
    updateRedisReady();
  });
  client.on('end', () => updateRedisReady());
  client.on('reconnecting', () => updateRedisReady());
  return client;
}

let pubClient;
let subClient;
let adapterInstalled = false;

function updateRedisReady() {
  const ready = Boolean(adapterInstalled && pubClient?.isReady && subClient?.isReady);
  if (ready !== redisReady) {
    redisReady = ready;
    if (ready) log('redis adapter ready: /health is 200');
    else if (!shuttingDown) log('redis connection lost: /health is 503 and new sessions are refused until it is back');
  }
}

async function connectRedis() {
  log(`connecting to redis at ${redactUrl(REDIS_URL)} (/health is 503 until connected)`);
  pubClient = makeRedisClient('pub');
  subClient = makeRedisClient('sub');
  // connect() keeps retrying through reconnectStrategy until the first success.
  await Promise.all([pubClient.connect(), subClient.connect()]);
  if (shuttingDown) return;
  io.adapter(createAdapter(pubClient, subClient));
  io.attach(httpServer);
  adapterInstalled = true;
  updateRedisReady();
}

// ---------------------------------------------------------------------------
// Start and graceful shutdown

const tickTimer = setInterval(tick, TICK_MS);

httpServer.listen(PORT, () => {
  log(`listening on :${httpServer.address().port} (node ${process.version})`);
  connectRedis().catch((err) => {
    if (shuttingDown) return;
    log(`redis: giving up: ${err?.message ?? err}`);
    process.exit(1);
  });
});

httpServer.on('error', (err) => {
  log(`http server error: ${err.message}`);
  process.exit(1);
});

async function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`${signal}: shutting down (clients will reconnect to another replica)`);
  const deadline = setTimeout(() => {
    log('shutdown deadline reached, exiting');
    process.exit(0);
  }, SHUTDOWN_DEADLINE_MS);
  deadline.unref();
  clearInterval(tickTimer);

  try {
    if (adapterInstalled) {
      // Let the others drop this replica from their tables right away.
      io.serverSideEmit('bye', { fromReplica: REPLICA }); // other replicas' /stats
      io.emit('bye', { fromReplica: REPLICA }); // every page
    }
    // Closing the engine drops every connection without a socket.io "disconnect" packet,
    // so clients see "transport close" and reconnect (through Traefik: to a live replica).
    // io.close() also closes the HTTP server (stops accepting).
    const closed = adapterInstalled ? io.close() : new Promise((resolve) => httpServer.close(resolve));
    httpServer.closeIdleConnections();
    setTimeout(() => httpServer.closeAllConnections(), 1_000).unref();
    await closed;
    await Promise.allSettled(
      [pubClient, subClient].filter((c) => c?.isOpen).map((c) => (c.isReady ? c.close() : c.destroy())),
    );
  } catch (err) {
    log(`shutdown: ${err?.message ?? err}`);
  }
  log('bye');
  process.exit(0);
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
