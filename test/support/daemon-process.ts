import { spawn, type ChildProcess } from 'node:child_process';
import { testEnv } from './env.ts';
import { TEST_STORE } from './test-store.ts';
import { waitFor } from './traefik-api.ts';
import { fetchWithin, within } from './within.ts';

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the daemon logged so far (JSON lines). */
  logs(): string;
  metric(name: string): Promise<number>;
  /** Resolves with the exit status when the process ends on its own (or is killed). */
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Flags that point `appproxy run` at the test environment's store of this run (APPPROXY_TEST_STORE). */
export const STORE_ARGS: readonly string[] =
  TEST_STORE === 'redis'
    ? ['--store', 'redis', '--redis-url', testEnv.redisUrl]
    : ['--etcd-endpoints', testEnv.etcdEndpoint];

/** Starts `appproxy run` against the test environment and waits until /readyz says ready. */
export async function startDaemon(options: {
  owner: string;
  port: number;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  waitReady?: boolean;
  /** The program and its first arguments (default: this Node on src/cli.ts); a benchmark runs dist/cli.js. */
  command?: readonly [string, ...string[]];
}): Promise<DaemonProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const [program, ...first] = options.command ?? [process.execPath, cli];
  const child = spawn(
    program,
    [
      ...first,
      'run',
      ...STORE_ARGS,
      '--owner',
      options.owner,
      '--listen',
      `127.0.0.1:${options.port}`,
      '--lease-seconds',
      '3',
      '--resync-seconds',
      '30',
      '--log-level',
      'debug',
      ...(options.args ?? []),
    ],
    {
      env: { ...process.env, DOCKER_HOST: `unix://${testEnv.dockerSocket}`, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const daemon: DaemonProcess = {
    child,
    url,
    exited,
    logs: () => output,
    async metric(name) {
      const text = await (await fetchWithin(`${url}/metrics`)).text();
      const line = text
        .split('\n')
        .find((candidate) => candidate.startsWith(`${name} `) || candidate.startsWith(`${name}{`));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      // The daemon gives itself 9 s to stop; one that outlives that is killed, and the test says so.
      try {
        return await within(`appproxy ${options.owner} to exit after ${signal}`, 15_000, exited);
      } catch (error) {
        child.kill('SIGKILL');
        await within(`appproxy ${options.owner} to exit after SIGKILL`, 5_000, exited);
        throw error;
      }
    },
  };
  if (options.waitReady !== false) {
    try {
      await waitFor(
        `appproxy ${options.owner} ready`,
        async () => {
          if (child.exitCode !== null) throw new Error(`appproxy exited with ${child.exitCode}:\n${output}`);
          const response = await fetchWithin(`${url}/readyz`).catch(() => undefined);
          return response?.status === 200 ? true : undefined;
        },
        20_000,
      );
    } catch (error) {
      // The caller never gets a handle to stop it: stop it here, and say what it was doing.
      await daemon.kill('SIGKILL').catch(() => undefined);
      throw new Error(`${(error as Error).message}\nappproxy ${options.owner} logged:\n${output.slice(-4000)}`, {
        cause: error,
      });
    }
  }
  return daemon;
}
