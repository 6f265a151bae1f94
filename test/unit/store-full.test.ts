import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Workload } from '../../src/core/workload.ts';
import { createMetrics } from '../../src/daemon/metrics.ts';
import { StoreFullState } from '../../src/daemon/store-full-state.ts';
import { ETCD_FULL_FIX, isEtcdFull } from '../../src/etcd/etcd-full.ts';
import { REDIS_FULL_FIX, isRedisFull } from '../../src/redis/redis-store.ts';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import { StoreFullError, StoreUnavailableError } from '../../src/sync/kv-store.ts';
import { SyncEngine } from '../../src/sync/sync-engine.ts';
import { defaultCompiled, expectedTree as expectedTreeOf, rootTree } from '../support/expected-tree.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { container } from '../support/workloads.ts';

const layout = new KeyLayout('traefik', 'host-a');
const quiet = pino({ level: 'silent' });
const expectedTree = (workloads: readonly Workload[]) => expectedTreeOf(workloads, defaultCompiled, 'host-a');

function web(name: string, ip: string): Workload {
  return container({
    name,
    id: `${name}-id`,
    networks: [{ name: 'bridge', ip }],
    labels: { 'appproxy.enable': 'true' },
  });
}

/** A logger whose lines are kept, parsed. */
function recordingLogger(): { logger: pino.Logger; lines: { level: number; msg: string; store?: string }[] } {
  const lines: { level: number; msg: string; store?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

async function gauge(
  metric: { get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> },
  store: string,
): Promise<number | undefined> {
  return (await metric.get()).values.find((value) => value.labels['store'] === store)?.value;
}

const etcdFull = () =>
  new StoreFullError('etcd', 'transaction', new Error('etcdserver: mvcc: database space exceeded'), ETCD_FULL_FIX);

test("store full: etcd's and Redis's own answers (as seen from a filled etcd 3.4 and Redis 7.0) are told apart from an unreachable store", () => {
  assert.ok(isEtcdFull(new Error('etcdserver: mvcc: database space exceeded')));
  assert.ok(isEtcdFull(new Error('failed to grant lease (etcdserver: mvcc: database space exceeded)')));
  assert.ok(!isEtcdFull(new Error('14 UNAVAILABLE: No connection established')));
  assert.ok(!isEtcdFull(new Error('Deadline exceeded')));
  assert.ok(isRedisFull(new Error("OOM command not allowed when used memory > 'maxmemory'.")));
  assert.ok(
    isRedisFull(
      new Error(
        "OOM command not allowed when used memory > 'maxmemory'. script: 71e6319f97b0fe8bdfa1c5df3ce4489946dda479, on @user_script:1.",
      ),
    ),
  );
  assert.ok(!isRedisFull(new Error('Connection is closed.')));
  assert.ok(!isRedisFull(new Error('Command timed out')));
  const error = etcdFull();
  assert.ok(error instanceof StoreUnavailableError, 'retried like any store failure');
  assert.match(
    error.message,
    /etcd transaction failed: etcdserver: mvcc: database space exceeded \(the store is full: .*alarm disarm/,
  );
});

test('store full: routes stay while writes are refused, nothing is deleted, and the pending change is written once space is freed', async () => {
  const store = new MemoryStore();
  const lease = await store.openLease(15, () => undefined);
  const engine = new SyncEngine({
    store,
    layout,
    compiled: defaultCompiled,
    lease,
    logger: quiet,
    onDirty: () => undefined,
  });
  const stable = [web('chat', '10.0.0.2'), web('shop', '10.0.0.3')];
  engine.desired.replaceWorkloads(stable);
  await engine.sync();
  const routed = rootTree(store);
  assert.deepEqual(routed, expectedTree(stable));

  store.full = { store: 'etcd', fix: ETCD_FULL_FIX };
  const added = web('blog', '10.0.0.4');
  engine.desired.upsertWorkload(added);
  for (let pass = 0; pass < 3; pass += 1) {
    await assert.rejects(engine.sync(), StoreFullError, `pass ${pass}: the write is refused`);
    assert.deepEqual(rootTree(store), routed, `pass ${pass}: what is routed is left as it is`);
    assert.ok(store.leases.has(lease.leaseId()), `pass ${pass}: the lease is kept`);
  }
  assert.equal(store.refusedWrites, 3, 'each pass tried the write once');

  store.full = undefined;
  const outcome = await engine.sync();
  assert.ok(outcome.transactions > 0);
  assert.deepEqual(rootTree(store), expectedTree([...stable, added]), 'the change refused while full is written');
});

test('store full: one log line when it fills and one when it takes writes again; a readiness reason, the gauge and the counter meanwhile', async () => {
  const metrics = createMetrics('test');
  const { logger, lines } = recordingLogger();
  const state = new StoreFullState(metrics, logger, 'etcd');
  assert.equal(await gauge(metrics.storeFull, 'etcd'), 0, 'the gauge is there before anything fills');
  assert.equal(await gauge(metrics.storeWritesRefused, 'etcd'), 0);
  assert.equal(state.reason(), undefined);

  for (let pass = 0; pass < 5; pass += 1) state.refused(etcdFull());
  assert.equal(state.full, true);
  assert.equal(await gauge(metrics.storeFull, 'etcd'), 1);
  assert.equal(await gauge(metrics.storeWritesRefused, 'etcd'), 5, 'every refused write counted');
  assert.equal(
    state.reason(),
    'etcd is full and refuses writes (etcdserver: mvcc: database space exceeded); what is routed stays, changes wait: free space with `etcdctl compaction <revision>` and `etcdctl defrag`, then `etcdctl alarm disarm`; or raise --quota-backend-bytes',
  );
  assert.deepEqual(
    lines.map((line) => [line.level, line.msg, line.store]),
    [[50, 'the store is full and refuses writes; what is routed stays, changes wait until space is freed', 'etcd']],
    'one line for five refused passes',
  );

  state.wrote();
  state.wrote();
  assert.equal(state.full, false);
  assert.equal(state.reason(), undefined);
  assert.equal(await gauge(metrics.storeFull, 'etcd'), 0);
  assert.equal(await gauge(metrics.storeWritesRefused, 'etcd'), 5);
  assert.deepEqual(
    lines.slice(1).map((line) => [line.level, line.msg, line.store]),
    [[30, 'the store takes writes again; pending changes written', 'etcd']],
  );

  const redis = new StoreFullState(metrics, quiet, 'redis');
  redis.refused(
    new StoreFullError(
      'redis',
      'transaction',
      new Error("OOM command not allowed when used memory > 'maxmemory'."),
      REDIS_FULL_FIX,
    ),
  );
  assert.match(
    redis.reason() ?? '',
    /^redis is full and refuses writes \(OOM command not allowed when used memory > 'maxmemory'\.\); .*raise maxmemory/,
  );
  assert.equal(await gauge(metrics.storeFull, 'redis'), 1);
  assert.equal(await gauge(metrics.storeFull, 'etcd'), 0);
});
