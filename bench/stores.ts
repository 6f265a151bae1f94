// Redis beside etcd, measured side by side in one run on the same machine:
//
// (a) route-add: `docker start` of a labelled container until Traefik's API lists the router as
//     enabled, through appproxy → etcd → Traefik (etcd provider) and appproxy → Redis → Traefik
//     (Redis provider) at once (two daemons, one per store, routing the same containers), beside
//     jupyterhub traefik-proxy's published Redis figure (median 0.23 s at concurrency 1, with its wait);
// (b) scale: N synthetic workloads through the sync engine on each store (first sync, a resync
//     with nothing changed, adding one workload), each size and store in a process of its own so
//     that its peak RSS is its own.
//
//   node bench/stores.ts [routes at concurrency 1] [routes at concurrency 50] [sizes...]   (default 100 200 1000 10000)
//   node bench/stores.ts --one etcd|redis N     one scale run, prints one JSON line (used by the above)
import { spawnSync } from 'node:child_process';
import { pino } from 'pino';
import { etcdFromConfig } from '../src/etcd/etcd-client.ts';
import { EtcdStore } from '../src/etcd/etcd-store.ts';
import { compileTranslateOptions, defaultTranslateOptions } from '../src/core/translate/translate-options.ts';
import { redisFromConfig } from '../src/redis/redis-client.ts';
import { RedisStore } from '../src/redis/redis-store.ts';
import { KeyLayout } from '../src/sync/key-layout.ts';
import type { KvStore } from '../src/sync/kv-store.ts';
import { SyncEngine } from '../src/sync/sync-engine.ts';
import { startDaemon } from '../test/support/daemon-process.ts';
import { requireTestEnv, testEnv } from '../test/support/env.ts';
import { testStore } from '../test/support/test-store.ts';
import { testDocker } from '../test/support/test-docker.ts';
import { createFleet, removeBenchContainers, RouterWatch } from './lib/fleet.ts';
import { writeResult } from './lib/results.ts';
import { mapLimit, since as ms, sleep, summary } from './lib/stats.ts';
import { syntheticWorkload } from './lib/synthetic-workload.ts';

type StoreName = 'etcd' | 'redis';
const ROOT_KEY = 'bench-stores';
const OWNER = 'bench-stores';
const SAMPLES = 50;
const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/** Everything the scale run wrote, removed through the port (etcd: by prefix, at once). */
async function clear(kv: KvStore): Promise<void> {
  const prefixes = [`${ROOT_KEY}/`, `appproxy/claims/${ROOT_KEY}/`, `appproxy/owners/${ROOT_KEY}/`];
  if (kv instanceof EtcdStore) {
    for (const prefix of prefixes) await kv.client.delete().prefix(prefix);
    await kv.client.delete().key(ROOT_KEY);
    return;
  }
  const keys = (
    await kv.load([...prefixes.map((key) => ({ key, prefix: true })), { key: ROOT_KEY, prefix: false }])
  ).entries.map((entry) => entry.key);
  for (let start = 0; start < keys.length; start += 2000) {
    await kv.apply(
      { operations: keys.slice(start, start + 2000).map((key) => ({ type: 'delete' as const, key })), guards: [] },
      '0',
    );
  }
}

async function scaleOne(name: StoreName, size: number): Promise<Record<string, unknown>> {
  const workloads = Array.from({ length: size }, (_, i) => syntheticWorkload(i));
  const compiled = compileTranslateOptions(defaultTranslateOptions);
  if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
  const logger = pino({ level: 'silent' });
  const etcd = name === 'etcd' ? etcdFromConfig({ endpoints: [testEnv.etcdEndpoint], timeoutSeconds: 60 }) : undefined;
  const redis = name === 'redis' ? redisFromConfig({ url: testEnv.redisUrl, timeoutSeconds: 60 }) : undefined;
  const store: KvStore =
    etcd !== undefined
      ? new EtcdStore(etcd, logger)
      : new RedisStore(redis as NonNullable<typeof redis>, logger, 60_000);
  await clear(store);
  const lease = await store.openLease(120, () => undefined);
  const engine = new SyncEngine({
    store,
    layout: new KeyLayout(ROOT_KEY, OWNER),
    compiled: compiled.value,
    lease,
    logger,
  });
  try {
    engine.desired.replaceWorkloads(workloads);
    let begin = performance.now();
    const first = await engine.sync();
    const firstMs = ms(begin);
    const keys = (await store.load([{ key: `${ROOT_KEY}/`, prefix: true }])).entries.length;
    engine.desired.replaceWorkloads(workloads);
    engine.requestFullPass();
    begin = performance.now();
    await engine.sync();
    const resyncMs = ms(begin);
    const add: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      begin = performance.now();
      engine.desired.upsertWorkload(syntheticWorkload(size + i));
      await engine.sync();
      add.push(performance.now() - begin);
    }
    const addOne = summary(add);
    return {
      store: name,
      size,
      keys,
      first: { ms: firstMs, transactions: first.transactions },
      resyncMs,
      addOne: { p50: Math.round(addOne.p50 * 10) / 10, p99: Math.round(addOne.p99 * 10) / 10 },
      rssMiB: mib(process.resourceUsage().maxRSS * 1024),
    };
  } finally {
    await engine.stop();
    lease.release();
    await store.revoke(lease.leaseId()).catch(() => undefined);
    await clear(store);
    etcd?.close();
    redis?.disconnect();
  }
}

async function routeAdd(runs: readonly [number, number][]): Promise<Record<string, unknown>[]> {
  await requireTestEnv();
  const docker = testDocker();
  const stores = { etcd: testStore('etcd'), redis: testStore('redis') };
  await removeBenchContainers(docker);
  for (const store of Object.values(stores)) await store.clearTree('traefik');
  const daemons = [
    await startDaemon({
      owner: 'bench-etcd',
      port: 19197,
      args: ['--log-level', 'warn', '--etcd-endpoints', testEnv.etcdEndpoint, '--store', 'etcd'],
    }),
    await startDaemon({
      owner: 'bench-redis',
      port: 19198,
      args: ['--log-level', 'warn', '--store', 'redis', '--redis-url', testEnv.redisUrl],
    }),
  ];
  const rows: Record<string, unknown>[] = [];
  try {
    for (const [concurrency, count] of runs) {
      const prefix = `st${concurrency}`;
      const { names, containers } = await createFleet(docker, prefix, count);
      const viaEtcd = new RouterWatch(testEnv.traefikEtcd.api, '@etcd', `${prefix}-`);
      const viaRedis = new RouterWatch(testEnv.traefikRedis.api, '@redis', `${prefix}-`);
      const samples = await mapLimit(containers, concurrency, async (started, index) => {
        const name = names[index] as string;
        const begin = performance.now();
        await started.start();
        const engineDone = performance.now();
        const [etcdAt, redisAt] = await Promise.all([viaEtcd.seenAt(name, 300_000), viaRedis.seenAt(name, 300_000)]);
        return {
          etcd: etcdAt - begin,
          redis: redisAt - begin,
          etcdAfterEngine: etcdAt - engineDone,
          redisAfterEngine: redisAt - engineDone,
        };
      });
      await Promise.all([viaEtcd.stop(), viaRedis.stop()]);
      await removeBenchContainers(docker);
      const etcd = summary(samples.map((sample) => Math.round(sample.etcd)));
      const redis = summary(samples.map((sample) => Math.round(sample.redis)));
      const ratios = summary(samples.map((sample) => sample.redis / sample.etcd));
      const etcdAfterEngine = summary(samples.map((sample) => Math.round(sample.etcdAfterEngine)));
      const redisAfterEngine = summary(samples.map((sample) => Math.round(sample.redisAfterEngine)));
      const row = {
        concurrency,
        routes: count,
        etcd,
        redis,
        etcdAfterEngine,
        redisAfterEngine,
        redisOverEtcdMedianRatio: Math.round(ratios.p50 * 100) / 100,
      };
      rows.push(row);
      process.stdout.write(`${JSON.stringify(row)}\n`);
      await sleep(2000);
    }
  } finally {
    for (const daemon of daemons) await daemon.kill('SIGTERM');
    await removeBenchContainers(docker);
    for (const store of Object.values(stores)) {
      await store.clearTree('traefik');
      store.close();
    }
  }
  return rows;
}

if (process.argv[2] === '--one') {
  const result = await scaleOne(process.argv[3] as StoreName, Number(process.argv[4]));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

const [n1 = '100', n50 = '200', ...sizeArgs] = process.argv.slice(2);
const sizes = sizeArgs.length > 0 ? sizeArgs.map(Number) : [1000, 10000];
const add = await routeAdd([
  [1, Number(n1)],
  [50, Number(n50)],
]);
const scale: Record<string, any>[] = [];
for (const size of sizes) {
  for (const name of ['etcd', 'redis'] as const) {
    const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--one', name, String(size)], {
      encoding: 'utf8',
      timeout: 1_800_000,
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(`scale ${name} ${size} failed: ${child.stderr}`);
    const row = JSON.parse(child.stdout.trim().split('\n').pop() as string) as Record<string, any>;
    scale.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}
const published = {
  source: 'jupyterhub traefik-proxy docs, Redis proxy, concurrency 1, including its wait for the route',
  medianMs: 230,
};
writeResult(
  'stores',
  {
    setup:
      'route added = docker start of a labelled busybox container, routed by two daemons at once (one per store); done = router enabled in each Traefik API (one back-to-back poller each); providersThrottleDuration=0s. Scale: synthetic workloads through the sync engine, one process per store and size',
    published,
    routeAdd: add,
    scale,
  },
  [
    '| route-add: concurrency | routes | jupyterhub Redis proxy, published p50 | appproxy → etcd p50 / p90 from docker start | appproxy → Redis p50 / p90 from docker start | etcd p50 after the engine started it | Redis p50 after the engine started it | Redis / etcd, median of per-route ratios |',
    '|---|---|---|---|---|---|---|---|',
    ...add.map(
      (row: Record<string, any>) =>
        `| ${row.concurrency} | ${row.routes} | ${row.concurrency === 1 ? '230 ms' : '-'} | ${row.etcd.p50} / ${row.etcd.p90} ms | ${row.redis.p50} / ${row.redis.p90} ms | ${row.etcdAfterEngine.p50} ms | ${row.redisAfterEngine.p50} ms | ${row.redisOverEtcdMedianRatio} |`,
    ),
    '',
    '| scale: workloads | store | keys | first sync | resync, nothing changed | add one p50 / p99 | peak RSS |',
    '|---|---|---|---|---|---|---|',
    ...scale.map(
      (row) =>
        `| ${row.size} | ${row.store} | ${row.keys} | ${row.first.ms} ms (${row.first.transactions} txns) | ${row.resyncMs} ms | ${row.addOne.p50} / ${row.addOne.p99} ms | ${row.rssMiB} MiB |`,
    ),
  ],
);
