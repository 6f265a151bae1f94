import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadbackBook } from '../../src/core/readback/readback-book.ts';
import { livenessLines, summarizeLiveness } from '../../src/core/readback/liveness-summary.ts';
import {
  apiPath,
  judge,
  readableResource,
  viewFromApi,
  type StoredResource,
} from '../../src/core/readback/traefik-view.ts';
import { formatTraefiksTable } from '../../src/render/traefiks-table.ts';
import { traefiksListing } from '../../src/daemon/traefiks-listing.ts';

const V30 = { major: 3, minor: 0, patch: 0 };
const V36 = { major: 3, minor: 6, patch: 0 };

test('read-back: which resources Traefik answers for one by one, and where', () => {
  const cases: [string, string | undefined][] = [
    ['http/routers/chat', '/api/http/routers/chat%40etcd'],
    ['http/services/chat', '/api/http/services/chat%40etcd'],
    ['http/middlewares/strip', '/api/http/middlewares/strip%40etcd'],
    ['tcp/routers/db', '/api/tcp/routers/db%40etcd'],
    ['tcp/middlewares/allow', '/api/tcp/middlewares/allow%40etcd'],
    ['udp/services/dns', '/api/udp/services/dns%40etcd'],
    ['udp/middlewares/x', undefined],
    ['http/serversTransports/t', undefined],
    ['tls/stores/default', undefined],
    ['http/models/m', undefined],
    ['http/routers', undefined],
  ];
  for (const [resource, path] of cases) {
    const readable = readableResource(resource);
    assert.equal(readable === undefined ? undefined : apiPath(readable, 'etcd'), path, resource);
  }
});

test("read-back: Traefik's answers become views (404 absent; status, errors, servers sorted); others are no answer", () => {
  assert.deepEqual(viewFromApi(404, { message: 'router not found' }), { found: false });
  assert.equal(viewFromApi(500, {}), undefined);
  assert.equal(viewFromApi(200, 'text'), undefined);
  assert.deepEqual(
    viewFromApi(200, {
      status: 'disabled',
      error: ['entryPoint "nope" doesn\'t exist', 'no valid entryPoint for this router'],
    }),
    {
      found: true,
      status: 'disabled',
      errors: ['entryPoint "nope" doesn\'t exist', 'no valid entryPoint for this router'],
    },
  );
  assert.deepEqual(
    viewFromApi(200, {
      status: 'enabled',
      loadBalancer: { servers: [{ url: 'http://b:80' }, { url: 'http://a:80' }] },
    }),
    { found: true, status: 'enabled', errors: [], servers: ['http://a:80', 'http://b:80'] },
  );
  assert.deepEqual(viewFromApi(200, { loadBalancer: { servers: [{ address: '10.0.0.1:5432' }] } }), {
    found: true,
    status: 'enabled',
    errors: [],
    servers: ['10.0.0.1:5432'],
  });
});

test('read-back: judging what a Traefik shows against what the store holds', () => {
  const present: StoredResource = { present: true };
  const absent: StoredResource = { present: false };
  const servers: StoredResource = { present: true, servers: ['http://a:80', 'http://b:80'] };
  const cases: [string, StoredResource, Parameters<typeof judge>[1], string][] = [
    ['added, shown enabled', present, { found: true, status: 'enabled', errors: [] }, 'live'],
    ['added, shown with a warning (served)', present, { found: true, status: 'warning', errors: ['w'] }, 'live'],
    ['added, not there yet', present, { found: false }, 'pending: not there yet'],
    [
      'added, disabled: refused with its words',
      present,
      { found: true, status: 'disabled', errors: ['e1', 'e2'] },
      'refused: e1; e2',
    ],
    [
      'added, disabled without a word',
      present,
      { found: true, status: 'disabled', errors: [] },
      'refused: disabled by Traefik',
    ],
    ['removed, gone', absent, { found: false }, 'live'],
    ['removed, still there', absent, { found: true, status: 'enabled', errors: [] }, 'pending: still there'],
    [
      'servers as in the store',
      servers,
      { found: true, status: 'enabled', errors: [], servers: ['http://a:80', 'http://b:80'] },
      'live',
    ],
    [
      'a server not there yet',
      servers,
      { found: true, status: 'enabled', errors: [], servers: ['http://a:80'] },
      'pending: other servers: 1 there, 2 in the store',
    ],
  ];
  for (const [name, stored, view, expected] of cases) {
    const judgement = judge(stored, view);
    const text =
      judgement.state === 'live'
        ? 'live'
        : judgement.state === 'pending'
          ? `pending: ${judgement.why}`
          : `refused: ${judgement.error}`;
    assert.equal(text, expected, name);
  }
});

function bookOf(...ids: string[]): ReadbackBook {
  const book = new ReadbackBook({ lagWarnMs: 30_000, minVersion: V36 });
  book.setInstances(ids.map((id) => ({ id, source: 'http://traefik:8080' })));
  for (const id of ids) book.answered(id, 0, { ok: true, version: '3.7.15' });
  return book;
}

test('read-back book: a commit is awaited in every instance, oldest first; a newer commit of a resource replaces the older', () => {
  const book = bookOf('http://a:8080', 'http://b:8080');
  book.committed(['http/routers/one', 'http/services/one'], '10', 1_000);
  book.committed(['http/routers/two'], '11', 2_000);
  book.committed(['http/routers/one'], '12', 3_000);
  assert.deepEqual(
    book.pendingOf('http://a:8080').map((entry) => [entry.resource, entry.revision]),
    [
      ['http/services/one', '10'],
      ['http/routers/two', '11'],
      ['http/routers/one', '12'],
    ],
  );
  // Live at the first read, 500 ms after the commit: it became live somewhere in between.
  assert.deepEqual(book.record('http://a:8080', 'http/services/one', { state: 'live' }, 1_500), { liveAfterMs: 250 });
  assert.deepEqual(
    book.record('http://a:8080', 'http/routers/two', { state: 'pending', why: 'not there yet' }, 2_500),
    {},
  );
  assert.equal(book.pendingOf('http://a:8080')[0]?.why, 'not there yet');
  assert.equal(book.pendingOf('http://b:8080').length, 3, 'the other instance still awaits all three');
  assert.equal(book.awaitedSince('http://b:8080', 'http/routers/one'), 3_000);
});

test('read-back book: the time to live is the middle of the interval after the last read that missed the change', () => {
  const book = bookOf('http://a:8080');
  book.committed(['http/routers/one'], '10', 1_000);
  book.committed(['http/routers/two'], '11', 1_100);
  book.record('http://a:8080', 'http/routers/one', { state: 'pending', why: 'not there yet' }, 1_400);
  // Found at 1,500: between the miss at 1,400 and then.
  assert.deepEqual(book.record('http://a:8080', 'http/routers/one', { state: 'live' }, 1_500), { liveAfterMs: 450 });
  // Never read while missing, but committed after one that was missing at 1,400: missing then too.
  assert.deepEqual(book.record('http://a:8080', 'http/routers/two', { state: 'live' }, 1_500), { liveAfterMs: 350 });
});

test('read-back book: current, lag, and an instance that stopped while the others apply, with the likely cause', () => {
  const book = bookOf('http://a:8080', 'http://b:8080');
  book.committed(['http/routers/one'], '10', 0);
  book.record('http://a:8080', 'http/routers/one', { state: 'live' }, 200);
  let [a, b] = book.reports(10_000);
  assert.equal(a?.current, true);
  assert.equal(b?.current, true, 'within the lag limit');
  assert.equal(b?.lagMs, 10_000);
  assert.equal(b?.stopped, undefined);
  [a, b] = book.reports(40_000);
  assert.equal(a?.lagMs, 0);
  assert.equal(b?.current, false);
  assert.deepEqual(b?.stopped, {
    since: 0,
    cause:
      'it reads the store no more (its connection to the store: see its log), or a key in the tree it cannot decode (written by another tool, or for a newer Traefik); its version is not below the declared oldest',
  });
  book.answered('http://b:8080', 40_000, { ok: true, version: '3.0.4' });
  assert.match(
    book.reports(40_000)[1]?.stopped?.cause ?? '',
    /its version 3\.0\.4 is older than the declared oldest, 3\.6/,
  );
  assert.equal(book.reports(40_000)[1]?.olderThanDeclared, true);
  book.answered('http://b:8080', 41_000, { ok: false, error: 'fetch failed (ECONNREFUSED)' });
  assert.match(
    book.reports(41_000)[1]?.stopped?.cause ?? '',
    /its API does not answer \(fetch failed \(ECONNREFUSED\)\)/,
  );
});

test('read-back book: one instance alone is behind, not stopped (there is nobody to compare with)', () => {
  const book = bookOf('http://a:8080');
  book.committed(['http/routers/one'], '10', 0);
  const [a] = book.reports(60_000);
  assert.equal(a?.current, false);
  assert.equal(a?.stopped, undefined);
});

test('read-back book: each notice is said once an episode, and its end once', () => {
  const book = new ReadbackBook({ lagWarnMs: 30_000, minVersion: V30 });
  book.setInstances([
    { id: 'http://a:8080', source: 'http://traefik:8080' },
    { id: 'http://b:8080', source: 'http://traefik:8080' },
  ]);
  book.answered('http://a:8080', 0, { ok: true, version: '3.7.15' });
  book.answered('http://b:8080', 0, { ok: false, error: 'timeout' });
  book.committed(['http/routers/one'], '10', 0);
  book.record(
    'http://a:8080',
    'http/routers/one',
    { state: 'refused', error: 'middleware "x@etcd" does not exist' },
    100,
  );
  const first = book.notices(1_000).map((notice) => `${notice.level} ${notice.traefik} ${notice.message.slice(0, 40)}`);
  assert.deepEqual(first, [
    'error http://a:8080 Traefik refused http/routers/one: middle',
    "warn http://b:8080 Traefik's API does not answer: whether r",
  ]);
  assert.deepEqual(book.notices(2_000), [], 'not again on the next round');
  book.answered('http://b:8080', 3_000, { ok: true, version: '3.7.15' });
  book.record('http://b:8080', 'http/routers/one', { state: 'live' }, 3_000);
  book.record('http://a:8080', 'http/routers/one', { state: 'live' }, 3_000);
  assert.deepEqual(
    book.notices(3_000).map((notice) => notice.message),
    ["Traefik's API answers again"],
  );
  assert.deepEqual(
    book.reports(3_000).map((report) => report.refused.length),
    [0, 0],
    'the refusal ended',
  );
});

test('read-back book: instances no longer resolved are forgotten; new ones await only later commits', () => {
  const book = bookOf('http://a:8080', 'http://b:8080');
  book.committed(['http/routers/one'], '10', 0);
  assert.deepEqual(
    book.setInstances([
      { id: 'http://b:8080', source: 's' },
      { id: 'http://c:8080', source: 's' },
    ]),
    ['http://a:8080'],
  );
  assert.deepEqual(book.ids(), ['http://b:8080', 'http://c:8080']);
  assert.equal(book.pendingOf('http://b:8080').length, 1);
  assert.equal(book.pendingOf('http://c:8080').length, 0);
});

test('explain: a resource live in some Traefiks, lacking (for how long) or refused (with its words) in others', () => {
  const liveness = summarizeLiveness(
    'http/routers/chat',
    [
      { traefik: 'http://a:8080', judgement: { state: 'live' } },
      { traefik: 'http://b:8080', judgement: { state: 'pending', why: 'not there yet' }, awaitedSince: 1_000 },
      { traefik: 'http://c:8080', judgement: { state: 'refused', error: 'entryPoint "web" doesn\'t exist' } },
      { traefik: 'http://d:8080', judgement: { state: 'unknown', why: 'fetch failed (ECONNREFUSED)' } },
    ],
    13_400,
  );
  assert.deepEqual(livenessLines(liveness), [
    '  http/routers/chat: live in 1 of 4 Traefiks',
    '    http://b:8080 lacks it for 12 s (not there yet)',
    '    http://c:8080 refused it: entryPoint "web" doesn\'t exist',
    '    http://d:8080 could not be read: fetch failed (ECONNREFUSED)',
  ]);
});

test('traefiks: the listing and the table say which Traefik needs a look, and why', () => {
  const book = bookOf('http://a:8080', 'http://b:8080');
  book.answered('http://b:8080', 0, { ok: true, version: '3.0.4' });
  book.committed(['http/routers/one'], '10', 0);
  book.record('http://a:8080', 'http/routers/one', { state: 'live' }, 100);
  const listing = traefiksListing(book.reports(45_000));
  assert.equal(
    formatTraefiksTable(listing.traefiks),
    [
      'TRAEFIK        VERSION  REACHABLE  CURRENT  LAG   PENDING  REFUSED',
      'http://a:8080  3.7.15   yes        yes      0 s   0        0',
      'http://b:8080  3.0.4    yes        stopped  45 s  1        0',
      'http://b:8080: Traefik 3.0.4 is older than the declared oldest (--traefik-min-version)',
      'http://b:8080: stopped applying since 1970-01-01T00:00:00.000Z; likely cause: its version 3.0.4 is older than the declared oldest, 3.6: a field it cannot decode makes it keep its last configuration',
      '',
    ].join('\n'),
  );
  assert.equal(formatTraefiksTable([]), 'no Traefik read back (is --traefik-api-urls set, and does it resolve?)\n');
});
