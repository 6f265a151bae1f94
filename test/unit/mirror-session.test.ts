import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import { LeadershipLostError } from '../../src/sync/kv-store.ts';
import { MirrorSession } from '../../src/sync/mirror-session.ts';
import { MemoryStore } from '../support/memory-store.ts';

// The mirror session alone: this owner's writes enter the mirror at once and their echoes change
// nothing; another writer's changes are told, by claim id; a lost watch is told and the next
// ensure() loads again.

const quiet = pino({ level: 'silent' });
const layout = new KeyLayout('traefik', 'host-a');
const tick = () => new Promise((resolve) => setImmediate(resolve));

function sessionOn(store: MemoryStore) {
  const told = { foreign: [] as string[][], lost: 0, loaded: 0, applied: 0 };
  const session = new MirrorSession({
    store,
    layout,
    logger: quiet,
    onForeignChange: (ids) => told.foreign.push([...ids]),
    onLost: () => (told.lost += 1),
    onLoaded: () => (told.loaded += 1),
    onApplied: () => (told.applied += 1),
  });
  return { session, told };
}

test('mirror session: own writes are in the mirror at once, their echoes tell nothing; a foreign write is told by claim id', async () => {
  const store = new MemoryStore();
  const { session, told } = sessionOn(store);
  assert.equal(await session.ensure(), true);
  assert.equal(await session.ensure(), false, 'loaded once while the watch lives');
  // A load counts as a change of the ports (a pass takes it, as the engine's does).
  assert.equal(session.mirror.takePortsChanged(), true);
  const key = 'traefik/http/routers/chat/rule';
  const result = await session.apply(
    { operations: [{ type: 'put', key, value: 'Host(`a`)', leased: false }], guards: [] },
    '0',
  );
  assert.equal(result.applied, true);
  assert.equal(session.mirror.entry(key)?.value, 'Host(`a`)');
  await tick();
  assert.deepEqual(told.foreign, [], 'the echo of its own write');
  store.put(key, 'Host(`b`)');
  await tick();
  assert.deepEqual(told.foreign, [['http/routers/chat']]);
  assert.equal(told.applied, 1);
  await session.stop();
});

test('mirror session: a lost watch is told once, and the next ensure() loads again', async () => {
  const store = new MemoryStore();
  const { session, told } = sessionOn(store);
  await session.ensure();
  store.loseWatches();
  assert.equal(told.lost, 1);
  assert.equal(await session.ensure(), true);
  assert.deepEqual([told.loaded, store.loads], [2, 2]);
  await session.stop();
});

test('mirror session: a fenced write refused ends with LeadershipLostError naming the owner', async () => {
  const store = new MemoryStore();
  const candidacy = store.campaign('appproxy/elections/traefik/', 'swarm', 'x', 10, () => undefined);
  await candidacy.elected();
  const fence = await candidacy.fence();
  const session = new MirrorSession({
    store,
    layout,
    logger: quiet,
    fence,
    onForeignChange: () => undefined,
    onLost: () => undefined,
    onLoaded: () => undefined,
  });
  await session.ensure();
  await candidacy.resign();
  await assert.rejects(
    session.apply({ operations: [{ type: 'put', key: 'traefik/x', value: '1', leased: false }], guards: [] }, '0'),
    (error: unknown) => error instanceof LeadershipLostError && error.message.includes('host-a'),
  );
  await session.stop();
});
