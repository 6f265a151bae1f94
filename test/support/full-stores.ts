// An etcd with a small space quota and a Redis with a small maxmemory, each of a test's own, that
// the test fills until they refuse writes (etcd's NOSPACE alarm, Redis's OOM) and then frees as an
// operator would: for the store-full scenarios.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { etcdClient } from './etcd-kv.ts';
import { waitFor } from './traefik-api.ts';
import { fetchWithin, within } from './within.ts';

const run = promisify(execFile);
/** One filler value: large enough to fill a small store in a few writes, under etcd's 1.5 MiB request limit. */
const FILLER_BYTES = 1024 * 1024;
/** Filling stops with an error past this many writes: a store that never fills is a broken test. */
const MAX_FILLER_WRITES = 200;

async function stopChild(what: string, child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await within(`${what} to exit after SIGTERM`, 10_000, exited).catch(async () => {
    child.kill('SIGKILL');
    await within(`${what} to exit after SIGKILL`, 5_000, exited);
  });
}

/** A one-member etcd on loopback with `--quota-backend-bytes`, and what an operator does when it is full. */
export class SmallEtcd {
  readonly endpoint: string;
  readonly #dir = mkdtempSync(join(tmpdir(), 'appproxy-small-etcd-'));
  readonly #child: ChildProcess;
  #client: Etcd3 | undefined;

  constructor(clientPort: number, peerPort: number, quotaBytes: number) {
    this.endpoint = `127.0.0.1:${clientPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    this.#child = spawn(
      'etcd',
      [
        '--name=small',
        `--data-dir=${this.#dir}`,
        `--listen-client-urls=http://${this.endpoint}`,
        `--advertise-client-urls=http://${this.endpoint}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=small=${peer}`,
        `--quota-backend-bytes=${quotaBytes}`,
      ],
      { stdio: 'ignore' },
    );
  }

  async started(): Promise<void> {
    await waitFor(
      `etcd at ${this.endpoint} healthy`,
      async () => {
        if (this.#child.exitCode !== null) throw new Error(`etcd exited with ${this.#child.exitCode}`);
        return (
          await fetchWithin(`http://${this.endpoint}/health`)
            .then((r) => r.json() as Promise<{ health: string }>)
            .catch(() => undefined)
        )?.health === 'true'
          ? true
          : undefined;
      },
      30_000,
    );
  }

  client(): Etcd3 {
    return (this.#client ??= etcdClient(`http://${this.endpoint}`));
  }

  /** Puts 1 MiB values under `prefix` until etcd answers "database space exceeded"; answers how many went in. */
  async fill(prefix: string): Promise<number> {
    for (let index = 0; index < MAX_FILLER_WRITES; index += 1) {
      try {
        await this.client().put(`${prefix}${index}`).value(randomBytes(FILLER_BYTES));
      } catch (error) {
        if (/database space exceeded/.test((error as Error).message)) return index;
        throw error;
      }
    }
    throw new Error(
      `etcd at ${this.endpoint} took ${MAX_FILLER_WRITES} values of ${FILLER_BYTES} bytes without raising NOSPACE`,
    );
  }

  async etcdctl(...args: string[]): Promise<string> {
    const { stdout } = await run('etcdctl', [`--endpoints=${this.endpoint}`, ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      timeout: 30_000,
    });
    return stdout;
  }

  async alarms(): Promise<string> {
    return (await this.etcdctl('alarm', 'list')).trim();
  }

  /** What etcd's maintenance guide says to do: delete, compact, defragment, disarm the alarm. */
  async free(prefix: string): Promise<void> {
    await this.etcdctl('del', '--prefix', prefix);
    const status = JSON.parse(await this.etcdctl('endpoint', 'status', '-w', 'json')) as {
      Status: { header: { revision: number } };
    }[];
    await this.etcdctl('compaction', String(status[0]?.Status.header.revision));
    await this.etcdctl('defrag');
    await this.etcdctl('alarm', 'disarm');
  }

  async stop(): Promise<void> {
    this.#client?.close();
    await stopChild(`etcd at ${this.endpoint}`, this.#child);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A Redis on loopback at `maxmemory` with `noeviction` (as Traefik's Redis provider wants it: keyspace events on). */
export class SmallRedis {
  readonly url: string;
  readonly endpoint: string;
  readonly #child: ChildProcess;
  #client: Redis | undefined;

  constructor(port: number, maxmemory: string) {
    this.endpoint = `127.0.0.1:${port}`;
    this.url = `redis://${this.endpoint}`;
    this.#child = spawn(
      'redis-server',
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--maxmemory',
        maxmemory,
        '--maxmemory-policy',
        'noeviction',
        '--notify-keyspace-events',
        'KEA',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
  }

  client(): Redis {
    if (this.#client === undefined) {
      this.#client = new Redis(this.url, { commandTimeout: 10_000, maxRetriesPerRequest: 1 });
      // Refused connections before redis-server listens: `started` waits them out.
      this.#client.on('error', () => undefined);
    }
    return this.#client;
  }

  async started(): Promise<void> {
    await waitFor(
      `redis at ${this.endpoint} answering`,
      async () => {
        if (this.#child.exitCode !== null) throw new Error(`redis-server exited with ${this.#child.exitCode}`);
        return (await this.client()
          .ping()
          .catch(() => undefined)) === 'PONG'
          ? true
          : undefined;
      },
      30_000,
    );
  }

  /**
   * SETs values under `prefix` until Redis answers OOM even to a 64-byte one; answers how many went
   * in. Redis counts a command's own arguments: a refused 1 MiB value leaves it below maxmemory,
   * where small writes still go through, so the last gap is filled with smaller and smaller ones.
   */
  async fill(prefix: string): Promise<number> {
    let index = 0;
    for (const bytes of [FILLER_BYTES, 64 * 1024, 1024, 64]) {
      for (;;) {
        if (index >= MAX_FILLER_WRITES * 20)
          throw new Error(`redis at ${this.endpoint} took ${index} values without refusing a 64-byte one (OOM)`);
        try {
          await this.client().set(`${prefix}${index}`, randomBytes(bytes));
          index += 1;
        } catch (error) {
          if (/^OOM /.test((error as Error).message)) break;
          throw error;
        }
      }
    }
    return index;
  }

  /**
   * Lowers maxmemory to `marginBytes` below what Redis uses now. Just past the limit it does not
   * stay full: Redis trims an idle client's query buffer (the filler's 1 MiB values left one that
   * large) and used memory falls below maxmemory again, where writes go through (seen: the
   * daemon's writes were taken a few seconds after the fill).
   */
  async pinFull(marginBytes: number): Promise<number> {
    const used = Number(/used_memory:(\d+)/.exec(await this.client().info('memory'))?.[1]);
    const limit = used - marginBytes;
    await this.client().config('SET', 'maxmemory', String(limit));
    return limit;
  }

  async setMaxmemory(value: string): Promise<void> {
    await this.client().config('SET', 'maxmemory', value);
  }

  async stop(): Promise<void> {
    this.#client?.disconnect();
    await stopChild(`redis-server at ${this.endpoint}`, this.#child);
  }
}
