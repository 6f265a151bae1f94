// The equivalent of jupyterhub traefik-proxy's published route-add benchmark (median time to add
// a route and see it enabled in Traefik's API, throttle 0: 328 ms at concurrency 1 and 631 ms at
// concurrency 50 over 500 routes). Here "add a route" is `docker start` of a labelled container;
// the time runs until Traefik's API lists the router as enabled, for (a) appproxy → etcd → Traefik
// and (b) Traefik's own Docker provider, both watched by one shared poller each. Reported twice:
// from the start call (what a user waits for, including the engine's own start) and from the
// moment the engine finished the start (our part plus Traefik's).
//
//   node bench/route-add.ts [routes at concurrency 1] [routes at concurrency 50]   (default 100 500)
import { testEnv } from '../test/support/env.ts';
import { benchSetup, createFleet, removeBenchContainers, RouterWatch } from './lib/fleet.ts';
import { writeResult } from './lib/results.ts';
import { mapLimit, sleep, summary } from './lib/stats.ts';

const runs: [number, number][] = [
  [1, Number(process.argv[2] ?? 100)],
  [50, Number(process.argv[3] ?? 500)],
];

const { docker, finish } = await benchSetup();
const rows: Record<string, any>[] = [];
try {
  for (const [concurrency, count] of runs) {
    const prefix = `add${concurrency}`;
    const { names, containers } = await createFleet(docker, prefix, count);
    const viaEtcd = new RouterWatch(testEnv.traefikEtcd.api, '@etcd', `${prefix}-`);
    const viaDocker = new RouterWatch(testEnv.traefikDocker.api, '@docker', `${prefix}-`);
    const samples = await mapLimit(containers, concurrency, async (container, index) => {
      const name = names[index] as string;
      const begin = performance.now();
      await container.start();
      const started = performance.now();
      const [etcdAt, dockerAt] = await Promise.all([viaEtcd.seenAt(name, 300_000), viaDocker.seenAt(name, 300_000)]);
      return {
        appproxy: etcdAt - begin,
        dockerProvider: dockerAt - begin,
        appproxyAfterEngine: etcdAt - started,
        dockerProviderAfterEngine: dockerAt - started,
        engineStart: started - begin,
      };
    });
    await Promise.all([viaEtcd.stop(), viaDocker.stop()]);
    await removeBenchContainers(docker);
    const pick = (field: keyof (typeof samples)[number]) => summary(samples.map((sample) => Math.round(sample[field])));
    const row = {
      concurrency,
      routes: count,
      appproxy: pick('appproxy'),
      dockerProvider: pick('dockerProvider'),
      appproxyAfterEngine: pick('appproxyAfterEngine'),
      dockerProviderAfterEngine: pick('dockerProviderAfterEngine'),
      engineStart: pick('engineStart'),
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
    await sleep(2000);
  }
} finally {
  await finish();
}

const published: Record<number, number> = { 1: 328, 50: 631 };
writeResult(
  'route-add',
  {
    setup:
      'route added = docker start of a labelled busybox container; done = router enabled in Traefik API (one back-to-back poller per Traefik); providersThrottleDuration=0s',
    published: { source: 'jupyterhub traefik-proxy docs, etcd proxy, 500 routes, throttle 0', medianMs: published },
    rows,
  },
  [
    '| concurrency | routes | jupyterhub etcd proxy, published p50 | (a) appproxy p50 / p90 from docker start | (b) Docker provider p50 / p90 from docker start | (a) p50 / p90 after the engine started it | (b) p50 / p90 after the engine started it | engine start call p50 |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.concurrency} | ${row.routes} | ${published[row.concurrency]} ms | ${row.appproxy.p50} / ${row.appproxy.p90} ms | ${row.dockerProvider.p50} / ${row.dockerProvider.p90} ms | ${row.appproxyAfterEngine.p50} / ${row.appproxyAfterEngine.p90} ms | ${row.dockerProviderAfterEngine.p50} / ${row.dockerProviderAfterEngine.p90} ms | ${row.engineStart.p50} ms |`,
    ),
  ],
);
