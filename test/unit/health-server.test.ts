import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { startHealthServer, type HealthServerPages } from '../../src/daemon/health-server.ts';
import { TraefikConfigPage, type TraefikTree } from '../../src/daemon/traefik-config-page.ts';

// The daemon's listener (issue 26, point 1): probes and metrics for everyone; explain, apps,
// traefiks and status, which show labels, keys and routes and cost work, for loopback or the bearer
// token alone; names checked before anything reaches Docker; explains limited in number.

const ready = { reasons: () => [] };
const TOKEN = 'a-token-of-24-characters';

async function serverWith(pages: HealthServerPages) {
  return startHealthServer('127.0.0.1:0', ready, new Registry(), pages);
}

const everyPage = (asked: string[]): HealthServerPages => ({
  explain: async (name) => {
    asked.push(name);
    return { status: 200, body: { name } };
  },
  apps: () => [],
  traefiks: () => ({ traefiks: [] }),
  status: () => '<html></html>',
  traefikConfig: () => ({ status: 200, body: '{}', etag: '"7-1"' }),
});

test('listener: probes and metrics answer anyone; the pages answer loopback, and others only with the token', async () => {
  const asked: string[] = [];
  const server = await serverWith({ ...everyPage(asked), token: TOKEN });
  try {
    const outside = { remoteAddress: '10.231.0.9' };
    for (const url of ['/livez', '/readyz', '/metrics'])
      assert.equal((await server.inject({ url, ...outside })).statusCode, 200, url);
    for (const url of ['/explain/chat', '/apps', '/traefiks', '/status', '/traefik/dynamic']) {
      const refused = await server.inject({ url, ...outside });
      assert.equal(refused.statusCode, 401, `${url} from another host without the token`);
      assert.equal(refused.headers['www-authenticate'], 'Bearer');
      assert.equal(
        (await server.inject({ url, ...outside, headers: { authorization: 'Bearer not-the-token-at-all' } }))
          .statusCode,
        401,
        `${url} with a wrong token`,
      );
      assert.equal(
        (await server.inject({ url, ...outside, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode,
        200,
        `${url} with the token`,
      );
      assert.equal((await server.inject({ url, remoteAddress: '127.0.0.1' })).statusCode, 200, `${url} from loopback`);
      assert.equal((await server.inject({ url, remoteAddress: '::1' })).statusCode, 200, `${url} from ::1`);
    }
    assert.deepEqual(asked, ['chat', 'chat', 'chat'], 'explain ran only for the allowed requests');
  } finally {
    await server.close();
  }
});

test('listener: without a token the pages answer loopback alone, and say how to open them', async () => {
  const server = await serverWith(everyPage([]));
  try {
    const refused = await server.inject({ url: '/explain/chat', remoteAddress: '192.0.2.7' });
    assert.equal(refused.statusCode, 401);
    assert.match(String(refused.json().error), /answers loopback alone .*--http-token/);
    assert.equal((await server.inject({ url: '/explain/chat', remoteAddress: '127.0.0.1' })).statusCode, 200);
  } finally {
    await server.close();
  }
});

test('listener: a name that is no Docker name never reaches explain (the encoded path of the review: ...%2Fjson%3Fsize%3D1%23)', async () => {
  const asked: string[] = [];
  const server = await serverWith(everyPage(asked));
  try {
    for (const url of [
      '/explain/0123456789ab%2Fjson%3Fsize%3D1%23',
      '/explain/..%2F..%2Fimages%2Fjson',
      '/explain/-flag',
      `/explain/${'a'.repeat(256)}`,
      '/explain/a%20b',
    ]) {
      const reply = await server.inject({ url, remoteAddress: '127.0.0.1' });
      assert.equal(reply.statusCode, 400, url);
      assert.match(String(reply.json().error), /not a container or Swarm service name/);
    }
    assert.deepEqual(asked, []);
    for (const name of ['chat', 'appproxy_chat', 'web.1', '0123456789ab', 'a-b_c.d', 'a'.repeat(255)])
      assert.equal(
        (await server.inject({ url: `/explain/${name}`, remoteAddress: '127.0.0.1' })).statusCode,
        200,
        name,
      );
  } finally {
    await server.close();
  }
});

test('listener: at most two explains at once; a third gets 429 at once, not a place in a queue', async () => {
  const releases: (() => void)[] = [];
  const server = await serverWith({
    explain: (name) => new Promise((resolve) => releases.push(() => resolve({ status: 200, body: { name } }))),
  });
  try {
    const first = server.inject({ url: '/explain/one', remoteAddress: '127.0.0.1' });
    const second = server.inject({ url: '/explain/two', remoteAddress: '127.0.0.1' });
    while (releases.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const third = await server.inject({ url: '/explain/three', remoteAddress: '127.0.0.1' });
    assert.equal(third.statusCode, 429);
    assert.equal(third.headers['retry-after'], '1');
    for (const release of releases) release();
    assert.equal((await first).statusCode, 200);
    assert.equal((await second).statusCode, 200);
    // Once they are done, the next one is served.
    const fourth = server.inject({ url: '/explain/four', remoteAddress: '127.0.0.1' });
    while (releases.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    releases[2]?.();
    assert.equal((await fourth).statusCode, 200);
  } finally {
    await server.close();
  }
});

test('/traefik/dynamic: the mirror as JSON, made once per state of the mirror (revision and changes), named by its ETag; 503 while the mirror is not current', async () => {
  let tree: TraefikTree | undefined;
  let reads = 0;
  const entriesOf = (pairs: [string, string][]): Iterable<readonly [string, string]> => ({
    *[Symbol.iterator]() {
      reads += 1;
      yield* pairs;
    },
  });
  const page = new TraefikConfigPage('traefik', () => tree);
  const server = await serverWith({ traefikConfig: () => page.answer() });
  try {
    const notYet = await server.inject({ url: '/traefik/dynamic', remoteAddress: '127.0.0.1' });
    assert.equal(notYet.statusCode, 503);
    assert.match(notYet.json<{ error: string }>().error, /not current/);

    tree = { revision: 5n, changes: 1, entries: entriesOf([['traefik/http/routers/r/rule', 'Host(`a`)']]) };
    const first = await server.inject({ url: '/traefik/dynamic', remoteAddress: '127.0.0.1' });
    assert.equal(first.statusCode, 200);
    assert.deepEqual(first.json(), { http: { routers: { r: { rule: 'Host(`a`)' } } } });
    assert.equal(first.headers['etag'], '"5-1"');
    assert.equal(first.headers['cache-control'], 'no-store');
    const again = await server.inject({ url: '/traefik/dynamic', remoteAddress: '127.0.0.1' });
    assert.equal(again.body, first.body);
    assert.equal(reads, 1, 'the mirror was read once for one state');
    const unchanged = await server.inject({
      url: '/traefik/dynamic',
      remoteAddress: '127.0.0.1',
      headers: { 'if-none-match': '"5-1"' },
    });
    assert.equal(unchanged.statusCode, 304);

    tree = { revision: 6n, changes: 2, entries: entriesOf([['traefik/http/routers/r/rule', 'Host(`b`)']]) };
    const next = await server.inject({ url: '/traefik/dynamic', remoteAddress: '127.0.0.1' });
    assert.deepEqual(next.json(), { http: { routers: { r: { rule: 'Host(`b`)' } } } });
    assert.equal(reads, 2);

    // Another owner's change held while this owner's transactions were in flight is applied after
    // a newer revision of its own: the revision stays, the mirror's changes move, the body follows.
    tree = { revision: 6n, changes: 3, entries: entriesOf([['traefik/http/routers/r/rule', 'Host(`c`)']]) };
    const held = await server.inject({ url: '/traefik/dynamic', remoteAddress: '127.0.0.1' });
    assert.deepEqual(held.json(), { http: { routers: { r: { rule: 'Host(`c`)' } } } });
    assert.equal(held.headers['etag'], '"6-3"');
  } finally {
    await server.close();
  }
});
