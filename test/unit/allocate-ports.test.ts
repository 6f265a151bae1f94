import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { allocatePorts, type PortRequest } from '../../src/core/apps/allocate-ports.ts';
import type { PortRange } from '../../src/core/apps/port-range.ts';

interface Case {
  readonly desc: string;
  readonly requests: readonly PortRequest[];
  readonly held?: Record<string, number>;
  readonly range?: PortRange;
  /** key → port, or key → refusal reason. */
  readonly expected: Record<string, number | 'exhausted' | 'outside-range' | 'taken' | 'conflicting-requests'>;
  /** Keys whose port is new (must be recorded by a store). */
  readonly fresh?: readonly string[];
}

const range: PortRange = { first: 10205, last: 10300 };

const cases: Case[] = [
  { desc: 'nothing asked, nothing given', requests: [], expected: {} },
  {
    desc: 'an empty cluster: the lowest ports, in key order whatever the request order',
    requests: [{ key: 'container/c/x' }, { key: 'container/a/x' }, { key: 'container/b/x' }],
    expected: { 'container/a/x': 10205, 'container/b/x': 10206, 'container/c/x': 10207 },
    fresh: ['container/a/x', 'container/b/x', 'container/c/x'],
  },
  {
    desc: 'held ports are kept, and skipped by the others',
    requests: [{ key: 'a' }, { key: 'b' }, { key: 'c' }],
    held: { c: 10205, b: 10290 },
    expected: { a: 10206, b: 10290, c: 10205 },
    fresh: ['a'],
  },
  {
    desc: "ports held by other keys (other instances' apps) are never given out",
    requests: [{ key: 'a' }],
    held: { 'elsewhere/1': 10205, 'elsewhere/2': 10206 },
    expected: { a: 10207 },
    fresh: ['a'],
  },
  {
    desc: 'a held port outside the range (the range changed) is given up for one inside',
    requests: [{ key: 'a' }],
    held: { a: 9000 },
    expected: { a: 10205 },
    fresh: ['a'],
  },
  {
    desc: 'a requested port, free: given, before the lowest free ports are handed out',
    requests: [{ key: 'a' }, { key: 'b', requested: 10205 }],
    expected: { a: 10206, b: 10205 },
    fresh: ['a', 'b'],
  },
  {
    desc: 'a requested port the key already holds: kept, not fresh',
    requests: [{ key: 'a', requested: 10250 }],
    held: { a: 10250 },
    expected: { a: 10250 },
  },
  {
    desc: 'a requested port held by another key: refused, the others served',
    requests: [{ key: 'a', requested: 10205 }, { key: 'b' }],
    held: { z: 10205 },
    expected: { a: 'taken', b: 10206 },
    fresh: ['b'],
  },
  {
    desc: 'two keys asking for one port: the first in key order gets it',
    requests: [
      { key: 'b', requested: 10210 },
      { key: 'a', requested: 10210 },
    ],
    expected: { a: 10210, b: 'taken' },
    fresh: ['a'],
  },
  {
    desc: 'a requested port outside the range',
    requests: [
      { key: 'a', requested: 80 },
      { key: 'b', requested: 10301 },
    ],
    expected: { a: 'outside-range', b: 'outside-range' },
  },
  {
    desc: 'a key that moves to a requested port',
    requests: [{ key: 'a', requested: 10220 }],
    held: { a: 10205 },
    expected: { a: 10220 },
    fresh: ['a'],
  },
  {
    desc: 'the same key twice is one app',
    requests: [{ key: 'a' }, { key: 'a' }, { key: 'b' }],
    expected: { a: 10205, b: 10206 },
    fresh: ['a', 'b'],
  },
  {
    desc: 'the same key asking for two ports is refused',
    requests: [{ key: 'a', requested: 10210 }, { key: 'a', requested: 10211 }, { key: 'b' }],
    expected: { a: 'conflicting-requests', b: 10205 },
    fresh: ['b'],
  },
  {
    desc: 'exhausted: the last keys in order are refused, the first served',
    range: { first: 10205, last: 10206 },
    requests: [{ key: 'd' }, { key: 'c' }, { key: 'b' }, { key: 'a' }],
    expected: { a: 10205, b: 10206, c: 'exhausted', d: 'exhausted' },
    fresh: ['a', 'b'],
  },
  {
    desc: 'exhausted by held ports: a newcomer is refused, the holders keep theirs',
    range: { first: 10205, last: 10205 },
    requests: [{ key: 'new' }, { key: 'old' }],
    held: { old: 10205 },
    expected: { new: 'exhausted', old: 10205 },
  },
  {
    desc: 'a port held twice (a store edited by hand) belongs to the first key; the other gets a new one',
    requests: [{ key: 'a' }, { key: 'b' }],
    held: { a: 10205, b: 10205 },
    expected: { a: 10205, b: 10206 },
    fresh: ['b'],
  },
  {
    desc: 'a range of one port',
    range: { first: 20000, last: 20000 },
    requests: [{ key: 'a' }],
    expected: { a: 20000 },
    fresh: ['a'],
  },
  {
    desc: 'a preferred port (held before, then given up), still free: given again, before the lowest free ones',
    requests: [{ key: 'a' }, { key: 'b', preferred: 10240 }],
    expected: { a: 10205, b: 10240 },
    fresh: ['a', 'b'],
  },
  {
    desc: 'a preferred port taken meanwhile: the lowest free one instead, never a refusal',
    requests: [{ key: 'b', preferred: 10205 }],
    held: { other: 10205 },
    expected: { b: 10206 },
    fresh: ['b'],
  },
  {
    desc: 'a preferred port outside the range (the range changed): the lowest free one',
    requests: [{ key: 'b', preferred: 9000 }],
    expected: { b: 10205 },
    fresh: ['b'],
  },
  {
    desc: 'two keys preferring one port: the first in text order gets it',
    requests: [
      { key: 'b', preferred: 10230 },
      { key: 'a', preferred: 10230 },
    ],
    expected: { a: 10230, b: 10205 },
    fresh: ['a', 'b'],
  },
];

for (const entry of cases) {
  test(`allocate ports: ${entry.desc}`, () => {
    const result = allocatePorts(entry.requests, new Map(Object.entries(entry.held ?? {})), entry.range ?? range);
    const actual: Record<string, number | string> = {};
    for (const [key, assignment] of result.assigned) actual[key] = assignment.port;
    for (const [key, refusal] of result.refused) actual[key] = refusal.reason;
    assert.deepEqual(actual, entry.expected);
    assert.deepEqual(
      [...result.assigned.values()]
        .filter((assignment) => assignment.fresh)
        .map((assignment) => assignment.key)
        .sort(),
      [...(entry.fresh ?? [])].sort(),
      'fresh',
    );
    for (const refusal of result.refused.values())
      assert.ok(refusal.message.length > 20 && !refusal.message.includes('undefined'), refusal.message);
  });
}

test('allocate ports: refusals say what to do', () => {
  const result = allocatePorts([{ key: 'a', requested: 10205 }, { key: 'b' }], new Map([['holder', 10205]]), {
    first: 10205,
    last: 10205,
  });
  assert.match(result.refused.get('a')?.message ?? '', /taken by holder: ask for another port of 10205-10205/);
  assert.equal(result.refused.get('a')?.holder, 'holder');
  assert.match(result.refused.get('b')?.message ?? '', /widen --app-port-range.*traefik-entrypoints/);
});

test('allocate ports: many apps fill the range exactly, each port once', () => {
  const wide: PortRange = { first: 10000, last: 11023 };
  const requests = Array.from({ length: 1100 }, (_, index) => ({
    key: `container/app-${String(index).padStart(4, '0')}/x`,
  }));
  const result = allocatePorts(requests, new Map(), wide);
  assert.equal(result.assigned.size, 1024);
  assert.equal(result.refused.size, 76);
  assert.equal(new Set([...result.assigned.values()].map((assignment) => assignment.port)).size, 1024);
  assert.equal(result.assigned.get('container/app-0000/x')?.port, 10000);
  assert.equal(result.assigned.get('container/app-1023/x')?.port, 11023);
  assert.equal(result.refused.get('container/app-1024/x')?.reason, 'exhausted');
});

const requestArbitrary = fc.record({
  key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
  requested: fc.option(fc.integer({ min: 10200, max: 10212 }), { nil: undefined }),
});
const heldArbitrary = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'x', 'y'), fc.integer({ min: 10198, max: 10212 }), {
  maxKeys: 5,
});

test('allocate ports: properties: stable under reordering, no port twice, nothing held by another given out, every key answered (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.array(requestArbitrary, { maxLength: 12 }),
      heldArbitrary,
      fc.integer({ min: 0, max: 8 }),
      (requests, heldObject, width) => {
        const small: PortRange = { first: 10202, last: 10202 + width };
        const held = new Map(Object.entries(heldObject));
        const result = allocatePorts(requests, held, small);
        const reversed = allocatePorts([...requests].reverse(), new Map([...held].reverse()), small);
        assert.deepEqual(
          [...result.assigned].sort(),
          [...reversed.assigned].sort(),
          'the order of the input does not matter',
        );
        assert.deepEqual([...result.refused].sort(), [...reversed.refused].sort());
        const ports = [...result.assigned.values()].map((assignment) => assignment.port);
        assert.equal(new Set(ports).size, ports.length, 'no port twice');
        for (const assignment of result.assigned.values()) {
          assert.ok(assignment.port >= small.first && assignment.port <= small.last, 'inside the range');
          const holder = [...held]
            .filter(([, port]) => port === assignment.port)
            .map(([key]) => key)
            .sort()[0];
          if (holder !== undefined) assert.equal(holder, assignment.key, 'a held port goes to no one else');
          assert.equal(assignment.fresh, held.get(assignment.key) !== assignment.port);
        }
        const keys = new Set(requests.map((request) => request.key));
        assert.equal(result.assigned.size + result.refused.size, keys.size, 'every key answered once');
        // Fed back as held (what a store would persist), the allocation is a fixed point.
        const again = allocatePorts(
          requests,
          new Map([...held, ...[...result.assigned].map(([key, assignment]) => [key, assignment.port] as const)]),
          small,
        );
        for (const [key, assignment] of result.assigned)
          assert.equal(again.assigned.get(key)?.port, assignment.port, 'persisted ports are kept');
      },
    ),
    { numRuns: 500 },
  );
});
