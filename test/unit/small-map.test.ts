import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SmallMap } from '../../src/core/small-map.ts';

// SmallMap against Map: the same operations in the same order give the same answers and the same
// iteration order, through the one-entry form, the change to a real Map and back down.

type Step = readonly ['set', string, number] | readonly ['delete', string];

const cases: { desc: string; steps: Step[] }[] = [
  { desc: 'empty', steps: [] },
  { desc: 'one entry', steps: [['set', 'a', 1]] },
  {
    desc: 'one entry set again',
    steps: [
      ['set', 'a', 1],
      ['set', 'a', 2],
    ],
  },
  {
    desc: 'one entry deleted',
    steps: [
      ['set', 'a', 1],
      ['delete', 'a'],
    ],
  },
  {
    desc: 'delete of a key it does not hold',
    steps: [
      ['set', 'a', 1],
      ['delete', 'b'],
    ],
  },
  {
    desc: 'a second entry',
    steps: [
      ['set', 'a', 1],
      ['set', 'b', 2],
    ],
  },
  {
    desc: 'two, the first deleted and set again (goes last)',
    steps: [
      ['set', 'a', 1],
      ['set', 'b', 2],
      ['delete', 'a'],
      ['set', 'a', 3],
    ],
  },
  {
    desc: 'two, both deleted, one set',
    steps: [
      ['set', 'a', 1],
      ['set', 'b', 2],
      ['delete', 'a'],
      ['delete', 'b'],
      ['set', 'c', 3],
    ],
  },
  {
    desc: 'one deleted, another set',
    steps: [
      ['set', 'a', 1],
      ['delete', 'a'],
      ['set', 'b', 2],
      ['set', 'a', 4],
    ],
  },
  {
    desc: 'three, the middle one updated',
    steps: [
      ['set', 'a', 1],
      ['set', 'b', 2],
      ['set', 'c', 3],
      ['set', 'b', 5],
    ],
  },
];

for (const { desc, steps } of cases) {
  test(`small map: ${desc}`, () => {
    const small = new SmallMap<string, number>();
    const map = new Map<string, number>();
    for (const step of steps) {
      if (step[0] === 'set') {
        assert.equal(small.set(step[1], step[2]), small);
        map.set(step[1], step[2]);
      } else {
        assert.equal(small.delete(step[1]), map.delete(step[1]), `delete ${step[1]}`);
      }
    }
    assert.equal(small.size, map.size);
    assert.deepEqual([...small], [...map]);
    assert.deepEqual([...small.keys()], [...map.keys()]);
    assert.deepEqual([...small.values()], [...map.values()]);
    assert.deepEqual([...small.entries()], [...map.entries()]);
    for (const key of ['a', 'b', 'c', 'd']) {
      assert.equal(small.get(key), map.get(key), `get ${key}`);
      assert.equal(small.has(key), map.has(key), `has ${key}`);
    }
    const seen: [string, number][] = [];
    small.forEach((value, key, self) => {
      assert.equal(self, small);
      seen.push([key, value]);
    });
    assert.deepEqual(seen, [...map]);
  });
}
