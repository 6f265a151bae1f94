// A new container's router enabled in Traefik's API, with 0, 100 and 250 labelled containers
// already running, side by side: appproxy → etcd → Traefik's etcd provider, and Traefik's own
// Docker provider, in the same run on the same engine. For each sample, from `docker start`
// returning: until `/api/http/routers/<name>@etcd` and `@docker` say enabled (polled every 2 ms,
// each Traefik alike), and appproxy's own part: from the start event (seen by this process on the
// engine's event stream) to the router key committed in etcd (an etcd watch). Beside it, the
// commit → enabled time twice: measured from outside (the etcd watch's put to the router enabled in
// the etcd Traefik's API) and as appproxy's own read-back measures it
// (appproxy_traefik_commit_to_live_seconds of that Traefik, over the sample's router and service).
//
//   node bench/route-enabled.ts [samples] [fleet sizes...]     (default 20 samples; 0 100 250)
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { testEnv } from '../test/support/env.ts';
import { fetchWithin, within } from '../test/support/within.ts';
import { forEachLimited } from '../test/support/test-docker.ts';
import { benchSetup, createBenchContainer, createFleet, removeBenchContainers } from './lib/fleet.ts';
import { writeResult } from './lib/results.ts';
import { summary } from './lib/stats.ts';

const samples = Number(process.argv[2] ?? 20);
const fleets = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [0, 100, 250];
const progress = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);

async function enabledAfter(api: string, router: string, t0: number, limitMs = 30_000): Promise<number> {
  const deadline = t0 + limitMs;
  while (performance.now() < deadline) {
    const response = await fetchWithin(`${api}/api/http/routers/${router}`, {}, 2000).catch(() => undefined);
    if (response?.ok && ((await response.json()) as { status?: string }).status === 'enabled')
      return performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`router ${router} not enabled in ${api} within ${limitMs} ms`);
}

async function goneFrom(api: string, router: string, limitMs = 30_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    const response = await fetchWithin(`${api}/api/http/routers/${router}`, {}, 2000).catch(() => undefined);
    if (response?.status === 404) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`router ${router} still in ${api} after ${limitMs} ms`);
}

/** Start events of containers, by name, as this process sees them on the engine's stream. */
async function startEvents(docker: Dockerode): Promise<{ seen: Map<string, number>; stop: () => void }> {
  const seen = new Map<string, number>();
  const stream = (await docker.getEvents({
    filters: JSON.stringify({ type: ['container'], event: ['start'] }),
  })) as NodeJS.ReadableStream & { destroy(): void };
  const lines = createInterface({ input: stream as unknown as Readable, crlfDelay: Infinity });
  lines.on('error', () => undefined);
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    const event = JSON.parse(line) as { Actor?: { Attributes?: { name?: string } } };
    const name = event.Actor?.Attributes?.name;
    if (name !== undefined) seen.set(name, performance.now());
  });
  return { seen, stop: () => stream.destroy() };
}

/** One of the read-back's gauges of one Traefik (`appproxy_traefik_<name>`); undefined before its first round. */
async function readbackGauge(daemonUrl: string, name: string, traefik: string): Promise<number | undefined> {
  const text = await (await fetchWithin(`${daemonUrl}/metrics`, {}, 5000)).text();
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith(`appproxy_traefik_${name}{traefik="${traefik}"} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

/** The read-back's histogram of one Traefik: its sum (s) and count. */
async function readbackHistogram(daemonUrl: string, traefik: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetchWithin(`${daemonUrl}/metrics`, {}, 5000)).text();
  const value = (name: string) =>
    Number(
      text
        .split('\n')
        .find((line) => line.startsWith(`appproxy_traefik_commit_to_live_seconds_${name}{traefik="${traefik}"} `))
        ?.split(' ')
        .at(-1) ?? 0,
    );
  return { sum: value('sum'), count: value('count') };
}

const { docker, etcd, daemon, finish } = await benchSetup(undefined, ['--traefik-api-urls', testEnv.traefikEtcd.api]);
const rows: Record<string, unknown>[] = [];
try {
  const events = await startEvents(docker);
  await createFleet(docker, 'network-only', 0); // the benchmark's own /20 network
  for (const fleet of fleets) {
    await removeBenchContainers(docker);
    if (fleet > 0) {
      progress(`starting a fleet of ${fleet}`);
      const { containers } = await createFleet(docker, `fleet${fleet}`, fleet);
      await forEachLimited(containers, (container) => container.start());
      // Let both providers settle on the fleet before sampling.
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
    const viaEtcd: number[] = [];
    const viaDocker: number[] = [];
    const ownPart: number[] = [];
    const commitToLiveOutside: number[] = [];
    const commitToLiveReadback: number[] = [];
    for (let index = 0; index < samples; index += 1) {
      const name = `probe${fleet}-${index}`;
      const container = await createBenchContainer(docker, name, { NetworkMode: 'appproxy-bench' });
      const watcher = await within(
        `the etcd watch of ${name}`,
        10_000,
        etcd.watch().key(`traefik/http/routers/${name}/rule`).create(),
      );
      let committedAt = Number.NaN;
      watcher.on('put', () => (committedAt = performance.now()));
      // The previous sample's removal read back first, so that its observations stay out of this one.
      await within(
        "the read-back's earlier changes settled",
        10_000,
        (async () => {
          while ((await readbackGauge(daemon.url, 'pending_resources', testEnv.traefikEtcd.api)) !== 0)
            await new Promise((resolve) => setTimeout(resolve, 20));
        })(),
      );
      const before = await readbackHistogram(daemon.url, testEnv.traefikEtcd.api);
      await container.start();
      const t0 = performance.now();
      const [a, b] = await Promise.all([
        enabledAfter(testEnv.traefikEtcd.api, `${name}@etcd`, t0),
        enabledAfter(testEnv.traefikDocker.api, `${name}@docker`, t0),
      ]);
      await within('the etcd watch to end', 10_000, watcher.cancel());
      viaEtcd.push(a);
      viaDocker.push(b);
      if (Number.isFinite(committedAt)) commitToLiveOutside.push(t0 + a - committedAt);
      // The read-back observes the router and the service (its next round, tens of ms later).
      const after = await within(
        `appproxy's read-back of ${name} (two observations)`,
        10_000,
        (async () => {
          for (;;) {
            const now = await readbackHistogram(daemon.url, testEnv.traefikEtcd.api);
            if (now.count >= before.count + 2) return now;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })(),
      );
      commitToLiveReadback.push(((after.sum - before.sum) / (after.count - before.count)) * 1000);
      const eventAt = events.seen.get(name);
      if (eventAt !== undefined && Number.isFinite(committedAt)) ownPart.push(committedAt - eventAt);
      await container.remove({ force: true });
      await Promise.all([
        goneFrom(testEnv.traefikEtcd.api, `${name}@etcd`),
        goneFrom(testEnv.traefikDocker.api, `${name}@docker`),
      ]);
      progress(
        `fleet ${fleet} sample ${index + 1}/${samples}: appproxy ${a.toFixed(0)} ms, Docker provider ${b.toFixed(0)} ms, start event → committed ${(ownPart.at(-1) ?? Number.NaN).toFixed(1)} ms, commit → live outside ${(commitToLiveOutside.at(-1) ?? Number.NaN).toFixed(0)} ms / read-back ${(commitToLiveReadback.at(-1) ?? Number.NaN).toFixed(0)} ms`,
      );
    }
    const etcdSummary = summary(viaEtcd);
    const dockerSummary = summary(viaDocker);
    rows.push({
      fleet,
      appproxyThroughEtcd: etcdSummary,
      traefikDockerProvider: dockerSummary,
      ratioP50: etcdSummary.p50 / dockerSummary.p50,
      ratioP90: etcdSummary.p90 / dockerSummary.p90,
      startEventToCommit: summary(ownPart),
      commitToLiveOutside: summary(commitToLiveOutside),
      commitToLiveReadback: summary(commitToLiveReadback),
      raw: { viaEtcd, viaDocker, ownPart, commitToLiveOutside, commitToLiveReadback },
    });
  }
  events.stop();
} finally {
  void daemon;
  await finish();
}

const table: string[] = [
  '| running containers | appproxy → etcd → Traefik p50 / p90 (ms) | Traefik Docker provider p50 / p90 (ms) | ratio p50 / p90 | appproxy start event → committed p50 / p90 (ms) | commit → live, outside p50 / p90 (ms) | commit → live, appproxy read-back p50 / p90 (ms) |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (row: any) =>
      `| ${row.fleet} | ${row.appproxyThroughEtcd.p50.toFixed(0)} / ${row.appproxyThroughEtcd.p90.toFixed(0)} | ${row.traefikDockerProvider.p50.toFixed(0)} / ${row.traefikDockerProvider.p90.toFixed(0)} | ${row.ratioP50.toFixed(2)} / ${row.ratioP90.toFixed(2)} | ${row.startEventToCommit.p50.toFixed(1)} / ${row.startEventToCommit.p90.toFixed(1)} | ${row.commitToLiveOutside.p50.toFixed(0)} / ${row.commitToLiveOutside.p90.toFixed(0)} | ${row.commitToLiveReadback.p50.toFixed(0)} / ${row.commitToLiveReadback.p90.toFixed(0)} |`,
  ),
  '',
  `${samples} samples per size, measured from \`docker start\` returning to the router enabled in each Traefik's API (2 ms polling), Traefik 3.7 twice with providersThrottleDuration=0s on the same engine. Commit → live: from the etcd watch's put of the router key to the router enabled in the etcd Traefik's API (2 ms polling), and as appproxy's read-back measures it (its histogram, mean of the router and service of each sample; it reads 10 ms after the commit, then at steps growing from 25 ms, and takes the middle of the interval).`,
];
writeResult('route-enabled', { samples, rows }, table);
