import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createMetrics } from '../../src/daemon/metrics.ts';
import { passOwners } from '../../src/daemon/owner-passes.ts';
import type { OwnerRole } from '../../src/daemon/owner-role.ts';
import { Readiness } from '../../src/daemon/readiness.ts';
import { LeadershipLostError, StoreFullError, StoreUnavailableError } from '../../src/sync/kv-store.ts';
import { SourceUnavailableError } from '../../src/sync/reconciler.ts';
import type { SyncEngine } from '../../src/sync/sync-engine.ts';

// One pass of each owner: what each failure says of Docker and the store, and that one owner
// failing does not hold the other back.

const quiet = pino({ level: 'silent' });
const engine = {} as SyncEngine;
const outcome = {
  transactions: 1,
  operations: 2,
  planned: 1,
  leftOut: 0,
  replans: 0,
  refused: [],
  loaded: false,
  complete: false,
  read: 'some' as const,
};

type Role = Pick<OwnerRole, 'pass' | 'engine'>;
const passing = (calls: string[], name: string, read: 'some' | 'nothing' = 'some'): Role => ({
  engine,
  pass: async () => (calls.push(name), { ...outcome, read }),
});
const failing = (error: unknown): Role => ({ engine, pass: async () => Promise.reject(error) });

async function errorsOf(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  return Object.fromEntries(
    (await metrics.errors.get()).values.map((value) => [String(value.labels['kind']), value.value]),
  );
}

const cases = [
  {
    desc: 'Docker did not answer',
    error: new SourceUnavailableError(new Error('EOF')),
    kind: 'docker',
    reason: 'Docker unreachable (its last listing failed)',
  },
  {
    desc: 'the store did not answer',
    error: new StoreUnavailableError('etcd', 'read', new Error('deadline exceeded')),
    kind: 'etcd',
    reason: 'etcd unreachable',
  },
  {
    desc: 'the store is full',
    error: new StoreFullError('etcd', 'transaction', new Error('NOSPACE'), 'compact'),
    kind: 'etcd',
    reason: 'etcd is full and refuses writes (NOSPACE); what is routed stays, changes wait: compact',
  },
  { desc: 'anything else', error: new Error('bug'), kind: 'other', reason: undefined },
];

for (const { desc, error, kind, reason } of cases) {
  test(`owner passes: ${desc}: counted as ${kind}, the other owner still passes, the pass fails with it`, async () => {
    const metrics = createMetrics();
    const readiness = new Readiness(metrics, quiet, 'etcd');
    readiness.dockerListing(true);
    readiness.storeWrote();
    const calls: string[] = [];
    await assert.rejects(
      passOwners([failing(error), passing(calls, 'swarm', 'nothing')], {
        metrics,
        readiness,
        storeName: 'etcd',
        onLeadershipLost: async () => undefined,
      }),
      (thrown) => thrown === error,
    );
    assert.deepEqual(calls, ['swarm']);
    assert.equal((await errorsOf(metrics))[kind], 1);
    if (reason !== undefined) assert.ok(readiness.reasons().includes(reason), readiness.reasons().join('; '));
  });
}

test('owner passes: a lost leadership steps down and fails nothing; a good pass says the store answers', async () => {
  const metrics = createMetrics();
  const readiness = new Readiness(metrics, quiet, 'etcd');
  let steppedDown = 0;
  const calls: string[] = [];
  const done = await passOwners([passing(calls, 'node'), failing(new LeadershipLostError('write as swarm'))], {
    metrics,
    readiness,
    storeName: 'etcd',
    onLeadershipLost: async () => void (steppedDown += 1),
  });
  assert.equal(steppedDown, 1);
  assert.deepEqual(
    done.map((pass) => pass.outcome),
    [outcome],
  );
  assert.equal(readiness.storeOk, true);
  assert.equal(
    readiness.reasons().includes('Docker unreachable (its last listing failed)'),
    false,
    'what the pass read, Docker answered',
  );
});
