import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeapWatch } from '../../src/daemon/heap-watch.ts';

const MiB = 1024 * 1024;

test('heap watch: said once when the heap passes three quarters of the limit, again only after it fell below half', () => {
  const watch = new HeapWatch();
  const said = [50, 74, 76, 90, 60, 80, 40, 79].map((used) => watch.observe(used * MiB, 100 * MiB)?.percent);
  assert.deepEqual(said, [undefined, undefined, 76, undefined, undefined, undefined, undefined, 79]);
});

test('heap watch: the figures are in MiB, and no limit known says nothing', () => {
  assert.deepEqual(new HeapWatch().observe(120 * MiB, 130 * MiB), { usedMiB: 120, limitMiB: 130, percent: 92 });
  assert.equal(new HeapWatch().observe(120 * MiB, 0), undefined);
});
