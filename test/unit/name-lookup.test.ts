// Name lookups behind the port (a hand-written lookup that answers when the test says): one lookup
// of a name at a time, each caller bounded by its own limit, a late answer kept for the next caller;
// and gRPC's resolver for the etcd members' names on top of it: an unresolved member's channel is
// told "unavailable" within the limit, so that etcd3 asks another member.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { experimental } from '@grpc/grpc-js';
import { BoundedNameResolver, boundedTarget } from '../../src/etcd/grpc-name-resolver.ts';
import { LATE_ANSWER_MS, NameLookup } from '../../src/net/name-lookup.ts';

/** A lookup whose answers the test gives: each call waits until `answer` or `fail` for its name. */
function heldLookup() {
  const calls: string[] = [];
  const waiting = new Map<string, { resolve: (addresses: string[]) => void; reject: (error: Error) => void }[]>();
  return {
    calls,
    lookup: (host: string) =>
      new Promise<string[]>((resolve, reject) => {
        calls.push(host);
        waiting.set(host, [...(waiting.get(host) ?? []), { resolve, reject }]);
      }),
    answer(host: string, addresses: string[]) {
      for (const call of waiting.get(host) ?? []) call.resolve(addresses);
      waiting.delete(host);
    },
    fail(host: string, error: Error) {
      for (const call of waiting.get(host) ?? []) call.reject(error);
      waiting.delete(host);
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('a name that does not answer: each caller gives up at its limit, and only one lookup runs for all of them', async () => {
  const held = heldLookup();
  const names = new NameLookup(held.lookup);
  const started = performance.now();
  const results = await Promise.allSettled([
    names.resolve('etcd-2', 50),
    names.resolve('etcd-2', 50),
    names.resolve('etcd-2', 80),
  ]);
  const tookMs = performance.now() - started;
  assert.deepEqual(
    results.map((result) => (result.status === 'rejected' ? (result.reason as Error).message : 'resolved')),
    [
      'resolving etcd-2 took more than 50 ms',
      'resolving etcd-2 took more than 50 ms',
      'resolving etcd-2 took more than 80 ms',
    ],
  );
  assert.ok(tookMs < 1000, `the callers gave up after ${tookMs} ms`);
  assert.deepEqual(held.calls, ['etcd-2'], 'one lookup for the three callers');
  assert.equal(names.pendingCount(), 1);
  // Another name is not held up by it.
  const other = names.resolve('etcd-1', 1000);
  held.answer('etcd-1', ['10.0.0.1']);
  assert.deepEqual(await other, ['10.0.0.1']);
  // The stuck lookup's failure, when it comes, is nobody's unhandled error; the next caller asks anew.
  held.fail('etcd-2', new Error('getaddrinfo EAI_AGAIN etcd-2'));
  await settle();
  assert.equal(names.pendingCount(), 0);
  const again = names.resolve('etcd-2', 1000);
  assert.deepEqual(held.calls, ['etcd-2', 'etcd-1', 'etcd-2']);
  held.fail('etcd-2', new Error('getaddrinfo ENOTFOUND etcd-2'));
  await assert.rejects(again, /ENOTFOUND etcd-2/);
});

test('an answer that came after every caller gave up goes to the next caller at once, once, while fresh', async () => {
  let now = 1_000;
  const held = heldLookup();
  const names = new NameLookup(held.lookup, () => now);
  const first = names.resolve('slow-dns', 20);
  await assert.rejects(first, /took more than 20 ms/);
  now += 2_500;
  held.answer('slow-dns', ['10.0.0.7']);
  await settle();
  assert.deepEqual(await names.resolve('slow-dns', 20), ['10.0.0.7'], 'the late answer, without a lookup');
  assert.deepEqual(held.calls, ['slow-dns']);
  // Used once: the caller after that asks again.
  const third = names.resolve('slow-dns', 1000);
  assert.deepEqual(held.calls, ['slow-dns', 'slow-dns']);
  held.answer('slow-dns', ['10.0.0.8']);
  assert.deepEqual(await third, ['10.0.0.8']);
  // An answer in time is no late answer; a stale late answer is not used.
  const stale = names.resolve('stale', 20);
  await assert.rejects(stale, /took more than 20 ms/);
  now += 100;
  held.answer('stale', ['10.0.0.9']);
  await settle();
  now += LATE_ANSWER_MS + 1;
  const fresh = names.resolve('stale', 1000);
  assert.equal(held.calls.filter((host) => host === 'stale').length, 2, 'asked again');
  held.answer('stale', ['10.0.0.10']);
  assert.deepEqual(await fresh, ['10.0.0.10']);
});

/** The resolver's answers to its channel: endpoints, or the failure's details. */
function listening() {
  const answers: (string[] | string)[] = [];
  const listener: experimental.ResolverListener = (endpoints) => {
    answers.push(
      endpoints.ok
        ? endpoints.value.flatMap((endpoint) =>
            endpoint.addresses.map((address) => experimental.subchannelAddressToString(address)),
          )
        : endpoints.error.details,
    );
    return true;
  };
  return { answers, listener };
}

const uri = (path: string): experimental.GrpcUri => ({ scheme: 'appproxy-dns', path });

test("gRPC's resolver for members: addresses as they are, names through the lookup, a silent name unavailable within the limit", async () => {
  const held = heldLookup();
  const names = new NameLookup(held.lookup);
  const { answers, listener } = listening();

  const byAddress = new BoundedNameResolver(uri('10.0.0.3:2379'), listener, {}, names, 50);
  byAddress.updateResolution();
  assert.deepEqual(answers, [], 'never answers synchronously');
  await settle();
  assert.deepEqual(answers, [['10.0.0.3:2379']]);
  assert.deepEqual(held.calls, []);

  const byName = new BoundedNameResolver(uri('etcd-1:2379'), listener, {}, names, 50);
  byName.updateResolution();
  byName.updateResolution(); // one resolution at a time
  held.answer('etcd-1', ['10.0.1.1', '10.0.1.2']);
  await settle();
  await settle();
  assert.deepEqual(answers[1], ['10.0.1.1:2379', '10.0.1.2:2379']);
  assert.equal(answers.length, 2);

  const gone = new BoundedNameResolver(uri('etcd-2:2379'), listener, {}, names, 50);
  const started = performance.now();
  gone.updateResolution();
  while (answers.length < 3 && performance.now() - started < 2000) await new Promise((r) => setTimeout(r, 5));
  assert.equal(answers[2], 'name resolution of appproxy-dns:etcd-2:2379 failed: resolving etcd-2 took more than 50 ms');

  // After destroy, a late answer is not given to the channel.
  const destroyed = new BoundedNameResolver(uri('etcd-3:2379'), listener, {}, names, 1000);
  destroyed.updateResolution();
  destroyed.destroy();
  held.answer('etcd-3', ['10.0.3.1']);
  await settle();
  await settle();
  assert.equal(answers.length, 3);
  assert.equal(BoundedNameResolver.getDefaultAuthority(uri('etcd-3:2379')), 'etcd-3:2379', 'TLS checks the name');
  assert.equal(boundedTarget('etcd-3:2379'), 'appproxy-dns:etcd-3:2379');
});

test('the resolver answers an address once and a name at most once an interval, however often gRPC asks', async () => {
  const held = heldLookup();
  const names = new NameLookup(held.lookup);
  const { answers, listener } = listening();
  // A member that refuses connections makes gRPC ask after each attempt: answered at once, that
  // was a loop that starved the event loop.
  const byAddress = new BoundedNameResolver(uri('127.0.0.1:2379'), listener, {}, names, 50, 30);
  for (let asked = 0; asked < 5; asked += 1) {
    byAddress.updateResolution();
    await settle();
  }
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(answers, [['127.0.0.1:2379']]);
  byAddress.destroy();
  byAddress.updateResolution();
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(answers.length, 2, 'asked again after destroy');

  const byName = new BoundedNameResolver(uri('etcd-1:2379'), listener, {}, names, 1000, 40);
  byName.updateResolution();
  held.answer('etcd-1', ['10.0.1.1']);
  await settle();
  await settle();
  assert.equal(answers.length, 3);
  for (let asked = 0; asked < 5; asked += 1) byName.updateResolution();
  await settle();
  assert.deepEqual(held.calls, ['etcd-1'], 'no lookup within the interval');
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(held.calls, ['etcd-1', 'etcd-1'], 'one lookup after it, for the five asks');
  held.answer('etcd-1', ['10.0.1.2']);
  await settle();
  await settle();
  assert.deepEqual(answers[3], ['10.0.1.2:2379']);
  byName.destroy();
});
