// What Traefik pays for each change at scale, per provider, side by side in one run: N synthetic
// workloads written by appproxy's own sync engine into an etcd and into a Redis, each read by a
// Traefik 3.7 of its own (KV provider, providersThrottleDuration=0s), beside Traefik's own floor: the
// same configuration (the pure core's, as `appproxy render` makes it) served as JSON by a small HTTP
// server here to a third Traefik's HTTP provider (pollInterval 1s). Every daemon is this benchmark's
// own (ports 27xxx on 127.0.0.1, data under /tmp/traefik-side-*), started for one provider and size
// at a time and stopped by its pid; the test environment's are never touched.
//
// Per size and provider:
//   - initial load: the store (or the served JSON) already holds all N, then Traefik is started:
//     from its start to all N routers enabled (/api/overview);
//   - add one router, k times: from the commit (the engine's transaction returned; HTTP: the served
//     configuration changed) to /api/http/routers/<name>@<provider> enabled (polled every 5 ms), then
//     the same router removed (commit → 404); Traefik's CPU time (/proc/<pid>/stat) from before the
//     commit until it has been still for 300 ms, raw and net of its idle rate;
//   - churn: one router added every 100 ms for 60 s, Traefik's router list read 5 times a second
//     (only the churn's routers: ?search=churn-), the lag of each change (commit → first seen
//     enabled), whether the lag grows through the run, and whether and when Traefik caught up after it.
//
// And appproxy's own offer beside the KV providers (`mirror`): the engine writes into etcd as for
// `etcd`, a second engine of another owner keeps its mirror of the store by its watch (as every
// appproxy instance does), and its GET /traefik/dynamic (src/daemon/traefik-config-page.ts) is what
// a Traefik's HTTP provider polls every second: the floor's path, with etcd and a watch in front.
//
// And the daemon's write pace (`etcd-paced`, `redis-paced`): as `etcd` and `redis`, but each change is
// handed to the daemon's scheduler as an event would be, every commit is read back in the Traefik
// (src/readback/traefik-readback.ts), and a pass after a commit not yet live there waits until it is
// or for Traefik's usual apply (src/sync/write-pace.ts). Their figures run from the change handed
// over, not from the commit.
//
//   node bench/traefik-side.ts [sizes...]     (default 1000 10000; 50000 works too)
//     [--samples 10] [--churn-seconds 60] [--churn-interval-ms 100] [--catch-up-seconds 120]
//     [--providers etcd,redis,http,mirror,etcd-paced,redis-paced] [--name traefik-side]
//     (results in bench/results/<name>.{md,json})
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { ConfigObject } from '../src/core/config-tree.ts';
import type { Workload } from '../src/core/workload.ts';
import { buildConfiguration } from '../src/core/translate/build-configuration.ts';
import {
  compileTranslateOptions,
  defaultTranslateOptions,
  type CompiledTranslateOptions,
} from '../src/core/translate/translate-options.ts';
import { etcdFromConfig } from '../src/etcd/etcd-client.ts';
import { EtcdStore } from '../src/etcd/etcd-store.ts';
import { redisFromConfig } from '../src/redis/redis-client.ts';
import { RedisStore } from '../src/redis/redis-store.ts';
import { KeyLayout } from '../src/sync/key-layout.ts';
import type { KvStore } from '../src/sync/kv-store.ts';
import { SyncEngine } from '../src/sync/sync-engine.ts';
import { TraefikConfigPage } from '../src/daemon/traefik-config-page.ts';
import { ReadbackBook } from '../src/core/readback/readback-book.ts';
import { TraefikReadback } from '../src/readback/traefik-readback.ts';
import { ReconcileScheduler } from '../src/sync/reconcile-scheduler.ts';
import { WritePace } from '../src/sync/write-pace.ts';
import { environmentTraefikBinary } from '../test/support/etcd-cluster.ts';
import { fetchWithin, within } from '../test/support/within.ts';
import { lagTrend, type LaggedChange } from './lib/lag-trend.ts';
import { startPrivateEtcd, STACK_MAX_TXN_OPS } from './lib/private-etcd.ts';
import { PrivateProcess, stopAllPrivate } from './lib/private-process.ts';
import { writeResult } from './lib/results.ts';
import { sleep, summary } from './lib/stats.ts';
import { syntheticWorkload } from './lib/synthetic-workload.ts';

type Provider = 'etcd' | 'redis' | 'http' | 'mirror' | 'etcd-paced' | 'redis-paced';
const PROVIDERS: readonly Provider[] = ['etcd', 'redis', 'http', 'mirror', 'etcd-paced', 'redis-paced'];
/** The provider of the Traefik that reads each: its routers' suffix. */
const TRAEFIK_PROVIDER: Record<Provider, 'etcd' | 'redis' | 'http'> = {
  etcd: 'etcd',
  redis: 'redis',
  http: 'http',
  mirror: 'http',
  'etcd-paced': 'etcd',
  'redis-paced': 'redis',
};

const ROOT_KEY = 'traefik-side';
const OWNER = 'traefik-side';
/** Ports of this benchmark alone: the test environment uses 16379, 18080-18111, 18600+, 23790 and 23800. */
const PORTS = {
  etcdClient: 27379,
  etcdPeer: 27380,
  redis: 27479,
  configServer: 27580,
  traefik: {
    etcd: { api: 27081, web: 27080 },
    redis: { api: 27091, web: 27090 },
    http: { api: 27101, web: 27100 },
    mirror: { api: 27111, web: 27110 },
    'etcd-paced': { api: 27121, web: 27120 },
    'redis-paced': { api: 27131, web: 27130 },
  },
} as const;
/** Workload indexes of the probes and the churn: apart from the N (and each other), since ids follow the index. */
const PROBE_BASE = 1_000_000;
const CHURN_BASE = 2_000_000;
/** How often the churn's reader asks Traefik for the churn's routers. */
const CHURN_POLL_MS = 200;
/** Traefik's API routers of its own (api@internal, dashboard@internal) beside the provider's. */
const INTERNAL_ROUTERS = 2;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    samples: { type: 'string', default: '10' },
    'churn-seconds': { type: 'string', default: '60' },
    'churn-interval-ms': { type: 'string', default: '100' },
    'catch-up-seconds': { type: 'string', default: '120' },
    providers: { type: 'string', default: PROVIDERS.join(',') },
    name: { type: 'string', default: 'traefik-side' },
  },
});
const sizes = positionals.length > 0 ? positionals.map(Number) : [1000, 10_000];
const samples = Number(flags.samples);
const churnSeconds = Number(flags['churn-seconds']);
const churnIntervalMs = Number(flags['churn-interval-ms']);
const catchUpSeconds = Number(flags['catch-up-seconds']);
const providers = flags.providers.split(',') as Provider[];
for (const provider of providers)
  if (!PROVIDERS.includes(provider))
    throw new Error(`--providers: unknown provider '${provider}' (${PROVIDERS.join(', ')})`);
if ([...sizes, samples, churnSeconds, churnIntervalMs, catchUpSeconds].some((n) => !Number.isFinite(n) || n < 0))
  throw new Error('sizes, --samples, --churn-seconds, --churn-interval-ms and --catch-up-seconds take numbers ≥ 0');

const progress = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);
const round = (value: number, places = 1) => Math.round(value * 10 ** places) / 10 ** places;
const now = () => performance.now();

function compiledOptions(): CompiledTranslateOptions {
  const compiled = compileTranslateOptions(defaultTranslateOptions);
  if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
  return compiled.value;
}
const compiled = compiledOptions();

/** What a phase drives, whatever the provider: one workload added or removed, resolved once committed. */
interface Target {
  readonly provider: Provider;
  readonly traefik: PrivateProcess;
  readonly api: string;
  /** When Traefik was started (performance.now()). */
  readonly startedAt: number;
  /** Figures of the setup (the engine's first sync, the served configuration's size). */
  readonly setup: Record<string, unknown>;
  add(workload: Workload): Promise<void>;
  remove(workload: Workload): Promise<void>;
  /** Traefik's CPU seconds a second at rest, once measured: what `settle` does not count as work. */
  idleCpuPerSecond: number;
  /** Paced only: the passes so far, how many were held and how long, the apply time the pace uses. */
  pacing?(): Record<string, number>;
  /** HTTP only: when Traefik's first read that began at or after `since` was answered. */
  fetchedAfter?(since: number): number | undefined;
  close(): Promise<void>;
}

function startTraefik(provider: Provider, dir: string): PrivateProcess {
  const ports = PORTS.traefik[provider];
  const providerFlags = {
    'etcd-paced': [`--providers.etcd.endpoints=127.0.0.1:${PORTS.etcdClient}`, `--providers.etcd.rootKey=${ROOT_KEY}`],
    'redis-paced': [`--providers.redis.endpoints=127.0.0.1:${PORTS.redis}`, `--providers.redis.rootKey=${ROOT_KEY}`],
    etcd: [`--providers.etcd.endpoints=127.0.0.1:${PORTS.etcdClient}`, `--providers.etcd.rootKey=${ROOT_KEY}`],
    redis: [`--providers.redis.endpoints=127.0.0.1:${PORTS.redis}`, `--providers.redis.rootKey=${ROOT_KEY}`],
    http: [
      `--providers.http.endpoint=http://127.0.0.1:${PORTS.configServer}/configuration`,
      '--providers.http.pollInterval=1s',
    ],
    mirror: [
      `--providers.http.endpoint=http://127.0.0.1:${PORTS.configServer}/configuration`,
      '--providers.http.pollInterval=1s',
    ],
  }[provider];
  return new PrivateProcess(
    `traefik (${provider} provider)`,
    environmentTraefikBinary(),
    [
      '--global.checkNewVersion=false',
      '--global.sendAnonymousUsage=false',
      '--log.level=ERROR',
      '--api=true',
      '--api.insecure=true',
      `--entryPoints.traefik.address=127.0.0.1:${ports.api}`,
      `--entryPoints.web.address=127.0.0.1:${ports.web}`,
      '--providers.providersThrottleDuration=0s',
      ...providerFlags,
    ],
    dir,
  );
}

/** The Redis the Redis providers read (etcd: startPrivateEtcd). */
function startRedis(dir: string): PrivateProcess {
  // Keyspace notifications on: Traefik's Redis provider watches through them.
  return new PrivateProcess('redis-server', 'redis-server', [
    '--bind',
    '127.0.0.1',
    '--port',
    String(PORTS.redis),
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--notify-keyspace-events',
    'KEA',
  ]);
}

/**
 * A loopback server answering GET /configuration with `body()`, recording when each read began and was
 * answered (for "Traefik read → enabled").
 */
async function configurationServer(
  body: () => string,
): Promise<{ server: Server; reads: { began: number; answered: number }[] }> {
  const reads: { began: number; answered: number }[] = [];
  const server: Server = createServer((request, response) => {
    const began = now();
    if (request.url !== '/configuration') {
      response.writeHead(404).end();
      return;
    }
    const text = body();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(text, () => reads.push({ began, answered: now() }));
  });
  await within(
    `the configuration server listening on 127.0.0.1:${PORTS.configServer}`,
    5000,
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(PORTS.configServer, '127.0.0.1', resolve);
    }),
  );
  return { server, reads };
}

/**
 * appproxy's sync engine writing into a store of this benchmark's own, read by a Traefik of its own:
 * through its KV provider, or (`mirror`) through its HTTP provider polling the /traefik/dynamic of a
 * second engine that follows the store by its watch.
 */
async function kvTarget(
  provider: Exclude<Provider, 'http'>,
  dir: string,
  workloads: readonly Workload[],
): Promise<Target> {
  const storeKind = provider.startsWith('redis') ? 'redis' : 'etcd';
  const paced = provider.endsWith('-paced');
  const storeProcess =
    storeKind === 'etcd'
      ? (await startPrivateEtcd('traefik-side', dir, PORTS.etcdClient, PORTS.etcdPeer)).process
      : startRedis(dir);
  const logger = pino({ level: 'silent' });
  let store: KvStore;
  let closeClient: () => void;
  if (storeKind === 'etcd') {
    const client = etcdFromConfig({ endpoints: [`127.0.0.1:${PORTS.etcdClient}`], timeoutSeconds: 60 });
    // Traefik's etcd provider needs the root to exist before it can watch it.
    await client.put(ROOT_KEY).value('traefik-side benchmark');
    store = new EtcdStore(client, logger, undefined, STACK_MAX_TXN_OPS);
    closeClient = () => client.close();
  } else {
    const client = redisFromConfig({ url: `redis://127.0.0.1:${PORTS.redis}`, timeoutSeconds: 60 });
    await storeProcess.waitReady('redis answering PING', async () => (await client.ping()) === 'PONG');
    store = new RedisStore(client, logger, 60_000);
    closeClient = () => client.disconnect();
  }
  const lease = await within(
    `a lease from ${provider}`,
    30_000,
    store.openLease(120, () => undefined),
  );
  // Paced (the daemon's way with read-back): a commit is read back in Traefik, and a pass after it
  // waits until it is live or for Traefik's usual apply (src/sync/write-pace.ts).
  const pace = new WritePace({ maxHoldMs: 10_000 });
  let readback: TraefikReadback | undefined;
  const engine = new SyncEngine({
    store,
    layout: new KeyLayout(ROOT_KEY, OWNER),
    compiled,
    lease,
    logger,
    onCommitted: (resources, revision) => {
      if (readback?.committed(resources, revision) === true) pace.committed();
    },
  });
  engine.desired.replaceWorkloads(workloads);
  let begin = now();
  const first = await within(
    `the first sync of ${workloads.length} workloads into ${provider}`,
    600_000,
    engine.sync(),
  );
  const setup = { firstSyncMs: round(now() - begin), transactions: first.transactions, operations: first.operations };
  progress(
    `${provider}: first sync of ${workloads.length} workloads: ${setup.firstSyncMs} ms, ${first.operations} keys`,
  );
  let served: { server: Server; reads: { began: number; answered: number }[] } | undefined;
  let reader: { engine: SyncEngine; lease: Awaited<ReturnType<KvStore['openLease']>> } | undefined;
  if (provider === 'mirror') {
    const readerLease = await within(
      'a lease for the reader',
      30_000,
      store.openLease(120, () => undefined),
    );
    const readerEngine = new SyncEngine({
      store,
      layout: new KeyLayout(ROOT_KEY, `${OWNER}-reader`),
      compiled,
      lease: readerLease,
      logger,
    });
    reader = { engine: readerEngine, lease: readerLease };
    begin = now();
    // Its one pass loads the mirror (every owner's keys) and starts the watch; it owns nothing.
    await within('the reader engine loading its mirror', 600_000, readerEngine.sync());
    const page = new TraefikConfigPage(ROOT_KEY, () => readerEngine.traefikTree());
    served = await configurationServer(() => page.answer().body);
    const first = page.answer();
    Object.assign(setup, { mirrorLoadMs: round(now() - begin), configurationBytes: Buffer.byteLength(first.body) });
    progress(
      `mirror: the reader's mirror loaded and served (${setup['configurationBytes' as keyof typeof setup]} bytes)`,
    );
  }
  const startedAt = now();
  const traefik = startTraefik(provider, dir);
  const commit = async (what: string) => {
    await within(`${what} committed to ${storeKind}`, 60_000, engine.sync());
  };
  const held: number[] = [];
  let passes = 0;
  let scheduler: ReconcileScheduler | undefined;
  if (paced) {
    scheduler = new ReconcileScheduler(
      async () => {
        passes += 1;
        await engine.sync();
      },
      {
        holdMs: () => pace.waitMs(),
        onHeld: (ms) => held.push(ms),
        onError: (error) => progress(`${provider}: a pass failed: ${(error as Error).message}`),
      },
    );
    const api = `http://127.0.0.1:${PORTS.traefik[provider].api}`;
    readback = new TraefikReadback({
      urls: [api],
      provider: storeKind,
      book: new ReadbackBook({ lagWarnMs: 30_000, minVersion: compiled.options.traefikMinVersion }),
      stored: (resource) => engine.storedResource(resource),
      logger,
      onLive: (traefik, seconds) => pace.applied(traefik, seconds * 1000),
      onRound: (reports, forgotten) => {
        if (pace.round(reports, forgotten)) scheduler?.release();
      },
    });
    readback.start();
  }
  const change = paced
    ? // The change is handed over as an event would be; the scheduler decides when it is written.
      async () => scheduler?.trigger()
    : commit;
  return {
    provider,
    traefik,
    api: `http://127.0.0.1:${PORTS.traefik[provider].api}`,
    startedAt,
    setup,
    idleCpuPerSecond: 0,
    ...(served === undefined
      ? {}
      : { fetchedAfter: (since: number) => served.reads.find((read) => read.began >= since)?.answered }),
    add: async (workload) => {
      engine.desired.upsertWorkload(workload);
      await change(`${workload.name} added`);
    },
    remove: async (workload) => {
      engine.desired.removeWorkload(workload.id);
      await change(`${workload.name} removed`);
    },
    ...(paced
      ? {
          pacing: () => ({
            passes,
            held: held.length,
            heldP50Ms: held.length === 0 ? 0 : round(summary(held).p50),
            heldMaxMs: held.length === 0 ? 0 : round(summary(held).max),
            applyMs: round(pace.applyMs()),
          }),
        }
      : {}),
    close: async () => {
      readback?.stop();
      await scheduler?.stop();
      await traefik.stop();
      if (served !== undefined) {
        served.server.closeAllConnections();
        await within('the configuration server closed', 5000, new Promise((resolve) => served.server.close(resolve)));
      }
      if (reader !== undefined) {
        await reader.engine.stop();
        reader.lease.release();
      }
      await engine.stop();
      lease.release();
      await within(`the lease revoked in ${provider}`, 10_000, store.revoke(lease.leaseId())).catch(() => undefined);
      closeClient();
      await storeProcess.stop();
    },
  };
}

/** Adds (or, with `remove`, takes away) a workload's routers, services and middlewares in a configuration. */
function mergeConfiguration(into: ConfigObject, part: ConfigObject, remove = false): void {
  for (const [protocol, kinds] of Object.entries(part) as [string, Record<string, Record<string, unknown>>][]) {
    const target = ((into as Record<string, any>)[protocol] ??= {}) as Record<string, Record<string, unknown>>;
    for (const [kind, resources] of Object.entries(kinds)) {
      const section = (target[kind] ??= {});
      for (const [name, resource] of Object.entries(resources)) {
        if (remove) delete section[name];
        else section[name] = resource;
      }
    }
  }
}

/**
 * Traefik's floor: the same configuration, built by the pure core, served as JSON to its HTTP
 * provider. The body is made again only when a read comes after a change, so that a change costs this
 * process nothing until Traefik asks (at most once a second), as a change costs the engine only its write.
 */
async function httpTarget(dir: string, workloads: readonly Workload[]): Promise<Target> {
  let begin = now();
  const built = buildConfiguration(workloads, compiled);
  if (built.problems.length > 0)
    throw new Error(`the synthetic workloads have problems: ${built.problems[0]?.message}`);
  const configuration = built.configuration;
  const buildMs = round(now() - begin);
  let body = '';
  let dirty = true;
  const { server, reads } = await configurationServer(() => {
    if (dirty) {
      body = JSON.stringify(configuration);
      dirty = false;
    }
    return body;
  });
  begin = now();
  body = JSON.stringify(configuration);
  dirty = false;
  const setup = { buildMs, stringifyMs: round(now() - begin), configurationBytes: Buffer.byteLength(body) };
  const startedAt = now();
  const traefik = startTraefik('http', dir);
  const change = (workload: Workload, remove: boolean) => {
    mergeConfiguration(configuration, buildConfiguration([workload], compiled).configuration, remove);
    dirty = true;
  };
  return {
    provider: 'http',
    traefik,
    api: `http://127.0.0.1:${PORTS.traefik.http.api}`,
    startedAt,
    setup,
    idleCpuPerSecond: 0,
    add: async (workload) => change(workload, false),
    remove: async (workload) => change(workload, true),
    fetchedAfter: (since) => reads.find((read) => read.began >= since)?.answered,
    close: async () => {
      await traefik.stop();
      server.closeAllConnections();
      await within('the configuration server closed', 5000, new Promise((resolve) => server.close(resolve)));
    },
  };
}

interface Overview {
  http?: { routers?: { total: number; warnings: number; errors: number } };
}

/** From Traefik's start until its API answers and until it shows `size` routers enabled (polled every 250 ms). */
async function initialLoad(target: Target, size: number, limitMs: number): Promise<Record<string, number>> {
  const deadline = target.startedAt + limitMs;
  let apiUpMs: number | undefined;
  let enabled = 0;
  while (now() < deadline) {
    if (target.traefik.exited) throw new Error(`${target.traefik.name} exited: ${target.traefik.log()}`);
    const response = await fetchWithin(`${target.api}/api/overview`, {}, 5000).catch(() => undefined);
    if (response?.ok) {
      apiUpMs ??= now() - target.startedAt;
      const routers = ((await response.json()) as Overview).http?.routers;
      enabled = routers === undefined ? 0 : routers.total - routers.warnings - routers.errors - INTERNAL_ROUTERS;
      if (enabled >= size)
        return {
          apiUpMs: round(apiUpMs),
          allRoutersMs: round(now() - target.startedAt),
          cpuSeconds: round(target.traefik.cpuSeconds(), 2),
        };
    }
    await sleep(250);
  }
  throw new Error(
    `${target.traefik.name}: ${size} routers enabled: not within ${limitMs} ms (${enabled} so far): ${target.traefik.log()}`,
  );
}

/** Polls one router every 5 ms until it is enabled (or, with `gone`, answers 404); the time it did. */
async function routerState(target: Target, name: string, gone: boolean, limitMs: number): Promise<number> {
  const url = `${target.api}/api/http/routers/${name}@${TRAEFIK_PROVIDER[target.provider]}`;
  const deadline = now() + limitMs;
  while (now() < deadline) {
    const response = await fetchWithin(url, {}, 2000).catch(() => undefined);
    if (
      gone
        ? response?.status === 404
        : response?.ok && ((await response.json()) as { status?: string }).status === 'enabled'
    )
      return now();
    await sleep(5);
  }
  throw new Error(`router ${name} ${gone ? 'gone' : 'enabled'} in ${url}: not within ${limitMs} ms`);
}

/**
 * What answering routerState's polls costs Traefik, in CPU seconds a second beyond its rate at rest:
 * `ms` of polling a router that is there (app-0), nothing changing meanwhile.
 */
async function pollingCost(target: Target, ms: number, idleCpuPerSecond: number): Promise<number> {
  const url = `${target.api}/api/http/routers/app-0@${TRAEFIK_PROVIDER[target.provider]}`;
  const cpuBefore = target.traefik.cpuSeconds();
  const begin = now();
  while (now() - begin < ms) {
    await fetchWithin(url, {}, 2000).then((response) => response.arrayBuffer());
    await sleep(5);
  }
  const seconds = (now() - begin) / 1000;
  return Math.max(0, (target.traefik.cpuSeconds() - cpuBefore) / seconds - idleCpuPerSecond);
}

/**
 * Waits until Traefik's CPU time has stood still (one clock tick at most) for `quietMs`, so that a
 * change's trailing reloads are counted too; false when it never did within `limitMs`.
 */
async function settle(target: Target, quietMs = 300, limitMs = 30_000): Promise<boolean> {
  const traefik = target.traefik;
  // One clock tick, plus what Traefik burns at rest over the window (the HTTP provider's reads of an
  // unchanged configuration: 28 ms a second at 10,000), which is no trailing work of a change.
  const allowance = 0.0105 + (target.idleCpuPerSecond * quietMs) / 1000;
  const deadline = now() + limitMs;
  let quietFrom = now();
  let cpuFrom = traefik.cpuSeconds();
  while (now() < deadline) {
    await sleep(50);
    const cpu = traefik.cpuSeconds();
    if (cpu - cpuFrom > allowance) {
      quietFrom = now();
      cpuFrom = cpu;
    } else if (now() - quietFrom >= quietMs) return true;
  }
  return false;
}

interface ChangeSample {
  /** The write itself: from the call to the commit (HTTP: 0, the served object changes at once). */
  writeMs: number;
  /** Commit → router enabled (added) or gone (removed). */
  visibleMs: number;
  /** HTTP: Traefik's read that followed the commit → router enabled or gone. */
  afterReadMs?: number | undefined;
  /** Traefik's CPU seconds from before the commit until it was still again, and over how long. */
  cpuSeconds: number;
  windowMs: number;
  settled: boolean;
}

async function oneChange(target: Target, workload: Workload, remove: boolean, limitMs: number): Promise<ChangeSample> {
  const cpuBefore = target.traefik.cpuSeconds();
  const begin = now();
  await (remove ? target.remove(workload) : target.add(workload));
  const committed = now();
  const visible = await routerState(target, workload.name, remove, limitMs);
  const read = target.fetchedAfter?.(committed);
  const settled = await settle(target);
  return {
    writeMs: round(committed - begin),
    visibleMs: round(visible - committed),
    afterReadMs: read === undefined ? undefined : round(visible - read),
    cpuSeconds: round(target.traefik.cpuSeconds() - cpuBefore, 3),
    windowMs: round(now() - begin),
    settled,
  };
}

/** One change every `intervalMs` for `seconds`, each one's lag until Traefik showed it enabled. */
async function churn(target: Target, seconds: number, intervalMs: number, catchUpMs: number) {
  const count = Math.floor((seconds * 1000) / intervalMs);
  const names = Array.from({ length: count }, (_, i) => syntheticWorkload(CHURN_BASE + i, 'churn'));
  const seen = new Map<string, number>();
  let reading = true;
  let reads = 0;
  const readMs: number[] = [];
  const reader = (async () => {
    while (reading) {
      const begin = now();
      const response = await fetchWithin(
        `${target.api}/api/http/routers?search=churn-&status=enabled&per_page=1000000`,
        {},
        10_000,
      ).catch(() => undefined);
      if (response?.ok) {
        const answered = now();
        reads += 1;
        readMs.push(answered - begin);
        for (const router of (await response.json()) as { name: string }[]) {
          const name = router.name.slice(0, router.name.lastIndexOf('@'));
          if (!seen.has(name)) seen.set(name, answered);
        }
      }
      await sleep(Math.max(0, CHURN_POLL_MS - (now() - begin)));
    }
  })();
  const cpuBefore = target.traefik.cpuSeconds();
  const start = now();
  const committedAt: number[] = [];
  const lateBy: number[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const due = start + i * intervalMs;
      if (now() < due) await sleep(due - now());
      lateBy.push(now() - due);
      await target.add(names[i] as Workload);
      committedAt.push(now());
    }
    const end = now();
    const deadline = end + catchUpMs;
    while (seen.size < count && now() < deadline) await sleep(50);
    const cpuSeconds = target.traefik.cpuSeconds() - cpuBefore;
    const caughtUp = seen.size === count;
    const lastSeen = Math.max(end, ...seen.values());
    // Showing every change is not the end of the work: a provider that reads the whole tree once per
    // event it was told of goes on through the events that queued up. Until Traefik is still (1 s):
    const cpuCaughtUp = target.traefik.cpuSeconds();
    const still = await settle(target, 1000, catchUpMs);
    const stillAfterMs = still ? round(now() - 1000 - end) : null;
    const cpuAfterCaughtUp = round(target.traefik.cpuSeconds() - cpuCaughtUp, 2);
    const changes: LaggedChange[] = names.map((workload, i) => ({
      committedAt: (committedAt[i] as number) - start,
      seenAt: seen.has(workload.name) ? (seen.get(workload.name) as number) - start : undefined,
    }));
    const trend = lagTrend(changes, CHURN_POLL_MS + summary(readMs).p50);
    return {
      changes: count,
      intervalMs,
      seconds,
      // The engine (or the served object) keeping to the schedule: how late each change was issued.
      issuedLateP50Ms: round(summary(lateBy).p50),
      issuedLateMaxMs: round(summary(lateBy).max),
      lastCommitAfterMs: round(end - start),
      reads,
      readP50Ms: round(summary(readMs).p50),
      trend: Object.fromEntries(
        Object.entries(trend).map(([key, value]) => [key, typeof value === 'number' ? round(value) : value]),
      ),
      caughtUp,
      // From the last commit until Traefik showed every change (or the wait ran out).
      catchUpMs: caughtUp ? round(Math.max(0, lastSeen - end)) : null,
      seenAtEnd: seen.size,
      // From the last commit until Traefik's CPU stood still for a second; null: not within the catch-up wait.
      stillAfterMs,
      // Traefik's CPU seconds from the moment it showed every change until it was still (or the wait ran out).
      cpuAfterCaughtUp,
      traefikCpuCores: round(cpuSeconds / ((now() - start) / 1000), 2),
      raw: changes.map((change) => [
        round(change.committedAt),
        change.seenAt === undefined ? null : round(change.seenAt),
      ]),
    };
  } finally {
    reading = false;
    await within('the churn reader to stop', 15_000, reader);
  }
}

const median = (values: readonly number[]) => summary(values).p50;

function changeSummary(list: readonly ChangeSample[], idleCpuPerSecond: number, pollCpuPerSecond: number) {
  const visible = list.map((sample) => sample.visibleMs);
  const stats = summary(visible);
  const afterRead = list.flatMap((sample) => (sample.afterReadMs === undefined ? [] : [sample.afterReadMs]));
  return {
    n: stats.n,
    p50: stats.p50,
    p99: stats.p99,
    min: Math.min(...visible),
    max: stats.max,
    writeP50Ms: median(list.map((sample) => sample.writeMs)),
    ...(afterRead.length > 0 ? { afterReadP50Ms: median(afterRead) } : {}),
    cpuSecondsMedian: round(median(list.map((sample) => sample.cpuSeconds)), 3),
    // Net of what Traefik burns at rest over the same window (the HTTP provider's polls, timers) and
    // of answering this benchmark's own polls while it waited for the router.
    netCpuSecondsMedian: round(
      median(
        list.map(
          (sample) =>
            sample.cpuSeconds - (idleCpuPerSecond * sample.windowMs + pollCpuPerSecond * sample.visibleMs) / 1000,
        ),
      ),
      3,
    ),
    unsettled: list.filter((sample) => !sample.settled).length,
  };
}

async function phase(provider: Provider, size: number, workloads: readonly Workload[]) {
  const dir = mkdtempSync(join(tmpdir(), `traefik-side-${provider}-`));
  let target: Target | undefined;
  try {
    progress(`${provider} ${size}: setting up`);
    target = provider === 'http' ? await httpTarget(dir, workloads) : await kvTarget(provider, dir, workloads);
    // Generous: Traefik reads and applies the whole tree once; 50,000 through Redis is slow.
    const load = await initialLoad(target, size, 600_000 + size * 30);
    progress(`${provider} ${size}: Traefik started → ${size} routers enabled in ${load.allRoutersMs} ms`);
    await settle(target, 300, 60_000);
    const idleBefore = target.traefik.cpuSeconds();
    const idleBegin = now();
    await sleep(5000);
    const idleCpuPerSecond = (target.traefik.cpuSeconds() - idleBefore) / ((now() - idleBegin) / 1000);
    target.idleCpuPerSecond = idleCpuPerSecond;
    progress(`${provider} ${size}: Traefik at rest uses ${round(idleCpuPerSecond, 3)} CPU s/s`);
    const pollCpuPerSecond = await pollingCost(target, 3000, idleCpuPerSecond);
    progress(`${provider} ${size}: polling one router every 5 ms costs Traefik ${round(pollCpuPerSecond, 3)} CPU s/s`);
    const adds: ChangeSample[] = [];
    const removes: ChangeSample[] = [];
    const limitMs = 120_000;
    for (let i = 0; i < samples; i += 1) {
      const workload = syntheticWorkload(PROBE_BASE + i, 'probe');
      adds.push(await oneChange(target, workload, false, limitMs));
      removes.push(await oneChange(target, workload, true, limitMs));
      progress(
        `${provider} ${size}: sample ${i + 1}/${samples}: add → enabled ${adds.at(-1)?.visibleMs} ms (${adds.at(-1)?.cpuSeconds} CPU s), remove → gone ${removes.at(-1)?.visibleMs} ms`,
      );
    }
    let churned: Awaited<ReturnType<typeof churn>> | undefined;
    if (churnSeconds * 1000 >= churnIntervalMs) {
      progress(`${provider} ${size}: churn, one change every ${churnIntervalMs} ms for ${churnSeconds} s`);
      const pacedBefore = target.pacing?.();
      churned = await churn(target, churnSeconds, churnIntervalMs, catchUpSeconds * 1000);
      const pacedAfter = target.pacing?.();
      if (pacedBefore !== undefined && pacedAfter !== undefined)
        Object.assign(churned, {
          pacing: {
            passes: (pacedAfter['passes'] ?? 0) - (pacedBefore['passes'] ?? 0),
            held: (pacedAfter['held'] ?? 0) - (pacedBefore['held'] ?? 0),
            applyMsAtEnd: pacedAfter['applyMs'],
          },
        });
      progress(
        `${provider} ${size}: churn lag first/middle/last/max ${churned.trend['first']}/${churned.trend['middle']}/${churned.trend['last']}/${churned.trend['max']} ms, caught up: ${churned.caughtUp} (${churned.catchUpMs} ms)`,
      );
    }
    return {
      size,
      provider,
      setup: target.setup,
      initialLoad: load,
      idleCpuPerSecond: round(idleCpuPerSecond, 3),
      pollCpuPerSecond: round(pollCpuPerSecond, 3),
      ...(samples > 0
        ? {
            add: changeSummary(adds, idleCpuPerSecond, pollCpuPerSecond),
            remove: changeSummary(removes, idleCpuPerSecond, pollCpuPerSecond),
          }
        : {}),
      churn: churned,
      raw: { adds, removes },
    };
  } catch (error) {
    progress(`${provider} ${size}: failed: ${(error as Error).message}`);
    return { size, provider, error: (error as Error).message.slice(0, 2000) };
  } finally {
    await target
      ?.close()
      .catch((error: unknown) => progress(`${provider} ${size}: close: ${(error as Error).message}`));
    await stopAllPrivate();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    progress(`${signal}: stopping this benchmark's own processes`);
    void stopAllPrivate().finally(() => process.exit(130));
  });

const ms = (value: number | null | undefined) => (value === null || value === undefined ? '-' : `${Math.round(value)}`);

function tableRow(row: Record<string, any>): string {
  if (row.error !== undefined)
    return `| ${row.size} | ${row.provider} | failed: ${String(row.error).split('\n')[0]?.slice(0, 200)} |  |  |  |  |  |  |  |  |`;
  const load = `${(row.initialLoad.allRoutersMs / 1000).toFixed(1)} s (${row.initialLoad.cpuSeconds} CPU s)`;
  const changes =
    row.add === undefined
      ? ['-', '-', '-', '-']
      : [
          `${ms(row.add.p50)} / ${ms(row.add.p99)} ms (${ms(row.add.min)}–${ms(row.add.max)})`,
          `${ms(row.remove.p50)} / ${ms(row.remove.p99)} ms`,
          row.add.afterReadP50Ms === undefined ? '-' : `${ms(row.add.afterReadP50Ms)} ms`,
          `${row.add.cpuSecondsMedian} / ${row.add.netCpuSecondsMedian} s` +
            (row.add.unsettled > 0 ? ` (not still within 30 s after ${row.add.unsettled} of ${row.add.n})` : ''),
        ];
  const rest = `${row.idleCpuPerSecond} CPU s/s (${row.pollCpuPerSecond} more while polled)`;
  const trend = row.churn?.trend;
  const churned =
    row.churn === undefined
      ? ['-', '-', '-']
      : [
          `${ms(trend.first)} / ${ms(trend.middle)} / ${ms(trend.last)} / ${ms(trend.max)} ms (${trend.seen}/${row.churn.changes} seen)`,
          `${trend.grows ? 'yes' : 'no'}: ${ms(trend.firstTenthMedian)} → ${ms(trend.lastTenthMedian)} ms (${trend.slopeMsPerSecond} ms/s)`,
          (row.churn.caughtUp
            ? `yes, ${ms(row.churn.catchUpMs)} ms`
            : `no, ${row.churn.seenAtEnd}/${row.churn.changes} after ${catchUpSeconds} s`) +
            `; Traefik still after ${row.churn.stillAfterMs === null ? `> ${catchUpSeconds} s` : `${ms(row.churn.stillAfterMs)} ms`}` +
            (row.churn.cpuAfterCaughtUp === undefined ? '' : ` (${row.churn.cpuAfterCaughtUp} CPU s meanwhile)`) +
            (row.churn.pacing === undefined
              ? ''
              : `; paced: ${row.churn.changes} changes in ${row.churn.pacing.passes} passes, ${row.churn.pacing.held} held`),
        ];
  return `| ${row.size} | ${row.provider} | ${load} | ${changes.join(' | ')} | ${rest} | ${churned.join(' | ')} |`;
}

/** Written after every phase, so that a run cut short keeps what it measured. */
function report(rows: readonly Record<string, any>[]): void {
  writeResult(
    flags.name,
    {
      setup: {
        sizes,
        providers,
        samples,
        churnSeconds,
        churnIntervalMs,
        catchUpSeconds,
        churnPollMs: CHURN_POLL_MS,
        traefik: environmentTraefikBinary(),
      },
      rows,
    },
    [
      '| workloads | provider | initial load: Traefik start → all routers enabled | add: commit → enabled p50 / p99 (min–max) | remove: commit → gone p50 / p99 | HTTP: Traefik read → enabled p50 | Traefik CPU per add, median raw / net of idle | Traefik at rest | churn: lag first / middle / last / max | churn: lag grows (first → last tenth median, slope) | churn: caught up after the last change; Traefik CPU still again after |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map(tableRow),
      '',
      `${samples} samples of one router added then removed per size and provider; churn: one router added every ${churnIntervalMs} ms for ${churnSeconds} s, Traefik's churn routers read every ${CHURN_POLL_MS} ms. Commit: the engine's transaction returned (etcd, Redis, mirror; *-paced: the change handed to the daemon's scheduler, which writes it when the write pace lets it, so their figures are from the change, not the commit) or the served JSON changed (HTTP, polled every 1 s, so its commit → enabled includes up to a second's wait for the next poll). etcd with --max-txn-ops=${STACK_MAX_TXN_OPS} as the stacks run it (and appproxy's --etcd-max-txn-ops). etcd-paced, redis-paced: as etcd and Redis, with the daemon's read-back and write pace (src/sync/write-pace.ts, --write-hold-max-seconds 10): a pass after a commit not yet live in Traefik waits until it is, or for Traefik's usual apply. mirror: the same etcd writes, read by a second engine's watch and served as appproxy's GET /traefik/dynamic to a Traefik's HTTP provider (polled every 1 s, as the floor). CPU: Traefik's user + system time from before the commit until it was still for 300 ms; net subtracts its rate at rest over the same window and what answering the 5 ms polls costs it (measured at rest, polling one router). Initial load: the store (or the served JSON) held all N before Traefik started; its CPU is Traefik's since its start. Traefik 3.7, providersThrottleDuration=0s, each provider and size with a Traefik and store of its own.`,
    ],
  );
}

const rows: Record<string, any>[] = [];
try {
  for (const size of sizes) {
    const workloads = Array.from({ length: size }, (_, i) => syntheticWorkload(i));
    for (const provider of providers) {
      rows.push(await phase(provider, size, workloads));
      report(rows);
    }
  }
} finally {
  await stopAllPrivate();
}
