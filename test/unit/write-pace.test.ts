import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WritePace } from '../../src/sync/write-pace.ts';

function paced(maxHoldMs = 10_000) {
  let clock = 0;
  const pace = new WritePace({ maxHoldMs, now: () => clock });
  return { pace, at: (ms: number) => void (clock = ms) };
}

test('write pace: nothing is held before an apply was measured, nor after the last commit is live everywhere', () => {
  const { pace, at } = paced();
  pace.committed();
  assert.equal(pace.waitMs(), 0, 'no apply measured yet');
  pace.applied('t1', 800);
  assert.equal(pace.waitMs(), 800, 'the commit is not yet live everywhere');
  pace.settled();
  assert.equal(pace.waitMs(), 0, 'live everywhere');
  at(5000);
  pace.committed();
  at(5300);
  assert.equal(pace.waitMs(), 500, 'held for the rest of the usual apply');
  at(6000);
  assert.equal(pace.waitMs(), 0, 'the usual apply has passed');
});

const cases: { name: string; applies: [string, number][]; maxHoldMs?: number; expected: number }[] = [
  {
    name: 'one Traefik: the median of its last five',
    applies: [
      ['a', 100],
      ['a', 9000],
      ['a', 200],
      ['a', 300],
    ],
    expected: 200,
  },
  {
    name: 'the oldest of six is forgotten',
    applies: [
      ['a', 9000],
      ['a', 1],
      ['a', 1],
      ['a', 5],
      ['a', 5],
      ['a', 5],
    ],
    expected: 5,
  },
  {
    name: 'the slowest Traefik decides',
    applies: [
      ['a', 100],
      ['b', 4000],
      ['a', 120],
    ],
    expected: 4000,
  },
  { name: 'never more than the limit', applies: [['a', 30_000]], maxHoldMs: 10_000, expected: 10_000 },
  { name: 'a limit of 0 never holds', applies: [['a', 300]], maxHoldMs: 0, expected: 0 },
];
for (const { name, applies, maxHoldMs, expected } of cases)
  test(`write pace: ${name}`, () => {
    const { pace } = paced(maxHoldMs);
    for (const [traefik, ms] of applies) pace.applied(traefik, ms);
    pace.committed();
    assert.equal(pace.waitMs(), expected);
  });

test('write pace: a forgotten Traefik and applies older than ten minutes no longer count', () => {
  const { pace, at } = paced();
  pace.applied('slow', 6000);
  at(1000);
  pace.applied('fast', 100);
  pace.committed();
  assert.equal(pace.applyMs(), 6000);
  pace.forget('slow');
  assert.equal(pace.applyMs(), 100);
  at(1000 + 10 * 60_000 + 1);
  assert.equal(pace.applyMs(), 0);
});

test('write pace: a read-back round settles when every reachable Traefik shows every commit, an unreachable one aside', () => {
  const { pace } = paced();
  pace.applied('a', 500);
  pace.applied('gone', 9000);
  pace.committed();
  const waiting = { reachable: true, pending: [{}] };
  const current = { reachable: true, pending: [] };
  const unreachable = { reachable: false, pending: [{}] };
  assert.equal(pace.round([current, waiting], []), false);
  assert.equal(pace.waitMs(), 9000);
  assert.equal(pace.round([current, unreachable], ['gone']), true);
  assert.equal(pace.waitMs(), 0);
  assert.equal(pace.applyMs(), 500, 'the forgotten instance no longer counts');
});
