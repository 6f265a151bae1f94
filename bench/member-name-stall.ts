// An etcd member whose name stopped resolving (its task stopped: Docker's embedded DNS forwards the
// name to an upstream that never answers, as in the test environment's namespaces), and what it costs
// an instance's calls to the live member: `put` calls back to back for 30 s from a container on the
// test engine, with one and two such names among the endpoints, through this checkout's etcd client
// and, with --old, through another checkout's (the commit before bounded name lookups: bench.sh
// passes a worktree of it). Figures, not assertions.
//
//   node bench/member-name-stall.ts [--old DIR] [--seconds N]
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { requireTestEnv, testEnv } from '../test/support/env.ts';
import { writeResult } from './lib/results.ts';

const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
};
const oldDir = option('--old');
const seconds = Number(option('--seconds') ?? 30);
const repo = resolve(new URL('..', import.meta.url).pathname);
const NETWORK = 'appproxy-bench-dns';
const MEMBER = 'member-a';
const progress = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);

function docker(limitMs: number, ...command: string[]): string {
  const run = spawnSync('docker', command, {
    env: { ...process.env, DOCKER_HOST: `unix://${testEnv.dockerSocket}` },
    encoding: 'utf8',
    timeout: limitMs,
  });
  if (run.error !== undefined)
    throw new Error(`docker ${command.join(' ')}: ${run.error.message} (limit ${limitMs} ms)`);
  if (run.status !== 0) throw new Error(`docker ${command.join(' ')} exited ${run.status}: ${run.stderr.trim()}`);
  return run.stdout.trim();
}

function images(): { node: string; etcd: string } {
  const build = spawnSync('bash', ['scripts/build-images.sh', '--only', 'node', '--only', 'etcd'], {
    cwd: repo,
    env: { ...process.env, DOCKER_HOST: `unix://${testEnv.dockerSocket}` },
    encoding: 'utf8',
    timeout: 900_000,
  });
  if (build.status !== 0)
    throw new Error(`scripts/build-images.sh --only node --only etcd failed: ${build.stderr.slice(-2000)}`);
  const named = Object.fromEntries(
    spawnSync('bash', ['scripts/build-images.sh', '--print-env'], { cwd: repo, encoding: 'utf8', timeout: 30_000 })
      .stdout.split('\n')
      .filter((line) => line.includes('='))
      .map((line) => line.split('=', 2) as [string, string]),
  );
  const node = named.NODE_IMAGE;
  const etcd = named.ETCD_IMAGE;
  if (node === undefined || etcd === undefined)
    throw new Error('scripts/build-images.sh --print-env named no NODE_IMAGE or ETCD_IMAGE');
  return { node, etcd };
}

function cleanUp(): void {
  spawnSync('docker', ['rm', '-f', MEMBER], {
    env: { ...process.env, DOCKER_HOST: `unix://${testEnv.dockerSocket}` },
    timeout: 60_000,
  });
  spawnSync('docker', ['network', 'rm', NETWORK], {
    env: { ...process.env, DOCKER_HOST: `unix://${testEnv.dockerSocket}` },
    timeout: 60_000,
  });
}

interface Calls {
  calls: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  failures: string[];
}

await requireTestEnv();
const image = images();
cleanUp();
const rows: { client: string; gone: number; calls: Calls }[] = [];
try {
  docker(60_000, 'network', 'create', NETWORK);
  docker(
    60_000,
    'run',
    '-d',
    '--name',
    MEMBER,
    '--network',
    NETWORK,
    '--entrypoint',
    'etcd',
    image.etcd,
    '--listen-client-urls',
    'http://0.0.0.0:2379',
    '--advertise-client-urls',
    `http://${MEMBER}:2379`,
  );
  const clients: [string, string][] = [
    ['this checkout', repo],
    ...(oldDir === undefined ? [] : [['--old', resolve(oldDir)] as [string, string]]),
  ];
  for (const gone of [1, 2]) {
    for (const [label, root] of clients) {
      progress(`${label}: ${gone} unanswered name(s), ${seconds} s of calls`);
      const output = docker(
        (seconds + 60) * 1000,
        'run',
        '--rm',
        '--network',
        NETWORK,
        // Each checkout at its own path (a worktree's node_modules may be a link into this one).
        '-v',
        `${repo}:${repo}:ro`,
        ...(root === repo ? [] : ['-v', `${root}:${root}:ro`]),
        '--entrypoint',
        'node',
        image.node,
        `${repo}/bench/member-calls.ts`,
        root,
        String(gone),
        String(seconds),
      );
      const line = output.split('\n').findLast((entry) => entry.startsWith('{'));
      if (line === undefined) throw new Error(`no figures from the ${label} client: ${output.slice(-1000)}`);
      rows.push({ client: label, gone, calls: JSON.parse(line) as Calls });
    }
  }
} finally {
  cleanUp();
}
writeResult('member-name-stall', { seconds, old: oldDir ?? null, rows }, [
  `# etcd calls with member names that never resolve (${seconds} s of back-to-back puts, one live member)`,
  '',
  '| client | unanswered names | calls | failed | p50 ms | p99 ms | slowest ms |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    ({ client, gone, calls }) =>
      `| ${client} | ${gone} | ${calls.calls} | ${calls.failed} | ${calls.p50} | ${calls.p99} | ${calls.max} |`,
  ),
]);
