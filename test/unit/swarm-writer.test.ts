// The Swarm writer behind the port: of the instances on a Swarm's managers, one is elected to
// write the Swarm services under one shared owner id; when it goes (its election lost, fenced, no
// longer a manager, stopped), another is elected and takes its keys over unchanged, and a write by
// one that no longer leads is refused by the fence.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { Workload } from '../../src/core/workload.ts';
import { decodeOwnerRecord } from '../../src/daemon/owner-record.ts';
import { SWARM_LEASE_FACTOR, SwarmWriter, defaultSwarmOwner } from '../../src/daemon/swarm-writer.ts';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import { LeadershipLostError, type ApplyResult, type Fence, type GuardedTransaction } from '../../src/sync/kv-store.ts';
import type { SyncEngine } from '../../src/sync/sync-engine.ts';
import { SourceUnavailableError } from '../../src/sync/reconciler.ts';
import { NotSwarmManagerError } from '../../src/docker/docker-source.ts';
import type { WorkloadSource } from '../../src/sync/workload-changes.ts';
import { defaultCompiled, expectedTree as expectedTreeOf, rootTree } from '../support/expected-tree.ts';
import { MemoryStore } from '../support/memory-store.ts';
import { until } from '../support/within.ts';
import { swarmService } from '../support/workloads.ts';

const compiled = defaultCompiled;
const quiet = pino({ level: 'silent' });
const CLUSTER = 'clusterid123456789';
const SWARM_OWNER = defaultSwarmOwner(CLUSTER);
const layout = new KeyLayout('traefik', SWARM_OWNER);
const ELECTION = `${layout.electionsPrefix}${SWARM_OWNER}/`;
const ELECTION_SECONDS = 5;
/** SwarmWriter's wait before a lost candidacy stands again (STAND_AGAIN_MS, not exported). */
const STAND_AGAIN_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function service(name: string, port: string, ips: string[]): Workload {
  return swarmService(
    name,
    { 'appproxy.enable': 'true', [`appproxy.http.services.${name}.loadbalancer.server.port`]: port },
    ips,
  );
}
const SERVICES = [service('api', '8080', ['10.0.1.5', '10.0.1.6']), service('web', '80', ['10.0.1.7'])];
const TASKS = 3;

/** The Swarm part of a WorkloadSource, its services settable by the test. */
function swarmSource(services: Workload[]): WorkloadSource & { services: Workload[] } {
  const source = {
    services,
    listWorkloads: async () => [...source.services],
    listSwarmWorkloads: async () => [...source.services],
    refreshContainers: async () => new Map<string, Workload | undefined>(),
  };
  return source;
}

const expectedTree = (services: readonly Workload[]) => expectedTreeOf(services, compiled, SWARM_OWNER);

function serverKeys(store: MemoryStore): string[] {
  return Object.keys(store.tree('traefik/')).filter(
    (key) =>
      layout.classify(key)?.kind === 'tree' && (layout.classify(key) as { server?: string }).server !== undefined,
  );
}

function claimKeys(store: MemoryStore): string[] {
  return Object.keys(store.tree(layout.claimsPrefix));
}

interface Candidate {
  readonly name: string;
  readonly writer: SwarmWriter;
  /** Every onWriter call, in order. */
  readonly calls: boolean[];
}

function candidate(store: MemoryStore, name: string, source: WorkloadSource): Candidate {
  const calls: boolean[] = [];
  const writer = new SwarmWriter({
    store,
    rootKey: 'traefik',
    instanceOwner: name,
    swarmOwner: undefined,
    compiled,
    source,
    leaseSeconds: ELECTION_SECONDS,
    logger: quiet,
    onDirty: () => undefined,
    onChange: () => undefined,
    onWriter: (writing) => calls.push(writing),
  });
  return { name, writer, calls };
}

/** Two instances on one store, both managers of CLUSTER; stopped when the test ends. */
function twoManagers(t: TestContext, store: MemoryStore, source: WorkloadSource): [Candidate, Candidate] {
  const a = candidate(store, 'node-a', source);
  const b = candidate(store, 'node-b', source);
  t.after(async () => {
    await a.writer.stop();
    await b.writer.stop();
  });
  a.writer.update(CLUSTER);
  b.writer.update(CLUSTER);
  return [a, b];
}

/** Waits until one of them writes, checks that only one does, and says which. */
async function electedOf(candidates: readonly Candidate[]): Promise<{ leader: Candidate; others: Candidate[] }> {
  await until('a Swarm writer to be elected and connected', () =>
    candidates.some((c) => c.writer.role() !== undefined),
  );
  await sleep(20); // time for a second (wrong) one to show up
  const writing = candidates.filter((c) => c.writer.role() !== undefined);
  assert.deepEqual(
    writing.map((c) => c.name),
    writing.slice(0, 1).map((c) => c.name),
    'exactly one writer',
  );
  return { leader: writing[0]!, others: candidates.filter((c) => c !== writing[0]) };
}

/** Every fenced transaction applied, with its answer. */
function fencedApplies(store: MemoryStore): { fence: Fence; result: ApplyResult }[] {
  const seen: { fence: Fence; result: ApplyResult }[] = [];
  const apply = store.apply.bind(store);
  store.apply = async (transaction: GuardedTransaction, leaseId: string) => {
    const result = await apply(transaction, leaseId);
    if (transaction.fence !== undefined) seen.push({ fence: transaction.fence, result });
    return result;
  };
  return seen;
}

/** A leader's first pass: the services written as the Swarm owner, on its own lease. */
async function firstPass(
  store: MemoryStore,
  leader: Candidate,
  services: readonly Workload[] = SERVICES,
): Promise<string> {
  const role = leader.writer.role();
  assert.ok(role !== undefined, `${leader.name} writes`);
  const outcome = await role.pass();
  assert.ok(outcome !== undefined && outcome.read === 'all');
  const lease = role.leaseId();
  assert.ok(lease !== undefined);
  assert.deepEqual(
    rootTree(store),
    expectedTree(services),
    'the tree is what the full translation gives for the Swarm owner',
  );
  for (const key of [...serverKeys(store), ...claimKeys(store), layout.ownerKey])
    assert.equal(store.data.get(key)?.lease, lease, `${key} is on ${leader.name}'s lease`);
  assert.equal(
    decodeOwnerRecord(await store.get(layout.ownerKey))?.lease,
    lease,
    "the Swarm owner's record names the writer's lease",
  );
  return lease;
}

/** Two managers on one store, the elected one past its first pass; the other in line. */
async function writingAfterFirstPass(t: TestContext) {
  const store = new MemoryStore();
  const source = swarmSource(SERVICES);
  const [a, b] = twoManagers(t, store, source);
  const { leader, others } = await electedOf([a, b]);
  await firstPass(store, leader);
  return { store, source, leader, next: others[0]! };
}

test('defaultSwarmOwner: swarm- and the first 12 letters and digits of the cluster id, in lower case', () => {
  const rows: [string, string][] = [
    [CLUSTER, 'swarm-clusterid123'],
    ['AB-cd_ef.GH1234567', 'swarm-abcdefgh1234'],
    ['short', 'swarm-short'],
    ['---', 'swarm-cluster'],
  ];
  for (const [clusterId, owner] of rows) assert.equal(defaultSwarmOwner(clusterId), owner, clusterId);
});

test("SwarmWriter: of two managers exactly one is elected; its pass writes the services under the Swarm owner, on a lease 3x the election's", async (t) => {
  const store = new MemoryStore();
  const [a, b] = twoManagers(t, store, swarmSource(SERVICES));
  const { leader, others } = await electedOf([a, b]);
  const [other] = others;
  assert.ok(other !== undefined);
  assert.deepEqual(leader.calls, [true], 'onWriter(true) once');
  assert.deepEqual(other.calls, [], 'the other is never told it writes');
  assert.equal(other.writer.role(), undefined);
  for (const c of [a, b]) assert.equal(c.writer.owner(), SWARM_OWNER);
  assert.equal(Object.keys(store.tree(ELECTION)).length, 2, 'both stand in the election');

  const lease = await firstPass(store, leader);
  assert.equal(serverKeys(store).length, TASKS, 'one server per task');
  const claimOwners = claimKeys(store).map((key) => (layout.classify(key) as { owner: string }).owner);
  assert.deepEqual([...new Set(claimOwners)], [SWARM_OWNER], "every claim is the Swarm owner's");
  assert.equal(claimOwners.length, 4, 'a claim for each router and service');
  assert.equal((await store.lease(lease))?.grantedSeconds, ELECTION_SECONDS * SWARM_LEASE_FACTOR);
  assert.equal(other.writer.role(), undefined, 'still only one writer');
});

const departures: {
  name: string;
  go: (store: MemoryStore, leader: Candidate) => Promise<void> | void;
  standsAgain: boolean;
}[] = [
  {
    name: 'its election lease is lost (loseLeadership)',
    go: (store) => store.loseLeadership(layout.electionsPrefix, SWARM_OWNER),
    standsAgain: true,
  },
  { name: 'one of its writes was refused (fenced())', go: (_, leader) => leader.writer.fenced(), standsAgain: true },
  {
    name: 'it is no longer a manager (update(undefined))',
    go: (_, leader) => leader.writer.update(undefined),
    standsAgain: false,
  },
  { name: 'it stops (stop() resigns)', go: (_, leader) => leader.writer.stop(), standsAgain: false },
];

for (const row of departures) {
  test(`SwarmWriter: when the writer goes because ${row.name}, the other is elected and takes its keys over unchanged; the old engine's writes are fenced`, async (t) => {
    const store = new MemoryStore();
    const [a, b] = twoManagers(t, store, swarmSource(SERVICES));
    const { leader, others } = await electedOf([a, b]);
    const next = others[0]!;
    const oldLease = await firstPass(store, leader);
    const oldEngine: SyncEngine | undefined = leader.writer.role()?.engine;
    assert.ok(oldEngine !== undefined);
    const before = rootTree(store);
    const fenced = fencedApplies(store);

    await row.go(store, leader);
    // Told too: connected comes a few promise steps before onWriter(true), and this test's own
    // steps interleave with them (nothing here waits on a timer).
    await until(
      `${next.name} to be elected, connected and told so after ${leader.name} went`,
      () => next.writer.role() !== undefined && next.calls.length > 0,
    );
    assert.equal(leader.writer.role(), undefined, `${leader.name} writes no more`);
    assert.deepEqual(leader.calls, [true, false], `${leader.name}: onWriter(true), then onWriter(false)`);
    assert.deepEqual(next.calls, [true], `${next.name}: onWriter(true) once`);
    // No moment without the routes: the one that went left its keys and its lease alive.
    assert.deepEqual(rootTree(store), before, 'nothing removed by the writer that went, nor by connecting');
    assert.equal(store.leases.has(oldLease), true, 'the old lease lives until the new writer has taken the keys over');

    const newLease = await firstPass(store, next);
    assert.notEqual(newLease, oldLease);
    assert.deepEqual(rootTree(store), before, 'the same keys and values: no server missing, none doubled');
    assert.equal(serverKeys(store).length, TASKS);
    assert.equal(store.leases.has(oldLease), false, 'the previous lease is revoked after the first pass');

    // The engine of the writer that went cannot write any more: its fence is its old leader key.
    const seenBefore = fenced.length;
    oldEngine.desired.replaceWorkloads([service('api', '9090', ['10.0.1.5'])]);
    await assert.rejects(oldEngine.sync(), LeadershipLostError);
    await oldEngine.stop();
    const refused = fenced.slice(seenBefore);
    assert.ok(refused.length > 0, 'the old engine tried to write');
    for (const { result } of refused)
      assert.deepEqual(result, { applied: false, revision: result.revision, fenced: true }, 'refused by the fence');
    assert.deepEqual(rootTree(store), before, 'nothing written by the old engine');

    if (row.standsAgain) {
      await until(
        `${leader.name} to stand again`,
        () => Object.keys(store.tree(ELECTION)).length === 2,
        STAND_AGAIN_MS + 1000,
      );
    } else {
      await sleep(STAND_AGAIN_MS + 200);
      assert.equal(Object.keys(store.tree(ELECTION)).length, 1, `${leader.name} does not stand again`);
    }
    assert.equal(leader.writer.role(), undefined, 'standing in line, not writing');
    assert.deepEqual(leader.calls, [true, false]);

    // And back: a stopped writer never stands again; the others take over once more when the new writer stops.
    if (row.name.startsWith('it stops')) {
      leader.writer.update('anothercluster');
      await sleep(20);
      assert.equal(Object.keys(store.tree(layout.electionsPrefix)).length, 1, 'update() after stop() does nothing');
      return;
    }
    if (!row.standsAgain) leader.writer.update(CLUSTER);
    await next.writer.stop();
    await until(`${leader.name} to be elected again`, () => leader.writer.role() !== undefined);
    assert.deepEqual(next.calls, [true, false]);
    assert.deepEqual(leader.calls, [true, false, true]);
    await firstPass(store, leader);
    assert.deepEqual(rootTree(store), before, 'the same keys and values after a second takeover');
    assert.equal(store.leases.has(newLease), false);
  });
}

test('SwarmWriter: a writer that lost its election without noticing cannot write: the fence refuses, the pass fails with LeadershipLostError, fenced() steps it down', async (t) => {
  const { store, source, leader, next } = await writingAfterFirstPass(t);
  const before = rootTree(store);
  const fenced = fencedApplies(store);

  store.loseLeadership(layout.electionsPrefix, SWARM_OWNER, { noticed: false });
  await until(`${next.name} to be elected and connected`, () => next.writer.role() !== undefined);
  const stale = leader.writer.role();
  assert.ok(stale !== undefined, `${leader.name} has not noticed yet`);

  const changed = [service('api', '8080', ['10.0.1.5', '10.0.1.6', '10.0.1.8']), SERVICES[1]!];
  source.services = changed;
  stale.changes?.note({ kind: 'swarm' });
  await assert.rejects(
    stale.pass(),
    (error: unknown) => error instanceof LeadershipLostError && error.message.includes(SWARM_OWNER),
  );
  assert.ok(
    fenced.length > 0 && fenced.every(({ result }) => result.fenced === true && !result.applied),
    'every write of the stale writer was refused by the fence',
  );
  assert.deepEqual(rootTree(store), before, 'nothing written by the stale writer');

  // What the daemon does on LeadershipLostError.
  await leader.writer.fenced();
  assert.equal(leader.writer.role(), undefined);
  assert.deepEqual(leader.calls, [true, false]);
  await firstPass(store, next, changed);
  assert.equal(serverKeys(store).length, TASKS + 1, 'the new writer writes what runs now');
  await until(
    `${leader.name} to stand again`,
    () => Object.keys(store.tree(ELECTION)).length === 2,
    STAND_AGAIN_MS + 1000,
  );
  assert.equal(leader.writer.role(), undefined, 'in line behind the writer');
});

test('SwarmWriter: a candidate in line that is no longer a manager leaves the line; the same cluster id again changes nothing; a new one stands again', async (t) => {
  const store = new MemoryStore();
  const [a, b] = twoManagers(t, store, swarmSource(SERVICES));
  const { leader, others } = await electedOf([a, b]);
  const waiting = others[0]!;
  await firstPass(store, leader);

  leader.writer.update(CLUSTER);
  await sleep(20);
  assert.equal(Object.keys(store.tree(ELECTION)).length, 2, 'the same cluster id: no new candidacy');
  assert.ok(leader.writer.role() !== undefined, 'and the writer stays');

  waiting.writer.update(undefined);
  await until(`${waiting.name} to leave the line`, () => Object.keys(store.tree(ELECTION)).length === 1);
  await leader.writer.stop();
  await sleep(50);
  assert.equal(waiting.writer.role(), undefined, 'not a manager: not elected when the writer stops');
  assert.deepEqual(waiting.calls, []);
  assert.equal(Object.keys(store.tree(ELECTION)).length, 0);

  waiting.writer.update(CLUSTER);
  await until(`${waiting.name} to be elected once a manager again`, () => waiting.writer.role() !== undefined);
  assert.deepEqual(waiting.calls, [true]);
  await firstPass(store, waiting);
});

test("SwarmWriter: a writer whose engine cannot read the Swarm services (a manager cut off from the Swarm's quorum) steps down after half the election lease; a blip does not move it", async (t) => {
  const { leader, next } = await writingAfterFirstPass(t);
  // How the daemon hands the writer a pass that failed so (the reconciler wraps the source's error).
  const unreadable = new SourceUnavailableError(new NotSwarmManagerError());

  leader.writer.passed(unreadable);
  leader.writer.passed(undefined); // it could read them again: a blip
  await sleep((ELECTION_SECONDS * 1000) / 2 + 100);
  leader.writer.passed(unreadable);
  assert.ok(leader.writer.role() !== undefined, 'still the writer: its failures did not last');
  leader.writer.passed(new SourceUnavailableError(new Error('Docker API: list containers failed')));
  assert.ok(leader.writer.role() !== undefined, 'another failure of Docker is no reason to step down');

  leader.writer.passed(unreadable);
  await sleep((ELECTION_SECONDS * 1000) / 2 + 100);
  leader.writer.passed(unreadable);
  await until(`${leader.name} to step down`, () => leader.writer.role() === undefined);
  assert.deepEqual(leader.calls, [true, false]);
  await until(`${next.name} to be elected and connected`, () => next.writer.role() !== undefined, 5000);
});

test('SwarmWriter: a writer that lost its election stands again even when resigning never ends (the store unreachable)', async (t) => {
  const store = new MemoryStore();
  // Every candidacy's resignation hangs, as a call to an etcd that went silent may.
  const campaign = store.campaign.bind(store);
  let campaigns = 0;
  store.campaign = (...args: Parameters<MemoryStore['campaign']>) => {
    campaigns += 1;
    return { ...campaign(...args), resign: () => new Promise<void>(() => undefined) };
  };
  const source = swarmSource(SERVICES);
  const [a, b] = twoManagers(t, store, source);
  const { leader } = await electedOf([a, b]);
  const before = campaigns;
  store.loseLeadership(layout.electionsPrefix, SWARM_OWNER);
  await until(`${leader.name} to stand again`, () => campaigns > before, 5000 + STAND_AGAIN_MS + 2000);
  assert.equal(leader.writer.role(), undefined, `${leader.name} no longer writes`);
});
