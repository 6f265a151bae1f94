import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { etcdFromConfig } from '../../src/etcd/etcd-client.ts';
import { EtcdStore } from '../../src/etcd/etcd-store.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { within } from '../support/within.ts';

// --etcd-max-txn-ops above the etcd's own --max-txn-ops (the test environment's etcd runs with
// etcd's default, 128): the first transaction past it is refused, said once, and the store writes
// etcd's default a transaction from then on, so that the pass's retry goes through.

const PREFIX = 'appproxy-test/max-txn-ops/';
let client: ReturnType<typeof etcdFromConfig>;

before(async () => {
  await requireTestEnv();
  client = etcdFromConfig({ endpoints: [testEnv.etcdEndpoint], timeoutSeconds: 10 });
});

after(async () => {
  await client?.delete().prefix(PREFIX);
  client?.close();
});

test("etcd: a transaction past etcd's --max-txn-ops is refused once, said with the setting to change, then written 128 a transaction", async () => {
  const said: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void said.push(line) });
  const store = new EtcdStore(client, logger, undefined, 2048);
  assert.equal(store.transactionLimits.maxOps, 2048);
  const operations = Array.from({ length: 200 }, (_, i) => ({
    type: 'put' as const,
    key: `${PREFIX}k${i}`,
    value: String(i),
    leased: false,
  }));
  await assert.rejects(
    within('a transaction of 200 operations', 15_000, store.apply({ operations, guards: [] }, '0')),
    /too many operations/,
  );
  assert.equal(store.transactionLimits.maxOps, 128, "etcd's default from now on");
  assert.equal(said.length, 1);
  assert.match(said[0] ?? '', /--max-txn-ops is lower than --etcd-max-txn-ops \(2048\)/);
  const { maxOps } = store.transactionLimits;
  for (let start = 0; start < operations.length; start += maxOps) {
    const part = { operations: operations.slice(start, start + maxOps), guards: [] };
    assert.equal((await within('a transaction within 128', 15_000, store.apply(part, '0'))).applied, true);
  }
  assert.equal((await client.getAll().prefix(PREFIX).keys()).length, 200);
});
