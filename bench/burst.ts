// Bursts: N labelled containers started at once (every `docker start` call issued together), then
// all killed at once. For each direction: the time until every route answers (or is gone) through
// (a) appproxy → etcd → Traefik and (b) Traefik's own Docker provider, and the etcd transactions,
// operations and reconcile passes appproxy used. Figures, not assertions.
//
//   node bench/burst.ts [sizes...]      (default 100 500; scripts/bench.sh sets the environment up)
import { readFileSync } from 'node:fs';
import type { DaemonProcess } from '../test/support/daemon-process.ts';
import { testEnv } from '../test/support/env.ts';
import { benchSetup, createFleet, removeBenchContainers, sweepUntil } from './lib/fleet.ts';
import { writeResult } from './lib/results.ts';
import { since, summary } from './lib/stats.ts';

const progress = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);
/**
 * Every start of a burst is issued at once, on purpose: the engine finishes them together, and one
 * call may wait minutes behind 499 others (about 170 s for all of them here). Still a limit.
 */
const BURST_CALL_LIMIT_MS = 600_000;
const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [100, 500];

async function counters(daemon: DaemonProcess): Promise<{ transactions: number; operations: number; passes: number }> {
  return {
    transactions: await daemon.metric('appproxy_store_transactions_total'),
    operations: await daemon.metric('appproxy_store_operations_total'),
    passes: await daemon.metric('appproxy_reconciles_total{result="ok"}'),
  };
}

function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Math.round(
      Number(/(\d+) kB/.exec(status.split('\n').find((line) => line.startsWith(name)) ?? '')?.[1] ?? 0) / 102.4,
    ) / 10;
  return { rssMiB: field('VmRSS:'), peakMiB: field('VmHWM:') };
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

/** Both Traefiks at once; each value is ms from t0 until the last host was done. */
async function sweepBoth(hosts: string[], t0: number, gone: boolean) {
  const [viaEtcd, viaDocker] = await Promise.all([
    sweepUntil(testEnv.traefikEtcd.web, hosts, { gone, timeoutMs: 300_000 }),
    sweepUntil(testEnv.traefikDocker.web, hosts, { gone, timeoutMs: 300_000 }),
  ]);
  const times = (done: Map<string, number>) => [...done.values()].map((at) => Math.round(at - t0));
  const describe = (done: Map<string, number>) => ({
    done: done.size,
    of: hosts.length,
    lastMs: Math.max(...times(done)),
    perRoute: summary(times(done)),
  });
  return { appproxy: describe(viaEtcd), dockerProvider: describe(viaDocker) };
}

const { docker, daemon, finish } = await benchSetup(BURST_CALL_LIMIT_MS);
const rows: Record<string, unknown>[] = [];
try {
  for (const size of sizes) {
    const { names, containers } = await createFleet(docker, 'burst', size);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    let before = await counters(daemon);
    let t0 = performance.now();
    const started = Promise.all(containers.map((container) => container.start())).then(() => since(t0));
    const [startCallsMs, up] = await Promise.all([
      started.then((done) => (progress(`${size} start calls returned after ${done} ms`), done)),
      sweepBoth(names, t0, false),
    ]);
    progress(`${size}: every route live`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const upCost = delta(await counters(daemon), before);
    const memory = memoryOf(daemon.child.pid as number);

    before = await counters(daemon);
    t0 = performance.now();
    const killed = Promise.all(containers.map((container) => container.kill())).then(() => since(t0));
    const [killCallsMs, down] = await Promise.all([
      killed.then((done) => (progress(`${size} kill calls returned after ${done} ms`), done)),
      sweepBoth(names, t0, true),
    ]);
    progress(`${size}: every route gone`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const downCost = delta(await counters(daemon), before);
    await removeBenchContainers(docker);

    const row = {
      size,
      start: { dockerCallsMs: startCallsMs, ...up, etcd: upCost },
      stop: { dockerCallsMs: killCallsMs, ...down, etcd: downCost },
      daemonMemory: memory,
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
} finally {
  await finish();
}

const line = (row: any, way: 'start' | 'stop') => {
  const r = row[way];
  return `| ${row.size} | ${way === 'start' ? 'all started' : 'all killed'} | ${r.dockerCallsMs.toFixed(0)} | ${r.appproxy.lastMs} (${r.appproxy.done}/${r.appproxy.of}) | ${r.dockerProvider.lastMs} (${r.dockerProvider.done}/${r.dockerProvider.of}) | ${r.appproxy.perRoute.p50} / ${r.dockerProvider.perRoute.p50} | ${r.etcd.transactions} / ${r.etcd.operations} | ${r.etcd.passes} |`;
};
writeResult(
  'burst',
  {
    setup:
      'N busybox httpd containers, each with the same Host route under traefik.* and appproxy.*; every docker start (then kill) call issued at once; both Traefiks polled with requests, 32 in flight each',
    rows,
  },
  [
    '| containers | burst | docker calls done (ms) | (a) appproxy: all live/gone (ms) | (b) Docker provider: all live/gone (ms) | per-route p50 (a) / (b) (ms) | etcd txns / ops | reconcile passes |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.flatMap((row) => [line(row, 'start'), line(row, 'stop')]),
    '',
    ...rows.map(
      (row: any) =>
        `appproxy RSS after ${row.size} containers: ${row.daemonMemory.rssMiB} MiB (peak ${row.daemonMemory.peakMiB} MiB).`,
    ),
  ],
);
