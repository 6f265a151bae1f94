// Steady-state memory of the two processes every node runs, `appproxy run` and `appproxy
// docker-proxy` (issue 27, point 1), with 0, 50 and 500 real labelled containers on the test
// environment's engine: appproxy reads that engine through the proxy, as in the stack. Both run as
// the image runs them: compiled JavaScript (`tsc -p tsconfig.build.json` into dist/), not through
// Node's type stripping (which adds its own memory), and with the Node options of the image's
// ENTRYPOINT. For each size: the containers are started (four calls at a time), the daemon's
// `appproxy_workloads_routed` reaches the size, then both processes rest for 20 s and their RSS is
// read ten times a second apart (median), beside their peak so far (VmHWM).
//
//   node bench/steady-rss.ts [sizes...]      (default 0 50 500; scripts/bench.sh sets the environment up)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type DaemonProcess } from '../test/support/daemon-process.ts';
import { clearTree, testEtcd } from '../test/support/etcd-kv.ts';
import { requireTestEnv, testEnv } from '../test/support/env.ts';
import { waitFor } from '../test/support/traefik-api.ts';
import { forEachLimited } from '../test/support/test-docker.ts';
import { within } from '../test/support/within.ts';
import { imageNodeOptions } from './lib/as-shipped.ts';
import { createFleet, removeBenchContainers } from './lib/fleet.ts';
import { writeResult } from './lib/results.ts';
import { sleep, summary } from './lib/stats.ts';
import { testDocker } from '../test/support/test-docker.ts';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n >= 0);
if (sizes.length === 0) sizes.push(0, 50, 500);
const root = new URL('../', import.meta.url).pathname;
const REST_MS = 20_000;

/** VmRSS and VmHWM of a process, in MiB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

await requireTestEnv();
execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`], {
  stdio: 'inherit',
  timeout: 300_000,
});
const cli = `${root}dist/cli.js`;
const nodeOptions = imageNodeOptions();
const docker = testDocker();
const etcd = testEtcd(testEnv.etcdEndpoint);
const dir = mkdtempSync(join(tmpdir(), 'appproxy-rss-'));
const socket = join(dir, 'docker.sock');
let proxy: ChildProcess | undefined;
let daemon: DaemonProcess | undefined;
const rows: { containers: number; run: { rss: number; peak: number }; proxy: { rss: number; peak: number } }[] = [];
try {
  await removeBenchContainers(docker);
  await clearTree(etcd, 'traefik');
  proxy = spawn(
    process.execPath,
    [
      ...nodeOptions,
      cli,
      'docker-proxy',
      '--listen',
      `unix://${socket}`,
      '--socket',
      testEnv.dockerSocket,
      '--socket-owner',
      `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitFor('the docker-proxy socket', async () => (isSocket(socket) ? true : undefined), 15_000);
  daemon = await startDaemon({
    owner: 'bench-rss',
    port: 19198,
    command: [process.execPath, ...nodeOptions, cli],
    args: ['--log-level', 'warn', '--resync-seconds', '300'],
    env: { DOCKER_HOST: `unix://${socket}` },
  });
  let started = 0;
  for (const size of sizes) {
    if (size > started) {
      const { containers } = await createFleet(docker, `rss-${started}`, size - started);
      await forEachLimited(containers, (container) => container.start());
      started = size;
    }
    const running = daemon;
    await waitFor(
      `appproxy to route ${size} containers`,
      async () => ((await running.metric('appproxy_workloads_routed')) === size ? true : undefined),
      300_000,
    );
    await sleep(REST_MS);
    const runSamples: number[] = [];
    const proxySamples: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      runSamples.push(memoryOf(daemon.child.pid!).rss);
      proxySamples.push(memoryOf(proxy.pid!).rss);
      await sleep(1000);
    }
    const round = (value: number) => Math.round(value * 10) / 10;
    rows.push({
      containers: size,
      run: { rss: round(summary(runSamples).p50), peak: round(memoryOf(daemon.child.pid!).peak) },
      proxy: { rss: round(summary(proxySamples).p50), peak: round(memoryOf(proxy.pid!).peak) },
    });
    process.stdout.write(`${JSON.stringify(rows.at(-1))}\n`);
  }
} finally {
  await daemon?.kill('SIGTERM');
  if (proxy !== undefined && proxy.exitCode === null) {
    proxy.kill('SIGTERM');
    await within('docker-proxy to stop', 10_000, new Promise((resolve) => proxy?.once('exit', resolve))).catch(() =>
      proxy?.kill('SIGKILL'),
    );
  }
  await removeBenchContainers(docker);
  await clearTree(etcd, 'traefik').catch(() => undefined);
  etcd.close();
  rmSync(dir, { recursive: true, force: true });
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

writeResult('steady-rss', { restMs: REST_MS, rows }, [
  '| containers | `appproxy run` RSS (MiB) | its peak | `appproxy docker-proxy` RSS (MiB) | its peak |',
  '|---:|---:|---:|---:|---:|',
  ...rows.map(
    (row) => `| ${row.containers} | ${row.run.rss} | ${row.run.peak} | ${row.proxy.rss} | ${row.proxy.peak} |`,
  ),
  '',
  `Both compiled (dist/) and run with the image's Node options (${nodeOptions.join(' ') || 'none'}), appproxy reading the engine through the proxy; RSS is the median of ten reads a second apart after ${REST_MS / 1000} s at rest; the peak is VmHWM since start. \`node bench/steady-rss.ts\`.`,
]);
