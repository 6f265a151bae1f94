import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { InstanceLimits } from '../../src/core/limits.ts';
import type { Workload } from '../../src/core/workload.ts';
import { createMetrics } from '../../src/daemon/metrics.ts';
import { OutcomeReporter } from '../../src/daemon/outcome-reporter.ts';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import { SyncEngine } from '../../src/sync/sync-engine.ts';
import { defaultCompiled, expectedTree, rootTree } from '../support/expected-tree.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { container } from '../support/workloads.ts';

// The per-instance limits (--max-instance-keys, --max-instance-bytes) in the sync engine, with
// the in-memory store: a workload that would take everything this instance owns past a limit is
// left out with one error, what is written already never moves, and it is routed once room is made.

const quiet = pino({ level: 'silent' });
const layout = new KeyLayout('traefik', 'host-a');

function web(name: string, ip: string, labels: Record<string, string> = {}): Workload {
  return container({
    name,
    id: `${name}-id`,
    networks: [{ name: 'bridge', ip }],
    labels: { 'appproxy.enable': 'true', ...labels },
  });
}

const a = web('alpha', '10.0.0.2');
const b = web('bravo', '10.0.0.3');
// Names of one length: any two of the three are the same size.
const c = web('delta', '10.0.0.4');

async function engineWith(limits?: InstanceLimits): Promise<{ store: MemoryStore; engine: SyncEngine }> {
  const store = new MemoryStore();
  const lease = await store.openLease(15, () => undefined);
  return {
    store,
    engine: new SyncEngine({
      store,
      layout,
      compiled: defaultCompiled,
      lease,
      logger: quiet,
      ...(limits === undefined ? {} : { limits }),
    }),
  };
}

/** What the given workloads own in the store, as the engine counts it (measured without limits). */
async function sizeOf(workloads: readonly Workload[]): Promise<{ keys: number; bytes: number }> {
  const { engine } = await engineWith();
  engine.desired.replaceWorkloads(workloads);
  return engine.desired.storeSize();
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;

interface Case {
  readonly desc: string;
  readonly limits: (two: { keys: number; bytes: number }) => InstanceLimits;
  /** Refused: delta, with this message; undefined when all three fit. */
  readonly refused?: (three: { keys: number; bytes: number }, two: { keys: number; bytes: number }) => string;
}

const cases: Case[] = [
  { desc: 'keys: exactly what all three need passes', limits: () => ({ keys: UNLIMITED, bytes: UNLIMITED }) },
  {
    desc: 'keys: room for two of the three refuses the last, naming the total, the limit and the setting',
    limits: (two) => ({ keys: two.keys, bytes: UNLIMITED }),
    refused: (three, two) =>
      `with it, this instance would own ${three.keys} keys in the store, more than the limit of ${two.keys}: the workload is left out; what is routed already stays; remove workloads (it is tried again as they go), or raise --max-instance-keys (APPPROXY_MAX_INSTANCE_KEYS, maxInstanceKeys in the file)`,
  },
  {
    desc: 'bytes: room for two of the three refuses the last, naming the total, the limit and the setting',
    limits: (two) => ({ keys: UNLIMITED, bytes: two.bytes }),
    refused: (three, two) =>
      `with it, this instance would own ${three.bytes.toLocaleString('en-US')} bytes of keys and values in the store, more than the limit of ${two.bytes.toLocaleString('en-US')}: the workload is left out; what is routed already stays; remove workloads (it is tried again as they go), or raise --max-instance-bytes (APPPROXY_MAX_INSTANCE_BYTES, maxInstanceBytes in the file)`,
  },
];

for (const testCase of cases) {
  test(`instance limits: ${testCase.desc}`, async () => {
    const two = await sizeOf([a, b]);
    const three = await sizeOf([a, b, c]);
    const limits = testCase.refused === undefined ? { keys: three.keys, bytes: three.bytes } : testCase.limits(two);
    const { store, engine } = await engineWith(limits);
    engine.desired.replaceWorkloads([a, b]);
    await engine.sync();
    const before = rootTree(store);
    engine.desired.upsertWorkload(c);
    await engine.sync();
    const errors = engine.problems().filter((problem) => problem.severity === 'error');
    if (testCase.refused === undefined) {
      assert.deepEqual(errors, []);
      assert.deepEqual(rootTree(store), expectedTree([a, b, c], defaultCompiled, 'host-a'));
      assert.deepEqual(engine.desired.storeSize(), three);
      return;
    }
    assert.deepEqual(errors, [
      {
        severity: 'error',
        workload: 'delta',
        label: undefined,
        limit: testCase.limits(two).keys === UNLIMITED ? 'instance-bytes' : 'instance-keys',
        message: testCase.refused(three, two),
      },
    ]);
    assert.deepEqual(engine.desired.refusalOf(c.id), errors[0]);
    assert.deepEqual(rootTree(store), before, 'nothing written for the others moved');
    assert.deepEqual(engine.desired.storeSize(), two, 'the refused workload counts for nothing');
    assert.equal(engine.desired.counts().routed, 2);

    // The refusal stands, unchanged, over further passes (the metric counts it once).
    engine.requestFullPass();
    await engine.sync();
    assert.deepEqual(
      engine.problems().filter((problem) => problem.severity === 'error'),
      errors,
    );

    // Room made: the refused workload is tried again, and routed.
    engine.desired.removeWorkload(a.id);
    await engine.sync();
    assert.deepEqual(engine.problems(), []);
    assert.equal(engine.desired.refusalOf(c.id), undefined);
    assert.deepEqual(rootTree(store), expectedTree([b, c], defaultCompiled, 'host-a'));
  });
}

test('instance limits: a routed workload that grows past the limit leaves itself out, and only itself', async () => {
  const two = await sizeOf([a, b]);
  const { store, engine } = await engineWith({ keys: two.keys, bytes: UNLIMITED });
  engine.desired.replaceWorkloads([a, b]);
  await engine.sync();
  const grown = web('bravo', '10.0.0.3', { 'appproxy.http.routers.bravo.entrypoints': 'web,websecure' });
  engine.desired.upsertWorkload(grown);
  await engine.sync();
  assert.deepEqual(
    engine.problems().map((problem) => [problem.workload, problem.limit]),
    [['bravo', 'instance-keys']],
  );
  assert.deepEqual(rootTree(store), expectedTree([a], defaultCompiled, 'host-a'), 'alpha as it was; bravo out');
});

test('instance limits: a full listing admits workloads in the order they come; the later one is refused, deterministically', async () => {
  const two = await sizeOf([a, b]);
  for (let run = 0; run < 2; run += 1) {
    const { store, engine } = await engineWith({ keys: two.keys, bytes: UNLIMITED });
    engine.desired.replaceWorkloads([a, b, c]);
    await engine.sync();
    assert.deepEqual(
      engine.problems().map((problem) => problem.workload),
      ['delta'],
    );
    assert.deepEqual(rootTree(store), expectedTree([a, b], defaultCompiled, 'host-a'));
  }
});

test('instance limits: the refusal metric counts a refusal once when it starts, not on every pass, by limit', async () => {
  const two = await sizeOf([a, b]);
  const { engine } = await engineWith({ keys: two.keys, bytes: UNLIMITED });
  const metrics = createMetrics('test');
  const reporter = new OutcomeReporter(metrics, quiet);
  const refused = async (limit: string): Promise<number> =>
    (await metrics.refusals.get()).values.find((value) => value.labels.limit === limit)?.value ?? -1;
  engine.desired.replaceWorkloads([a, b, c]);
  for (let pass = 0; pass < 3; pass += 1) reporter.report([{ outcome: await engine.sync(), engine }]);
  assert.equal(await refused('instance-keys'), 1);
  assert.equal(await refused('list-items'), 0, 'every limit is present from the start');
  engine.desired.removeWorkload(a.id);
  reporter.report([{ outcome: await engine.sync(), engine }]);
  engine.desired.upsertWorkload(a);
  reporter.report([{ outcome: await engine.sync(), engine }]);
  assert.equal(await refused('instance-keys'), 2, 'refused again after it was routed: a new refusal');
});

test('instance limits: refused workloads that change or leave are still counted right: the one left is tried again when room is made', async () => {
  const two = await sizeOf([a, b]);
  const { store, engine } = await engineWith({ keys: two.keys, bytes: UNLIMITED });
  const echo = web('echo', '10.0.0.5');
  engine.desired.replaceWorkloads([a, b, c, echo]);
  await engine.sync();
  assert.deepEqual(
    engine.problems().map((problem) => problem.workload),
    ['delta', 'echo'],
  );
  // A refused workload changes (refused again, once), another refused one leaves: one is refused now.
  engine.desired.upsertWorkload(web('delta', '10.0.0.14'));
  engine.desired.removeWorkload(echo.id);
  await engine.sync();
  assert.deepEqual(
    engine.problems().map((problem) => problem.workload),
    ['delta'],
  );
  // Room made: the changed one is tried again and routed, as it is now.
  engine.desired.removeWorkload(a.id);
  await engine.sync();
  assert.deepEqual(engine.problems(), []);
  const changed = web('delta', '10.0.0.14');
  assert.deepEqual(rootTree(store), expectedTree([b, changed], defaultCompiled, 'host-a'));
  // And with none refused, a workload leaving changes nothing for the others.
  engine.desired.removeWorkload(b.id);
  await engine.sync();
  assert.deepEqual(rootTree(store), expectedTree([changed], defaultCompiled, 'host-a'));
});
