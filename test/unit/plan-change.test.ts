import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Operation } from '../../src/sync/kv-store.ts';
import { makeUnit, planChange, type ChangePlan } from '../../src/sync/plan-change.ts';
import { resourceDigest } from '../../src/sync/resource-digest.ts';
import { ETCD_TRANSACTION_LIMITS } from '../../src/etcd/etcd-transaction-limits.ts';
import { MAX_VALUE_BYTES, splitTransactions, unwritableUnits } from '../../src/sync/split-transactions.ts';
import { desiredFrom, LEASE, mirrorFrom, ownedFrom, testLayout } from '../support/plan-fixtures.ts';

const layout = testLayout();

interface Snapshot {
  readonly tree: Map<string, string>;
  readonly claims: Record<string, Record<string, string>>;
  readonly owned: string[];
  readonly leases?: Record<string, string>;
}

/** The plan for everything (a full pass), from the pairs wanted and what the store holds. */
function planFor(
  pairs: ReadonlyMap<string, string>,
  have: Snapshot,
  knownThrough?: (claimId: string) => bigint,
): ChangePlan {
  const desired = desiredFrom(pairs, layout);
  const mirror = mirrorFrom(
    { tree: have.tree, claims: have.claims, ...(have.leases === undefined ? {} : { leases: have.leases }) },
    layout,
  );
  const owned = ownedFrom(have.owned, layout);
  return planChange({
    desired,
    mirror,
    scope: new Set([...desired.keys(), ...mirror.claimIds(), ...owned.keys()]),
    layout,
    leaseId: LEASE,
    ownedServers: owned,
    knownThrough,
  });
}

const router = new Map([
  ['traefik/http/routers/chat/rule', 'PathPrefix(`/c`)'],
  ['traefik/http/routers/chat/service', 'chat'],
]);
const service = new Map([['traefik/http/services/chat/loadBalancer/sticky/cookie/name', 'c']]);
const serverA = new Map([['traefik/http/services/chat/loadBalancer/servers/111/url', 'http://10.0.0.1:80']]);
const serverB = new Map([['traefik/http/services/chat/loadBalancer/servers/222/url', 'http://10.0.0.2:80']]);
const desired = new Map([...router, ...service, ...serverA]);
const routerDigest = resourceDigest(router, 'traefik');
const serviceDigest = resourceDigest(service, 'traefik');

function snapshot(
  tree: Map<string, string>,
  claims: Record<string, Record<string, string>> = {},
  owned: string[] = [],
): Snapshot {
  return { tree: new Map([['traefik', 'appproxy'], ...tree]), claims, owned };
}

function operations(result: ChangePlan): Operation[] {
  return result.units.flatMap((unit) => unit.operations);
}

test('plan: an empty etcd gets the root marker, claims, resources and leased servers, in one transaction', () => {
  const result = planFor(desired, { tree: new Map(), claims: {}, owned: [] });
  const ops = operations(result);
  assert.deepEqual(
    ops.find((op) => op.key === 'traefik'),
    { type: 'put', key: 'traefik', value: 'appproxy', leased: false },
  );
  assert.ok(
    ops.some((op) => op.key === 'appproxy/claims/traefik/http/routers/chat/host-a' && op.type === 'put' && op.leased),
  );
  assert.ok(
    ops.some(
      (op) => op.key === 'traefik/http/services/chat/loadBalancer/servers/111/url' && op.type === 'put' && op.leased,
    ),
  );
  assert.ok(ops.some((op) => op.key === 'traefik/http/routers/chat/rule' && op.type === 'put' && !op.leased));
  assert.equal(splitTransactions(result.units, ETCD_TRANSACTION_LIMITS).length, 1);
  assert.equal(ops.length, 1 + 2 + 3 + 1);
});

test('plan: nothing changed, nothing written', () => {
  const result = planFor(
    desired,
    snapshot(
      desired,
      { 'http/routers/chat': { 'host-a': routerDigest }, 'http/services/chat': { 'host-a': serviceDigest } },
      [...serverA.keys()],
    ),
  );
  assert.deepEqual(result.units, []);
});

test('plan: another owner serving the same service keeps its server; this owner adds its own', () => {
  const result = planFor(
    desired,
    snapshot(new Map([...router, ...service, ...serverB]), {
      'http/routers/chat': { 'host-b': routerDigest },
      'http/services/chat': { 'host-b': serviceDigest },
    }),
  );
  const ops = operations(result);
  assert.ok(!ops.some((op) => op.key.includes('/servers/222/')), 'host-b server untouched');
  assert.ok(ops.some((op) => op.key.includes('/servers/111/') && op.type === 'put'));
  assert.ok(!ops.some((op) => op.key.startsWith('traefik/http/routers/')), 'shared router already right');
  assert.equal(ops.filter((op) => op.key.startsWith('appproxy/claims/')).length, 2);
});

test('plan: a differing definition from another owner is a conflict: not overwritten, this owner adds no server', () => {
  const theirs = new Map([
    ['traefik/http/routers/chat/rule', 'Host(`other`)'],
    ['traefik/http/routers/chat/service', 'chat'],
  ]);
  const result = planFor(
    desired,
    snapshot(new Map([...theirs, ...service, ...serverB]), {
      'http/routers/chat': { 'host-b': resourceDigest(theirs, 'traefik') },
      'http/services/chat': { 'host-b': serviceDigest },
    }),
  );
  assert.deepEqual(
    [...result.conflicts.values()].map((conflict) => [conflict.resource, conflict.owners]),
    [['http/routers/chat', ['host-b']]],
  );
  const ops = operations(result);
  assert.ok(!ops.some((op) => op.key.startsWith('traefik/http/routers/chat/')), 'their router untouched');
  assert.ok(
    ops.some((op) => op.key === 'appproxy/claims/traefik/http/routers/chat/host-a'),
    'our claim makes the conflict visible to them',
  );
});

test('plan: when this owner stops serving a shared service, only its server and claims go', () => {
  const result = planFor(
    new Map(),
    snapshot(
      new Map([...router, ...service, ...serverA, ...serverB]),
      {
        'http/routers/chat': { 'host-a': routerDigest, 'host-b': routerDigest },
        'http/services/chat': { 'host-a': serviceDigest, 'host-b': serviceDigest },
      },
      [...serverA.keys()],
    ),
  );
  const deleted = operations(result)
    .filter((op) => op.type === 'delete')
    .map((op) => op.key)
    .sort();
  assert.deepEqual(deleted, [
    'appproxy/claims/traefik/http/routers/chat/host-a',
    'appproxy/claims/traefik/http/services/chat/host-a',
    'traefik/http/services/chat/loadBalancer/servers/111/url',
  ]);
});

test('plan: the last owner removes the whole resource; router removal comes before backend removal', () => {
  const result = planFor(
    new Map(),
    snapshot(
      new Map([...router, ...service, ...serverA]),
      { 'http/routers/chat': { 'host-a': routerDigest }, 'http/services/chat': { 'host-a': serviceDigest } },
      [...serverA.keys()],
    ),
  );
  const keys = operations(result).map((op) => op.key);
  assert.ok(
    keys.indexOf('traefik/http/routers/chat/rule') <
      keys.indexOf('traefik/http/services/chat/loadBalancer/sticky/cookie/name'),
  );
  assert.equal(new Set(keys).size, keys.length, 'no key touched twice');
  assert.ok(keys.includes('traefik/http/services/chat/loadBalancer/servers/111/url'));
});

test('plan: resources nobody claims (their owner died) are removed; the placeholder keeps Traefik from holding on to them', () => {
  const result = planFor(new Map(), snapshot(new Map([...router, ...service])));
  const placeholder = 'traefik/http/services/appproxy-placeholder/loadBalancer/passHostHeader';
  assert.deepEqual(
    operations(result)
      .map((op) => op.key)
      .sort(),
    [...router.keys(), ...service.keys(), placeholder].sort(),
  );
  assert.equal(
    splitTransactions(result.units, ETCD_TRANSACTION_LIMITS).length,
    1,
    'removal and placeholder in one transaction',
  );
  const next = planFor(desired, snapshot(new Map([[placeholder, 'true']])));
  assert.ok(
    operations(next).some((op) => op.type === 'delete' && op.key === placeholder),
    'the placeholder goes when a route comes',
  );
});

test('plan: a resource nobody is seen to claim is removed only once the claims are known through its fields (a claim written with them may be on its way); until then it is left, and not quiet', () => {
  // The mirror's fixture keys are at revision 1.
  const rows: [string, bigint, boolean][] = [
    ['claims known through revision 1', 1n, true],
    ['claims known through a later revision', 5n, true],
    ['claims known only through revision 0', 0n, false],
  ];
  for (const [name, knownThrough, removed] of rows) {
    const result = planFor(new Map(), snapshot(new Map([...router, ...service])), () => knownThrough);
    const deleted = operations(result)
      .filter((op) => op.type === 'delete')
      .map((op) => op.key);
    assert.deepEqual(deleted.sort(), removed ? [...router.keys(), ...service.keys()].sort() : [], name);
    assert.deepEqual(result.quiet, [], `${name}: planned again by the next full pass`);
  }
});

test('plan: keys of an earlier lease are written again even when unchanged', () => {
  const claimKey = 'appproxy/claims/traefik/http/routers/chat/host-a';
  const result = planFor(desired, {
    ...snapshot(
      desired,
      { 'http/routers/chat': { 'host-a': routerDigest }, 'http/services/chat': { 'host-a': serviceDigest } },
      [...serverA.keys()],
    ),
    leases: Object.fromEntries([...serverA.keys(), claimKey].map((key) => [key, 'earlier'])),
  });
  assert.deepEqual(
    operations(result)
      .map((op) => op.key)
      .sort(),
    [claimKey, ...serverA.keys()].sort(),
  );
});

test('split: units are never cut and stay in stage order; at most 128 operations a transaction', () => {
  const units = Array.from({ length: 50 }, (_, index) =>
    makeUnit(
      index % 2 === 0 ? 0 : 1,
      `r${index}`,
      Array.from({ length: 5 }, (_, field) => ({
        type: 'put' as const,
        key: `k/${index}/${field}`,
        value: 'v',
        leased: false,
      })),
      [`r${index}`],
    ),
  );
  const transactions = splitTransactions(units, ETCD_TRANSACTION_LIMITS);
  assert.ok(transactions.every((transaction) => transaction.operations.length <= 128));
  assert.equal(
    transactions.reduce((sum, transaction) => sum + transaction.operations.length, 0),
    250,
  );
  assert.equal(transactions.length, 2);
  const order = transactions.flatMap((transaction) => transaction.operations.map((op) => op.key));
  const firstRouter = order.findIndex((key) => Number(key.split('/')[1]) % 2 === 1);
  assert.ok(
    order.slice(firstRouter).every((key) => Number(key.split('/')[1]) % 2 === 1),
    'all stage-0 units before stage-1 ones',
  );
  for (const transaction of transactions) {
    for (const label of transaction.labels) {
      const index = Number(label.slice(1));
      assert.equal(
        transaction.operations.filter((op) => op.key.startsWith(`k/${index}/`)).length,
        5,
        `unit ${label} whole in one transaction`,
      );
    }
  }
});

test('split: the byte budget starts a new transaction before a unit that would overflow it, without cutting it', () => {
  const big = 'x'.repeat(300);
  const units = Array.from({ length: 10 }, (_, index) =>
    makeUnit(
      0,
      `r${index}`,
      Array.from({ length: 3 }, (_, field) => ({
        type: 'put' as const,
        key: `k/${index}/${field}`,
        value: big,
        leased: false,
      })),
      [`r${index}`],
    ),
  );
  const transactions = splitTransactions(units, { maxOps: 128, maxBytes: 2000 });
  assert.equal(transactions.length, 5, '2 units of about 920 bytes fit in 2000 bytes');
  for (const transaction of transactions) {
    const bytes = transaction.operations.reduce(
      (sum, op) => sum + op.key.length + (op.type === 'put' ? op.value.length : 0),
      0,
    );
    assert.ok(bytes <= 2000, `${bytes} bytes`);
    assert.equal(transaction.operations.length % 3, 0, 'whole units');
  }
});

test('split: a unit larger than a transaction is cut, and every part carries its guards and its label', () => {
  const small = makeUnit(0, 'before', [{ type: 'put', key: 'k/before', value: 'v', leased: false }], ['before']);
  const large = makeUnit(
    0,
    'large',
    Array.from({ length: 300 }, (_, field) => ({
      type: 'put' as const,
      key: `k/large/${field}`,
      value: 'v',
      leased: false,
    })),
    ['large'],
  );
  const transactions = splitTransactions([small, large], { maxOps: 128, maxBytes: 1 << 20 });
  assert.deepEqual(
    transactions.map((transaction) => transaction.operations.length),
    [1, 128, 128, 44],
    'the unit before is not put with a part of it',
  );
  assert.deepEqual(transactions[0]?.guards, ['before']);
  for (const transaction of transactions.slice(1)) {
    assert.deepEqual(transaction.guards, ['large']);
    assert.deepEqual(transaction.labels, ['large']);
  }
  // By bytes too: each part within the budget.
  const wide = makeUnit(
    0,
    'wide',
    Array.from({ length: 4 }, (_, field) => ({
      type: 'put' as const,
      key: `w/${field}`,
      value: 'x'.repeat(600),
      leased: false,
    })),
    ['wide'],
  );
  const parts = splitTransactions([wide], { maxOps: 128, maxBytes: 1300 });
  assert.deepEqual(
    parts.map((transaction) => transaction.operations.length),
    [2, 2],
  );
  assert.ok(parts.every((transaction) => transaction.guards[0] === 'wide' && transaction.labels[0] === 'wide'));
});

test('split: a unit with a value etcd can never take is refused by name, and the others are kept', () => {
  const units = [
    makeUnit(
      0,
      'http/routers/ok',
      [{ type: 'put', key: 'traefik/http/routers/ok/rule', value: 'Host(`a`)', leased: false }],
      [],
    ),
    makeUnit(
      0,
      'http/routers/huge',
      [{ type: 'put', key: 'traefik/http/routers/huge/rule', value: 'x'.repeat(MAX_VALUE_BYTES), leased: false }],
      [],
    ),
  ];
  const { writable, refused } = unwritableUnits(units);
  assert.deepEqual(
    writable.map((unit) => unit.label),
    ['http/routers/ok'],
  );
  assert.deepEqual(
    refused.map((entry) => [entry.label, entry.key]),
    [['http/routers/huge', 'traefik/http/routers/huge/rule']],
  );
});

test('plan: a service made of servers only is claimed, so that a later pass keeps its servers', () => {
  const pairs = new Map([...router, ...serverA]);
  const first = planFor(pairs, snapshot(new Map()));
  const claim = operations(first).find((op) => op.key === 'appproxy/claims/traefik/http/services/chat/host-a');
  assert.ok(claim, 'the service is claimed');
  const claims = {
    'http/routers/chat': { 'host-a': routerDigest },
    'http/services/chat': { 'host-a': claim.type === 'put' ? claim.value : '' },
  };
  const second = planFor(pairs, snapshot(pairs, claims, [...serverA.keys()]));
  assert.deepEqual(second.units, [], 'nothing to do on the next pass');
});
