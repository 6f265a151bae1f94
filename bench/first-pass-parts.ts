// The parts of a first pass that are appproxy's own, timed apart from etcd: the planner, the
// refusal of values no store takes, the packing into transactions, and the mirror's bookkeeping of
// every key written (what a commit hands to StoreMirror.applyOwn). A first pass adds etcd's round
// trips, the encoding of requests and the decoding of answers to these (bench/scale.ts times it
// whole). Pure and in one process: no test environment needed.
//
//   node bench/first-pass-parts.ts [workloads] [runs]     (default 10000 9; prints medians in ms)
import { compileTranslateOptions, defaultTranslateOptions } from '../src/core/translate/translate-options.ts';
import { DesiredState } from '../src/sync/desired-state.ts';
import { KeyLayout } from '../src/sync/key-layout.ts';
import { planChange } from '../src/sync/plan-change.ts';
import { MAX_TXN_BYTES, transactionWaves, unwritableUnits } from '../src/sync/split-transactions.ts';
import { StoreMirror } from '../src/sync/store-mirror.ts';
import { STACK_MAX_TXN_OPS } from './lib/private-etcd.ts';
import { summary } from './lib/stats.ts';
import { syntheticWorkload } from './lib/synthetic-workload.ts';

const size = Number(process.argv[2] ?? 10_000);
const runs = Number(process.argv[3] ?? 9);
const compiled = compileTranslateOptions(defaultTranslateOptions);
if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
const layout = new KeyLayout('bench-first-pass', 'bench-first-pass');
const desired = new DesiredState({ layout, compiled: compiled.value });
desired.replaceWorkloads(Array.from({ length: size }, (_, i) => syntheticWorkload(i)));
const LEASE = '1234';

const times: Record<'plan' | 'unwritable' | 'pack' | 'applyOwn', number[]> = {
  plan: [],
  unwritable: [],
  pack: [],
  applyOwn: [],
};
let operations = 0;
for (let run = 0; run < runs; run += 1) {
  // An empty store but for the root marker, as a first pass finds it after `appproxy etcd-setup`.
  const mirror = new StoreMirror(layout);
  mirror.applyOwn([{ type: 'put', key: layout.rootKey, value: 'appproxy', leased: false }], 1n, LEASE);
  let start = performance.now();
  const plan = planChange({
    desired: desired.resources,
    mirror,
    scope: desired.resources.keys(),
    layout,
    leaseId: LEASE,
    ownedServers: new Map(),
  });
  times.plan.push(performance.now() - start);
  start = performance.now();
  const { writable } = unwritableUnits(plan.units);
  times.unwritable.push(performance.now() - start);
  start = performance.now();
  const waves = transactionWaves(writable, { maxOps: STACK_MAX_TXN_OPS, maxBytes: MAX_TXN_BYTES });
  times.pack.push(performance.now() - start);
  start = performance.now();
  let revision = 2n;
  operations = 0;
  for (const wave of waves)
    for (const transaction of wave) {
      mirror.applyOwn(transaction.operations, revision, LEASE);
      revision += 1n;
      operations += transaction.operations.length;
    }
  times.applyOwn.push(performance.now() - start);
}
const median = (values: number[]) => Math.round(summary(values).p50 * 10) / 10;
const medians = Object.fromEntries(Object.entries(times).map(([part, values]) => [part, median(values)]));
const total = Math.round(Object.values(medians).reduce((sum, value) => sum + value, 0) * 10) / 10;
process.stdout.write(
  `${size} workloads, ${operations} operations, median of ${runs} runs (ms): plan ${medians.plan}, unwritable ${medians.unwritable}, pack ${medians.pack}, applyOwn ${medians.applyOwn}; together ${total}\n`,
);
