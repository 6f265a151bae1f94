import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEnv } from './env.ts';
import { environmentTraefikBinary } from './etcd-cluster.ts';
import { waitFor } from './traefik-api.ts';
import { fetchWithin, within } from './within.ts';

/**
 * A Traefik of the environment's release reading its dynamic configuration through its HTTP
 * provider (polled every second), with the entry points and the local plugin of the environment's
 * Traefiks, so that what it shows compares with what they show. `endpoint` is what it polls: a
 * test's own server (`serve`) or a daemon's /traefik/dynamic.
 */
export class HttpProviderTraefik {
  readonly api: string;
  readonly #process: ChildProcess;
  readonly #workdir: string;

  private constructor(api: string, process: ChildProcess, workdir: string) {
    this.api = api;
    this.#process = process;
    this.#workdir = workdir;
  }

  /** Starts it on ports `firstPort` (API) to `firstPort + 4`; waits until its API answers. */
  static async start(endpoint: string, firstPort: number): Promise<HttpProviderTraefik> {
    const binary = environmentTraefikBinary();
    // Its own working directory, with a copy of the environment's local plugin (Traefik reads
    // ./plugins-local/src/<module>).
    const workdir = mkdtempSync(join(tmpdir(), 'appproxy-http-traefik-'));
    cpSync(join(testEnv.stateDir, 'traefik-etcd', 'plugins-local'), join(workdir, 'plugins-local'), {
      recursive: true,
    });
    const api = `http://127.0.0.1:${firstPort}`;
    const child = spawn(
      binary,
      [
        '--global.checkNewVersion=false',
        '--global.sendAnonymousUsage=false',
        '--log.level=ERROR',
        '--api=true',
        '--api.insecure=true',
        `--entryPoints.traefik.address=127.0.0.1:${firstPort}`,
        `--entryPoints.web.address=127.0.0.1:${firstPort + 1}`,
        `--entryPoints.websecure.address=127.0.0.1:${firstPort + 2}`,
        `--entryPoints.tcpep.address=127.0.0.1:${firstPort + 3}`,
        `--entryPoints.udpep.address=127.0.0.1:${firstPort + 4}/udp`,
        '--providers.providersThrottleDuration=0s',
        `--experimental.localPlugins.${testEnv.pluginKey}.moduleName=${testEnv.pluginModule}`,
        '--experimental.abortOnPluginFailure=true',
        `--providers.http.endpoint=${endpoint}`,
        '--providers.http.pollInterval=1s',
        '--providers.http.pollTimeout=2s',
      ],
      { cwd: workdir, stdio: 'ignore' },
    );
    const traefik = new HttpProviderTraefik(api, child, workdir);
    try {
      await waitFor(
        `the HTTP-provider Traefik's API (${api})`,
        async () => {
          if (child.exitCode !== null) throw new Error(`traefik exited with ${child.exitCode}`);
          return (await fetchWithin(`${api}/api/rawdata`, {}, 2000).catch(() => undefined))?.ok ? true : undefined;
        },
        30_000,
      );
    } catch (error) {
      await traefik.stop();
      throw error;
    }
    return traefik;
  }

  async stop(): Promise<void> {
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      const exited = new Promise((resolve) => this.#process.once('exit', resolve));
      this.#process.kill('SIGTERM');
      await within("the HTTP-provider Traefik's exit", 20_000, exited).catch(() => this.#process.kill('SIGKILL'));
    }
    rmSync(this.#workdir, { recursive: true, force: true });
  }
}

/** A loopback server answering every GET with `body()` as JSON; its URL. */
export async function serveJson(port: number, body: () => string): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(body());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { url: `http://127.0.0.1:${port}/`, server };
}
