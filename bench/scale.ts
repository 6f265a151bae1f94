// How cost grows with the number of workloads: N synthetic containers (a router with a rule and a
// middleware, a stripPrefix middleware, a service with a port and a sticky cookie each) through the
// pure core, then through the reconciler against a real etcd run as the stacks run it (its own,
// --max-txn-ops=2048, and the engine told so as --etcd-max-txn-ops tells the daemon), with the Docker
// edge replaced by the same list. Each size runs in a child process of its own, so that its peak RSS
// is its own; they share the parent's etcd (BENCH_SCALE_ETCD), and a child run alone starts one.
// Each child runs as the image runs appproxy (compiled, with the ENTRYPOINT's Node options:
// bench/lib/as-shipped.ts), beside a run of the same code from source with V8's defaults (how this
// benchmark ran before: what the memory options and the compilation change, in the same run).
//
//   node bench/scale.ts [sizes...]          all sizes (default 100 1000 10000 50000), writes results
//     --old DIR [--old-every-size]          beside the engine of another checkout, in the same run
//     --results NAME                        write bench/results/NAME.* instead of scale.*
//     --memory-limits 256M,512M,1G          also the engine under each memory limit, as the stacks'
//                                           resources.limits.memory run it (a memory cgroup; root),
//                                           as the image runs it and with Node's default heap size
//   node bench/scale.ts --one N             one size, prints one JSON line (used by the above)
//   node bench/scale.ts --profile N         one size under --cpu-prof; prints the top self-time functions
//   node bench/scale.ts --heap N            one size; prints where the heap alive after the first sync was allocated
//   node bench/scale.ts --allocations N     the same for everything allocated until then (collected or not)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import type { DaemonConfig } from '../src/config/settings.ts';
import { etcdFromConfig } from '../src/etcd/etcd-client.ts';
import { configurationToKeyValues } from '../src/core/kv/configuration-to-kv.ts';
import { buildConfiguration } from '../src/core/translate/build-configuration.ts';
import { compileTranslateOptions, defaultTranslateOptions } from '../src/core/translate/translate-options.ts';
import { EtcdStore } from '../src/etcd/etcd-store.ts';
import { KeyLayout } from '../src/sync/key-layout.ts';
import { SyncEngine } from '../src/sync/sync-engine.ts';
import { compiledBench, imageNodeOptions } from './lib/as-shipped.ts';
import { HeapSampling, type HeapSite } from './lib/heap-sampling.ts';
import { startPrivateEtcd, STACK_MAX_TXN_OPS } from './lib/private-etcd.ts';
import { stopAllPrivate } from './lib/private-process.ts';
import { parseMemory, runInMemoryCgroup } from './lib/memory-cgroup.ts';
import { since as ms, summary } from './lib/stats.ts';
import { syntheticWorkload } from './lib/synthetic-workload.ts';
import { fetchWithin } from '../test/support/within.ts';

const ROOT_KEY = 'bench-scale';
/** The etcd of a run: the parent's, handed to each child; a child run alone starts its own. */
const ETCD_VARIABLE = 'BENCH_SCALE_ETCD';
const ETCD_PORTS = { client: 27400, peer: 27401 } as const;
const OWNER = 'bench-scale';
const out = new URL('./results/', import.meta.url).pathname;

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function countKeys(client: Etcd3): Promise<number> {
  const [tree, claims] = await Promise.all([
    client.getAll().prefix(`${ROOT_KEY}/`).count(),
    client.getAll().prefix(`appproxy/claims/${ROOT_KEY}/`).count(),
  ]);
  return tree + claims;
}

async function clear(client: Etcd3): Promise<void> {
  for (const prefix of [`${ROOT_KEY}/`, `appproxy/claims/${ROOT_KEY}/`, `appproxy/owners/${ROOT_KEY}/`]) {
    await client.delete().prefix(prefix);
  }
  await client.delete().key(ROOT_KEY);
}

/**
 * A run at 50,000 leaves hundreds of MB of old revisions in etcd: compact them away and give the
 * space back, so that the sizes after it start from a small database.
 */
async function reclaim(client: Etcd3): Promise<void> {
  const { header } = await client.kv.range({ key: Buffer.from(ROOT_KEY) });
  // "already compacted" (an automatic compaction, or a retried call) is as good.
  await client.kv.compact({ revision: header.revision, physical: true }).catch((error: Error) => {
    if (!/compacted/.test(error.message)) throw error;
  });
  await client.maintenance.defragment();
}

const SAMPLES = 50;
/** A run under a memory limit too small for it collects garbage for ever rather than fail: given up after this. */
const LIMITED_RUN_MS = 300_000;

/**
 * The store as the daemon uses it, counting what a pass reads and writes, and how long its
 * transactions took (the request, etcd's commit and the answer), so that a pass's own part can be
 * told from the store's.
 */
class CountingStore extends EtcdStore {
  loads = 0;
  applies = 0;
  applyMs = 0;
  override async load(...args: Parameters<EtcdStore['load']>) {
    this.loads += 1;
    return super.load(...args);
  }
  override async apply(...args: Parameters<EtcdStore['apply']>) {
    this.applies += 1;
    const begin = performance.now();
    try {
      return await super.apply(...args);
    } finally {
      this.applyMs += performance.now() - begin;
    }
  }
}

/**
 * What the process held when its RSS was highest (sampled every 20 ms): the heap V8 reserved, the
 * heap in use, and memory outside the heap (Buffers), so that a peak can be told apart.
 */
class PeakSampler {
  #peak = process.memoryUsage();
  readonly #timer = setInterval(() => this.sample(), 20);

  sample(): void {
    const now = process.memoryUsage();
    if (now.rss > this.#peak.rss) this.#peak = now;
  }

  /** The breakdown at the highest RSS since the last take, in MiB; sampling starts again. */
  take(): Record<string, number> {
    this.sample();
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = this.#peak;
    this.#peak = process.memoryUsage();
    return {
      rss: mib(rss),
      heapTotal: mib(heapTotal),
      heapUsed: mib(heapUsed),
      external: mib(external),
      arrayBuffers: mib(arrayBuffers),
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * How the benchmark's etcd's WAL fsyncs went over the whole run, from its own histogram: how many,
 * and the share slower than 4, 8 and 16 ms. An add or remove commits one transaction, and etcd
 * answers it only after its fsync: on a disk whose fsyncs reach tens of milliseconds, those are
 * the slowest samples whatever appproxy does.
 */
async function walFsyncs(endpoint: string): Promise<Record<string, number>> {
  const text = await (await fetchWithin(`http://${endpoint}/metrics`, {}, 5000)).text();
  const buckets = new Map<string, number>();
  for (const match of text.matchAll(/^etcd_disk_wal_fsync_duration_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm))
    buckets.set(match[1] as string, Number(match[2]));
  const total = buckets.get('+Inf') ?? 0;
  const over = (le: string) => Math.round((1 - (buckets.get(le) ?? total) / Math.max(total, 1)) * 1000) / 10;
  return {
    fsyncs: total,
    over4msPercent: over('0.004'),
    over8msPercent: over('0.008'),
    over16msPercent: over('0.016'),
  };
}

/** One size, in this process, through the sync engine on the real test etcd. */
async function one(size: number, heap?: HeapSampling): Promise<Record<string, unknown>> {
  await heap?.start();
  const workloads = Array.from({ length: size }, (_, i) => syntheticWorkload(i));
  const compiled = compileTranslateOptions(defaultTranslateOptions);
  if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
  const rssBefore = process.memoryUsage().rss;
  const sampler = new PeakSampler();

  // The client as `appproxy run` builds it (its gRPC options matter at this scale).
  const client = etcdFromConfig({ endpoints: [etcdEndpoint], timeoutSeconds: 30 } as DaemonConfig['etcd']);
  await clear(client);
  const logger = pino({ level: 'silent' });
  const store = new CountingStore(client, logger, undefined, STACK_MAX_TXN_OPS);
  const lease = await store.openLease(120, () => undefined);
  const engine = new SyncEngine({
    store,
    layout: new KeyLayout(ROOT_KEY, OWNER),
    compiled: compiled.value,
    lease,
    logger,
  });
  const pass = async () => {
    const begin = performance.now();
    const cpu = process.cpuUsage();
    const loads = store.loads;
    const outcome = await engine.sync();
    const used = process.cpuUsage(cpu);
    return {
      ms: ms(begin),
      cpuMs: Math.round((used.user + used.system) / 100) / 10,
      transactions: outcome.transactions,
      operations: outcome.operations,
      planned: outcome.planned,
      leftOut: outcome.leftOut,
      storeReads: store.loads - loads,
    };
  };
  try {
    const start = performance.now();
    engine.desired.replaceWorkloads(workloads);
    const translateAllMs = ms(start);
    // The first sync's two halves apart: translating every workload, then writing every key.
    const atPeakTranslate = sampler.take();
    const first = { ...(await pass()), translateAllMs };
    const keysAfterFirst = await countKeys(client);
    const rssAfterFirst = process.memoryUsage().rss;
    // The peak so far is the first sync's; a later phase (every key deleted at once) may set its own.
    const peakAfterFirst = process.resourceUsage().maxRSS * 1024;
    const atPeakFirst = sampler.take();
    const heapAfterFirst = heap === undefined ? undefined : await heap.top(15);
    const usage = process.memoryUsage();
    // A full resync with nothing changed: the same listing handed over again, every claim planned.
    const resyncStart = performance.now();
    const resyncCpu = process.cpuUsage();
    engine.desired.replaceWorkloads(workloads);
    engine.requestFullPass();
    const resyncPass = await pass();
    const resyncUsed = process.cpuUsage(resyncCpu);
    const peakAfterResync = process.resourceUsage().maxRSS * 1024;
    const resync = {
      ...resyncPass,
      ms: ms(resyncStart),
      cpuMs: Math.round((resyncUsed.user + resyncUsed.system) / 100) / 10,
    };
    // The same again, as the daemon's periodic resync (every 60 s by default) finds it: the first
    // resync after a write plans every claim id; later ones leave out those known to need nothing.
    const againStart = performance.now();
    const againCpu = process.cpuUsage();
    engine.desired.replaceWorkloads(workloads);
    engine.requestFullPass();
    const againPass = await pass();
    const againUsed = process.cpuUsage(againCpu);
    const resyncAgain = {
      ...againPass,
      ms: ms(againStart),
      cpuMs: Math.round((againUsed.user + againUsed.system) / 100) / 10,
    };
    // Each sample whole (handed over → committed), and appproxy's own part of it: the same less
    // the time its transaction spent in the store (the request, etcd's commit with its fsync, the
    // answer), which this machine's disk decides.
    const addMs: number[] = [];
    const addOwnMs: number[] = [];
    const addOps: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const begin = performance.now();
      const inStore = store.applyMs;
      engine.desired.upsertWorkload(syntheticWorkload(size + i));
      const outcome = await engine.sync();
      const elapsed = performance.now() - begin;
      addMs.push(elapsed);
      addOwnMs.push(elapsed - (store.applyMs - inStore));
      addOps.push(outcome.operations);
    }
    const removeMs: number[] = [];
    const removeOwnMs: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const begin = performance.now();
      const inStore = store.applyMs;
      engine.desired.removeWorkload(syntheticWorkload(size + i).id);
      await engine.sync();
      const elapsed = performance.now() - begin;
      removeMs.push(elapsed);
      removeOwnMs.push(elapsed - (store.applyMs - inStore));
    }
    const round = (value: number) => Math.round(value * 10) / 10;
    const [add, remove, addOwn, removeOwn] = [
      summary(addMs),
      summary(removeMs),
      summary(addOwnMs),
      summary(removeOwnMs),
    ];
    const own = (figures: ReturnType<typeof summary>) => ({ p50: round(figures.p50), p99: round(figures.p99) });
    const addOne = {
      p50: round(add.p50),
      p99: round(add.p99),
      own: own(addOwn),
      operations: summary(addOps).p50,
      samples: SAMPLES,
    };
    const removeOne = { p50: round(remove.p50), p99: round(remove.p99), own: own(removeOwn), samples: SAMPLES };
    const peakBeforeRemoveAll = process.resourceUsage().maxRSS * 1024;
    engine.desired.replaceWorkloads([]);
    sampler.take();
    const removeAll = await pass();
    const atPeakRemoveAll = sampler.take();
    const keysAfterRemoveAll = await countKeys(client);
    return {
      engine: 'v2 (incremental, mirror)',
      size,
      reconcile: {
        first,
        keysInEtcd: keysAfterFirst,
        resync,
        resyncAgain,
        addOne,
        removeOne,
        removeAll,
        keysAfterRemoveAll,
      },
      rssMiB: {
        before: mib(rssBefore),
        afterFirstReconcile: mib(rssAfterFirst),
        peakFirstSync: mib(peakAfterFirst),
        peakAfterResync: mib(peakAfterResync),
        peakBeforeRemoveAll: mib(peakBeforeRemoveAll),
        peak: mib(process.resourceUsage().maxRSS * 1024),
        heapUsedAfterFirst: mib(usage.heapUsed),
        externalAfterFirst: mib(usage.external),
        atPeakTranslate,
        atPeakFirst,
        atPeakRemoveAll,
      },
      ...(heapAfterFirst === undefined ? {} : { heapAfterFirst }),
    };
  } finally {
    sampler.stop();
    await engine.stop();
    lease.release();
    await clear(client);
    await reclaim(client);
    client.close();
  }
}

/** One `--one` run in a memory cgroup of `limit`: its figures, or how it failed, with the cgroup's peak. */
function limitedRun(limit: string, args: readonly string[]): Record<string, any> {
  const { run, peakMiB, oomKilled } = runInMemoryCgroup(parseMemory(limit), process.execPath, args, LIMITED_RUN_MS);
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status === 0) return { ...(JSON.parse(last) as Record<string, any>), cgroupPeakMiB: peakMiB };
  return {
    failed: oomKilled
      ? `killed by the kernel at the ${limit} limit`
      : /heap out of memory/.test(run.stderr)
        ? `JavaScript heap out of memory under the ${limit} limit`
        : run.error !== undefined
          ? `not done within ${LIMITED_RUN_MS / 1000} s under the ${limit} limit`
          : `exit ${run.status ?? run.signal}: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`,
    cgroupPeakMiB: peakMiB,
  };
}

/**
 * The whole translation at once (what `render` does), in a process of its own so that its memory
 * does not count against the engine's.
 */
function core(size: number): Record<string, unknown> {
  const workloads = Array.from({ length: size }, (_, i) => syntheticWorkload(i));
  const compiled = compileTranslateOptions(defaultTranslateOptions);
  if (!compiled.ok) throw new Error(compiled.errors.join('\n'));
  let start = performance.now();
  const build = buildConfiguration(workloads, compiled.value);
  const buildMs = ms(start);
  start = performance.now();
  const pairs = configurationToKeyValues(build.configuration, build.servers, { rootKey: ROOT_KEY, ownerId: OWNER });
  const kvMs = ms(start);
  if (build.routed.length !== size || build.problems.length > 0)
    throw new Error(
      `expected ${size} routed workloads, got ${build.routed.length} and ${build.problems.length} problems`,
    );
  return { keys: pairs.size, buildMs, kvMs, totalMs: Math.round((buildMs + kvMs) * 10) / 10 };
}

/** Top self-time functions of a .cpuprofile (Chrome DevTools format). */
function topFunctions(file: string, count: number): { fn: string; selfMs: number; share: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const frame = byId.get(id)?.callFrame;
    const delta = (profile.timeDeltas[index] ?? 0) / 1000;
    total += delta;
    if (frame === undefined) return;
    const where = frame.url.replace(/^.*\/(src|bench|test|node_modules)\//, '$1/');
    const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + delta);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([fn, selfMs]) => ({ fn, selfMs: Math.round(selfMs), share: Math.round((selfMs / total) * 1000) / 10 }));
}

function profile(
  size: number,
  script: string,
  nodeOptions: readonly string[],
): { fn: string; selfMs: number; share: number }[] {
  const dir = mkdtempSync(join(tmpdir(), 'appproxy-prof-'));
  execFileSync(process.execPath, [...nodeOptions, '--cpu-prof', '--cpu-prof-dir', dir, script, '--one', String(size)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 900_000,
  });
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no profile written in ${dir}`);
  return topFunctions(join(dir, file), 15);
}

function svg(rows: Record<string, any>[]): string {
  const width = 640;
  const height = 360;
  const pad = 56;
  const maxN = Math.max(...rows.map((row) => row.size));
  const series: [string, string, (row: Record<string, any>) => number][] = [
    ['core (labels → keys)', '#2da44e', (row) => row.core.totalMs],
    ['first reconcile (all keys written)', '#1f6feb', (row) => row.reconcile.first.ms],
    ['resync, nothing changed', '#d1242f', (row) => row.reconcile.resync.ms],
  ];
  const maxMs = Math.max(...rows.flatMap((row) => series.map(([, , pick]) => pick(row)))) * 1.05;
  const x = (n: number) => pad + ((width - 2 * pad) * n) / maxN;
  const y = (value: number) => height - pad - ((height - 2 * pad) * value) / maxMs;
  const lines = series.map(([name, color, pick], index) => {
    const points = [{ size: 0, v: 0 }, ...rows.map((row) => ({ size: row.size, v: pick(row) }))]
      .map((p) => `${x(p.size).toFixed(1)},${y(p.v).toFixed(1)}`)
      .join(' ');
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/><text x="${pad + 10}" y="${pad + 18 * index}" fill="${color}" font-size="13">${name}</text>`;
  });
  const xTicks = rows.map(
    (row) =>
      `<text x="${x(row.size).toFixed(1)}" y="${height - pad + 18}" font-size="11" text-anchor="middle">${row.size}</text>`,
  );
  const yTicks = Array.from({ length: 5 }, (_, i) => (maxMs * i) / 4).map(
    (v) =>
      `<text x="${pad - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${(v / 1000).toFixed(1)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="#888"/>
<text x="${width / 2}" y="${height - 12}" font-size="12" text-anchor="middle">workloads</text>
<text x="14" y="${height / 2}" font-size="12" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">seconds</text>
${xTicks.join('\n')}
${yTicks.join('\n')}
${lines.join('\n')}
</svg>
`;
}

const args = process.argv.slice(2);
let etcdEndpoint = process.env[ETCD_VARIABLE] ?? '';
if (etcdEndpoint === '') {
  const dir = mkdtempSync(join(tmpdir(), 'appproxy-bench-scale-'));
  etcdEndpoint = (await startPrivateEtcd('bench-scale', dir, ETCD_PORTS.client, ETCD_PORTS.peer)).endpoint;
  process.env[ETCD_VARIABLE] = etcdEndpoint;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}
try {
  if (args[0] === '--one') {
    process.stdout.write(`${JSON.stringify(await one(Number(args[1])))}\n`);
  } else if (args[0] === '--heap' || args[0] === '--allocations') {
    // Where the live heap after the first sync was allocated (--heap), or everything allocated up to
    // then, collected since or not (--allocations: the churn that grows the peak); and the memory figures.
    const heap = new HeapSampling({ allocated: args[0] === '--allocations' });
    const result = (await one(Number(args[1] ?? 10_000), heap)) as { rssMiB: unknown; heapAfterFirst: HeapSite[] };
    await heap.stop();
    process.stdout.write(`${JSON.stringify(result.rssMiB)}\n`);
    for (const row of result.heapAfterFirst)
      process.stdout.write(
        `${row.share.toString().padStart(5)}%  ${row.mib.toString().padStart(6)} MiB  ${row.site}\n`,
      );
  } else if (args[0] === '--core') {
    process.stdout.write(`${JSON.stringify(core(Number(args[1])))}\n`);
  } else if (args[0] === '--profile') {
    for (const row of profile(Number(args[1] ?? 10_000), new URL(import.meta.url).pathname, []))
      process.stdout.write(
        `${row.share.toString().padStart(5)}%  ${row.selfMs.toString().padStart(6)} ms  ${row.fn}\n`,
      );
  } else {
    // --old DIR: also run the engine of another checkout (the old, full-pass reconciler at commit
    // f667157: scripts/bench.sh makes that worktree) at the same sizes, in the same run.
    // --old-every-size: the old checkout at every size (one as fast as this one), not only up to 10,000.
    // --results NAME: the files written are bench/results/NAME.* (default scale), so that a run at
    // other sizes (how many workloads a limit holds) does not replace the main one.
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        old: { type: 'string' },
        'old-every-size': { type: 'boolean', default: false },
        'memory-limits': { type: 'string', default: '' },
        results: { type: 'string', default: 'scale' },
      },
    });
    const oldDir = values.old;
    const oldEverySize = values['old-every-size'];
    const limits = values['memory-limits'].split(',').filter((text) => text !== '');
    const name = values.results;
    const sizes = positionals.map(Number).filter((n) => n > 0);
    if (sizes.length === 0) sizes.push(100, 1000, 10_000, 50_000);
    const self = new URL(import.meta.url).pathname;
    const shipped = compiledBench('bench/scale.ts');
    const nodeOptions = imageNodeOptions();
    const child = (script: string, mode: string, size: number, options: readonly string[] = []) => {
      const run = spawnSync(process.execPath, [...options, script, mode, String(size)], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
        timeout: 1_800_000,
      });
      if (run.status !== 0) throw new Error(`${script} ${mode} ${size} failed:\n${run.stderr}`);
      return JSON.parse(run.stdout.trim().split('\n').pop() as string) as Record<string, any>;
    };
    const rows: Record<string, any>[] = [];
    for (const size of sizes) {
      const row = child(shipped, '--one', size, nodeOptions);
      row.source = child(self, '--one', size);
      row.core = child(shipped, '--core', size, nodeOptions);
      // The full-pass engine (f667157) at 50,000 takes minutes a pass: compared up to 10,000 unless told.
      if (oldDir !== undefined && (size <= 10_000 || oldEverySize))
        row.old = child(join(oldDir, 'bench/scale.ts'), '--one', size);
      // Under a memory limit Node sizes its heap to it: what the stacks' limit gives, or that it does
      // not fit; as the image runs it, and with Node's default sizing (about half the limit) beside it.
      row.limited = {};
      row.limitedDefaults = {};
      for (const limit of limits) {
        row.limited[limit] = limitedRun(limit, [...nodeOptions, shipped, '--one', String(size)]);
        row.limitedDefaults[limit] = limitedRun(limit, [shipped, '--one', String(size)]);
      }
      rows.push(row);
      const r = row.reconcile;
      process.stdout.write(
        `${size}: first ${r.first.ms} ms, no-op resync ${r.resync.ms} ms (CPU ${r.resync.cpuMs} ms, ${r.resync.operations} ops, ${r.resync.storeReads} reads), add one p50 ${r.addOne.p50} / p99 ${r.addOne.p99} ms (appproxy's own ${r.addOne.own.p50} / ${r.addOne.own.p99}), peak RSS ${row.rssMiB.peak} MiB (from source with V8's defaults: ${row.source.rssMiB.peak} MiB)${row.old ? `; old: first ${row.old.reconcile.first.ms} ms, peak RSS ${row.old.rssMiB.peak} MiB` : ''}\n`,
      );
    }
    const profiled = Math.min(10_000, sizes[sizes.length - 1] as number);
    const hotSpots = profile(profiled, shipped, nodeOptions);
    const result = {
      measured: new Date().toISOString(),
      nodeOptions,
      setup: `compiled (tsconfig.bench.json) and run with the image's Node options (${nodeOptions.join(' ') || 'none'}) unless the row says otherwise; synthetic containers (router with rule, entry point and middleware; stripPrefix middleware; service with port and sticky cookie) through the sync engine against an etcd of the benchmark's own with --max-txn-ops=${STACK_MAX_TXN_OPS} as the stacks run it (root key bench-scale), each size in its own process; add/remove one: 50 samples each, from the workload handed over to its transaction committed`,
      rows,
      hotSpots: { size: profiled, top: hotSpots },
      etcdWalFsyncs: await walFsyncs(etcdEndpoint),
    };
    mkdirSync(out, { recursive: true });
    writeFileSync(`${out}${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${out}${name}.svg`, svg(rows));
    // An old checkout's row in the same columns; the full-pass engine gave one figure for add and remove,
    // and no CPU time or store reads of its resync.
    const samples = (figures: Record<string, any>) =>
      figures.p50 === undefined ? String(figures.ms) : `${figures.p50} / ${figures.p99}`;
    const line = (size: number, engine: string, row: Record<string, any>) => {
      const r = row.reconcile;
      const again = r.resyncAgain === undefined ? '–' : `${r.resyncAgain.ms} / ${r.resyncAgain.cpuMs}`;
      const own = (figures: Record<string, any>) => (figures.own === undefined ? '–' : samples(figures.own));
      return `| ${size} | ${engine} | ${r.keysInEtcd} | ${r.first.translateAllMs ?? '–'} | ${r.first.ms} | ${r.resync.ms} / ${r.resync.cpuMs ?? '–'} / ${r.resync.operations} / ${r.resync.storeReads ?? '–'} | ${again} | ${samples(r.addOne)} | ${own(r.addOne)} | ${samples(r.removeOne)} | ${own(r.removeOne)} | ${row.rssMiB.peakFirstSync ?? '–'} | ${row.rssMiB.peak} |`;
    };
    const table = [
      "| workloads | engine | keys | translating every workload (ms) | first full sync: the pass writing them (ms) | no-op resync (ms / CPU ms / ops / store reads) | the same again (ms / CPU ms) | add one → committed p50 / p99 (ms) | of which appproxy's own (without the store's transaction) p50 / p99 | remove one p50 / p99 (ms) | of which appproxy's own p50 / p99 | peak RSS, first sync (MiB) | peak RSS, whole run (MiB) |",
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows.flatMap((row) => [
        line(row.size, 'this one, as the image runs it', row),
        line(row.size, "this one, from source with V8's defaults", row.source),
        ...Object.entries(row.limited as Record<string, Record<string, any>>).flatMap(([limit, limited]) =>
          [
            [`this one, ${limit} limit, as the image runs it`, limited],
            [`this one, ${limit} limit, Node's default heap size`, row.limitedDefaults[limit]],
          ].map(([engine, figures]) =>
            figures.failed === undefined
              ? line(row.size, engine, figures)
              : `| ${row.size} | ${engine} | – | ${figures.failed} | | | | | | | | | ${figures.cgroupPeakMiB ?? '–'} (the cgroup's) |`,
          ),
        ),
        ...(row.old === undefined ? [] : [line(row.size, 'old', row.old)]),
      ]),
      '',
      `"As the image runs it": compiled JavaScript with the Node options of the Dockerfile's ENTRYPOINT (${nodeOptions.join(' ') || 'none'}); the limited rows too, each beside the same compiled code with Node's default heap size under the same limit. "From source with V8's defaults": the same code through Node's type stripping with no options, as this benchmark ran before, in the same run.`,
      '',
      `The benchmark's etcd over the whole run: ${result.etcdWalFsyncs.fsyncs} WAL fsyncs, ${result.etcdWalFsyncs.over4msPercent}% slower than 4 ms, ${result.etcdWalFsyncs.over8msPercent}% than 8 ms, ${result.etcdWalFsyncs.over16msPercent}% than 16 ms (each add or remove waits for one; "appproxy's own" leaves its transaction out).`,
      '',
      `Hot spots (self time, one run of ${result.hotSpots.size} workloads under --cpu-prof, as the image runs it):`,
      '',
      ...hotSpots.slice(0, 8).map((row) => `- ${row.share}% ${row.fn}`),
      '',
      `Measured ${result.measured}.`,
    ].join('\n');
    writeFileSync(`${out}${name}.md`, `${table}\n`);
    process.stdout.write(`\n${table}\n`);
  }
} finally {
  await stopAllPrivate();
}
