import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { etcdFromConfig } from '../../src/etcd/etcd-client.ts';
import { EtcdStore } from '../../src/etcd/etcd-store.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { SocketForwarder } from '../support/socket-forwarder.ts';
import { until, within } from '../support/within.ts';

// A Swarm writer cut off from etcd steps down within half its election lease, whatever its reads
// do meanwhile (issue 24: on three nodes a cut-off writer's read of its election key never settled,
// and it kept its role for 90 s). Here etcd is behind a forwarder that goes silent: connections stay
// open and nothing is answered, as across a partition. The client's call deadline is 30 s, so only
// the leader's own judgement of its silence can tell it in time.

const ELECTION_SECONDS = 6;
let forwarder: SocketForwarder;

before(async () => {
  await requireTestEnv();
  const [host = '', port = ''] = testEnv.etcdEndpoint.split(':');
  forwarder = await SocketForwarder.startTcp(host, Number(port));
});

after(async () => {
  await forwarder?.close();
});

test('etcd election: a leader that hears nothing from etcd steps down within half its lease (two checks at least), however its reads hang', async () => {
  const client = etcdFromConfig({ endpoints: [forwarder.path], timeoutSeconds: 30 });
  const store = new EtcdStore(client, pino({ level: 'silent' }));
  const lost: { reason: string; at: number }[] = [];
  const leader = store.campaign('appproxy-test/silent-leader/', 'writer', 'leader', ELECTION_SECONDS, (reason) =>
    lost.push({ reason, at: performance.now() }),
  );
  try {
    await within('the candidate elected', 15_000, leader.elected());
    // Some confirmed reads first, so that its last answer is recent.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    assert.equal(lost.length, 0, 'no loss while etcd answers');
    forwarder.wedge();
    const silentFrom = performance.now();
    await until('the leader told it lost', () => lost.length > 0, 20_000);
    const afterMs = (lost[0]?.at ?? 0) - silentFrom;
    process.stdout.write(`# the silent leader stepped down ${afterMs.toFixed(0)} ms after etcd went silent\n`);
    assert.match(lost[0]?.reason ?? '', /did not confirm its election key/);
    // Its limit (half the lease, two 2 s checks at least) from its last confirmed read, which began
    // at most one check before the silence, plus the check that sees it.
    const limitMs = Math.max((ELECTION_SECONDS * 1000) / 2, 2 * 2000);
    assert.ok(afterMs <= limitMs + 2000 + 500, `stepped down only after ${afterMs} ms`);
  } finally {
    forwarder.unwedge();
    await leader.resign().catch(() => undefined);
    client.close();
  }
});
