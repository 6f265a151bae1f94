import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino, type Logger } from 'pino';
import { ReadbackBook } from '../../src/core/readback/readback-book.ts';
import type { StoredResource } from '../../src/core/readback/traefik-view.ts';
import { TraefikReadback, type GetJson } from '../../src/readback/traefik-readback.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const quiet = pino({ level: 'silent' });

/** Traefik instances by API origin: what each shows (by API path), or down. */
class FakeTraefiks {
  readonly shown = new Map<string, Map<string, unknown>>();
  readonly down = new Set<string>();
  readonly requests: string[] = [];

  add(origin: string): void {
    this.shown.set(origin, new Map());
  }

  show(origin: string, path: string, body: unknown): void {
    this.shown.get(origin)?.set(path, body);
  }

  readonly get: GetJson = async (url) => {
    this.requests.push(url);
    const { origin, pathname } = new URL(url);
    if (this.down.has(origin) || !this.shown.has(origin))
      throw new Error('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    if (pathname === '/api/version') return { status: 200, body: { Version: '3.7.15' } };
    const body = this.shown.get(origin)?.get(decodeURIComponent(pathname));
    return body === undefined ? { status: 404, body: { message: 'not found' } } : { status: 200, body };
  };
}

function readbackOf(
  traefiks: FakeTraefiks,
  stored: Map<string, StoredResource>,
  options: { urls?: string[]; addresses?: () => string[]; logger?: Logger } = {},
) {
  const live: [string, number][] = [];
  let rounds = 0;
  const readback = new TraefikReadback({
    urls: options.urls ?? ['http://10.0.0.1:8080', 'http://10.0.0.2:8080'],
    provider: 'etcd',
    book: new ReadbackBook({ lagWarnMs: 30_000, minVersion: { major: 3, minor: 0, patch: 0 } }),
    stored: (resource) => stored.get(resource) ?? { present: false },
    logger: options.logger ?? quiet,
    onLive: (traefik, seconds) => live.push([traefik, seconds]),
    onRound: () => (rounds += 1),
    getJson: traefiks.get,
    resolve: async () => options.addresses?.() ?? [],
  });
  return { readback, live, rounds: () => rounds };
}

test('read-back: a commit is read in every Traefik, only what it touched, until live; its time to live is told', async () => {
  const traefiks = new FakeTraefiks();
  traefiks.add('http://10.0.0.1:8080');
  traefiks.add('http://10.0.0.2:8080');
  const stored = new Map<string, StoredResource>([
    ['http/routers/chat', { present: true }],
    ['http/services/chat', { present: true, servers: ['http://10.1.0.5:80'] }],
  ]);
  const { readback, live } = readbackOf(traefiks, stored);
  await readback.round();
  traefiks.requests.length = 0;
  readback.committed(['http/routers/chat', 'http/services/chat', 'tls/stores/default'], 7n);
  traefiks.show('http://10.0.0.1:8080', '/api/http/routers/chat@etcd', { status: 'enabled' });
  traefiks.show('http://10.0.0.1:8080', '/api/http/services/chat@etcd', {
    status: 'enabled',
    loadBalancer: { servers: [{ url: 'http://10.1.0.5:80' }] },
  });
  await readback.round();
  assert.deepEqual(
    traefiks.requests.sort(),
    [
      'http://10.0.0.1:8080/api/http/routers/chat%40etcd',
      'http://10.0.0.1:8080/api/http/services/chat%40etcd',
      'http://10.0.0.2:8080/api/http/routers/chat%40etcd',
      'http://10.0.0.2:8080/api/http/services/chat%40etcd',
    ],
    'the two resources the commit touched (a TLS store is not readable one by one), in each Traefik',
  );
  assert.deepEqual(
    live.map(([traefik]) => traefik),
    ['http://10.0.0.1:8080', 'http://10.0.0.1:8080'],
  );
  const [a, b] = readback.reports();
  assert.equal(a?.pending.length, 0);
  assert.deepEqual(
    b?.pending.map((entry) => [entry.resource, entry.why]),
    [
      ['http/routers/chat', 'not there yet'],
      ['http/services/chat', 'not there yet'],
    ],
  );
  traefiks.show('http://10.0.0.2:8080', '/api/http/routers/chat@etcd', { status: 'enabled' });
  traefiks.show('http://10.0.0.2:8080', '/api/http/services/chat@etcd', {
    loadBalancer: { servers: [{ url: 'http://10.1.0.5:80' }] },
  });
  traefiks.requests.length = 0;
  await readback.round();
  assert.equal(traefiks.requests.length, 2, 'only the Traefik that lacked them is read again');
  assert.equal(live.length, 4);
  assert.deepEqual(
    readback.reports().map((report) => report.pending.length),
    [0, 0],
  );
});

test('read-back: a Traefik that is behind costs one read a round, not one per awaited change', async () => {
  const traefiks = new FakeTraefiks();
  traefiks.add('http://10.0.0.1:8080');
  const stored = new Map<string, StoredResource>();
  const { readback } = readbackOf(traefiks, stored, { urls: ['http://10.0.0.1:8080'] });
  await readback.round();
  for (let index = 0; index < 100; index += 1) {
    stored.set(`http/routers/r${index}`, { present: true });
    readback.committed([`http/routers/r${index}`], BigInt(index + 1));
  }
  traefiks.requests.length = 0;
  await readback.round();
  assert.equal(
    traefiks.requests.length,
    8,
    'one batch of reads in flight, all not there: Traefik applies the tree at one revision, the later ones are not there either',
  );
});

test('read-back: an unreachable Traefik is marked, and a refusal is told once with its words', async () => {
  const { logger, lines } = capturedLogger();
  const traefiks = new FakeTraefiks();
  traefiks.add('http://10.0.0.1:8080');
  traefiks.add('http://10.0.0.2:8080');
  traefiks.down.add('http://10.0.0.2:8080');
  const stored = new Map<string, StoredResource>([['http/routers/chat', { present: true }]]);
  const { readback } = readbackOf(traefiks, stored, { logger });
  await readback.round();
  readback.committed(['http/routers/chat'], 3n);
  traefiks.show('http://10.0.0.1:8080', '/api/http/routers/chat@etcd', {
    status: 'disabled',
    error: ['middleware "auth@etcd" does not exist'],
  });
  await readback.round();
  await readback.round();
  const [a, b] = readback.reports();
  assert.deepEqual(
    a?.refused.map((entry) => [entry.resource, entry.error]),
    [['http/routers/chat', 'middleware "auth@etcd" does not exist']],
  );
  assert.equal(b?.reachable, false);
  assert.equal(b?.lastError, 'fetch failed (ECONNREFUSED)');
  const said = lines.map((line) => `${String(line['traefik'])} ${String(line['msg']).slice(0, 45)}`);
  assert.deepEqual(said, [
    "http://10.0.0.2:8080 Traefik's API does not answer: whether routes",
    'http://10.0.0.1:8080 Traefik refused http/routers/chat: middleware',
  ]);
});

test('read-back: a name stands for every address it resolves to, asked again each round', async () => {
  const traefiks = new FakeTraefiks();
  traefiks.add('http://10.0.0.1:8080');
  traefiks.add('http://10.0.0.2:8080');
  let addresses = ['10.0.0.2', '10.0.0.1'];
  const { readback } = readbackOf(traefiks, new Map(), {
    urls: ['http://tasks.traefik:8080'],
    addresses: () => addresses,
  });
  await readback.round();
  assert.deepEqual(
    readback.reports().map((report) => [report.id, report.source, report.version]),
    [
      ['http://10.0.0.1:8080', 'http://tasks.traefik:8080', '3.7.15'],
      ['http://10.0.0.2:8080', 'http://tasks.traefik:8080', '3.7.15'],
    ],
  );
  addresses = ['10.0.0.2'];
  await readback.round();
  assert.deepEqual(
    readback.reports().map((report) => report.id),
    ['http://10.0.0.2:8080'],
  );
});

test('read-back: a burst of commits is read back in one round', async () => {
  const traefiks = new FakeTraefiks();
  traefiks.add('http://10.0.0.1:8080');
  const stored = new Map<string, StoredResource>();
  const { readback, rounds } = readbackOf(traefiks, stored, { urls: ['http://10.0.0.1:8080'] });
  await readback.round();
  const before = rounds();
  readback.start();
  try {
    // The first round (start) and the burst's: the 50 commits fall within one coalescing window.
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let index = 0; index < 50; index += 1) {
      stored.set(`http/routers/r${index}`, { present: true });
      traefiks.show('http://10.0.0.1:8080', `/api/http/routers/r${index}@etcd`, { status: 'enabled' });
      readback.committed([`http/routers/r${index}`], BigInt(index + 1));
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
  } finally {
    readback.stop();
  }
  assert.equal(rounds() - before, 2, 'the start round and one for the burst');
  assert.equal(readback.reports()[0]?.pending.length, 0);
});
