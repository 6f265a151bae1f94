// The apps' step of the sync engine on the in-memory store: ports allocated through guarded
// creates, shared by several instances, kept across restarts, freed, and the apps' records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import {
  compileTranslateOptions,
  type CompiledTranslateOptions,
  defaultTranslateOptions,
} from '../../src/core/translate/translate-options.ts';
import type { Workload } from '../../src/core/workload.ts';
import type { AppRecord } from '../../src/core/apps/app-record.ts';
import { decodePortHolding } from '../../src/sync/app-ports.ts';
import type { ActivitySource } from '../../src/sync/app-serving.ts';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import { SyncEngine } from '../../src/sync/sync-engine.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { container } from '../support/workloads.ts';

const quiet = pino({ level: 'silent' });
const tick = () => new Promise((resolve) => setImmediate(resolve));

function compiledWith(first: number, last: number): CompiledTranslateOptions {
  const result = compileTranslateOptions({
    ...defaultTranslateOptions,
    apps: { ...defaultTranslateOptions.apps, portRange: { first, last } },
  });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.value;
}

/** One container carrying `count` HTTP apps (app-0, app-1, ...). */
function appHost(name: string, count: number, extra: Record<string, string> = {}, ip = '10.0.0.2'): Workload {
  const labels: Record<string, string> = { ...extra };
  for (let i = 0; i < count; i += 1) labels[`appproxy.apps.app-${i}.port`] = String(8000 + i);
  return container({ name, id: `${name}-id`, networks: [{ name: 'bridge', ip }], labels });
}

async function engineOn(
  store: MemoryStore,
  owner: string,
  compiled: CompiledTranslateOptions,
  options: { onDirty?: () => void; activity?: ActivitySource; inherited?: string[] } = {},
) {
  const lease = await store.openLease(15, () => undefined);
  const layout = new KeyLayout('traefik', owner);
  const engine = new SyncEngine({ store, layout, compiled, lease, logger: quiet, ...options });
  return { engine, layout, lease };
}

/** Port → the app holding it, and its owner. */
function ports(store: MemoryStore): Map<number, { app: string; owner: string; lease: string }> {
  const held = new Map<number, { app: string; owner: string; lease: string }>();
  for (const entry of store.data.values()) {
    if (!entry.key.startsWith('appproxy/ports/traefik/')) continue;
    const holding = decodePortHolding(entry.value);
    assert.ok(holding, `port key ${entry.key} holds ${entry.value}`);
    held.set(Number(entry.key.slice('appproxy/ports/traefik/'.length)), { ...holding, lease: entry.lease });
  }
  return held;
}

function records(store: MemoryStore): AppRecord[] {
  return Object.values(store.tree('appproxy/apps/traefik/')).map((value) => JSON.parse(value) as AppRecord);
}

/** Counts the transactions a guard refused. */
class CountingStore extends MemoryStore {
  refused = 0;
  override async apply(...args: Parameters<MemoryStore['apply']>) {
    const result = await super.apply(...args);
    if (!result.applied) this.refused += 1;
    return result;
  }
}

test('app ports: two instances allocating 20 apps each at the same moment get 40 distinct ports, each recorded and routed', async () => {
  const store = new CountingStore();
  const compiled = compiledWith(10205, 10244);
  const a = await engineOn(store, 'host-a', compiled);
  const b = await engineOn(store, 'host-b', compiled);
  a.engine.desired.replaceWorkloads([appHost('lab-a', 20)]);
  b.engine.desired.replaceWorkloads([appHost('lab-b', 20, {}, '10.0.0.3')]);
  await Promise.all([a.engine.sync(), b.engine.sync()]);
  assert.ok(store.refused >= 1, 'they did choose the same ports at first: one guard refused the later');
  const held = ports(store);
  assert.equal(held.size, 40, 'every port of the range is held once');
  assert.deepEqual([...held.values()].filter((h) => h.owner === 'host-a').length, 20);
  assert.deepEqual(new Set([...held.values()].map((h) => h.app)).size, 40, 'forty apps, one port each');
  for (const [port, holding] of held) {
    const entryPoints = Object.entries(store.tree('traefik/http/routers/')).filter(
      ([key, value]) => key.endsWith('/entryPoints/0') && value === `portproxy_${port}`,
    );
    assert.equal(entryPoints.length, 1, `one router on the entry point of port ${port} (${holding.app})`);
  }
  for (const engine of [a.engine, b.engine]) {
    assert.equal(engine.apps.records().length, 20);
    assert.ok(engine.apps.records().every((record) => record.error === null && record.port !== null));
    assert.deepEqual(engine.problems(), []);
  }
  assert.equal(records(store).length, 40, 'a record of each app in the store');
  // Nothing changed: nothing written.
  const before = store.transactions;
  a.engine.requestFullPass();
  await a.engine.sync();
  assert.equal(store.transactions, before, 'a pass with nothing new writes nothing');
});

test('app ports: a full range gives the apps beyond it one clear error each, serves the others, and the refused app gets a port once one is freed', async () => {
  const store = new MemoryStore();
  let dirty = 0;
  const { engine } = await engineOn(store, 'host-a', compiledWith(10205, 10207), { onDirty: () => (dirty += 1) });
  const first = appHost('a-lab', 3);
  const late = container({
    name: 'b-late',
    networks: [{ name: 'bridge', ip: '10.0.0.9' }],
    labels: { 'appproxy.apps.web.port': '80' },
  });
  engine.desired.replaceWorkloads([first, late]);
  await engine.sync();
  assert.deepEqual([...ports(store).keys()].sort(), [10205, 10206, 10207]);
  const errors = engine.problems().filter((problem) => problem.severity === 'error');
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.equal(errors[0]?.workload, 'b-late');
  assert.equal(errors[0]?.label, 'appproxy.apps.web.port');
  assert.match(
    errors[0]?.message ?? '',
    /every port of the app port range 10205-10207 is taken \(3 ports\): widen --app-port-range/,
  );
  assert.deepEqual([...engine.apps.allocationErrors()], [['exhausted', 1]]);
  const refused = records(store).find((record) => record.workload === 'b-late');
  assert.equal(refused?.port, null);
  assert.match(refused?.error ?? '', /every port/);
  assert.equal(records(store).filter((record) => record.error === null).length, 3, 'the others are served');

  engine.desired.removeWorkload(first.id);
  dirty = 0;
  await engine.sync();
  assert.ok(dirty > 0, 'freeing a port while an app waits for one asks for another pass');
  await engine.sync();
  assert.deepEqual(
    [...ports(store)].map(([port, holding]) => [port, holding.app]),
    [[10205, 'container/b-late/web']],
  );
  assert.deepEqual(engine.problems(), []);
  assert.deepEqual(
    records(store).map((record) => [record.workload, record.port]),
    [['b-late', 10205]],
    "the gone apps' records are gone too",
  );
});

test('app ports: a restart of the sidecar keeps every port (moved to its new lease); the old lease running out takes none', async () => {
  const store = new MemoryStore();
  const compiled = compiledWith(10205, 10300);
  const lab = appHost('lab', 5);
  const first = await engineOn(store, 'host-a', compiled);
  // Another app first, so that the lab's ports are not simply the lowest ones.
  first.engine.desired.replaceWorkloads([container({ name: 'aaa', labels: { 'appproxy.apps.x.port': '80' } }), lab]);
  await first.engine.sync();
  first.engine.desired.replaceWorkloads([lab]);
  await first.engine.sync();
  const before = new Map([...ports(store)].map(([port, holding]) => [holding.app, port]));
  assert.equal(before.size, 5);
  assert.ok(![...before.values()].includes(10205), 'the freed port is not one of the lab');
  await first.engine.stop();

  const second = await engineOn(store, 'host-a', compiled);
  second.engine.desired.replaceWorkloads([lab]);
  await second.engine.sync();
  const after = new Map([...ports(store)].map(([port, holding]) => [holding.app, port]));
  assert.deepEqual(after, before, 'the same ports');
  assert.ok(
    [...ports(store).values()].every((holding) => holding.lease === second.lease.leaseId()),
    'on the new lease',
  );
  store.expire(first.lease.leaseId());
  assert.equal(ports(store).size, 5, "the old lease's end takes no port");
  assert.equal(records(store).length, 5, 'nor a record');
});

test('app ports: a container that stops for a moment gets its port again while it is free; a gone app frees its port, router and record', async () => {
  const store = new MemoryStore();
  const { engine } = await engineOn(store, 'host-a', compiledWith(10205, 10300));
  const other = container({ name: 'aaa', id: 'aaa-id', labels: { 'appproxy.apps.x.port': '80' } });
  const web = container({
    name: 'web',
    id: 'web-1',
    networks: [{ name: 'bridge', ip: '10.0.0.5' }],
    labels: { 'appproxy.apps.ui.port': '80' },
  });
  engine.desired.replaceWorkloads([web]);
  await engine.sync();
  assert.deepEqual([...ports(store).keys()], [10205]);
  engine.desired.upsertWorkload({ ...web, status: 'exited' });
  await engine.sync();
  assert.equal(ports(store).size, 0, 'a stopped app holds no port');
  assert.equal(Object.keys(store.tree('traefik/http/routers/')).length, 0, 'nor a router');
  assert.equal(records(store).length, 0, 'nor a record');
  engine.desired.upsertWorkload(other);
  engine.desired.upsertWorkload({ ...web, id: 'web-2' });
  await engine.sync();
  assert.deepEqual(
    [...ports(store)].map(([port, holding]) => [port, holding.app]).sort(),
    [
      [10205, 'container/web/ui'],
      [10206, 'container/aaa/x'],
    ],
    'recreated under its name, it gets its port back',
  );
});

test("app ports: an app whose identity another owner serves is refused, naming that owner; its record stays that owner's", async () => {
  const store = new MemoryStore();
  const compiled = compiledWith(10205, 10300);
  const a = await engineOn(store, 'host-a', compiled);
  const b = await engineOn(store, 'host-b', compiled);
  const twin = (ip: string) =>
    container({
      name: 'notebook',
      networks: [{ name: 'bridge', ip }],
      labels: { 'appproxy.apps.jupyter.port': '8888' },
    });
  a.engine.desired.replaceWorkloads([twin('10.0.0.2')]);
  await a.engine.sync();
  b.engine.desired.replaceWorkloads([twin('10.0.0.3')]);
  await b.engine.sync();
  assert.equal(ports(store).size, 1);
  const problem = b.engine.problems().find((item) => item.severity === 'error');
  assert.match(
    problem?.message ?? '',
    /already served by appproxy owner "host-a" on port 10205: two workloads share its identity/,
  );
  assert.deepEqual(
    records(store).map((record) => record.owner),
    ['host-a'],
  );
});

test('app records: activity, open connections and idleness from the activity source; unknown without one', async () => {
  const store = new MemoryStore();
  let now = Date.parse('2026-01-01T00:00:00Z');
  let activity: { lastActivityMs: number | undefined; openConnections: number | undefined } | undefined = {
    lastActivityMs: undefined,
    openConnections: 0,
  };
  const source: ActivitySource = { activity: () => activity };
  const lease = await store.openLease(15, () => undefined);
  const engine = new SyncEngine({
    store,
    layout: new KeyLayout('traefik', 'host-a'),
    compiled: compiledWith(10205, 10300),
    lease,
    logger: quiet,
    activity: source,
  });
  // Time is read by the records through Date.now: a pass at a chosen moment.
  const realNow = Date.now;
  Date.now = () => now;
  try {
    engine.desired.replaceWorkloads([
      container({ name: 'nb', labels: { 'appproxy.apps.lab.port': '8888', 'appproxy.apps.lab.idle-timeout': '10m' } }),
    ]);
    await engine.sync();
    let [record] = engine.apps.records();
    assert.deepEqual(
      [record?.idle, record?.lastActivity, record?.openConnections, record?.idleTimeoutSeconds],
      [false, null, 0, 600],
    );
    now += 11 * 60_000;
    await engine.sync();
    [record] = engine.apps.records();
    assert.equal(record?.idle, true, 'never used for longer than its idle timeout: idle');
    activity = { lastActivityMs: now - 1000, openConnections: 1 };
    await engine.sync();
    [record] = engine.apps.records();
    assert.deepEqual(
      [record?.idle, record?.openConnections, record?.lastActivity],
      [false, 1, new Date(now - 1000).toISOString()],
    );
    assert.equal(records(store)[0]?.openConnections, 1, 'written to the store');
    now += 11 * 60_000;
    await engine.sync();
    assert.equal(engine.apps.records()[0]?.idle, false, 'an open connection keeps it active');
    activity = undefined;
    await engine.sync();
    assert.deepEqual(
      [engine.apps.records()[0]?.idle, engine.apps.records()[0]?.openConnections],
      [null, null],
      'not tracked: unknown',
    );
    assert.notEqual(
      engine.apps.records()[0]?.lastActivity,
      null,
      'the last activity seen is kept (from the stored record)',
    );
  } finally {
    Date.now = realNow;
  }
  await tick();
});
