// Route-live latency, side by side: one container carries the same route under `traefik.*`
// (read by Traefik's own Docker provider) and `appproxy.*` (read by `appproxy run`, written to
// etcd, read by Traefik's etcd provider). Both Traefiks are the same binary with
// providersThrottleDuration=0s, on the same Docker engine. For each sample: the time from the
// start of `docker start` to the first request through each Traefik that reaches the container,
// and to the moment the router key is committed in etcd (an etcd watch).
//
//   node bench/route-live.ts [samples]      (scripts/bench.sh sets the environment up first)
import { mkdirSync, writeFileSync } from 'node:fs';
import { testEnv } from '../test/support/env.ts';
import { httpGet } from '../test/support/http-get.ts';
import { cdfChart } from './lib/cdf-chart.ts';
import { benchSetup, createBenchContainer } from './lib/fleet.ts';
import { summary, type Summary } from './lib/stats.ts';
import { within } from '../test/support/within.ts';

const samples = Number(process.argv[2] ?? 50);
const out = new URL('./results/', import.meta.url).pathname;

/** Polls through one Traefik every 2 ms until the container answers (bounded by 30 s). */
async function liveAfter(base: string, host: string, t0: number): Promise<number> {
  const deadline = t0 + 30_000;
  while (performance.now() < deadline) {
    const reply = await httpGet(base, '/', { host }, 1000).catch(() => undefined);
    if (reply?.status === 200 && reply.body.trim() === host) return performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`${host} never answered through ${base}`);
}

const { docker, etcd, finish } = await benchSetup();
const etcdMs: number[] = [];
const appproxyMs: number[] = [];
const dockerProviderMs: number[] = [];
try {
  for (let index = 0; index < samples; index += 1) {
    const name = `bench-${index}`;
    const container = await createBenchContainer(docker, name);
    const watcher = await within(
      `the etcd watch of ${name}`,
      10_000,
      etcd.watch().key(`traefik/http/routers/${name}/rule`).create(),
    );
    let committed = Number.NaN;
    const t0 = performance.now();
    watcher.on('put', () => (committed = performance.now() - t0));
    await container.start();
    const [viaEtcd, viaDocker] = await Promise.all([
      liveAfter(testEnv.traefikEtcd.web, name, t0),
      liveAfter(testEnv.traefikDocker.web, name, t0),
    ]);
    await within('the etcd watch to end', 10_000, watcher.cancel());
    appproxyMs.push(viaEtcd);
    dockerProviderMs.push(viaDocker);
    etcdMs.push(committed);
    await container.remove({ force: true });
    process.stdout.write(
      `sample ${index + 1}/${samples}: appproxy ${viaEtcd.toFixed(0)} ms, Docker provider ${viaDocker.toFixed(0)} ms, etcd commit ${committed.toFixed(0)} ms\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
} finally {
  await finish();
}

const result = {
  measured: new Date().toISOString(),
  samples,
  setup:
    'one container with the same route under traefik.* and appproxy.*; Traefik 3.7 twice (Docker provider; etcd provider), providersThrottleDuration=0s; 2 ms polling through each entry point',
  appproxyThroughEtcd: summary(appproxyMs),
  traefikDockerProvider: summary(dockerProviderMs),
  etcdCommit: summary(etcdMs),
  ratioP50: summary(appproxyMs).p50 / summary(dockerProviderMs).p50,
  raw: { appproxyMs, dockerProviderMs, etcdMs },
};
mkdirSync(out, { recursive: true });
writeFileSync(`${out}route-live.json`, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(
  `${out}route-live.svg`,
  cdfChart(
    {
      'appproxy → etcd → Traefik': appproxyMs,
      "Traefik's Docker provider": dockerProviderMs,
      'keys committed in etcd': etcdMs,
    },
    'ms from docker start',
  ),
);
const row = (name: string, s: Summary) =>
  `| ${name} | ${s.n} | ${s.p50.toFixed(0)} | ${s.p90.toFixed(0)} | ${s.p99.toFixed(0)} | ${s.max.toFixed(0)} |`;
const table = [
  '| route live after `docker start` (ms) | n | p50 | p90 | p99 | max |',
  '|---|---|---|---|---|---|',
  row('(a) appproxy → etcd → Traefik', result.appproxyThroughEtcd),
  row("(b) Traefik's own Docker provider", result.traefikDockerProvider),
  row('keys committed in etcd (our part)', result.etcdCommit),
  '',
  `Ratio (a)/(b) at p50: ${result.ratioP50.toFixed(2)}. Measured ${result.measured}.`,
].join('\n');
writeFileSync(`${out}route-live.md`, `${table}\n`);
process.stdout.write(`\n${table}\n`);
