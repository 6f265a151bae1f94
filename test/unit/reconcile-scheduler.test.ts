import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { compileTranslateOptions, defaultTranslateOptions } from '../../src/core/translate/translate-options.ts';
import type { Workload } from '../../src/core/workload.ts';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import { ReconcileScheduler } from '../../src/sync/reconcile-scheduler.ts';
import { Reconciler, SourceUnavailableError } from '../../src/sync/reconciler.ts';
import { PendingChanges } from '../../src/sync/workload-changes.ts';
import { SyncEngine } from '../../src/sync/sync-engine.ts';
import type { WorkloadSource } from '../../src/sync/workload-changes.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { container } from '../support/workloads.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('scheduler: triggers during a pass are coalesced into one more pass', async () => {
  let passes = 0;
  let release: () => void = () => undefined;
  const scheduler = new ReconcileScheduler(
    async () => {
      passes += 1;
      if (passes === 1) await new Promise<void>((resolve) => (release = resolve));
    },
    { delayMs: 1, burstDelayMs: 1, onError: () => undefined },
  );
  scheduler.trigger();
  await sleep(10);
  for (let i = 0; i < 20; i += 1) scheduler.trigger();
  release();
  await sleep(30);
  assert.equal(passes, 2);
  await scheduler.stop();
});

test('scheduler: a burst of triggers waits the burst delay; the few triggers of one change do not', async () => {
  const started: number[] = [];
  const scheduler = new ReconcileScheduler(async () => void started.push(performance.now()), {
    delayMs: 1,
    burstWindowMs: 300,
    burstDelayMs: 500,
    burstTriggers: 5,
    onError: () => undefined,
  });
  // Three triggers (a connect, a start, a health event): no burst, passes start at once.
  const few = performance.now();
  for (let i = 0; i < 3; i += 1) {
    scheduler.trigger();
    await sleep(5);
  }
  await sleep(300);
  assert.ok(started.length >= 1 && (started[0] ?? 0) - few < 300, 'the first pass did not wait for a burst delay');
  await sleep(400);
  // Ten triggers at once: a burst.
  const count = started.length;
  const burst = performance.now();
  for (let i = 0; i < 10; i += 1) scheduler.trigger();
  await sleep(800);
  assert.equal(started.length, count + 1, 'one pass for the whole burst');
  assert.ok((started[count] ?? 0) - burst >= 490, `the burst waited ${((started[count] ?? 0) - burst).toFixed(0)} ms`);
  await scheduler.stop();
});

test('scheduler: a failing pass is retried with growing delays until it succeeds; stop ends the retrying', async () => {
  const delays: number[] = [];
  let attempts = 0;
  const scheduler = new ReconcileScheduler(
    async () => {
      attempts += 1;
      if (attempts < 4) throw new Error(`attempt ${attempts} fails`);
    },
    { delayMs: 1, onError: (_error, retryInMs) => delays.push(retryInMs) },
  );
  scheduler.trigger();
  await sleep(2000);
  assert.equal(attempts, 4);
  assert.equal(delays.length, 3);
  assert.ok(delays[0]! >= 100 && delays[2]! >= 400, `backoff ${delays.join(', ')}`);
  const failing = new ReconcileScheduler(async () => Promise.reject(new Error('always')), {
    delayMs: 1,
    onError: () => undefined,
  });
  failing.trigger();
  await sleep(50);
  await failing.stop();
  await scheduler.stop();
});

/** A sync engine of owner host-a on a memory store. */
async function memoryEngine(): Promise<{ store: MemoryStore; engine: SyncEngine }> {
  const store = new MemoryStore();
  const compiled = compileTranslateOptions(defaultTranslateOptions);
  assert.ok(compiled.ok);
  const engine = new SyncEngine({
    store,
    layout: new KeyLayout('traefik', 'host-a'),
    compiled: compiled.value,
    lease: await store.openLease(15, () => undefined),
    logger: pino({ level: 'silent' }),
  });
  return { store, engine };
}

function fakeSource(
  initial: Workload[],
): WorkloadSource & { calls: string[]; containers: Map<string, Workload>; failing: boolean } {
  const containers = new Map(initial.map((workload) => [workload.id, workload]));
  const source = {
    calls: [] as string[],
    containers,
    failing: false,
    async listWorkloads() {
      source.calls.push('list all');
      if (source.failing) throw new Error('engine gone');
      return [...containers.values()];
    },
    async listSwarmWorkloads() {
      source.calls.push('list swarm');
      return [];
    },
    async refreshContainers(ids: Iterable<string>) {
      const wanted = [...ids];
      source.calls.push(`refresh ${wanted.join(',')}`);
      if (source.failing) throw new Error('engine gone');
      return new Map(wanted.map((id) => [id, containers.get(id)]));
    },
  };
  return source;
}

test('reconciler: the first pass lists everything; a container event reads that container only', async () => {
  const { store, engine } = await memoryEngine();
  const web = (name: string) => container({ name, id: `${name}-id`, labels: { 'appproxy.enable': 'true' } });
  const source = fakeSource([web('a'), web('b')]);
  const pending = new PendingChanges();
  const reconciler = new Reconciler(source, engine, pending);
  assert.equal((await reconciler.reconcile()).read, 'all');
  source.containers.set('c-id', web('c'));
  pending.note({ kind: 'containers', ids: ['c-id'] });
  const outcome = await reconciler.reconcile();
  assert.deepEqual(source.calls, ['list all', 'refresh c-id']);
  assert.equal(outcome.transactions, 1);
  assert.ok(store.data.has('traefik/http/routers/c/rule'));
  source.containers.delete('a-id');
  pending.note({ kind: 'containers', ids: ['a-id'] });
  await reconciler.reconcile();
  assert.equal(store.data.has('traefik/http/routers/a/rule'), false, 'a container that is gone is removed');
});

test('reconciler: when the source fails, what was noted is kept for the next pass and the error says so', async () => {
  const { store, engine } = await memoryEngine();
  const source = fakeSource([container({ name: 'a', id: 'a-id', labels: { 'appproxy.enable': 'true' } })]);
  const pending = new PendingChanges();
  const reconciler = new Reconciler(source, engine, pending);
  await reconciler.reconcile();
  source.failing = true;
  pending.note({ kind: 'containers', ids: ['a-id'] });
  await assert.rejects(reconciler.reconcile(), SourceUnavailableError);
  assert.ok(store.data.has('traefik/http/routers/a/rule'), 'what is routed stays routed');
  source.failing = false;
  source.containers.delete('a-id');
  await reconciler.reconcile();
  assert.deepEqual(source.calls.slice(-1), ['refresh a-id']);
  assert.equal(store.data.has('traefik/http/routers/a/rule'), false);
});

test('scheduler: wake() ends a backoff wait at once (what failed is back), without waiting for the delay', async () => {
  let attempts = 0;
  let failing = true;
  const scheduler = new ReconcileScheduler(
    async () => {
      attempts += 1;
      if (failing) throw new Error('etcd has no quorum');
    },
    { delayMs: 1, onError: () => undefined },
  );
  scheduler.trigger();
  // Enough failures for the backoff to reach seconds (100, 200, 400, 800, 1600 ms: doubled, with jitter).
  await sleep(3500);
  const before = attempts;
  failing = false;
  scheduler.wake();
  await sleep(100);
  assert.equal(attempts, before + 1, 'the woken pass ran within 100 ms, not after its backoff of seconds');
  await scheduler.stop();
});

test('scheduler: a pass waits while the hold says Traefik applies the last commit; release starts it at once', async () => {
  let hold = 0;
  const started: number[] = [];
  const held: number[] = [];
  const scheduler = new ReconcileScheduler(async () => void started.push(performance.now()), {
    delayMs: 1,
    holdMs: () => hold,
    onHeld: (ms) => held.push(ms),
    onError: () => undefined,
  });
  scheduler.trigger();
  await sleep(30);
  assert.equal(started.length, 1, 'nothing held: at once');
  hold = 400;
  const begin = performance.now();
  scheduler.trigger();
  await sleep(100);
  assert.equal(started.length, 1, 'held');
  hold = 0;
  scheduler.release();
  await sleep(30);
  assert.equal(started.length, 2, 'released');
  assert.ok((started[1] ?? 0) - begin < 300, 'started on release, not at the end of the hold');
  assert.equal(held.length, 1);
  assert.ok((held[0] ?? 0) >= 90 && (held[0] ?? 0) < 300, `held ${held[0]} ms`);
  // A hold that ends by itself: the pass starts when it runs out.
  hold = 150;
  const second = performance.now();
  scheduler.trigger();
  await sleep(400);
  assert.equal(started.length, 3);
  assert.ok((started[2] ?? 0) - second >= 145, `waited ${((started[2] ?? 0) - second).toFixed(0)} ms of a 150 ms hold`);
  // release() without a held pass does nothing.
  hold = 0;
  scheduler.release();
  await sleep(30);
  assert.equal(started.length, 3);
  await scheduler.stop();
});

test('reconciler: says what its pass awaits (the source, then the store), idle once it ends', async () => {
  const { store, engine } = await memoryEngine();
  const source = fakeSource([container({ name: 'a', id: 'a-id', labels: { 'appproxy.enable': 'true' } })]);
  let answer: () => void = () => undefined;
  const listed = new Promise<void>((resolve) => (answer = resolve));
  const list = source.listWorkloads.bind(source);
  source.listWorkloads = async () => {
    await listed;
    return list();
  };
  const reconciler = new Reconciler(source, engine, new PendingChanges());
  assert.equal(reconciler.step, 'idle');
  const pass = reconciler.reconcile();
  await sleep(5);
  assert.equal(reconciler.step, 'reading the source');
  answer();
  await pass;
  assert.equal(reconciler.step, 'idle');
  assert.ok(store.data.has('traefik/http/routers/a/rule'));
});

test('scheduler: a steady stream of triggers does not push a waiting pass further out', async () => {
  const started: number[] = [];
  const scheduler = new ReconcileScheduler(async () => void started.push(performance.now()), {
    delayMs: 20,
    burstDelayMs: 40,
    burstTriggers: 3,
    onError: () => undefined,
  });
  const begin = performance.now();
  while (performance.now() - begin < 400) {
    scheduler.trigger();
    await sleep(5);
  }
  assert.ok(started.length >= 3, `${started.length} passes while triggers came every 5 ms for 400 ms`);
  assert.ok(
    (started[0] ?? Number.POSITIVE_INFINITY) - begin < 150,
    `the first pass started ${((started[0] ?? Number.NaN) - begin).toFixed(0)} ms after the first trigger`,
  );
  await scheduler.stop();
});
