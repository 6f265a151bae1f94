// The owner guard behind the port: a starting instance asks whether the holder of its owner id is
// alive (a lease that is gone answers at once; otherwise a probe that a live holder's guard answers
// through its watch), and OwnerRole.connect refuses a live holder or takes over from a dead one.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { pino } from 'pino';
import type { Workload } from '../../src/core/workload.ts';
import { OwnerGuard, OwnerHeldError, PROBE_ANSWER_MS, holderIsAlive } from '../../src/daemon/owner-guard.ts';
import { decodeOwnerRecord, encodeOwnerRecord, type OwnerRecord } from '../../src/daemon/owner-record.ts';
import { OwnerClaimRaceError, OwnerRole } from '../../src/daemon/owner-role.ts';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import type { GuardedTransaction } from '../../src/sync/kv-store.ts';
import type { WorkloadSource } from '../../src/sync/workload-changes.ts';
import { defaultCompiled, expectedTree as expectedTreeOf, rootTree } from '../support/expected-tree.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { until } from '../support/within.ts';
import { container } from '../support/workloads.ts';

const compiled = defaultCompiled;
const quiet = pino({ level: 'silent' });
const OWNER = 'host-a';
const layout = new KeyLayout('traefik', OWNER);
const LEASE_SECONDS = 15;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function web(name: string, ip: string): Workload {
  return container({
    name,
    id: `${name}-id`,
    networks: [{ name: 'bridge', ip }],
    labels: { 'appproxy.enable': 'true' },
  });
}
const WORKLOADS = [web('chat', '10.0.0.2'), web('shop', '10.0.0.3'), web('blog', '10.0.0.4')];

/** A WorkloadSource (the Docker edge's port) that lists a fixed set of containers. */
function fakeSource(workloads: readonly Workload[]): WorkloadSource & { listings: number } {
  const source = {
    listings: 0,
    listWorkloads: async () => {
      source.listings += 1;
      return [...workloads];
    },
    listSwarmWorkloads: async () => [],
    refreshContainers: async (ids: Iterable<string>) =>
      new Map([...ids].map((id) => [id, workloads.find((workload) => workload.id === id)])),
  };
  return source;
}

function role(
  store: MemoryStore,
  source: WorkloadSource = fakeSource(WORKLOADS),
  leaseSeconds = LEASE_SECONDS,
): OwnerRole {
  return new OwnerRole({
    store,
    rootKey: 'traefik',
    owner: OWNER,
    compiled,
    source,
    leaseSeconds,
    logger: quiet,
    exclusive: true,
    onDirty: () => undefined,
  });
}

const expectedTree = () => expectedTreeOf(WORKLOADS, compiled, OWNER);

/** Keys that must live on the owner's lease: its servers and its claims (and its record). */
function leasedKeys(store: MemoryStore): string[] {
  return [...store.data.values()]
    .filter((entry) => {
      const classified = layout.classify(entry.key);
      return (
        (classified?.kind === 'tree' && classified.server !== undefined) ||
        (classified?.kind === 'claim' && classified.owner === OWNER) ||
        entry.key === layout.ownerKey
      );
    })
    .map((entry) => entry.key);
}

/** A holder's guard on `store` that never hears of a takeover (the tests of takeovers below do). */
function guardOf(store: MemoryStore, keys: KeyLayout, instance: string, leaseId: () => string): OwnerGuard {
  return new OwnerGuard({
    store,
    layout: keys,
    instance,
    leaseId,
    ownLease: (lease) => lease === leaseId(),
    onTakenOver: () => undefined,
    logger: quiet,
  });
}

/** Every transaction that touched the probe key, and every lease granted. */
function spy(store: MemoryStore): { probes: { type: string; value?: string; leaseId: string }[]; granted: string[] } {
  const seen = { probes: [] as { type: string; value?: string; leaseId: string }[], granted: [] as string[] };
  const apply = store.apply.bind(store);
  store.apply = async (transaction: GuardedTransaction, leaseId: string) => {
    for (const operation of transaction.operations) {
      if (operation.key === layout.probeKey)
        seen.probes.push({
          type: operation.type,
          ...(operation.type === 'put' ? { value: operation.value } : {}),
          leaseId,
        });
    }
    return apply(transaction, leaseId);
  };
  const openLease = store.openLease.bind(store);
  store.openLease = async (ttlSeconds, onReplaced) => {
    const lease = await openLease(ttlSeconds, onReplaced);
    seen.granted.push(lease.leaseId());
    return lease;
  };
  return seen;
}

/**
 * Runs `work` as if in another process (another pid): thisInstance() names the process by host
 * name and pid, and every instance of a test runs in this one.
 */
async function asProcess<T>(pid: number, work: () => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(process, 'pid');
  assert.ok(original?.configurable, 'process.pid can be redefined');
  Object.defineProperty(process, 'pid', { ...original, value: pid });
  try {
    return await work();
  } finally {
    Object.defineProperty(process, 'pid', original);
  }
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------
// holderIsAlive

const goneLeases: { name: string; record: (store: MemoryStore) => Promise<OwnerRecord> }[] = [
  { name: 'a lease that was never granted', record: async () => ({ lease: '999', instance: 'node-a/7', since: '' }) },
  {
    name: 'a lease that expired (its guard still watching)',
    record: async (store) => {
      const lease = await store.openLease(LEASE_SECONDS, () => undefined);
      await guardOf(store, layout, 'node-a/7', () => lease.leaseId()).ensure();
      store.expire(lease.leaseId());
      return { lease: lease.leaseId(), instance: 'node-a/7', since: '' };
    },
  },
  {
    name: 'a lease that was revoked',
    record: async (store) => {
      const lease = await store.openLease(LEASE_SECONDS, () => undefined);
      await store.revoke(lease.leaseId());
      return { lease: lease.leaseId(), instance: 'node-a/7', since: '' };
    },
  },
  {
    name: "an older appproxy's record (a bare lease id) whose lease is gone",
    record: async () => {
      const record = decodeOwnerRecord('4711');
      assert.ok(record !== undefined);
      return record;
    },
  },
];

for (const row of goneLeases) {
  test(`holderIsAlive: false at once, without a probe, for ${row.name}`, async () => {
    const store = new MemoryStore();
    const seen = spy(store);
    const record = await row.record(store);
    const asker = await store.openLease(LEASE_SECONDS, () => undefined);
    const { value, ms } = await timed(
      holderIsAlive(store, layout, record, await store.lease(record.lease), {
        instance: 'node-b/8',
        leaseId: asker.leaseId(),
      }),
    );
    assert.equal(value, false);
    assert.ok(ms < PROBE_ANSWER_MS / 2, `answered from the lease alone, took ${Math.round(ms)} ms`);
    assert.deepEqual(seen.probes, [], 'no probe written');
  });
}

const answeringHolders: {
  name: string;
  holder: string;
  asker: string;
  startGuard: (store: MemoryStore, guard: OwnerGuard) => Promise<void>;
  leastMs: number;
}[] = [
  {
    name: 'its guard runs before the probe',
    holder: 'node-a/7',
    asker: 'node-b/8',
    startGuard: (_, guard) => guard.ensure(),
    leastMs: 0,
  },
  {
    name: 'its guard starts 100 ms after the probe was written (it answers what is pending)',
    holder: 'node-a/7',
    asker: 'node-b/8',
    leastMs: 100,
    startGuard: async (store, guard) => {
      const apply = store.apply.bind(store);
      store.apply = async (transaction: GuardedTransaction, leaseId: string) => {
        const result = await apply(transaction, leaseId);
        if (transaction.operations.some((operation) => operation.type === 'put' && operation.key === layout.probeKey))
          setTimeout(() => void guard.ensure(), 100);
        return result;
      };
    },
  },
  // The default owner id is the host name, and in a container the process is pid 1: two
  // instances given the same host name have the same owner id and the same instance name.
  {
    name: 'it has the same instance name as the asker (same host name, pid 1 in both containers)',
    holder: 'appproxy/1',
    asker: 'appproxy/1',
    startGuard: (_, guard) => guard.ensure(),
    leastMs: 0,
  },
];

for (const row of answeringHolders) {
  test(`holderIsAlive: true when a live holder answers: ${row.name}; the probe is removed afterwards`, async () => {
    const store = new MemoryStore();
    const seen = spy(store);
    const holder = await store.openLease(LEASE_SECONDS, () => undefined);
    const guard = guardOf(store, layout, row.holder, () => holder.leaseId());
    await row.startGuard(store, guard);
    const asker = await store.openLease(LEASE_SECONDS, () => undefined);
    try {
      const record = { lease: holder.leaseId(), instance: row.holder, since: '' };
      const { value, ms } = await timed(
        holderIsAlive(store, layout, record, await store.lease(record.lease), {
          instance: row.asker,
          leaseId: asker.leaseId(),
        }),
      );
      assert.equal(value, true, 'the holder is alive');
      assert.ok(ms >= row.leastMs && ms < PROBE_ANSWER_MS, `answered, not timed out: took ${Math.round(ms)} ms`);
      assert.deepEqual(
        seen.probes.map((probe) => [probe.type, probe.leaseId]),
        [
          ['put', asker.leaseId()],
          ['delete', asker.leaseId()],
        ],
        "the probe is written on the asker's lease, then removed",
      );
      assert.equal(store.data.has(layout.probeKey), false, 'no probe left behind');
      const alive = store.data.get(layout.aliveKey);
      assert.ok(alive !== undefined, 'the holder answered');
      assert.equal(alive.lease, holder.leaseId(), "the answer is on the holder's lease");
      assert.equal(
        (JSON.parse(alive.value) as { instance: string }).instance,
        row.holder,
        'the answer names the holder',
      );
    } finally {
      await guard.stop();
    }
  });
}

const silentHolders: {
  name: string;
  setup: (store: MemoryStore, holderLease: string) => Promise<() => Promise<void>>;
}[] = [
  { name: 'no guard runs (the holder died, or stopped)', setup: async () => async () => undefined },
  {
    name: 'its guard was stopped',
    setup: async (store, holderLease) => {
      const guard = guardOf(store, layout, 'node-a/7', () => holderLease);
      await guard.ensure();
      await guard.stop();
      return async () => undefined;
    },
  },
  {
    name: "only another owner id's guard runs",
    setup: async (store, holderLease) => {
      const guard = guardOf(store, new KeyLayout('traefik', 'host-z'), 'node-z/9', () => holderLease);
      await guard.ensure();
      return () => guard.stop();
    },
  },
  {
    name: "an answer comes, but to another asker's probe",
    setup: async (store, holderLease) => {
      const timer = setTimeout(
        () => store.put(layout.aliveKey, JSON.stringify({ instance: 'node-a/7', probe: 'node-c/3' }), holderLease),
        100,
      );
      return async () => clearTimeout(timer);
    },
  },
];

for (const row of silentHolders) {
  test(`holderIsAlive: false after PROBE_ANSWER_MS when the lease lives but nobody answers: ${row.name}`, async () => {
    const store = new MemoryStore();
    const seen = spy(store);
    const holder = await store.openLease(LEASE_SECONDS, () => undefined);
    const cleanup = await row.setup(store, holder.leaseId());
    const asker = await store.openLease(LEASE_SECONDS, () => undefined);
    try {
      const record = { lease: holder.leaseId(), instance: 'node-a/7', since: '' };
      const { value, ms } = await timed(
        holderIsAlive(store, layout, record, await store.lease(record.lease), {
          instance: 'node-b/8',
          leaseId: asker.leaseId(),
        }),
      );
      assert.equal(value, false, 'nobody answered');
      assert.ok(
        ms >= PROBE_ANSWER_MS - 5 && ms < PROBE_ANSWER_MS + 500,
        `waited about PROBE_ANSWER_MS (${PROBE_ANSWER_MS} ms), took ${Math.round(ms)} ms`,
      );
      assert.deepEqual(
        seen.probes.map((probe) => probe.type),
        ['put', 'delete'],
        'a probe was written, then removed',
      );
      assert.equal(store.data.has(layout.probeKey), false, 'no probe left behind');
    } finally {
      await cleanup();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// OwnerRole.connect, exclusive

const HOLDER_PID = 4242;
const liveHolders: { name: string; askerPid: number }[] = [
  { name: 'a holder in another process', askerPid: 5353 },
  { name: 'a holder with the very same instance name (same host name and pid)', askerPid: HOLDER_PID },
];

for (const row of liveHolders) {
  test(`OwnerRole.connect (exclusive): refused with OwnerHeldError naming the holder, for ${row.name}; nothing of the holder's is touched`, async () => {
    const store = new MemoryStore();
    const holder = role(store);
    await asProcess(HOLDER_PID, () => holder.connect());
    await holder.pass();
    const holderLease = holder.leaseId();
    assert.ok(holderLease !== undefined);
    const before = {
      tree: rootTree(store),
      record: await store.get(layout.ownerKey),
      leased: (await store.lease(holderLease))?.keys,
    };
    assert.deepEqual(before.tree, expectedTree());
    const seen = spy(store);
    const twin = role(store);
    try {
      const { ms } = await timed(
        assert.rejects(
          asProcess(row.askerPid, () => twin.connect()),
          (error: unknown) => {
            assert.ok(error instanceof OwnerHeldError, `an OwnerHeldError, got ${String(error)}`);
            assert.ok(error.message.includes(`owner id "${OWNER}"`), error.message);
            assert.ok(
              error.message.includes(`(${hostname()}/${HOLDER_PID}, started `),
              `names the holder's instance: ${error.message}`,
            );
            assert.ok(error.message.includes(`lease ${holderLease}`), `names the holder's lease: ${error.message}`);
            return true;
          },
        ),
      );
      assert.ok(ms < PROBE_ANSWER_MS, `the holder answered, the probe did not time out: took ${Math.round(ms)} ms`);
      assert.equal(twin.connected, false);
      assert.equal(twin.leaseId(), undefined);
      assert.equal(seen.granted.length, 1, 'the refused instance was granted one lease');
      assert.equal(store.leases.has(seen.granted[0]!), false, "the refused instance's lease is revoked");
      assert.equal(store.data.has(layout.probeKey), false, 'no probe left behind');
      assert.deepEqual(
        {
          tree: rootTree(store),
          record: await store.get(layout.ownerKey),
          leased: (await store.lease(holderLease))?.keys,
        },
        { ...before, leased: [...(before.leased ?? []), layout.aliveKey] },
        "the holder's record, keys and lease are as they were (its answer added)",
      );
      assert.equal(JSON.parse(before.record ?? '{}').lease, holderLease);
    } finally {
      await holder.stop();
      await twin.stop();
    }
  });
}

// Issue 26, point 3: the guard answers from connect on. Before, it started after the first pass,
// and a twin started during a long first pass took the id over after its 1 s wait.
test('OwnerRole.connect (exclusive): a holder that has connected but not yet passed refuses a twin all the same', async () => {
  const store = new MemoryStore();
  const holder = role(store);
  const twin = role(store);
  try {
    await asProcess(HOLDER_PID, () => holder.connect());
    const { ms } = await timed(
      assert.rejects(
        asProcess(5353, () => twin.connect()),
        (error: unknown) => error instanceof OwnerHeldError,
      ),
    );
    assert.ok(ms < PROBE_ANSWER_MS, `the holder answered before any pass: took ${Math.round(ms)} ms`);
    assert.equal(twin.connected, false);
  } finally {
    await holder.stop();
    await twin.stop();
  }
});

const deadHolders: {
  name: string;
  end: (store: MemoryStore, holder: OwnerRole) => Promise<void>;
  asks: boolean;
  keysKept: boolean;
}[] = [
  // In MemoryStore nothing ages: a holder that stopped (its lease released, not revoked) is what
  // a killed one looks like until its lease expires: keys in place, nobody answering.
  { name: 'stopped (lease alive, nobody answers)', end: (_, holder) => holder.stop(), asks: true, keysKept: true },
  {
    name: 'gone for longer than its lease (its keys expired with it)',
    end: async (store, holder) => {
      const lease = holder.leaseId();
      await holder.stop();
      store.expire(lease!);
    },
    asks: false,
    keysKept: false,
  },
];

for (const row of deadHolders) {
  test(`OwnerRole.connect (exclusive): takes over from a previous holder that is ${row.name}; its first pass moves every key to its lease`, async () => {
    const store = new MemoryStore();
    const holder = role(store);
    await asProcess(HOLDER_PID, () => holder.connect());
    await holder.pass();
    const oldLease = holder.leaseId()!;
    const before = rootTree(store);
    assert.deepEqual(before, expectedTree());
    await row.end(store, holder);
    assert.equal(
      store.leases.has(oldLease),
      row.keysKept,
      row.keysKept ? 'stop() releases the lease without revoking it' : 'the lease expired',
    );

    const next = role(store);
    const third = role(store);
    try {
      const { ms } = await timed(asProcess(5353, () => next.connect()));
      if (row.asks) assert.ok(ms >= PROBE_ANSWER_MS - 5, `asked and waited for an answer: took ${Math.round(ms)} ms`);
      else assert.ok(ms < PROBE_ANSWER_MS / 2, `did not ask (the lease is gone): took ${Math.round(ms)} ms`);
      const newLease = next.leaseId();
      assert.ok(next.connected && newLease !== undefined && newLease !== oldLease);
      const record = decodeOwnerRecord(await store.get(layout.ownerKey));
      assert.deepEqual(
        [record?.lease, record?.instance],
        [newLease, `${hostname()}/5353`],
        'the record names the new lease and instance',
      );
      assert.equal(store.data.get(layout.ownerKey)?.lease, newLease, 'the record is on the new lease');
      if (row.keysKept) {
        assert.deepEqual(rootTree(store), before, 'connecting removes nothing: the routes stay until the first pass');
        assert.equal(store.leases.has(oldLease), true, 'the previous lease is revoked only after the first pass');
      }

      const outcome = await next.pass();
      assert.ok(outcome !== undefined);
      assert.deepEqual(rootTree(store), before, 'the same keys and values as before: none missing, none doubled');
      const leased = leasedKeys(store);
      assert.ok(leased.length >= WORKLOADS.length * 2, 'servers and claims are there');
      for (const key of leased) assert.equal(store.data.get(key)?.lease, newLease, `${key} is on the new lease`);
      assert.equal(store.leases.has(oldLease), false, 'the previous lease is revoked after the first pass');
      assert.equal(await store.lease(oldLease), undefined);

      // Now the new holder's guard runs: a third instance with the same owner id is refused, naming it.
      await assert.rejects(
        asProcess(6464, () => third.connect()),
        (error: unknown) => error instanceof OwnerHeldError && error.message.includes(`(${hostname()}/5353, `),
      );
      assert.equal(decodeOwnerRecord(await store.get(layout.ownerKey))?.lease, newLease);
    } finally {
      await next.stop();
      await third.stop();
    }
  });
}

test('OwnerRole.connect (exclusive): a record of no live lease (or none at all) is taken at once, without a probe', async () => {
  const store = new MemoryStore();
  const seen = spy(store);
  store.put(layout.ownerKey, encodeOwnerRecord({ lease: '999', instance: 'node-a/7', since: '' }));
  const first = role(store);
  try {
    const { ms } = await timed(first.connect());
    assert.ok(ms < PROBE_ANSWER_MS / 2, `took ${Math.round(ms)} ms`);
    assert.deepEqual(seen.probes, []);
    assert.equal(decodeOwnerRecord(await store.get(layout.ownerKey))?.lease, first.leaseId());
  } finally {
    await first.stop();
  }
});

test('OwnerGuard: a probe on its own lease (left by its own connect) is not answered; another one with its own instance name is', async () => {
  const store = new MemoryStore();
  const holder = await store.openLease(LEASE_SECONDS, () => undefined);
  store.put(layout.probeKey, 'node-a/7', holder.leaseId());
  const guard = guardOf(store, layout, 'node-a/7', () => holder.leaseId());
  try {
    await guard.ensure();
    await sleep(20);
    assert.equal(store.data.has(layout.aliveKey), false, 'its own pending probe is not answered');
    const other = await store.openLease(LEASE_SECONDS, () => undefined);
    store.put(layout.probeKey, 'node-a/7', other.leaseId());
    await until('the answer to a probe on another lease', () => store.data.has(layout.aliveKey));
    assert.deepEqual(JSON.parse(store.data.get(layout.aliveKey)!.value), { instance: 'node-a/7', probe: 'node-a/7' });
  } finally {
    await guard.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Exclusive on a bad day too (issue 26, point 3): a late keep-alive is asked, not presumed dead;
// the claim is atomic; a holder whose id is taken meanwhile stops writing at once.

test('holderIsAlive: a holder whose keep-alive is late (its lease reads 1 s of 15 left) but who answers is alive', async () => {
  const store = new MemoryStore();
  const holder = await store.openLease(LEASE_SECONDS, () => undefined);
  const guard = guardOf(store, layout, 'node-a/7', () => holder.leaseId());
  await guard.ensure();
  // Every read of the holder's lease says its refresh is overdue, as a slow store or a paused
  // process would make it look.
  const lease = store.lease.bind(store);
  store.lease = async (id: string) => {
    const info = await lease(id);
    return info === undefined || id !== holder.leaseId() ? info : { ...info, remainingSeconds: 1 };
  };
  const asker = await store.openLease(LEASE_SECONDS, () => undefined);
  try {
    const record = { lease: holder.leaseId(), instance: 'node-a/7', since: '' };
    const alive = await holderIsAlive(store, layout, record, await store.lease(record.lease), {
      instance: 'node-b/8',
      leaseId: asker.leaseId(),
    });
    assert.equal(alive, true, 'asked, and it answered: its id is not taken');
  } finally {
    await guard.stop();
  }
});

test('OwnerRole.connect (exclusive): two instances claiming one id at the same moment: one holds it, the other is told to ask again, then refused', async () => {
  const store = new MemoryStore();
  // A killed holder: its lease lives on, nobody answers; both newcomers ask, wait, and claim.
  const dead = await store.openLease(LEASE_SECONDS, () => undefined);
  store.put(
    layout.ownerKey,
    encodeOwnerRecord({ lease: dead.leaseId(), instance: 'node-a/7', since: '' }),
    dead.leaseId(),
  );
  const first = role(store);
  const second = role(store);
  try {
    const outcomes = await Promise.allSettled([
      asProcess(5353, () => first.connect()),
      asProcess(6464, () => second.connect()),
    ]);
    const held = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const raced = outcomes.filter(
      (outcome) => outcome.status === 'rejected' && outcome.reason instanceof OwnerClaimRaceError,
    );
    assert.deepEqual(
      [held.length, raced.length],
      [1, 1],
      `one claim wins, the other is told: ${outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'held')).join('; ')}`,
    );
    const [winner, loser] = first.connected ? [first, second] : [second, first];
    assert.equal(loser.connected, false);
    assert.equal(decodeOwnerRecord(await store.get(layout.ownerKey))?.lease, winner.leaseId());
    // Its retry asks the winner, who answers.
    await assert.rejects(
      asProcess(7575, () => loser.connect()),
      (error: unknown) => error instanceof OwnerHeldError,
    );
    assert.equal(decodeOwnerRecord(await store.get(layout.ownerKey))?.lease, winner.leaseId());
  } finally {
    await first.stop();
    await second.stop();
  }
});

test('OwnerRole (exclusive): another instance writing the owner record makes the holder stop writing at once and say so', async () => {
  const store = new MemoryStore();
  const workloads = [...WORKLOADS];
  const told: string[] = [];
  const holder = new OwnerRole({
    store,
    rootKey: 'traefik',
    owner: OWNER,
    compiled,
    source: {
      listWorkloads: async () => [...workloads],
      listSwarmWorkloads: async () => [],
      refreshContainers: async (ids: Iterable<string>) =>
        new Map([...ids].map((id) => [id, workloads.find((workload) => workload.id === id)])),
    },
    leaseSeconds: LEASE_SECONDS,
    logger: quiet,
    exclusive: true,
    onDirty: () => undefined,
    onTakenOver: (message) => told.push(message),
  });
  try {
    await asProcess(HOLDER_PID, () => holder.connect());
    await holder.pass();
    const tree = rootTree(store);
    // Another instance (it heard no answer: a partition) claims the id on its own lease.
    const other = await store.openLease(LEASE_SECONDS, () => undefined);
    store.put(
      layout.ownerKey,
      encodeOwnerRecord({ lease: other.leaseId(), instance: 'node-b/8', since: '' }),
      other.leaseId(),
    );
    await until('the holder to be told its id was taken', () => told.length === 1);
    assert.match(told[0] ?? '', /owner id "host-a" was taken by another instance \(node-b\/8, lease \d+\)/);
    assert.match(told[0] ?? '', /stopped writing/);
    assert.equal(holder.connected, false, 'it stopped');
    // A container that starts now is not written by the old holder, nor is anything removed.
    workloads.push(web('late', '10.0.0.9'));
    holder.changes?.note({ kind: 'all' });
    assert.equal(await holder.pass(), undefined, 'no pass runs');
    assert.deepEqual(rootTree(store), tree, 'nothing written since');
    assert.equal(told.length, 1, 'said once');
  } finally {
    await holder.stop();
  }
});

/** A source whose listing waits until `open()`: a first pass that Docker is slow to answer. */
function gatedSource(workloads: readonly Workload[]): { source: WorkloadSource; open: () => void } {
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const listed = fakeSource(workloads);
  return { source: { ...listed, listWorkloads: () => gate.then(() => listed.listWorkloads()) }, open };
}

// Leases of 1 s, released leases run out in MemoryStore in their time: a first pass held 2.5 s is
// more than two leases long.
const SHORT_LEASE_SECONDS = 1;
const HELD_PASS_MS = 2500;

/**
 * A holder that wrote every workload on a short lease and stopped: released, not revoked, its lease
 * runs out in 1 s unless kept alive.
 */
async function stoppedHolder(store: MemoryStore): Promise<{ lease: string; before: Record<string, string> }> {
  const holder = role(store, fakeSource(WORKLOADS), SHORT_LEASE_SECONDS);
  await asProcess(HOLDER_PID, () => holder.connect());
  await holder.pass();
  const lease = holder.leaseId()!;
  const before = rootTree(store);
  await holder.stop();
  return { lease, before };
}

/**
 * The new holder's pass moved every key it took over: the same tree, every leased key on its
 * lease, the old leases revoked.
 */
function assertMovedTo(
  store: MemoryStore,
  holder: OwnerRole,
  before: Record<string, string>,
  oldLeases: string[],
): void {
  assert.deepEqual(rootTree(store), before, 'the same keys and values: none missing, none doubled');
  for (const key of leasedKeys(store)) assert.equal(store.data.get(key)?.lease, holder.leaseId(), `${key} moved`);
  for (const lease of oldLeases) assert.equal(store.leases.has(lease), false, `${lease} revoked once everything moved`);
}

test('OwnerRole.connect: the lease it takes over stays alive until its first pass has moved the keys, however long that pass takes, and is revoked after it', async () => {
  const store = new MemoryStore();
  const { lease: oldLease, before } = await stoppedHolder(store);

  const slow = gatedSource(WORKLOADS);
  const next = role(store, slow.source, SHORT_LEASE_SECONDS);
  try {
    await asProcess(5353, () => next.connect());
    const passed = next.pass();
    await sleep(HELD_PASS_MS);
    assert.equal(store.leases.has(oldLease), true, 'the taken-over lease is alive while the first pass is held');
    assert.deepEqual(rootTree(store), before, 'every route is still there');
    assert.ok((store.refreshes.get(oldLease) ?? 0) >= 2, `kept alive: ${store.refreshes.get(oldLease)} refreshes`);

    slow.open();
    assert.ok((await passed) !== undefined);
    assertMovedTo(store, next, before, [oldLease]);
    const refreshed = store.refreshes.get(oldLease);
    await sleep(SHORT_LEASE_SECONDS * 1000);
    assert.equal(store.refreshes.get(oldLease), refreshed, 'no longer kept alive once revoked');
  } finally {
    await next.stop();
  }
});

test('OwnerRole.connect: a holder that stops before its first pass names the leases it took over in its record; the next keeps them alive and moves their keys too', async () => {
  const store = new MemoryStore();
  const { lease: firstLease, before } = await stoppedHolder(store);

  // The second holder takes over and stops before any pass (it lost the election, say).
  const stalled = gatedSource(WORKLOADS);
  const second = role(store, stalled.source, SHORT_LEASE_SECONDS);
  await asProcess(5353, () => second.connect());
  const secondLease = second.leaseId()!;
  assert.deepEqual(decodeOwnerRecord(await store.get(layout.ownerKey))?.movingFrom, [firstLease]);
  await second.stop();

  const slow = gatedSource(WORKLOADS);
  const third = role(store, slow.source, SHORT_LEASE_SECONDS);
  try {
    await asProcess(6464, () => third.connect());
    assert.deepEqual(
      decodeOwnerRecord(await store.get(layout.ownerKey))?.movingFrom?.toSorted(),
      [firstLease, secondLease].toSorted(),
      "the third names both: the second's own lease and the one it never moved off",
    );
    const passed = third.pass();
    await sleep(HELD_PASS_MS);
    assert.deepEqual(rootTree(store), before, "the first holder's routes are still there");
    assert.equal(store.leases.has(firstLease), true);
    slow.open();
    assert.ok((await passed) !== undefined);
    assertMovedTo(store, third, before, [firstLease, secondLease]);
  } finally {
    stalled.open();
    await third.stop();
  }
});

/** A source whose listings fail (as Docker's "no Swarm manager" does) until it is opened. */
function unansweredSource(workloads: readonly Workload[]): { source: WorkloadSource; answer: () => void } {
  let answering = false;
  const listed = fakeSource(workloads);
  const source: WorkloadSource = {
    ...listed,
    listWorkloads: async () => {
      if (!answering) throw new Error('This node is not a swarm manager.');
      return listed.listWorkloads();
    },
  };
  return { source, answer: () => (answering = true) };
}

test('OwnerRole: a new holder whose first listings fail removes nothing it took over, keeps its lease alive, and moves it all once Docker answers', async () => {
  const store = new MemoryStore();
  const { lease: oldLease, before } = await stoppedHolder(store);

  const docker = unansweredSource(WORKLOADS);
  const next = role(store, docker.source, SHORT_LEASE_SECONDS);
  try {
    await asProcess(5353, () => next.connect());
    // Failed passes, one every half lease time for 2.5 lease times, as the scheduler retries them.
    for (let elapsed = 0; elapsed < HELD_PASS_MS; elapsed += 500) {
      await assert.rejects(next.pass(), /not a swarm manager/);
      assert.deepEqual(rootTree(store), before, `every route is still there ${elapsed} ms after the takeover`);
      await sleep(500);
    }
    assert.equal(store.leases.has(oldLease), true, 'the taken-over lease is kept alive while Docker does not answer');

    docker.answer();
    const outcome = await next.pass();
    assert.equal(outcome?.complete, true);
    assertMovedTo(store, next, before, [oldLease]);
  } finally {
    await next.stop();
  }
});

test('OwnerRole: a first pass whose claims kept changing under it (written in part) leaves the taken-over lease alive; the next full pass moves the rest and revokes it', async () => {
  const store = new MemoryStore();
  const { lease: oldLease, before } = await stoppedHolder(store);

  const next = role(store, fakeSource(WORKLOADS), SHORT_LEASE_SECONDS);
  // Every guarded transaction of the new holder is refused, as when another writer changes the
  // claims each time: the pass gives up after its replans and leaves them for the next one.
  let contested = true;
  const apply = store.apply.bind(store);
  store.apply = async (transaction: GuardedTransaction, leaseId: string) =>
    contested && leaseId === next.leaseId() && transaction.guards.length > 0
      ? { applied: false, revision: store.revision }
      : apply(transaction, leaseId);
  try {
    await asProcess(5353, () => next.connect());
    const partial = await next.pass();
    assert.equal(partial?.complete, false);
    assert.ok((partial?.replans ?? 0) > 0, 'the claims were planned again');
    await sleep(HELD_PASS_MS);
    assert.equal(store.leases.has(oldLease), true, 'not revoked after a pass that did not write everything');
    assert.deepEqual(rootTree(store), before, 'every route is still there');

    contested = false;
    const whole = await next.pass();
    assert.equal(whole?.complete, true, 'the pass after it is a full one again');
    assertMovedTo(store, next, before, [oldLease]);
  } finally {
    await next.stop();
  }
});

test('decodeOwnerRecord: movingFrom is read when it is a list of lease ids, and left out otherwise', () => {
  const rows: [string, readonly string[] | undefined][] = [
    [JSON.stringify({ lease: '7', instance: 'a/1', since: '', movingFrom: ['5', '6'] }), ['5', '6']],
    [JSON.stringify({ lease: '7', instance: 'a/1', since: '', movingFrom: ['5', 6, ''] }), ['5']],
    [JSON.stringify({ lease: '7', instance: 'a/1', since: '', movingFrom: '5' }), undefined],
    [JSON.stringify({ lease: '7', instance: 'a/1', since: '' }), undefined],
    ['7', undefined],
  ];
  for (const [value, movingFrom] of rows) assert.deepEqual(decodeOwnerRecord(value)?.movingFrom, movingFrom, value);
  assert.deepEqual(
    decodeOwnerRecord(encodeOwnerRecord({ lease: '7', instance: 'a/1', since: 's', movingFrom: ['5'] })),
    { lease: '7', instance: 'a/1', since: 's', movingFrom: ['5'] },
  );
});
