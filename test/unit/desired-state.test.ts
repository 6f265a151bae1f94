import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Workload } from '../../src/core/workload.ts';
import { DesiredState } from '../../src/sync/desired-state.ts';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import { defaultCompiled } from '../support/expected-tree.ts';
import { container } from '../support/workloads.ts';

// The desired state alone: pure and synchronous, no store and no Docker. Each case applies steps
// to a fresh state (after `given`) and says which claim ids the last step changed, and what is
// desired then.

const layout = new KeyLayout('traefik', 'host-a');

function web(name: string, labels: Record<string, string> = {}, ip = '10.0.0.2'): Workload {
  return container({
    name,
    id: `${name}-id`,
    networks: [{ name: 'bridge', ip }],
    labels: { 'appproxy.enable': 'true', ...labels },
  });
}

type Step = (state: DesiredState) => void;

const cases: readonly {
  desc: string;
  given: readonly Step[];
  step: Step;
  changed: readonly string[];
  desired: readonly string[];
}[] = [
  {
    desc: 'a new workload: its router and service',
    given: [],
    step: (state) => state.upsertWorkload(web('chat')),
    changed: ['http/routers/chat', 'http/services/chat'],
    desired: ['http/routers/chat', 'http/services/chat'],
  },
  {
    desc: 'the same workload again: nothing changed',
    given: [(state) => state.upsertWorkload(web('chat'))],
    step: (state) => state.upsertWorkload(web('chat')),
    changed: [],
    desired: ['http/routers/chat', 'http/services/chat'],
  },
  {
    desc: 'a changed workload: every resource it touches is merged again (the planner finds the unchanged ones equal)',
    given: [(state) => state.upsertWorkload(web('chat'))],
    step: (state) => state.upsertWorkload(web('chat', { 'appproxy.http.routers.chat.rule': 'Host(`changed`)' })),
    changed: ['http/routers/chat', 'http/services/chat'],
    desired: ['http/routers/chat', 'http/services/chat'],
  },
  {
    desc: 'a workload gone',
    given: [(state) => state.upsertWorkload(web('chat')), (state) => state.upsertWorkload(web('shop', {}, '10.0.0.3'))],
    step: (state) => state.removeWorkload('chat-id'),
    changed: ['http/routers/chat', 'http/services/chat'],
    desired: ['http/routers/shop', 'http/services/shop'],
  },
  {
    desc: 'a full listing removes what it lacks and leaves the unchanged alone',
    given: [(state) => state.replaceWorkloads([web('chat'), web('shop', {}, '10.0.0.3')])],
    step: (state) => state.replaceWorkloads([web('shop', {}, '10.0.0.3')]),
    changed: ['http/routers/chat', 'http/services/chat'],
    desired: ['http/routers/shop', 'http/services/shop'],
  },
  {
    desc: 'the Swarm part replaced: containers stay',
    given: [(state) => state.replaceWorkloads([web('chat')])],
    step: (state) => state.replaceWorkloads([], 'swarm-service'),
    changed: [],
    desired: ['http/routers/chat', 'http/services/chat'],
  },
  {
    desc: 'two workloads sharing a service: one going changes that service, not the router of the other',
    given: [
      (state) =>
        state.upsertWorkload(
          web('a', {
            'appproxy.http.services.shared.loadbalancer.server.port': '80',
            'appproxy.http.routers.a.service': 'shared',
          }),
        ),
      (state) =>
        state.upsertWorkload(
          web(
            'b',
            {
              'appproxy.http.services.shared.loadbalancer.server.port': '80',
              'appproxy.http.routers.b.service': 'shared',
            },
            '10.0.0.3',
          ),
        ),
    ],
    step: (state) => state.removeWorkload('b-id'),
    changed: ['http/routers/b', 'http/services/shared'],
    desired: ['http/routers/a', 'http/services/shared'],
  },
];

for (const { desc, given, step, changed, desired } of cases) {
  test(`desired state: ${desc}`, () => {
    const state = new DesiredState({ layout, compiled: defaultCompiled });
    for (const before of given) before(state);
    state.takeChanged();
    step(state);
    assert.deepEqual([...state.takeChanged()].sort(), [...changed].sort());
    assert.deepEqual([...state.resources.keys()].sort(), [...desired].sort());
    assert.deepEqual([...state.takeChanged()], [], 'taken once');
  });
}

test('desired state: a workload past the instance limit is left out whole, with one refusal, and routed once another goes', () => {
  const state = new DesiredState({ layout, compiled: defaultCompiled, limits: { keys: 8, bytes: 1_000_000 } });
  state.upsertWorkload(web('alpha'));
  const size = state.storeSize();
  state.upsertWorkload(web('bravo', {}, '10.0.0.3'));
  assert.deepEqual(state.storeSize(), size, 'nothing of bravo is desired');
  assert.equal(state.refusalOf('bravo-id')?.limit, 'instance-keys');
  assert.equal(state.problems().filter((problem) => problem.limit === 'instance-keys').length, 1);
  state.removeWorkload('alpha-id');
  state.retryRefused();
  assert.equal(state.refusalOf('bravo-id'), undefined);
  assert.deepEqual([...state.resources.keys()].sort(), ['http/routers/bravo', 'http/services/bravo']);
  assert.deepEqual(state.counts().workloads, 1);
});
