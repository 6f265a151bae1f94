import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, afterEach, before, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { EtcdCluster, startTraefik } from '../support/etcd-cluster.ts';
import { clearTree, testEtcd } from '../support/etcd-kv.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import {
  answers,
  Churn,
  createWeb,
  removeFaultContainers,
  running,
  StablePoller,
  startWeb,
  waitConverged,
  type Owner,
} from '../support/fault-harness.ts';
import { SocketForwarder } from '../support/socket-forwarder.ts';
import { environmentUp, PID_FILES, REDIS_SNAPSHOT, stopByPidFile } from '../support/test-env-control.ts';
import { storeTree } from '../support/fault-harness.ts';
import { testStore, type TestStore } from '../support/test-store.ts';
import { rmSync } from 'node:fs';
import { waitFor } from '../support/traefik-api.ts';
import { forEachLimited, testDocker } from '../support/test-docker.ts';
import { within } from '../support/within.ts';

// The fault suite: each scenario runs while containers are started and stopped continuously and a
// client requests routes that do not change through Traefik; each ends when etcd holds exactly
// what the core computes from what Docker runs and Traefik serves every running container. The
// figures (failed requests, time to converge, updates lost) go to test/artifacts/faults.md, and to
// the file named by FAULTS_REPORT (`npm run faults` writes docs/faults.md). Counts are asserted;
// times are only reported.

const docker = testDocker();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let etcd: Etcd3;
const daemons = new Set<DaemonProcess>();
const rows: Row[] = [];

interface Row {
  readonly scenario: string;
  readonly requests: number;
  readonly failed: number;
  readonly convergeEtcdMs: number;
  readonly convergeTraefikMs: number;
  readonly lost: number;
  readonly churn: string;
  readonly notes: string;
  readonly firstFailures: readonly string[];
}

async function daemon(
  owner: string,
  port: number,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<DaemonProcess> {
  const started = await startDaemon({ owner, port, args: ['--log-level', 'info', ...args], env });
  daemons.add(started);
  return started;
}

async function stopDaemon(process: DaemonProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await process.kill(signal);
  daemons.delete(process);
}

/**
 * Stable routes up first; then the poller and the churn run while `fault` does its harm and
 * returns once it is healed (with a note); the churn stops there and convergence is timed from it.
 */
async function scenario(spec: {
  name: string;
  stable: readonly string[];
  owners: readonly Owner[];
  fault: () => Promise<string>;
  etcdClient?: Etcd3;
  /** The store the owners write, when it is not the test etcd (Redis scenarios). */
  readTree?: () => Promise<Map<string, string>>;
  web?: string;
  churnLabels?: (name: string) => Record<string, string>;
  /** Failed requests are expected (the routes' own containers restart): reported, not asserted. */
  failuresExpected?: boolean;
  /** Failed requests are allowed from the fault until this long after it ended, none before or after. */
  outageAllowedMs?: number;
}): Promise<Row> {
  const web = spec.web ?? testEnv.traefikEtcd.web;
  for (const host of spec.stable)
    await waitFor(`${host} live before the fault`, async () => ((await answers(web, host)) ? true : undefined), 30_000);
  const poller = new StablePoller(web, spec.stable);
  const churn = new Churn(docker, `${spec.name}-churn`, { labels: spec.churnLabels });
  let notes: string;
  let faultFromMs = 0;
  let faultToMs = 0;
  try {
    await sleep(2000);
    faultFromMs = poller.elapsedMs();
    notes = await spec.fault();
    faultToMs = poller.elapsedMs();
  } catch (error) {
    await poller.stop();
    throw error;
  } finally {
    await churn.stop();
  }
  const since = performance.now();
  const result = await waitConverged(spec.readTree ?? spec.etcdClient ?? etcd, docker, {
    owners: spec.owners,
    since,
    web,
    hosts: () => running(docker, [...spec.stable, ...churn.alive]),
  }).finally(() => poller.stop());
  const polled = await poller.stop();
  const row: Row = {
    scenario: spec.name,
    requests: polled.requests,
    failed: polled.failed,
    convergeEtcdMs: result.etcdMs,
    convergeTraefikMs: result.traefikMs,
    lost: result.difference.length + result.unserved.length,
    churn: `${churn.started} started, ${churn.removed} removed, ${churn.errors} Docker errors`,
    notes,
    firstFailures: polled.firstFailures,
  };
  rows.push(row);
  process.stdout.write(`# ${JSON.stringify(row)}\n`);
  const logTail = () => [...daemons].map((d) => d.logs().split('\n').slice(-15).join('\n')).join('\n---\n');
  assert.ok(
    result.converged,
    `${spec.name}: etcd and Traefik converge to what Docker runs; left: ${JSON.stringify({ difference: result.difference, unserved: result.unserved })}\n${logTail()}`,
  );
  if (spec.outageAllowedMs !== undefined) {
    const outside = poller.failures.filter(
      (failure) => failure.atMs < faultFromMs || failure.atMs > faultToMs + (spec.outageAllowedMs ?? 0),
    );
    assert.deepEqual(
      outside,
      [],
      `${spec.name}: requests fail only from the fault (${faultFromMs} ms) until ${spec.outageAllowedMs} ms after it ended (${faultToMs} ms)`,
    );
  } else if (spec.failuresExpected !== true)
    assert.equal(
      polled.failed,
      0,
      `${spec.name}: no request to an unchanged route fails; first failures: ${polled.firstFailures.join('; ')}`,
    );
  return row;
}

async function stableWebs(
  names: readonly string[],
  extra: (name: string) => Record<string, string> = () => ({}),
  restart = false,
): Promise<void> {
  for (const name of names)
    await (await createWeb(docker, name, extra(name), restart ? { RestartPolicy: { Name: 'always' } } : {})).start();
}

before(async () => {
  await requireTestEnv();
  etcd = testEtcd(testEnv.etcdEndpoint);
  await removeFaultContainers(docker);
  await clearTree(etcd, 'traefik');
});

// Whatever a scenario left (it failed half-way): no daemon of one scenario may see the next.
afterEach(async () => {
  for (const process of daemons) await process.kill('SIGTERM');
  daemons.clear();
  await removeFaultContainers(docker);
});

after(async () => {
  if (redis !== undefined) {
    await redis.clearTree('traefik').catch(() => undefined);
    redis.close();
  }
  if (etcd !== undefined) {
    await clearTree(etcd, 'traefik').catch(() => undefined);
    etcd.close();
  }
  const table = [
    '| scenario | requests to unchanged routes | failed | etcd converged (ms after heal) | Traefik serves all (ms after heal) | updates lost | churn during the fault | notes |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${row.requests} | ${row.failed} | ${row.convergeEtcdMs} | ${row.convergeTraefikMs} | ${row.lost} | ${row.churn} | ${row.notes} |`,
    ),
  ].join('\n');
  const text = [
    '# Faults: what appproxy survives, with figures',
    '',
    'Each scenario runs on real components (the test Docker engine, etcd, Traefik 3.7 reading etcd) while a',
    'container is started and the oldest of four killed every 300 ms, and while a client requests routes that',
    'do not change through Traefik, one after another (10 ms apart, 2 s timeout). A scenario ends when etcd',
    'holds exactly what the core computes from what the engine runs (nothing missing, nothing stale) and',
    'Traefik serves every running container; "updates lost" counts what still differs 60 s after the heal.',
    '',
    table,
    '',
    `Measured ${new Date().toISOString()} by \`npm run faults\` (\`node --test test/real/faults.test.ts\`, also part of`,
    '`bash scripts/test.sh`; lease 3 s; 2 cores shared by the engine, etcd, two Traefiks and the test).',
    '',
  ].join('\n');
  mkdirSync(new URL('../artifacts/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../artifacts/faults.md', import.meta.url), text);
  writeFileSync(new URL('../artifacts/faults.json', import.meta.url), `${JSON.stringify(rows, null, 2)}\n`);
  if (process.env['FAULTS_REPORT'] !== undefined) writeFileSync(process.env['FAULTS_REPORT'], text);
});

// Redis scenarios: the same harness, the owners on the Redis store, Traefik's Redis provider serving.
let redis: TestStore;
const onRedis = ['--store', 'redis', '--redis-url', testEnv.redisUrl];

/**
 * Whether `host` is served within 10 s. The scenario ends once the store holds what Docker runs and
 * the routes it watches are served; a route it did not watch may reach Traefik a moment later (its
 * provider reads the store again on its own schedule: under a loaded run, once missed by one read).
 */
async function servedWithin(web: string, host: string): Promise<boolean> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    if (await answers(web, host)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function redisScenario(
  name: string,
  note: string,
  stable: readonly string[],
  fault: (owner: DaemonProcess) => Promise<string>,
  args: readonly string[] = [],
  afterwards: () => Promise<void> = async () => undefined,
  outageAllowedMs?: number,
): Promise<void> {
  redis ??= testStore('redis');
  await redis.clearTree('traefik');
  await stableWebs(stable);
  const owner = `faults-${name}`;
  const appproxy = await daemon(owner, 19179, [...onRedis, ...args]);
  await scenario({
    name,
    stable,
    owners: [{ owner }],
    web: testEnv.traefikRedis.web,
    readTree: () => storeTree(redis),
    fault: async () => `${await fault(appproxy)}; ${note}`,
    ...(outageAllowedMs === undefined ? {} : { outageAllowedMs }),
  });
  await afterwards();
  for (const process of daemons) await stopDaemon(process);
  await removeFaultContainers(docker);
}

test('fault (Redis): Redis unreachable for 30 s, back without its data (no persistence): the tree is written again', async () => {
  await redisScenario(
    'redis-down-30s-empty',
    'Traefik kept its last configuration meanwhile',
    ['r1-stable-0', 'r1-stable-1'],
    async () => {
      rmSync(REDIS_SNAPSHOT, { force: true });
      await stopByPidFile(PID_FILES.redis);
      await sleep(30_000);
      await environmentUp();
      return 'Redis stopped (SIGTERM) for 30 s and started empty';
    },
  );
});

test('fault (Redis): Redis restarted from a snapshot (persistence): the tree is as it was, nothing to rewrite', async () => {
  await redisScenario(
    'redis-restart-persistent',
    'the change log and revisions came back with the data',
    ['r2-stable-0', 'r2-stable-1'],
    async () => {
      await redis.kv.get('traefik');
      const { execFile } = await import('node:child_process');
      await new Promise<void>((resolve, reject) =>
        execFile('redis-cli', ['-p', new URL(testEnv.redisUrl).port, 'SAVE'], { timeout: 10_000 }, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
      await stopByPidFile(PID_FILES.redis);
      await environmentUp();
      // The next start must be empty again (the test Redis keeps no data between runs).
      rmSync(REDIS_SNAPSHOT, { force: true });
      return 'SAVE, then Redis stopped (SIGTERM) and started at once from the snapshot';
    },
  );
});

test('fault (Redis): Redis restarted at once without its data', async () => {
  await redisScenario(
    'redis-restart-empty',
    'the daemon saw another epoch, read the store again and wrote everything',
    ['r3-stable-0', 'r3-stable-1'],
    async () => {
      rmSync(REDIS_SNAPSHOT, { force: true });
      await stopByPidFile(PID_FILES.redis, 'SIGKILL');
      await environmentUp();
      return 'Redis killed (SIGKILL) and started at once, empty';
    },
    [],
    async () => undefined,
    // The data is gone: Traefik's Redis provider, which reads the tree in SCAN pages on each
    // notification, may read it empty or half written back before appproxy's rewrite is whole,
    // and serve 404 until its next read. 0 failures in four runs of five, 118 requests (0.6 s)
    // once; the routes must be back within 3 s of the restart, and nothing may fail before it.
    3_000,
  );
});

test('fault (Redis): SIGKILL in the middle of a large change, then a restart', async () => {
  const lease = ['--lease-seconds', '10'];
  await redisScenario(
    'redis-sigkill-mid-change',
    'lease 10 s',
    ['r4-stable-0', 'r4-stable-1'],
    async (first) => {
      const names = Array.from({ length: 60 }, (_, i) => `r4-bulk-${i}`);
      const containers = await forEachLimited(names, (name) => createWeb(docker, name));
      const starting = forEachLimited(containers, (container) => container.start());
      let written = 0;
      await waitFor(
        'the first r4-bulk router written to Redis',
        async () => {
          written = [...(await redis.read('traefik/http/routers/r4-bulk-')).keys()].filter((key) =>
            key.endsWith('/rule'),
          ).length;
          return written > 0 ? true : undefined;
        },
        120_000,
      );
      await stopDaemon(first, 'SIGKILL');
      await daemon('faults-redis-sigkill-mid-change', 19179, [...onRedis, ...lease]);
      await starting;
      return `60 containers started at once; killed at the first routers' write (${written} of 60 written), restarted at once`;
    },
    lease,
    async () => {
      for (let i = 0; i < 60; i += 1)
        assert.ok(
          await servedWithin(testEnv.traefikRedis.web, `r4-bulk-${i}`),
          `r4-bulk-${i} is served after the restart`,
        );
    },
  );
});

test('fault: etcd unreachable for 30 s, then back', async () => {
  await stableWebs(['f1-stable-0', 'f1-stable-1']);
  const appproxy = await daemon('faults-etcd-down', 19171);
  await scenario({
    name: 'etcd-down-30s',
    stable: ['f1-stable-0', 'f1-stable-1'],
    owners: [{ owner: 'faults-etcd-down' }],
    fault: async () => {
      await stopByPidFile(PID_FILES.etcd);
      await sleep(30_000);
      await environmentUp();
      return 'etcd stopped (SIGTERM) for 30 s; Traefik kept its last configuration meanwhile';
    },
  });
  await stopDaemon(appproxy);
  await removeFaultContainers(docker);
});

test('fault: the Docker event stream is cut three times while the engine keeps running', async () => {
  await stableWebs(['f2-stable-0', 'f2-stable-1']);
  const forwarder = await SocketForwarder.start(testEnv.dockerSocket);
  const appproxy = await daemon('faults-stream-cut', 19172, [], { DOCKER_HOST: `unix://${forwarder.path}` });
  try {
    await scenario({
      name: 'event-stream-cut',
      stable: ['f2-stable-0', 'f2-stable-1'],
      owners: [{ owner: 'faults-stream-cut' }],
      fault: async () => {
        let dropped = 0;
        for (let cut = 0; cut < 3; cut += 1) {
          dropped += forwarder.cut();
          await sleep(4000);
        }
        return `3 cuts 4 s apart, ${dropped} connections dropped (the event stream each time)`;
      },
    });
  } finally {
    await stopDaemon(appproxy);
    await forwarder.close();
    await removeFaultContainers(docker);
  }
});

test('fault: the Docker engine restarts', async () => {
  // Every container of an engine stops with it (live-restore is refused in Swarm mode): the stable
  // ones restart with it (restart policy), so their failures are reported, not asserted.
  await stableWebs(['f3-stable-0', 'f3-stable-1'], () => ({}), true);
  const appproxy = await daemon('faults-docker-restart', 19173);
  await scenario({
    name: 'docker-restart',
    stable: ['f3-stable-0', 'f3-stable-1'],
    owners: [{ owner: 'faults-docker-restart' }],
    failuresExpected: true,
    fault: async () => {
      const begin = performance.now();
      await stopByPidFile(PID_FILES.docker);
      await environmentUp();
      return `engine down and up again in ${Math.round(performance.now() - begin)} ms; the stable containers restart with it (restart policy always), so their requests fail meanwhile`;
    },
  });
  await stopDaemon(appproxy);
  await removeFaultContainers(docker);
});

test('fault: SIGKILL in the middle of a large change, then a restart', async () => {
  await stableWebs(['f4-stable-0', 'f4-stable-1']);
  // A restart under this load (60 containers starting on 2 cores) takes 2-3 s before it can take
  // over; a 3 s lease can run out first, and the host's servers then leave until the new run writes
  // them again (measured: about 1.6 s of failures). The lease here is 10 s (the default is 15).
  const lease = ['--lease-seconds', '10'];
  let appproxy = await daemon('faults-sigkill', 19174, lease);
  await scenario({
    name: 'sigkill-mid-change',
    stable: ['f4-stable-0', 'f4-stable-1'],
    owners: [{ owner: 'faults-sigkill' }],
    fault: async () => {
      const names = Array.from({ length: 60 }, (_, i) => `f4-bulk-${i}`);
      const watcher = await within(
        'the etcd watch of the f4-bulk routers',
        10_000,
        etcd.watch().prefix('traefik/http/routers/f4-bulk-').create(),
      );
      const firstWrite = new Promise<void>((resolve) => watcher.once('put', () => resolve()));
      // All created first, then started together (a few at a time, which the engine takes without
      // wedging): their start events arrive while appproxy writes, one large change under way.
      const containers = await forEachLimited(names, (name) => createWeb(docker, name));
      const starting = forEachLimited(containers, (container) => container.start());
      await within('the first f4-bulk router written', 120_000, firstWrite).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}:\n${appproxy.logs().slice(-3000)}`);
      });
      await stopDaemon(appproxy, 'SIGKILL');
      await within('the etcd watch to end', 10_000, watcher.cancel());
      const written = await etcd.getAll().prefix('traefik/http/routers/f4-bulk-').keys();
      appproxy = await daemon('faults-sigkill', 19174, lease);
      await starting;
      return `60 containers started at once; killed at the first routers' write (${written.length} of 60 router keys written), restarted at once (lease 10 s)`;
    },
  });
  for (let i = 0; i < 60; i += 1)
    assert.ok(await servedWithin(testEnv.traefikEtcd.web, `f4-bulk-${i}`), `f4-bulk-${i} is served after the restart`);
  await stopDaemon(appproxy);
  await removeFaultContainers(docker);
});

test('fault: a host is lost (its instance killed, not restarted): its servers leave within the lease, no other route changes', async () => {
  const hostA = { owner: 'host-a', constraints: 'Label(`fault.host`, `a`)' };
  const hostB = { owner: 'host-b', constraints: 'Label(`fault.host`, `b`)' };
  await stableWebs(['f5-a-0', 'f5-a-1'], () => ({ 'fault.host': 'a' }));
  await stableWebs(['f5-b-0', 'f5-b-1'], () => ({ 'fault.host': 'b' }));
  const a = await daemon('host-a', 19175, ['--constraints', hostA.constraints]);
  const b = await daemon('host-b', 19176, ['--constraints', hostB.constraints]);
  await waitFor(
    'host A routes live',
    async () =>
      (await answers(testEnv.traefikEtcd.web, 'f5-a-0')) && (await answers(testEnv.traefikEtcd.web, 'f5-a-1'))
        ? true
        : undefined,
    30_000,
  );
  await scenario({
    name: 'host-lost',
    stable: ['f5-b-0', 'f5-b-1'],
    owners: [hostB],
    churnLabels: () => ({ 'fault.host': 'b' }),
    fault: async () => {
      const begin = performance.now();
      await stopDaemon(a, 'SIGKILL');
      const gone = await waitFor(
        'host A servers gone from etcd',
        async () => {
          const servers = await etcd.getAll().prefix('traefik/http/services/f5-a-').keys();
          return servers.some((key) => key.includes('/loadBalancer/servers/'))
            ? undefined
            : Math.round(performance.now() - begin);
        },
        30_000,
      );
      return `instance of host A killed (SIGKILL), not restarted; its servers left etcd ${gone} ms later (lease 3 s); host A's routers and services are removed by host B once the claims expire`;
    },
  });
  await stopDaemon(b);
  await removeFaultContainers(docker);
});

test("fault: huge labels near etcd's request limit: an oversized one fails only its own workload, a large total is written in several transactions", async () => {
  await stableWebs(['f6-stable-0', 'f6-stable-1']);
  const appproxy = await daemon('faults-huge-label', 19177);
  await scenario({
    name: 'huge-labels',
    stable: ['f6-stable-0', 'f6-stable-1'],
    owners: [{ owner: 'faults-huge-label' }],
    fault: async () => {
      // The engine itself refuses a create request much over 1 MB; etcd refuses requests over 1.5 MiB.
      const huge = `Host(\`f6-huge\`) || Host(\`${'x'.repeat(1_000_000)}\`)`;
      await startWeb(docker, 'f6-huge', { 'appproxy.http.routers.f6-huge.rule': huge });
      await waitFor(
        'the refusal in the log',
        async () =>
          /appproxy\.http\.routers\.f6-huge\.rule/.test(appproxy.logs()) && /bytes, more than/.test(appproxy.logs())
            ? true
            : undefined,
        20_000,
      );
      // Three containers with 12 header values of 60 KiB each (737 KB a container, about what the
      // engine accepts in one create request), started together: over 2 MB in one pass, more than
      // etcd takes in one request, so the pass must be split by bytes, not only by operations. (The
      // middleware is defined, not used: 720 KB of response headers would defeat any HTTP client.)
      const large = ['f6-large-0', 'f6-large-1', 'f6-large-2'];
      const before = await appproxy.metric('appproxy_store_transactions_total');
      const created = await forEachLimited(large, (name) => {
        const labels: Record<string, string> = {};
        for (let i = 0; i < 12; i += 1)
          labels[`appproxy.http.middlewares.${name}-headers.headers.customresponseheaders.X-Large-${i}`] = String(
            i % 10,
          ).repeat(60 * 1024);
        return createWeb(docker, name, labels);
      });
      await forEachLimited(created, (container) => container.start());
      for (const name of large)
        await waitFor(
          `${name} served`,
          async () => ((await answers(testEnv.traefikEtcd.web, name)) ? true : undefined),
          30_000,
        );
      const transactions = (await appproxy.metric('appproxy_store_transactions_total')) - before;
      return `a 1 MB rule label: refused with an error naming it, nothing of that container written; three containers with 737 KB of labels each, started together: written in ${transactions} transactions (each under 1 MiB) and served`;
    },
  });
  assert.equal(
    await etcd.get('traefik/http/routers/f6-huge/rule').string(),
    null,
    'nothing of the huge workload is written',
  );
  await stopDaemon(appproxy);
  await removeFaultContainers(docker);
});

test('fault: a three-member etcd cluster loses its leader, then a second member (no quorum), then both return', async () => {
  const cluster = new EtcdCluster(23821, 23831);
  await cluster.start();
  const traefik = await startTraefik(cluster.endpoints, 18280, 18281);
  const client = cluster.client();
  try {
    await stableWebs(['f7-stable-0', 'f7-stable-1']);
    // Lease 10 s (the default is 15): with 3 s, a run here lost the stable routes for about 50 ms
    // after quorum came back, when the new leader's lease clock ran out before the client's
    // keep-alive reached a live member again (a lease shorter than an etcd recovery is a lost
    // host: see the README's known limits).
    const appproxy = await daemon('faults-etcd-cluster', 19178, [
      '--etcd-endpoints',
      cluster.endpoints.join(','),
      '--lease-seconds',
      '10',
    ]);
    await scenario({
      name: 'etcd-leader-then-quorum-lost',
      stable: ['f7-stable-0', 'f7-stable-1'],
      owners: [{ owner: 'faults-etcd-cluster' }],
      etcdClient: client,
      web: traefik.web,
      fault: async () => {
        const leader = cluster.leader();
        await cluster.kill(leader);
        await sleep(5000);
        const second = cluster.members.find((member) => member !== leader) as (typeof cluster.members)[number];
        await cluster.kill(second);
        await sleep(10_000);
        cluster.startMember(leader);
        cluster.startMember(second);
        await cluster.waitHealthy(cluster.members);
        return `leader ${leader.name} killed (SIGKILL), 5 s later ${second.name} too (no quorum for 10 s), both restarted`;
      },
    });
    await stopDaemon(appproxy);
  } finally {
    client.close();
    await traefik.stop();
    await cluster.stop();
    await removeFaultContainers(docker);
  }
});
