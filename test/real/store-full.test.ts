import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { RedisStore } from '../../src/redis/redis-store.ts';
import type { KvStore } from '../../src/sync/kv-store.ts';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { startTraefik } from '../support/etcd-cluster.ts';
import { requireTestEnv } from '../support/env.ts';
import {
  answers,
  Churn,
  createWeb,
  removeFaultContainers,
  running,
  StablePoller,
  waitConverged,
} from '../support/fault-harness.ts';
import { SmallEtcd, SmallRedis } from '../support/full-stores.ts';
import { testDocker } from '../support/test-docker.ts';
import { waitFor } from '../support/traefik-api.ts';
import { fetchWithin } from '../support/within.ts';

// A full store is a state, not a crash: an etcd past its --quota-backend-bytes (NOSPACE) and a Redis
// at maxmemory with noeviction, each of the scenario's own with a Traefik reading it, filled from
// the test (keys outside appproxy's root key) while routes that do not change are requested
// through that Traefik and containers come and go. While full: no request fails, /readyz names the
// store, appproxy_store_full is 1, one log line says so. Once the operator frees space: the routes
// refused meanwhile appear, readiness returns, one line says so.

const docker = testDocker();
const daemons = new Set<DaemonProcess>();
const quiet = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How long the store stays full with the daemon retrying: more than two lease times (3 s). */
const HOLD_FULL_MS = 8000;
const FILLER_PREFIX = 'store-full-filler/';
const FULL_LINE = 'the store is full and refuses writes; what is routed stays, changes wait until space is freed';
const BACK_LINE = 'the store takes writes again; pending changes written';

before(async () => {
  await requireTestEnv();
  await removeFaultContainers(docker);
});

afterEach(async () => {
  for (const process of daemons) await process.kill('SIGTERM');
  daemons.clear();
  await removeFaultContainers(docker);
});

after(async () => {
  await removeFaultContainers(docker);
});

async function readyz(daemon: DaemonProcess): Promise<{ status: number; text: string }> {
  const response = await fetchWithin(`${daemon.url}/readyz`);
  return { status: response.status, text: await response.text() };
}

function logLines(daemon: DaemonProcess, message: string): number {
  return daemon
    .logs()
    .split('\n')
    .filter((line) => line.includes(`"msg":"${message}"`)).length;
}

/**
 * The tree under `traefik/` as the Redis store holds it, through the product's port (the form waitConverged compares).
 */
async function redisTree(kv: KvStore): Promise<Map<string, string>> {
  const snapshot = await kv.load([
    { key: 'traefik', prefix: false },
    { key: 'traefik/', prefix: true },
  ]);
  const tree = new Map(
    snapshot.entries.filter((entry) => entry.key !== 'traefik').map((entry) => [entry.key, entry.value]),
  );
  if (snapshot.entries.some((entry) => entry.key === 'traefik')) tree.set('traefik', 'appproxy');
  return tree;
}

async function fullStoreScenario(spec: {
  readonly name: string;
  readonly store: 'etcd' | 'redis';
  readonly web: string;
  readonly port: number;
  readonly storeArgs: readonly string[];
  readonly fill: () => Promise<string>;
  readonly free: () => Promise<string>;
  readonly tree: Etcd3 | (() => Promise<Map<string, string>>);
  /**
   * Containers started and removed meanwhile. Not on Redis: noeviction refuses writes only while
   * used memory is above maxmemory, and the deletes of a removed container bring it below, so that
   * the next write goes through (seen: a route written while "full"). etcd's alarm holds until disarmed.
   */
  readonly churn: boolean;
}): Promise<void> {
  const stable = [`${spec.name}-stable-0`, `${spec.name}-stable-1`];
  const added = [`${spec.name}-new-0`, `${spec.name}-new-1`];
  const owner = `store-full-${spec.name}`;
  for (const name of stable) await (await createWeb(docker, name)).start();
  const daemon = await startDaemon({ owner, port: spec.port, args: [...spec.storeArgs, '--log-level', 'info'] });
  daemons.add(daemon);
  for (const host of stable)
    await waitFor(
      `${host} served by the ${spec.store} Traefik before the store fills`,
      async () => ((await answers(spec.web, host)) ? true : undefined),
      30_000,
    );

  const poller = new StablePoller(spec.web, stable);
  const churn = spec.churn ? new Churn(docker, `${spec.name}-churn`) : undefined;
  let filled: string;
  let freed: string;
  let since: number;
  try {
    await sleep(1000);
    filled = await spec.fill();
    for (const name of added) await (await createWeb(docker, name)).start();
    const notReady = await waitFor(
      `appproxy ${owner} not ready, naming ${spec.store} as full`,
      async () => {
        const answer = await readyz(daemon);
        return answer.status === 503 && answer.text.includes(`${spec.store} is full and refuses writes`)
          ? answer.text
          : undefined;
      },
      30_000,
    );
    assert.equal(await daemon.metric('appproxy_store_full'), 1, 'appproxy_store_full is 1 while full');
    // Passes keep being tried (the churn triggers them) past two lease times.
    await sleep(HOLD_FULL_MS);
    const refusedWrites = await daemon.metric('appproxy_store_writes_refused_total');
    assert.ok(refusedWrites >= 2, `the refused writes are counted (${refusedWrites})`);
    assert.equal(
      logLines(daemon, FULL_LINE),
      1,
      `one log line while full, not one a pass:\n${daemon.logs().split('\n').slice(-20).join('\n')}`,
    );
    for (const host of added)
      assert.equal(await answers(spec.web, host), false, `${host} cannot be routed while ${spec.store} is full`);
    assert.equal((await readyz(daemon)).status, 503, `still not ready after ${HOLD_FULL_MS} ms full`);
    process.stdout.write(`# ${spec.name}: /readyz while full: ${notReady.trim()}\n`);
    freed = await spec.free();
    since = performance.now();
    await waitFor(
      `appproxy ${owner} ready again after ${spec.store} was freed`,
      async () => ((await readyz(daemon)).status === 200 ? true : undefined),
      60_000,
    );
  } catch (error) {
    await poller.stop();
    throw error;
  } finally {
    await churn?.stop();
  }
  const readyMs = Math.round(performance.now() - since);
  const result = await waitConverged(spec.tree, docker, {
    owners: [{ owner }],
    since,
    web: spec.web,
    hosts: () => running(docker, [...stable, ...added, ...(churn?.alive ?? [])]),
  }).finally(() => poller.stop());
  const polled = await poller.stop();
  const row = {
    scenario: spec.name,
    requests: polled.requests,
    failed: polled.failed,
    readyMs,
    convergeStoreMs: result.etcdMs,
    convergeTraefikMs: result.traefikMs,
    lost: result.difference.length + result.unserved.length,
    churn:
      churn === undefined
        ? 'none'
        : `${churn.started} started, ${churn.removed} removed, ${churn.errors} Docker errors`,
    refusedWrites: await daemon.metric('appproxy_store_writes_refused_total'),
    notes: `${filled}; ${freed}`,
  };
  process.stdout.write(`# ${JSON.stringify(row)}\n`);
  assert.ok(
    result.converged,
    `${spec.name}: the store and Traefik converge to what Docker runs once freed; left: ${JSON.stringify({ difference: result.difference, unserved: result.unserved })}\n${daemon.logs().split('\n').slice(-20).join('\n')}`,
  );
  for (const host of added)
    assert.ok(await answers(spec.web, host), `${host}, refused while full, is served once space is freed`);
  assert.equal(await daemon.metric('appproxy_store_full'), 0, 'appproxy_store_full is 0 again');
  assert.equal(logLines(daemon, BACK_LINE), 1, 'one log line when the store takes writes again');
  assert.equal(
    polled.failed,
    0,
    `${spec.name}: no request to an unchanged route fails; first failures: ${polled.firstFailures.join('; ')}`,
  );
}

test('store full (etcd): past --quota-backend-bytes (NOSPACE) what is routed stays and readiness names etcd; compaction, defrag and alarm disarm let the refused routes in', async () => {
  const etcd = new SmallEtcd(23852, 23853, 16 * 1024 * 1024);
  let traefik: Awaited<ReturnType<typeof startTraefik>> | undefined;
  try {
    await etcd.started();
    traefik = await startTraefik([etcd.endpoint], 23854, 23855, 'etcd');
    await fullStoreScenario({
      name: 'etcd-nospace',
      store: 'etcd',
      web: traefik.web,
      port: 23856,
      storeArgs: ['--etcd-endpoints', etcd.endpoint],
      tree: etcd.client(),
      churn: true,
      fill: async () => {
        const values = await etcd.fill(FILLER_PREFIX);
        const alarms = await etcd.alarms();
        assert.match(alarms, /alarm:NOSPACE/, 'etcd raised its NOSPACE alarm');
        return `etcd (quota 16 MiB) filled with ${values} values of 1 MiB under ${FILLER_PREFIX} until "database space exceeded"`;
      },
      free: async () => {
        await etcd.free(FILLER_PREFIX);
        assert.equal(await etcd.alarms(), '', 'no alarm left');
        return 'freed: del --prefix, compaction, defrag, alarm disarm';
      },
    });
  } finally {
    for (const process of daemons) await process.kill('SIGTERM');
    daemons.clear();
    await traefik?.stop();
    await etcd.stop();
  }
});

test('store full (Redis): at maxmemory with noeviction (OOM) what is routed stays and readiness names redis; a higher maxmemory lets the refused routes in', async () => {
  const redis = new SmallRedis(16451, '16mb');
  let traefik: Awaited<ReturnType<typeof startTraefik>> | undefined;
  const store = new RedisStore(redis.client(), quiet, 10_000);
  try {
    await redis.started();
    traefik = await startTraefik([redis.endpoint], 16452, 16453, 'redis');
    await fullStoreScenario({
      name: 'redis-oom',
      store: 'redis',
      web: traefik.web,
      port: 16454,
      storeArgs: ['--store', 'redis', '--redis-url', redis.url],
      tree: () => redisTree(store),
      churn: false,
      fill: async () => {
        const values = await redis.fill(FILLER_PREFIX);
        const limit = await redis.pinFull(4 * 1024 * 1024);
        return `Redis (maxmemory 16 MiB, noeviction) filled with ${values} values under ${FILLER_PREFIX} until "OOM command not allowed" even for 64 bytes, then maxmemory set 4 MiB below its use (${limit} bytes) so that trimmed client buffers do not let writes in`;
      },
      free: async () => {
        await redis.setMaxmemory('512mb');
        return 'freed: CONFIG SET maxmemory 512mb (the filler left in place)';
      },
    });
  } finally {
    for (const process of daemons) await process.kill('SIGTERM');
    daemons.clear();
    await traefik?.stop();
    await redis.stop();
  }
});
