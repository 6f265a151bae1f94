import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import type { Workload } from '../../src/core/workload.ts';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import type { GuardedTransaction } from '../../src/sync/kv-store.ts';
import { SyncEngine } from '../../src/sync/sync-engine.ts';
import { defaultCompiled, expectedTree as expectedTreeOf, rootTree } from '../support/expected-tree.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { container } from '../support/workloads.ts';

const compiled = defaultCompiled;
const quiet = pino({ level: 'silent' });
const layout = new KeyLayout('traefik', 'host-a');
const tick = () => new Promise((resolve) => setImmediate(resolve));

function web(name: string, labels: Record<string, string> = {}, ip = '10.0.0.2'): Workload {
  return container({
    name,
    id: `${name}-id`,
    networks: [{ name: 'bridge', ip }],
    labels: { 'appproxy.enable': 'true', ...labels },
  });
}

async function engineOn(store: MemoryStore, onDirty: () => void = () => undefined): Promise<SyncEngine> {
  const lease = await store.openLease(15, () => undefined);
  return new SyncEngine({ store, layout, compiled, lease, logger: quiet, onDirty });
}

const expectedTree = (workloads: readonly Workload[]) => expectedTreeOf(workloads, compiled, 'host-a');

test('engine: the first pass writes what the full translation gives, in one transaction; a second pass writes nothing', async () => {
  const store = new MemoryStore();
  const engine = await engineOn(store);
  const workloads = [web('chat'), web('shop', { 'appproxy.http.routers.shop.rule': 'Host(`shop.test`)' }, '10.0.0.3')];
  engine.desired.replaceWorkloads(workloads);
  const first = await engine.sync();
  assert.equal(first.transactions, 1);
  assert.deepEqual(rootTree(store), expectedTree(workloads));
  assert.equal(Object.keys(store.tree(layout.claimsPrefix)).length, 4, 'a claim for each router and service');
  engine.desired.replaceWorkloads(workloads);
  engine.requestFullPass();
  const again = await engine.sync();
  assert.deepEqual([again.transactions, again.operations], [0, 0]);
  assert.equal(store.loads, 1, 'the store is read once; the watch keeps the mirror current');
});

test("engine: a change is cut into transactions by the store's own limits: 50 workloads are several etcd transactions and one where a transaction takes more (Redis)", async () => {
  const fleet = Array.from({ length: 50 }, (_, i) => web(`app-${i}`, {}, `10.0.1.${i + 1}`));
  const outcomes = new Map<string, number>();
  for (const [store, limits] of [
    ['etcd', { maxOps: 128, maxBytes: 1024 * 1024 }],
    ['redis', { maxOps: 20_000, maxBytes: 1024 * 1024 }],
  ] as const) {
    const memory = new MemoryStore();
    memory.transactionLimits = limits;
    const engine = await engineOn(memory);
    engine.desired.replaceWorkloads(fleet);
    const outcome = await engine.sync();
    assert.deepEqual(rootTree(memory), expectedTree(fleet), store);
    assert.ok(
      outcome.operations > 128,
      `${store}: the change is larger than one etcd transaction (${outcome.operations} operations)`,
    );
    outcomes.set(store, outcome.transactions);
  }
  assert.ok((outcomes.get('etcd') ?? 0) > 1, `etcd: several transactions (${outcomes.get('etcd')})`);
  assert.equal(
    outcomes.get('redis'),
    1,
    'Redis: the whole change in one transaction, so Traefik never reads backends without their routers',
  );
});

test('engine: one new workload costs one transaction and a plan of its own resources only', async () => {
  const store = new MemoryStore();
  const engine = await engineOn(store);
  const fleet = Array.from({ length: 50 }, (_, i) => web(`app-${i}`, {}, `10.0.1.${i + 1}`));
  engine.desired.replaceWorkloads(fleet);
  await engine.sync();
  const extra = web('extra', {}, '10.0.2.1');
  engine.desired.upsertWorkload(extra);
  const outcome = await engine.sync();
  assert.equal(outcome.transactions, 1);
  assert.equal(outcome.planned, 2, 'its router and its service');
  assert.deepEqual(rootTree(store), expectedTree([...fleet, extra]));
  engine.desired.removeWorkload(extra.id);
  const removal = await engine.sync();
  assert.equal(removal.transactions, 1);
  assert.deepEqual(rootTree(store), expectedTree(fleet));
});

test('engine: a key removed by someone else comes back after the watch reports it', async () => {
  const store = new MemoryStore();
  let dirty = 0;
  const engine = await engineOn(store, () => (dirty += 1));
  engine.desired.replaceWorkloads([web('chat')]);
  await engine.sync();
  store.remove('traefik/http/routers/chat/rule');
  await tick();
  assert.ok(dirty > 0, 'the engine asks for a pass');
  const outcome = await engine.sync();
  assert.equal(outcome.planned, 1);
  assert.deepEqual(rootTree(store), expectedTree([web('chat')]));
});

test('engine: resources of an owner whose lease ran out are removed; its servers leave with the lease', async () => {
  const store = new MemoryStore();
  const engine = await engineOn(store);
  engine.desired.replaceWorkloads([web('mine')]);
  await engine.sync();
  // Another owner wrote a router, a service, a server and its claims on its lease.
  store.put('traefik/http/routers/theirs/rule', 'Host(`theirs`)');
  store.put('traefik/http/services/theirs/loadBalancer/servers/9/url', 'http://10.9.9.9:80', '555');
  store.put(layout.claimKey('http/routers/theirs', 'host-b'), 'digest', '555');
  store.put(layout.claimKey('http/services/theirs', 'host-b'), 'digest', '555');
  await tick();
  await engine.sync();
  assert.equal(store.data.has('traefik/http/routers/theirs/rule'), true, 'claimed by a live owner: left alone');
  store.expire('555');
  await tick();
  await engine.sync();
  assert.deepEqual(rootTree(store), expectedTree([web('mine')]));
});

test('engine: a guard that fails (a claim changed under the plan) makes it plan again from what the watch brings', async () => {
  const store = new MemoryStore();
  const engine = await engineOn(store);
  engine.desired.replaceWorkloads([web('chat')]);
  await engine.sync();
  // Just before the next transaction, another owner claims the router with the same definition.
  const apply = store.apply.bind(store);
  let injected = false;
  store.apply = async (transaction: GuardedTransaction, leaseId: string) => {
    if (!injected) {
      injected = true;
      const digest = store.data.get(layout.claimKey('http/routers/chat'))?.value ?? '';
      store.put(layout.claimKey('http/routers/chat', 'host-b'), digest, '777');
    }
    return apply(transaction, leaseId);
  };
  engine.desired.upsertWorkload(web('chat', { 'appproxy.http.routers.chat.rule': 'Host(`changed`)' }));
  const outcome = await engine.sync();
  assert.equal(outcome.replans, 1);
  // Now host-b's claim differs from ours: a conflict, and its definition is not overwritten.
  assert.deepEqual(
    engine.writer.conflicts().map((conflict) => conflict.owners),
    [['host-b']],
  );
  assert.notEqual(store.data.get('traefik/http/routers/chat/rule')?.value, 'Host(`changed`)');
});

test('engine: a lost watch makes the next pass load the store again and plan everything; nothing changed, nothing written', async () => {
  const store = new MemoryStore();
  let dirty = 0;
  const engine = await engineOn(store, () => (dirty += 1));
  engine.desired.replaceWorkloads([web('chat')]);
  await engine.sync();
  store.loseWatches();
  assert.ok(dirty > 0);
  const outcome = await engine.sync();
  assert.equal(outcome.loaded, true);
  assert.equal(store.loads, 2);
  assert.equal(outcome.transactions, 0);
});

test('engine: the last workload gone leaves the placeholder, so that Traefik drops the old routes', async () => {
  const store = new MemoryStore();
  const engine = await engineOn(store);
  engine.desired.replaceWorkloads([web('chat')]);
  await engine.sync();
  engine.desired.replaceWorkloads([]);
  await engine.sync();
  assert.deepEqual(rootTree(store), { traefik: 'appproxy', [layout.placeholderKey]: 'true' });
  engine.desired.replaceWorkloads([web('chat')]);
  await engine.sync();
  assert.equal(store.data.has(layout.placeholderKey), false);
});

test('engine: before the first listing a pass only adds (what a previous run wrote stays); the listing then removes what it does not name', async () => {
  const store = new MemoryStore();
  const previous = await engineOn(store);
  previous.desired.replaceWorkloads([web('chat'), web('shop', {}, '10.0.0.3')]);
  await previous.sync();
  const written = rootTree(store);

  // A new run of the same owner whose Docker has not answered yet: its passes (the store's own
  // changes put right meanwhile) must not take the earlier run's routes for unwanted.
  const engine = await engineOn(store);
  const unlisted = await engine.sync();
  assert.deepEqual([unlisted.operations, unlisted.complete], [0, false]);
  assert.deepEqual(rootTree(store), written, 'nothing removed before a listing');
  engine.desired.upsertWorkload(web('blog', {}, '10.0.0.4'));
  await engine.sync();
  assert.deepEqual(
    rootTree(store),
    expectedTree([web('chat'), web('shop', {}, '10.0.0.3'), web('blog', {}, '10.0.0.4')]),
  );

  engine.desired.replaceWorkloads([web('chat'), web('blog', {}, '10.0.0.4')]);
  const listed = await engine.sync();
  assert.equal(listed.complete, true, 'the first pass after the listing is a full one');
  assert.deepEqual(rootTree(store), expectedTree([web('chat'), web('blog', {}, '10.0.0.4')]));
});

/** An engine of another owner on the same store (another host's instance). */
async function engineOf(store: MemoryStore, owner: string): Promise<SyncEngine> {
  const lease = await store.openLease(15, () => undefined);
  return new SyncEngine({ store, layout: new KeyLayout('traefik', owner), compiled, lease, logger: quiet });
}

/** This owner's engine, having written `workloads` and heard its own echoes. */
async function routing(store: MemoryStore, workloads: readonly Workload[]): Promise<SyncEngine> {
  const engine = await engineOn(store);
  engine.desired.replaceWorkloads(workloads);
  await engine.sync();
  await tick();
  return engine;
}

const keysUnder = (store: MemoryStore, prefix: string) =>
  [...store.data.keys()].filter((key) => key.startsWith(prefix));

test("engine: a claim another owner just made is not taken for none because of this owner's own later commit (its watch lags the answers)", async () => {
  const store = new MemoryStore();
  const a = await routing(store, [web('web')]);
  const release = store.holdWatchEvents(() => true);
  try {
    // Host b starts a container of the same service: the router and service are shared.
    const b = await engineOf(store, 'host-b');
    b.desired.replaceWorkloads([web('web', {}, '10.0.0.3')]);
    await b.sync();
    // Host a commits something else (its mirror now reflects a revision after b's claim), then its
    // web container stops: b's claim has not come through a's watch yet.
    a.desired.upsertWorkload(web('other', {}, '10.0.0.9'));
    await a.sync();
    a.desired.removeWorkload('web-id');
    await a.sync();
  } finally {
    release();
  }
  await tick();
  assert.deepEqual(keysUnder(store, 'traefik/http/routers/web/').sort(), [
    'traefik/http/routers/web/defaultRule',
    'traefik/http/routers/web/rule',
    'traefik/http/routers/web/service',
  ]);
  assert.equal(keysUnder(store, 'traefik/http/services/web/loadBalancer/servers/').length, 1, "b's server stays");
});

test("engine: another owner's new resource whose tree events come before its claim's (etcd watches each range apart) is not taken for one nobody claims", async () => {
  const store = new MemoryStore();
  const a = await routing(store, [web('chat')]);
  const release = store.holdWatchEvents((key) => key.startsWith(layout.claimsPrefix));
  let written: string[] | undefined;
  try {
    const b = await engineOf(store, 'host-b');
    b.desired.replaceWorkloads([web('shop', {}, '10.0.0.3')]);
    await b.sync();
    written = keysUnder(store, 'traefik/http/').filter((key) => key.includes('/shop/'));
    await tick(); // the tree's events reach a; the claims' do not yet
    const pass = await a.sync(); // any pass of a (the foreign change asks for one)
    assert.equal(pass.operations, 0);
  } finally {
    release();
  }
  await tick();
  assert.equal((await a.sync()).operations, 0, 'once the claims come, shop is known to be claimed');
  assert.ok(written !== undefined && written.length >= 3);
  assert.deepEqual(
    keysUnder(store, 'traefik/http/').filter((key) => key.includes('/shop/')),
    written,
  );
});

// Incremental and whole translation agree: after any sequence of workloads coming, changing and
// going (with shared names, so that merges and conflicts happen), the store holds exactly what the
// whole translation of what runs gives.
const routerNames = ['r1', 'r2', 'R1'];
const serviceNames = ['s1', 's2'];
const arbitraryWorkload = fc
  .record({
    slot: fc.integer({ min: 0, max: 5 }),
    router: fc.constantFrom(...routerNames),
    service: fc.constantFrom(...serviceNames),
    rule: fc.constantFrom('Host(`a`)', 'Host(`b`)'),
    port: fc.constantFrom('80', '8080'),
    ip: fc.integer({ min: 1, max: 3 }),
    running: fc.boolean(),
  })
  .map(({ slot, router, service, rule, port, ip, running }) =>
    container({
      name: `w${slot}`,
      id: `w${slot}-id`,
      status: running ? 'running' : 'exited',
      networks: [{ name: 'bridge', ip: `10.0.0.${ip}` }],
      labels: {
        'appproxy.enable': 'true',
        [`appproxy.http.routers.${router}.rule`]: rule,
        [`appproxy.http.routers.${router}.service`]: service,
        [`appproxy.http.services.${service}.loadbalancer.server.port`]: port,
      },
    }),
  );
const step = fc.oneof(
  arbitraryWorkload.map((workload) => ({ upsert: workload })),
  fc.integer({ min: 0, max: 5 }).map((slot) => ({ remove: `w${slot}-id` })),
);

test('engine: incremental passes always leave the store as the whole translation would (fast-check, 200 runs)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
      const store = new MemoryStore();
      const engine = await engineOn(store);
      const running = new Map<string, Workload>();
      // The daemon's first pass is a listing (nothing runs yet); changes come after it.
      engine.desired.replaceWorkloads([]);
      await engine.sync();
      for (const change of steps) {
        if ('upsert' in change) {
          running.set(change.upsert.id, change.upsert);
          engine.desired.upsertWorkload(change.upsert);
        } else {
          running.delete(change.remove);
          engine.desired.removeWorkload(change.remove);
        }
        await engine.sync();
        await tick();
        assert.deepEqual(rootTree(store), expectedTree([...running.values()]));
      }
    }),
    { numRuns: 200 },
  );
});

test('engine: a full pass leaves out what needed nothing last time and has not changed since; whatever changed is planned and mended', async () => {
  const store = new MemoryStore();
  const engine = await engineOn(store);
  const workloads = [web('chat'), web('shop', {}, '10.0.0.3')];
  engine.desired.replaceWorkloads(workloads);
  await engine.sync();
  for (let round = 0; round < 2; round += 1) {
    engine.desired.replaceWorkloads(workloads);
    engine.requestFullPass();
    const again = await engine.sync();
    assert.deepEqual([again.transactions, again.operations], [0, 0], `full pass ${round + 1}: nothing to write`);
  }
  // Changed by someone else after it was settled: the next full pass (or the watch's pass) mends it.
  store.put('traefik/http/routers/chat/rule', 'Host(`elsewhere`)');
  const server = [...store.data.keys()].find((key) =>
    key.startsWith('traefik/http/services/shop/loadBalancer/servers/'),
  );
  assert.ok(server !== undefined);
  store.remove(server);
  store.put(layout.claimKey('http/routers/shop'), 'a digest of its own', '0');
  await tick();
  engine.requestFullPass();
  const mended = await engine.sync();
  assert.ok(mended.operations >= 3, `${mended.operations} operations`);
  assert.deepEqual(rootTree(store), expectedTree(workloads));
  engine.desired.replaceWorkloads(workloads);
  engine.requestFullPass();
  assert.equal((await engine.sync()).operations, 0);
});

test('engine: a full pass right after a write leaves out every claim id it wrote whole, and plans again one changed since', async () => {
  const store = new MemoryStore();
  const engine = await engineOn(store);
  const workloads = [web('chat'), web('shop', {}, '10.0.0.3')];
  engine.desired.replaceWorkloads(workloads);
  const first = await engine.sync();
  assert.ok(first.operations > 0);
  assert.equal(first.leftOut, 0, 'nothing known yet');
  engine.desired.replaceWorkloads(workloads);
  engine.requestFullPass();
  const again = await engine.sync();
  assert.deepEqual(
    { operations: again.operations, leftOut: again.leftOut },
    { operations: 0, leftOut: again.planned },
    'every claim id was written whole from the same input: none planned again',
  );
  // Someone else changes the chat router: that claim id is planned (and mended), the others are not.
  store.put('traefik/http/routers/chat/rule', 'Host(`elsewhere`)');
  await tick();
  engine.desired.replaceWorkloads(workloads);
  engine.requestFullPass();
  const mended = await engine.sync();
  assert.equal(mended.operations, 1);
  assert.equal(mended.leftOut, mended.planned - 1);
  assert.deepEqual(rootTree(store), expectedTree(workloads));
});

test('engine: a key someone else changes while this pass writes it is planned again, not taken as written whole', async () => {
  const store = new MemoryStore();
  const apply = store.apply.bind(store);
  let tampered = false;
  // Right after this owner's transaction commits, before its answer is back: another writer's change.
  store.apply = async (transaction, leaseId) => {
    const result = await apply(transaction, leaseId);
    if (!tampered && result.applied) {
      tampered = true;
      store.put('traefik/http/routers/chat/rule', 'Host(`elsewhere`)');
    }
    return result;
  };
  const engine = await engineOn(store);
  const workloads = [web('chat')];
  engine.desired.replaceWorkloads(workloads);
  await engine.sync();
  await tick();
  assert.equal(store.data.get('traefik/http/routers/chat/rule')?.value, 'Host(`elsewhere`)');
  const mended = await engine.sync();
  assert.equal(mended.operations, 1, 'the changed rule is written again');
  assert.deepEqual(rootTree(store), expectedTree(workloads));
});

test('engine: full passes between changes, and keys changed by someone else, always end in the whole translation (fast-check, 100 runs)', async () => {
  const tamper = fc.oneof(
    fc.constant({ full: true as const }),
    fc.nat(40).map((index) => ({ tamper: index })),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(step, tamper), { minLength: 1, maxLength: 14 }), async (steps) => {
      const store = new MemoryStore();
      const engine = await engineOn(store);
      const running = new Map<string, Workload>();
      // The daemon's first pass is a listing (nothing runs yet); changes come after it.
      engine.desired.replaceWorkloads([]);
      await engine.sync();
      for (const change of steps) {
        if ('upsert' in change) {
          running.set(change.upsert.id, change.upsert);
          engine.desired.upsertWorkload(change.upsert);
        } else if ('remove' in change) {
          running.delete(change.remove);
          engine.desired.removeWorkload(change.remove);
        } else if ('full' in change) {
          engine.desired.replaceWorkloads([...running.values()]);
          engine.requestFullPass();
        } else {
          // Someone else changes one key of the tree or of the claims: every other one in turn.
          // (The placeholder is written once, whatever its value: not what this is about.)
          const keys = [...store.data.keys()].filter(
            (key) =>
              (key.startsWith('traefik/') && key !== layout.placeholderKey) || key.startsWith(layout.claimsPrefix),
          );
          const key = keys[change.tamper % Math.max(keys.length, 1)];
          if (key !== undefined) {
            if (change.tamper % 2 === 0) store.remove(key);
            else store.put(key, 'changed by someone else', store.data.get(key)?.lease ?? '0');
          }
          await tick();
          engine.requestFullPass();
        }
        await engine.sync();
        await tick();
        assert.deepEqual(rootTree(store), expectedTree([...running.values()]));
      }
    }),
    { numRuns: 100 },
  );
});
