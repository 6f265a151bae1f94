import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Workload } from '../../src/core/workload.ts';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import type { GuardedTransaction } from '../../src/sync/kv-store.ts';
import { SyncEngine } from '../../src/sync/sync-engine.ts';
import { defaultCompiled, expectedTree, rootTree } from '../support/expected-tree.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { container } from '../support/workloads.ts';

// A change larger than one transaction reaches Traefik in parts: these tests pin the order the
// engine writes them in, on the path production takes (sync → transactionWaves → apply), with
// transactions that take time to commit, so that a wave started early would show.

const quiet = pino({ level: 'silent' });
const layout = new KeyLayout('traefik', 'host-a');

function web(i: number): Workload {
  return container({
    name: `app-${i}`,
    id: `app-${i}-id`,
    networks: [{ name: 'bridge', ip: `10.0.2.${i + 1}` }],
    labels: { 'appproxy.enable': 'true' },
  });
}

/** Each transaction's start and end, in the order they happened, and what kinds of resource it touched. */
interface Step {
  readonly at: 'start' | 'end';
  readonly id: number;
  readonly puts: ReadonlySet<string>;
  readonly deletes: ReadonlySet<string>;
}

/** Routers or services touched by a transaction's puts or deletes (claims and the tree alike). */
function kinds(transaction: GuardedTransaction, type: 'put' | 'delete'): Set<string> {
  const found = new Set<string>();
  for (const operation of transaction.operations) {
    if (operation.type !== type) continue;
    if (operation.key.includes('/http/routers/')) found.add('router');
    if (operation.key.includes('/http/services/')) found.add('service');
  }
  return found;
}

async function recordingStore(maxOps: number): Promise<{ store: MemoryStore; steps: Step[] }> {
  const store = new MemoryStore();
  store.transactionLimits = { maxOps, maxBytes: 1024 * 1024 };
  const steps: Step[] = [];
  const apply = store.apply.bind(store);
  let next = 0;
  store.apply = async (transaction: GuardedTransaction, leaseId: string) => {
    const id = (next += 1);
    const step = { id, puts: kinds(transaction, 'put'), deletes: kinds(transaction, 'delete') };
    steps.push({ at: 'start', ...step });
    // Later transactions commit sooner: a wave's order must not depend on commit order.
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, 20 - id)));
    const result = await apply(transaction, leaseId);
    steps.push({ at: 'end', ...step });
    return result;
  };
  return { store, steps };
}

/** Every transaction matching `later` starts only once every one matching `earlier` has ended. */
function assertAfter(
  steps: readonly Step[],
  earlier: (step: Step) => boolean,
  later: (step: Step) => boolean,
  message: string,
): void {
  const lastEnd = steps.findLastIndex((step) => step.at === 'end' && earlier(step));
  const firstStart = steps.findIndex((step) => step.at === 'start' && later(step));
  assert.ok(lastEnd >= 0 && firstStart >= 0, `${message}: both kinds written`);
  assert.ok(
    lastEnd < firstStart,
    `${message}: ${JSON.stringify(steps.map((step) => `${step.at} ${step.id} ${[...step.puts].join('+')}${step.deletes.size > 0 ? ` -${[...step.deletes].join('+')}` : ''}`))}`,
  );
}

test('multi-wave write: no router is committed before every backend it may need; a wave sends its transactions at once', async () => {
  const { store, steps } = await recordingStore(16);
  const lease = await store.openLease(15, () => undefined);
  const engine = new SyncEngine({ store, layout, compiled: defaultCompiled, lease, logger: quiet });
  const fleet = Array.from({ length: 12 }, (_, i) => web(i));
  engine.desired.replaceWorkloads(fleet);
  const outcome = await engine.sync();
  assert.deepEqual(rootTree(store), expectedTree(fleet, defaultCompiled, 'host-a'));
  assert.ok(outcome.transactions > 2, `several transactions (${outcome.transactions})`);
  assertAfter(
    steps,
    (step) => step.puts.has('service'),
    (step) => step.puts.has('router'),
    'routers after services',
  );
  let inFlight = 0;
  let most = 0;
  for (const step of steps) {
    inFlight += step.at === 'start' ? 1 : -1;
    most = Math.max(most, inFlight);
  }
  assert.ok(most > 1, 'the transactions of one wave are in flight together');
});

test('multi-wave write: removals take the routers out before the backends they used', async () => {
  const { store, steps } = await recordingStore(16);
  const lease = await store.openLease(15, () => undefined);
  const engine = new SyncEngine({ store, layout, compiled: defaultCompiled, lease, logger: quiet });
  const fleet = Array.from({ length: 12 }, (_, i) => web(i));
  engine.desired.replaceWorkloads(fleet);
  await engine.sync();
  steps.length = 0;
  engine.desired.replaceWorkloads(fleet.slice(0, 1));
  const outcome = await engine.sync();
  assert.deepEqual(rootTree(store), expectedTree(fleet.slice(0, 1), defaultCompiled, 'host-a'));
  assert.ok(outcome.transactions > 2, `several transactions (${outcome.transactions})`);
  assertAfter(
    steps,
    (step) => step.deletes.has('router'),
    (step) => step.deletes.has('service'),
    'services removed after routers',
  );
});
