// One table across the benchmarks' latest results (bench/results/*.json): the figures a user
// comparing appproxy with Traefik's Docker provider and with jupyterhub's etcd proxy looks for.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resultsDir } from './lib/results.ts';

function load(name: string): any {
  const file = `${resultsDir}${name}.json`;
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

const lines = ['| benchmark | appproxy → etcd → Traefik | Traefik Docker provider | other |', '|---|---|---|---|'];
const live = load('route-live');
if (live !== undefined) {
  const a = live.appproxyThroughEtcd;
  const b = live.traefikDockerProvider;
  const ms = (s: { p50: number; p90: number; p99: number }) =>
    `${Math.round(s.p50)} / ${Math.round(s.p90)} / ${Math.round(s.p99)} ms`;
  lines.push(
    `| route live after \`docker start\`, p50 / p90 / p99 (n=${a.n}) | ${ms(a)} | ${ms(b)} | ratio ${live.ratioP50.toFixed(2)}; keys in etcd p50 ${Math.round(live.etcdCommit.p50)} ms |`,
  );
}
for (const row of load('burst')?.rows ?? []) {
  for (const way of ['start', 'stop'] as const) {
    const r = row[way];
    lines.push(
      `| burst of ${row.size}, ${way === 'start' ? 'all started' : 'all killed'}: last route ${way === 'start' ? 'live' : 'gone'} | ${r.appproxy.lastMs} ms | ${r.dockerProvider.lastMs} ms | engine calls done ${Math.round(r.dockerCallsMs)} ms; ${r.etcd.transactions} txns / ${r.etcd.operations} ops |`,
    );
  }
}
const add = load('route-add');
for (const row of add?.rows ?? []) {
  lines.push(
    `| route added → enabled in Traefik's API, concurrency ${row.concurrency}, p50 (${row.routes} routes) | ${row.appproxy.p50} ms (${row.appproxyAfterEngine.p50} ms after the engine) | ${row.dockerProvider.p50} ms (${row.dockerProviderAfterEngine.p50} ms) | jupyterhub etcd proxy (published): ${add.published.medianMs[row.concurrency]} ms |`,
  );
}
for (const row of load('route-enabled')?.rows ?? []) {
  const ms = (s: { p50: number; p90: number }) => `${Math.round(s.p50)} / ${Math.round(s.p90)} ms`;
  lines.push(
    `| new container's router enabled in Traefik's API, ${row.fleet} already running, p50 / p90 | ${ms(row.appproxyThroughEtcd)} | ${ms(row.traefikDockerProvider)} | ratio ${row.ratioP50.toFixed(2)} / ${row.ratioP90.toFixed(2)}; start event → committed p50 ${row.startEventToCommit.p50.toFixed(1)} ms |`,
  );
}
for (const row of load('scale')?.rows ?? []) {
  const r = row.reconcile;
  const old =
    row.old === undefined
      ? ''
      : `; old engine: add one ${row.old.reconcile.addOne.ms} ms, resync ${row.old.reconcile.resync.ms} ms`;
  lines.push(
    `| ${row.size} synthetic workloads: first sync / no-op resync / add one p50, p99 | ${r.first.ms} / ${r.resync.ms} / ${r.addOne.p50}, ${r.addOne.p99} ms | — | ${r.keysInEtcd} keys; resync writes ${r.resync.operations}, reads ${r.resync.storeReads};${r.addOne.own === undefined ? '' : ` add one without the store's transaction p50 ${r.addOne.own.p50}, p99 ${r.addOne.own.p99} ms;`} peak RSS ${row.rssMiB.peak} MiB as the image runs it${row.source === undefined ? '' : ` (${row.source.rssMiB.peak} MiB from source with V8's defaults)`}${old} |`,
  );
}
const stores = load('stores');
for (const row of stores?.routeAdd ?? []) {
  lines.push(
    `| route added → enabled, concurrency ${row.concurrency}, p50 (${row.routes} routes): etcd beside Redis | etcd ${row.etcd.p50} ms (${row.etcdAfterEngine?.p50 ?? '?'} ms after the engine) | — | Redis ${row.redis.p50} ms (${row.redisAfterEngine?.p50 ?? '?'} ms after the engine), ratio ${row.redisOverEtcdMedianRatio}${row.concurrency === 1 ? `; jupyterhub Redis proxy (published): ${stores.published.medianMs} ms` : ''} |`,
  );
}
for (const row of stores?.scale ?? []) {
  lines.push(
    `| ${row.size} synthetic workloads on ${row.store}: first sync / no-op resync / add one p50, p99 | ${row.first.ms} / ${row.resyncMs} / ${row.addOne.p50}, ${row.addOne.p99} ms | — | ${row.keys} keys; peak RSS ${row.rssMiB} MiB |`,
  );
}
const text = `${lines.join('\n')}\n\nFrom the latest bench/results/*.json; details in each benchmark's .md.\n`;
writeFileSync(`${resultsDir}summary.md`, text);
process.stdout.write(`\n${text}`);
