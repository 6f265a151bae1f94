import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createMetrics } from '../../src/daemon/metrics.ts';
import { Readiness } from '../../src/daemon/readiness.ts';
import { StoreFullError } from '../../src/sync/kv-store.ts';

const quiet = pino({ level: 'silent' });

async function gauge(metrics: ReturnType<typeof createMetrics>, dependency: string): Promise<number | undefined> {
  const values = (await metrics.reachable.get()).values;
  return values.find((value) => value.labels['dependency'] === dependency)?.value;
}

test('readiness: not ready until the first sync, Docker (listing and events) and the store are all there; the gauges follow', async () => {
  const metrics = createMetrics();
  const readiness = new Readiness(metrics, quiet, 'etcd');
  assert.deepEqual(readiness.reasons(), [
    'first sync not done',
    'Docker unreachable (its last listing failed)',
    'etcd unreachable',
  ]);
  assert.equal(await gauge(metrics, 'docker'), 0);
  readiness.dockerListing(true);
  assert.ok(
    readiness.reasons().includes('Docker unreachable (event stream not followed)'),
    'a listing alone is not enough: a wedged engine can answer one',
  );
  assert.equal(await gauge(metrics, 'docker'), 0);
  readiness.dockerEvents(true);
  readiness.storeWrote();
  readiness.firstSyncDone();
  assert.deepEqual(readiness.reasons(), []);
  assert.equal(await gauge(metrics, 'docker'), 1);
  assert.equal(await gauge(metrics, 'etcd'), 1);
});

test('readiness: a full store is a reason of its own, with the fix, until a write goes through', () => {
  const readiness = new Readiness(createMetrics(), quiet, 'redis');
  readiness.dockerListing(true);
  readiness.dockerEvents(true);
  readiness.storeWrote();
  readiness.firstSyncDone();
  readiness.storeFull(
    new StoreFullError(
      'redis',
      'transaction',
      new Error("OOM command not allowed when used memory > 'maxmemory'."),
      'raise maxmemory',
    ),
  );
  assert.equal(readiness.storeOk, true, 'a full store answers');
  assert.deepEqual(readiness.reasons(), [
    "redis is full and refuses writes (OOM command not allowed when used memory > 'maxmemory'.); what is routed stays, changes wait: raise maxmemory",
  ]);
  readiness.storeWrote();
  assert.deepEqual(readiness.reasons(), []);
});
