// The KvStore port's promises, as cases every store must pass: the real ones (etcd, and Redis,
// where revisions, guards, leases, the change log and the election are appproxy's own Lua) in
// test/real/kv-store-contract.test.ts, and the in-memory store the unit tests use in
// test/unit/memory-store-contract.test.ts, so that a unit test never leans on a behaviour no real
// store has.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { KvStore, WatchEvent } from '../../src/sync/kv-store.ts';
import { until, within } from './within.ts';

/** A store under contract, and how to read it and let go of it. */
export interface ContractStore {
  readonly kv: KvStore;
  /** Keys and values under a prefix. */
  read(prefix: string): Promise<Map<string, string>>;
  close(): void;
  /** Expired leases' keys are removed by a sweep only while it runs (Redis: the daemon starts it). */
  readonly sweeping?: { start(): void; stop(): void };
}

const put = (key: string, value: string, leased = false) => ({ type: 'put' as const, key, value, leased });
const del = (key: string) => ({ type: 'delete' as const, key });

/** The contract's cases, in a `describe` of their own, on the store `open` gives. */
export function kvStoreContract(name: string, open: () => Promise<ContractStore>): void {
  describe(`KvStore on ${name}`, () => {
    let store: ContractStore;
    const prefix = `appproxy/contract-${randomBytes(4).toString('hex')}/`;
    const releases: (() => void)[] = [];

    before(async () => {
      store = await open();
    });

    after(async () => {
      for (const release of releases) release();
      if (store !== undefined) {
        const left = await store.read(prefix);
        if (left.size > 0) await store.kv.apply({ operations: [...left.keys()].map(del), guards: [] }, '0');
        store.close();
      }
    });

    test(`${name}: a transaction applies all its operations at one revision; load reads them at it`, async () => {
      const first = await store.kv.apply(
        { operations: [put(`${prefix}a`, '1'), put(`${prefix}b`, '2')], guards: [] },
        '0',
      );
      assert.equal(first.applied, true);
      const snapshot = await store.kv.load([{ key: prefix, prefix: true }]);
      assert.ok(snapshot.revision >= first.revision);
      assert.deepEqual(snapshot.entries.map((entry) => [entry.key, entry.value, entry.modRevision]).sort(), [
        [`${prefix}a`, '1', first.revision],
        [`${prefix}b`, '2', first.revision],
      ]);
      const second = await store.kv.apply({ operations: [del(`${prefix}a`), put(`${prefix}b`, '3')], guards: [] }, '0');
      assert.ok(second.revision > first.revision);
      assert.deepEqual(Object.fromEntries(await store.read(prefix)), { [`${prefix}b`]: '3' });
      assert.deepEqual(
        (await store.kv.load([{ key: `${prefix}b`, prefix: false }])).entries.map((entry) => entry.key),
        [`${prefix}b`],
        'an exact key range',
      );
    });

    test(`${name}: a transaction as large as the store says it takes (up to 2,000 operations) applies whole, at one revision`, async () => {
      const count = Math.min(store.kv.transactionLimits.maxOps, 2_000);
      const operations = Array.from({ length: count }, (_, i) =>
        put(`${prefix}many/${String(i).padStart(5, '0')}`, `v${i}`),
      );
      const result = await store.kv.apply({ operations, guards: [] }, '0');
      assert.ok(result.applied, `${count} operations in one transaction`);
      const snapshot = await store.kv.load([{ key: `${prefix}many/`, prefix: true }]);
      assert.equal(snapshot.entries.length, count);
      assert.ok(
        snapshot.entries.every((entry) => entry.modRevision === result.revision),
        'every key at the one revision of the transaction',
      );
      await store.kv.apply(
        { operations: operations.map((operation) => del(operation.key)).slice(0, count), guards: [] },
        '0',
      );
    });

    test(`${name}: a load larger than a page (12,000 keys) reads every key once, at one revision, while others write`, async () => {
      const count = 12_000;
      const keys = Array.from({ length: count }, (_, i) => `${prefix}big/${String(i).padStart(5, '0')}`);
      const step = store.kv.transactionLimits.maxOps;
      for (let at = 0; at < count; at += step)
        await store.kv.apply({ operations: keys.slice(at, at + step).map((key) => put(key, 'v')), guards: [] }, '0');
      await store.kv.apply({ operations: [put(`${prefix}single`, 'v')], guards: [] }, '0');
      // Keys written while the load runs sort after the others: a page read at a later revision would hold them.
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing) {
          await store.kv.apply({ operations: [put(`${prefix}big/z-${written}`, 'late')], guards: [] }, '0');
          written += 1;
        }
      })();
      const snapshot = await store.kv.load([
        { key: `${prefix}big/`, prefix: true },
        { key: `${prefix}single`, prefix: false },
      ]);
      writing = false;
      await writer;
      assert.ok(
        snapshot.entries.every((entry) => entry.modRevision <= snapshot.revision),
        'nothing written after the revision of the snapshot',
      );
      const loaded = snapshot.entries.map((entry) => entry.key).filter((key) => !key.includes('/big/z-'));
      assert.equal(loaded.length, count + 1, 'every key once');
      assert.deepEqual(new Set(loaded), new Set([...keys, `${prefix}single`]));
      const late = await store.read(`${prefix}big/z-`);
      await store.kv.apply({ operations: [...late.keys(), `${prefix}single`].map(del), guards: [] }, '0');
      for (let at = 0; at < count; at += step)
        await store.kv.apply({ operations: keys.slice(at, at + step).map(del), guards: [] }, '0');
    });

    test(`${name}: a guard refuses the whole transaction when its range changed after the guard's revision`, async () => {
      const base = await store.kv.apply({ operations: [put(`${prefix}claims/x`, 'me')], guards: [] }, '0');
      const guarded = { range: { key: `${prefix}claims/`, prefix: true }, notModifiedAfter: base.revision };
      const ok = await store.kv.apply({ operations: [put(`${prefix}guarded-1`, 'yes')], guards: [guarded] }, '0');
      assert.equal(ok.applied, true, 'nothing changed in the range since: applied');
      await store.kv.apply({ operations: [put(`${prefix}claims/x`, 'someone else')], guards: [] }, '0');
      const refused = await store.kv.apply(
        { operations: [put(`${prefix}guarded-2`, 'no'), del(`${prefix}guarded-1`)], guards: [guarded] },
        '0',
      );
      assert.equal(refused.applied, false);
      assert.equal(refused.fenced, undefined);
      const now = await store.read(prefix);
      assert.equal(now.get(`${prefix}guarded-1`), 'yes', 'none of its operations applied');
      assert.equal(now.has(`${prefix}guarded-2`), false);
    });

    test(`${name}: a watch delivers the changes in its ranges after a revision, in order, and nothing else`, async () => {
      const start = (await store.kv.load([{ key: prefix, prefix: true }])).revision;
      const events: WatchEvent[] = [];
      let lost = '';
      const watch = await store.kv.watch([{ key: `${prefix}w/`, prefix: true }], start, {
        onEvents: (batch) => events.push(...batch),
        onLost: (reason) => (lost = reason),
      });
      try {
        await store.kv.apply(
          { operations: [put(`${prefix}w/1`, 'a'), put(`${prefix}elsewhere`, 'x')], guards: [] },
          '0',
        );
        await store.kv.apply({ operations: [put(`${prefix}w/1`, 'b'), put(`${prefix}w/2`, 'c')], guards: [] }, '0');
        await store.kv.apply({ operations: [del(`${prefix}w/1`)], guards: [] }, '0');
        await until('four watch events', () => events.length >= 4, 10_000);
        assert.deepEqual(
          events.map((event) =>
            event.type === 'put'
              ? `put ${event.key.slice(prefix.length)}=${event.value}`
              : `delete ${event.key.slice(prefix.length)}`,
          ),
          ['put w/1=a', 'put w/1=b', 'put w/2=c', 'delete w/1'],
        );
        const revisions = events.map((event) => event.modRevision);
        assert.deepEqual(
          [...revisions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
          revisions,
          'in revision order',
        );
        assert.equal(lost, '');
      } finally {
        await watch.stop();
      }
    });

    test(`${name}: leased keys are listed with their lease and go when it is revoked, and a watch sees them go`, async () => {
      const lease = await store.kv.openLease(10, () => undefined);
      releases.push(() => lease.release());
      await store.kv.putLeased(`${prefix}leased/a`, '1', lease.leaseId());
      await store.kv.apply({ operations: [put(`${prefix}leased/b`, '2', true)], guards: [] }, lease.leaseId());
      const info = await store.kv.lease(lease.leaseId());
      assert.ok(info !== undefined);
      assert.deepEqual([...info.keys].sort(), [`${prefix}leased/a`, `${prefix}leased/b`]);
      assert.equal(info.grantedSeconds, 10);
      assert.ok(info.remainingSeconds > 0 && info.remainingSeconds <= 10);
      const entries = (await store.kv.load([{ key: `${prefix}leased/`, prefix: true }])).entries;
      assert.deepEqual(
        entries.map((entry) => entry.lease),
        [lease.leaseId(), lease.leaseId()],
      );
      const start = (await store.kv.load([{ key: prefix, prefix: true }])).revision;
      const deleted: string[] = [];
      const watch = await store.kv.watch([{ key: `${prefix}leased/`, prefix: true }], start, {
        onEvents: (batch) =>
          deleted.push(...batch.filter((event) => event.type === 'delete').map((event) => event.key)),
        onLost: () => undefined,
      });
      try {
        await store.kv.revoke(lease.leaseId());
        await until('both deletes watched', () => deleted.length >= 2, 10_000);
        assert.deepEqual((await store.read(`${prefix}leased/`)).size, 0);
        assert.equal(await store.kv.lease(lease.leaseId()), undefined);
      } finally {
        await watch.stop();
      }
    });

    test(`${name}: a lease nobody keeps alive takes its keys with it within its time`, async () => {
      const lease = await store.kv.openLease(2, () => undefined);
      await store.kv.putLeased(`${prefix}expiring/a`, '1', lease.leaseId());
      lease.release();
      const started = performance.now();
      // Not before its time: released, not revoked, the key is still there.
      assert.equal((await store.read(`${prefix}expiring/`)).size, 1, 'a released lease keeps its key until it expires');
      store.sweeping?.start();
      try {
        await until(
          "the expired lease's key gone",
          async () => (await store.read(`${prefix}expiring/`)).size === 0,
          8_000,
        );
      } finally {
        store.sweeping?.stop();
      }
      process.stdout.write(
        `# ${name}: a 2 s lease left alone took its key after ${(performance.now() - started).toFixed(0)} ms\n`,
      );
    });

    test(`${name}: a released lease is kept alive by refresh from anyone past its time, and a gone lease is never revived`, async () => {
      const lease = await store.kv.openLease(2, () => undefined);
      await store.kv.putLeased(`${prefix}refreshed/a`, '1', lease.leaseId());
      lease.release();
      store.sweeping?.start();
      try {
        // Three times its 2 s, refreshed every 600 ms (as a takeover keeps its predecessor's lease).
        for (let round = 0; round < 10; round += 1) {
          assert.equal(await store.kv.refresh(lease.leaseId()), true, `refresh ${round + 1} answered that it is alive`);
          await new Promise((resolve) => setTimeout(resolve, 600));
        }
        assert.equal((await store.read(`${prefix}refreshed/`)).size, 1, 'its key is still there after 6 s');
        assert.ok(((await store.kv.lease(lease.leaseId()))?.remainingSeconds ?? 0) > 0);
        await store.kv.revoke(lease.leaseId());
        assert.equal(await store.kv.refresh(lease.leaseId()), false, 'a revoked lease is gone');
        assert.equal(await store.kv.lease(lease.leaseId()), undefined, 'and is not revived by the refresh');
      } finally {
        store.sweeping?.stop();
      }
    });

    test(`${name}: a fence lets a leader's transaction through and refuses it once another leads`, async () => {
      const onLost: string[] = [];
      const first = store.kv.campaign(`${prefix}elections/`, 'writer', 'first', 3, (reason) => onLost.push(reason));
      await within(`${name}: the first candidate elected`, 10_000, first.elected());
      const fence = await first.fence();
      const through = await store.kv.apply({ operations: [put(`${prefix}fenced/1`, 'first')], guards: [], fence }, '0');
      assert.equal(through.applied, true);
      const second = store.kv.campaign(`${prefix}elections/`, 'writer', 'second', 3, () => undefined);
      let secondElected = false;
      void second.elected().then(() => (secondElected = true));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(secondElected, false, 'one leader at a time');
      await first.resign();
      await within(`${name}: the second candidate elected once the first resigned`, 10_000, second.elected());
      const refused = await store.kv.apply(
        { operations: [put(`${prefix}fenced/2`, 'first, again')], guards: [], fence },
        '0',
      );
      assert.equal(refused.applied, false);
      assert.equal(refused.fenced, true);
      const secondFence = await second.fence();
      assert.equal(
        (
          await store.kv.apply(
            { operations: [put(`${prefix}fenced/2`, 'second')], guards: [], fence: secondFence },
            '0',
          )
        ).applied,
        true,
      );
      await second.resign();
      assert.deepEqual(onLost, [], 'resigning is no loss');
    });

    // etcd: a leader reads its election key while it leads (src/etcd/etcd-store.ts, confirmLeading).
    // Redis keeps its election key on the leader's own lease and learns of a lost lease from its
    // keeper; a key deleted by hand is not looked for there, so this case is etcd's alone.
    if (name === 'etcd')
      test(`${name}: a leader whose election key is gone is told it lost, within seconds`, async () => {
        const onLost: string[] = [];
        const leader = store.kv.campaign(`${prefix}gone-elections/`, 'writer', 'leader', 15, (reason) =>
          onLost.push(reason),
        );
        await within(`${name}: the candidate elected`, 10_000, leader.elected());
        const fence = await leader.fence();
        await store.kv.apply({ operations: [del(fence.key)], guards: [] }, '0');
        const started = performance.now();
        await until(`${name}: the leader told that its key is gone`, () => onLost.length > 0, 10_000);
        assert.match(onLost[0] ?? '', /election key is gone/);
        process.stdout.write(
          `# ${name}: the leader learned its key was gone after ${(performance.now() - started).toFixed(0)} ms\n`,
        );
        await leader.resign().catch(() => undefined);
      });
  });
}
