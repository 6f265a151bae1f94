import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DockerChanges, nextSwarmPollDelay } from '../../src/docker/docker-changes.ts';
import type { DockerEvent } from '../../src/docker/docker-events.ts';
import type { SwarmTask } from '../../src/docker/inspect-types.ts';
import type { WorkloadChange } from '../../src/sync/workload-changes.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { FakeDockerEngine } from '../support/fake-docker-engine.ts';
import { waitUntil } from '../support/wait-until.ts';

// The change feed over a scripted engine: which event asks which part to be read again, and the
// Swarm poll that sees tasks change on other nodes.

const running: DockerChanges[] = [];
afterEach(() => {
  for (const changes of running.splice(0)) changes.stop();
});

function follow(engine: FakeDockerEngine) {
  const { logger, lines } = capturedLogger();
  const seen = {
    changes: [] as WorkloadChange[],
    connections: [] as boolean[],
    events: [] as DockerEvent[],
    managers: [] as (string | undefined)[],
    logs: lines,
  };
  const changes = new DockerChanges(
    engine,
    logger,
    {
      onChange: (change) => seen.changes.push(change),
      onConnection: (connected) => seen.connections.push(connected),
      onEvent: (event) => seen.events.push(event),
      onSwarmManager: (clusterId) => seen.managers.push(clusterId),
    },
    { pingIntervalMs: 60_000, pingLimitMs: 1_000 },
  );
  running.push(changes);
  changes.start();
  return seen;
}

async function connected(
  engine: FakeDockerEngine,
  seen: { connections: boolean[]; changes: WorkloadChange[] },
): Promise<void> {
  await waitUntil(
    'the event stream to be followed',
    () => seen.connections.at(-1) === true && engine.openStreams === 1,
  );
  seen.changes.length = 0;
}

function task(id: string, version: number): SwarmTask {
  return { ID: id, ServiceID: 'svc', DesiredState: 'running', Version: { Index: version } };
}

describe('DockerChanges over a fake engine', () => {
  it('reads everything once the event stream is followed: events before it were not seen', async () => {
    const engine = new FakeDockerEngine();
    const seen = follow(engine);
    await waitUntil('connected', () => seen.connections.includes(true));
    assert.deepStrictEqual(seen.connections, [true]);
    assert.deepStrictEqual(seen.changes, [{ kind: 'all' }]);
  });

  const cases: {
    desc: string;
    event: Parameters<FakeDockerEngine['emit']>[0];
    expected: WorkloadChange | undefined;
  }[] = [
    {
      desc: 'a container start names the container',
      event: { Type: 'container', Action: 'start', Actor: { ID: 'c1' } },
      expected: { kind: 'containers', ids: ['c1'] },
    },
    {
      desc: 'a health change names the container',
      event: { Type: 'container', Action: 'health_status: healthy', Actor: { ID: 'c1' } },
      expected: { kind: 'containers', ids: ['c1'] },
    },
    {
      desc: 'a task container event reads the Swarm part',
      event: {
        Type: 'container',
        Action: 'die',
        Actor: { ID: 'c2', Attributes: { 'com.docker.swarm.service.id': 'svc' } },
      },
      expected: { kind: 'swarm' },
    },
    {
      desc: 'a network connect names the container it is about',
      event: { Type: 'network', Action: 'connect', Actor: { ID: 'n1', Attributes: { container: 'c3' } } },
      expected: { kind: 'containers', ids: ['c3'] },
    },
    {
      desc: 'a network event about no container reads everything',
      event: { Type: 'network', Action: 'disconnect', Actor: { ID: 'n1' } },
      expected: { kind: 'all' },
    },
    {
      desc: 'a service event reads the Swarm part',
      event: { Type: 'service', Action: 'update', Actor: { ID: 's1' } },
      expected: { kind: 'swarm' },
    },
    {
      desc: 'a node event reads the Swarm part',
      event: { Type: 'node', Action: 'update', Actor: { ID: 'node1' } },
      expected: { kind: 'swarm' },
    },
    {
      desc: 'an exec in a container changes nothing routed',
      event: { Type: 'container', Action: 'exec_start: sh', Actor: { ID: 'c1' } },
      expected: undefined,
    },
    {
      desc: 'a network create changes nothing routed',
      event: { Type: 'network', Action: 'create', Actor: { ID: 'n2' } },
      expected: undefined,
    },
    {
      desc: 'an image pull is not even asked for',
      event: { Type: 'image', Action: 'pull', Actor: { ID: 'busybox' } },
      expected: undefined,
    },
  ];
  for (const { desc, event, expected } of cases) {
    it(desc, async () => {
      const engine = new FakeDockerEngine();
      const seen = follow(engine);
      await connected(engine, seen);
      engine.emit(event);
      assert.deepStrictEqual(seen.changes, expected === undefined ? [] : [expected]);
      assert.equal(seen.events.length, expected === undefined ? 0 : 1);
    });
  }

  it('skips an unreadable line with a warning and keeps following the stream', async () => {
    const engine = new FakeDockerEngine();
    const seen = follow(engine);
    await connected(engine, seen);
    engine.emitUnreadable('{"Type": "contai');
    engine.emit({ Type: 'container', Action: 'stop', Actor: { ID: 'c1' } });
    assert.deepStrictEqual(seen.changes, [{ kind: 'containers', ids: ['c1'] }]);
    assert.ok(
      seen.logs.some(
        (line) => line['msg'] === 'unreadable Docker event skipped' && line['line'] === '{"Type": "contai',
      ),
    );
  });

  it('on a Swarm manager, says the cluster and reads the Swarm part when a task changes, even on another node', async () => {
    const engine = new FakeDockerEngine();
    engine.setSwarm({ clusterId: 'cluster-1', tasks: [task('t1', 10)] });
    const seen = follow(engine);
    await waitUntil('the first poll', () => seen.managers.length === 1);
    assert.deepStrictEqual(seen.managers, ['cluster-1']);
    await waitUntil('the first poll to see the tasks', () => seen.changes.some((change) => change.kind === 'swarm'));

    seen.changes.length = 0;
    // Nothing sends an event here for a task rescheduled on another node: only its version says so.
    engine.setSwarm({ clusterId: 'cluster-1', tasks: [task('t1', 11)] });
    await waitUntil(
      'the next poll to see the new task version',
      () => seen.changes.some((change) => change.kind === 'swarm'),
      5_000,
    );
    assert.deepStrictEqual(seen.changes, [{ kind: 'swarm' }]);
  });

  // Swarm sends a stopping task SIGTERM 2 s after the managers mark it: one poll every 500 ms sees
  // it with time to write; a slow listing (a large Swarm) spaces the polls to ten times its cost.
  const pollDelays: { tookMs: number; delayMs: number }[] = [
    { tookMs: 0, delayMs: 500 },
    { tookMs: 30, delayMs: 470 },
    { tookMs: 50, delayMs: 450 },
    { tookMs: 100, delayMs: 900 },
    { tookMs: 1000, delayMs: 9000 },
  ];
  for (const { tookMs, delayMs } of pollDelays) {
    it(`starts the next Swarm poll ${delayMs} ms after one that took ${tookMs} ms`, () => {
      assert.equal(nextSwarmPollDelay(tookMs), delayMs);
    });
  }

  it('asks the role less often than it lists the tasks (the role changes only on promote and demote)', async () => {
    const engine = new FakeDockerEngine();
    engine.setSwarm({ clusterId: 'cluster-1', tasks: [task('t1', 10)] });
    follow(engine);
    await waitUntil(
      'eight task listings',
      () => engine.calls.filter((call) => call === 'listRunningTasks').length >= 8,
      10_000,
    );
    // A role check every 2 s and a listing every 500 ms: at most one role check per four listings.
    assert.ok(engine.calls.filter((call) => call === 'info').length <= 3, engine.calls.join(', '));
  });

  it('stops reading tasks once the engine is demoted, and says there is no Swarm', async () => {
    const engine = new FakeDockerEngine();
    engine.setSwarm({ clusterId: 'cluster-1', tasks: [task('t1', 10)] });
    const seen = follow(engine);
    await waitUntil('the first poll', () => seen.managers.length === 1);
    engine.setSwarm(undefined);
    await waitUntil('the demotion to be seen', () => seen.managers.at(-1) === undefined, 5_000);
    const listings = engine.calls.filter((call) => call === 'listRunningTasks').length;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(engine.calls.filter((call) => call === 'listRunningTasks').length, listings);
  });

  it('counts a manager that answers without its cluster (cut off from its quorum) as no manager', async () => {
    const engine = new FakeDockerEngine();
    engine.setSwarm({ clusterId: 'cluster-1', tasks: [task('t1', 10)] });
    const seen = follow(engine);
    await waitUntil('the first poll', () => seen.managers.length === 1);
    engine.setSwarm({ clusterId: '', tasks: [task('t1', 10)] });
    await waitUntil('the cut-off manager to be seen', () => seen.managers.at(-1) === undefined, 5_000);
    assert.deepStrictEqual(seen.managers, ['cluster-1', undefined]);
  });

  it('on a plain engine, says there is no Swarm and asks for no task', async () => {
    const engine = new FakeDockerEngine();
    const seen = follow(engine);
    await waitUntil('the first poll', () => seen.managers.length === 1);
    assert.deepStrictEqual(seen.managers, [undefined]);
    assert.ok(!engine.calls.includes('listRunningTasks'));
  });

  it('keeps polling after a poll fails, and says so only in the debug log', async () => {
    const engine = new FakeDockerEngine();
    engine.fail('info', new Error('connection reset'));
    const seen = follow(engine);
    await waitUntil('the failed poll to be logged', () =>
      seen.logs.some((line) => line['msg'] === 'Swarm poll failed'),
    );
    assert.equal(seen.logs.find((line) => line['msg'] === 'Swarm poll failed')?.['level'], 20);
    await waitUntil('the next poll', () => seen.managers.length === 1, 5_000);
  });
});
