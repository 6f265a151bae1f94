import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DockerChanges } from '../../src/docker/docker-changes.ts';
import { DockerEventWatcher } from '../../src/docker/docker-events.ts';
import type { WorkloadChange } from '../../src/sync/workload-changes.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { FakeDockerEngine } from '../support/fake-docker-engine.ts';
import { waitUntil } from '../support/wait-until.ts';

// The event stream is the daemon's only news of the engine between resyncs. When it ends, fails,
// cannot be opened, or stays open on an engine that no longer answers, the watcher must say so
// (Docker is then not ready) and come back on its own; a reconnect reads everything again,
// because events were missed meanwhile.

const stoppers: (() => void)[] = [];
afterEach(() => {
  for (const stop of stoppers.splice(0)) stop();
});

function watch(engine: FakeDockerEngine, timings = { pingIntervalMs: 60_000, pingLimitMs: 1_000 }) {
  const { logger, lines } = capturedLogger();
  const connections: boolean[] = [];
  const watcher = new DockerEventWatcher(
    engine,
    logger,
    () => undefined,
    (connected) => connections.push(connected),
    timings,
  );
  stoppers.push(() => watcher.stop());
  watcher.start();
  return { watcher, connections, logs: lines };
}

function streamsOpened(engine: FakeDockerEngine): number {
  return engine.calls.filter((call) => call === 'followEvents').length;
}

describe('reconnects of the Docker event stream, over a fake engine', () => {
  it('reconnects when the stream ends (a proxy closing it), saying it was lost in between', async () => {
    const engine = new FakeDockerEngine();
    const { connections } = watch(engine);
    await waitUntil('connected', () => engine.openStreams === 1);
    engine.endStreams();
    await waitUntil('reconnected', () => streamsOpened(engine) === 2 && engine.openStreams === 1);
    assert.deepStrictEqual(connections, [true, false, true]);
  });

  it('reconnects when the stream fails (the engine restarting), and logs why', async () => {
    const engine = new FakeDockerEngine();
    const { connections, logs } = watch(engine);
    await waitUntil('connected', () => engine.openStreams === 1);
    engine.endStreams(new Error('socket hang up'));
    await waitUntil('reconnected', () => streamsOpened(engine) === 2 && engine.openStreams === 1);
    assert.deepStrictEqual(connections, [true, false, true]);
    const failed = logs.find((line) => line['msg'] === 'Docker event stream failed');
    assert.match(String((failed?.['err'] as { message?: string } | undefined)?.message), /socket hang up/);
  });

  it('keeps trying, with backoff, while the engine refuses the stream, and says it is not connected', async () => {
    const engine = new FakeDockerEngine();
    engine.fail(
      'followEvents',
      new Error('connect ENOENT /var/run/docker.sock'),
      new Error('connect ENOENT /var/run/docker.sock'),
    );
    const { connections, logs } = watch(engine);
    await waitUntil('connected at the third attempt', () => engine.openStreams === 1, 5_000);
    assert.equal(streamsOpened(engine), 3);
    assert.deepStrictEqual(connections, [false, false, true]);
    const waits = logs
      .filter((line) => line['msg'] === 'Docker event stream unavailable')
      .map((line) => line['retryInMs'] as number);
    assert.equal(waits.length, 2);
    assert.ok(waits[0]! >= 100 && waits[1]! >= 200, `backoff ${waits.join(', ')} ms`);
  });

  it('gives up on a stream the engine does not open within the limit, and tries again', async () => {
    const engine = new FakeDockerEngine({ limitMs: 300 });
    engine.fail('followEvents', 'no answer');
    const { connections, logs } = watch(engine);
    await waitUntil('connected at the second attempt', () => engine.openStreams === 1);
    assert.deepStrictEqual(connections, [false, true]);
    const unavailable = logs.find((line) => line['msg'] === 'Docker event stream unavailable');
    assert.match(
      String((unavailable?.['err'] as { message?: string } | undefined)?.message),
      /GET \/events: no answer from the Docker engine within 300 ms/,
    );
  });

  it('stops trusting an open stream once a ping goes unanswered (a wedged engine), and reconnects', async () => {
    const engine = new FakeDockerEngine();
    const { connections, logs } = watch(engine, { pingIntervalMs: 20, pingLimitMs: 300 });
    await waitUntil('connected', () => engine.openStreams === 1);
    engine.fail('ping', 'no answer');
    await waitUntil('the silent stream to be given up', () => connections.includes(false), 2_000);
    await waitUntil('reconnected', () => streamsOpened(engine) === 2 && engine.openStreams === 1);
    assert.deepStrictEqual(connections, [true, false, true]);
    const wedged = logs.find(
      (line) => line['msg'] === 'Docker engine stopped answering; the event stream is no longer trusted, reconnecting',
    );
    assert.match(
      String((wedged?.['err'] as { message?: string } | undefined)?.message),
      /GET \/_ping: no answer from the Docker engine within 300 ms/,
    );
  });

  it('keeps a stream whose engine answers its pings', async () => {
    const engine = new FakeDockerEngine();
    const { connections } = watch(engine, { pingIntervalMs: 10, pingLimitMs: 1_000 });
    await waitUntil('several pings answered', () => engine.calls.filter((call) => call === 'ping').length >= 5);
    assert.deepStrictEqual(connections, [true]);
    assert.equal(streamsOpened(engine), 1);
  });

  it('closes the stream when stopped, and opens no other', async () => {
    const engine = new FakeDockerEngine();
    const { watcher } = watch(engine);
    await waitUntil('connected', () => engine.openStreams === 1);
    watcher.stop();
    assert.equal(engine.openStreams, 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(streamsOpened(engine), 1);
  });

  it('makes the change feed read everything again after a reconnect', async () => {
    const engine = new FakeDockerEngine();
    const { logger } = capturedLogger();
    const changes: WorkloadChange[] = [];
    const feed = new DockerChanges(engine, logger, {
      onChange: (change) => changes.push(change),
      onConnection: () => undefined,
    });
    stoppers.push(() => feed.stop());
    feed.start();
    await waitUntil('connected', () => changes.length === 1);
    changes.length = 0;
    engine.endStreams(new Error('socket hang up'));
    await waitUntil('reconnected', () => streamsOpened(engine) === 2 && engine.openStreams === 1);
    assert.deepStrictEqual(changes, [{ kind: 'all' }]);
  });
});
