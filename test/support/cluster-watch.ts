// What the multi-node fault scenarios watch while a fault or a deploy runs: requests through an
// entry point (counted, with the time of every failure), a service's servers in each node's Traefik
// (sampled), and its server keys in etcd (at every revision). Every loop and wait is bounded.
import type { Etcd3, Watcher } from 'etcd3';
import type { TestNode } from './env.ts';
import { httpGet } from './http-get.ts';
import { within } from './within.ts';

export interface LoopStats {
  requests: number;
  failed: number;
  /** The first failures: milliseconds since the scenario's start, and what happened. */
  first: { at: number; what: string }[];
  /** When every failed request was sent (ms since the start). */
  failedAt: number[];
}

/** A bounded request loop through one entry point: GET `path`, `limitMs` each, 50 ms apart, for 10 minutes at most. */
export class RequestLoop {
  readonly name: string;
  readonly stats: LoopStats = { requests: 0, failed: 0, first: [], failedAt: [] };
  readonly #url: string;
  readonly #path: string;
  readonly #host: string | undefined;
  readonly #limitMs: number;
  #stop = false;
  #done: Promise<void> = Promise.resolve();

  constructor(name: string, url: string, path: string, options: { host?: string; limitMs: number }) {
    this.name = name;
    this.#url = url;
    this.#path = path;
    this.#host = options.host;
    this.#limitMs = options.limitMs;
  }

  start(origin: number): void {
    const deadline = Date.now() + 600_000;
    this.#done = (async () => {
      while (!this.#stop && Date.now() < deadline) {
        const sent = performance.now() - origin;
        this.stats.requests += 1;
        const what = await httpGet(this.#url, this.#path, this.#host ? { host: this.#host } : {}, this.#limitMs).then(
          (reply) => (reply.status === 200 ? undefined : `HTTP ${reply.status}`),
          (error: unknown) => (error as Error).message,
        );
        if (what !== undefined) {
          this.stats.failed += 1;
          this.stats.failedAt.push(Math.round(sent));
          if (this.stats.first.length < 10) this.stats.first.push({ at: Math.round(sent), what });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
  }

  async stop(): Promise<LoopStats> {
    this.#stop = true;
    await this.#done;
    return this.stats;
  }
}

/**
 * A service's servers in each node's Traefik every 250 ms (`read` gives them, sorted; a failed read
 * is no sample), for 10 minutes at most: duplicates, and when they changed.
 */
export class ServerSampler {
  readonly samples = new Map<string, { at: number; urls: string[] }[]>();
  readonly duplicates: string[] = [];
  readonly #read: (node: TestNode) => Promise<string[]>;
  #stop = false;
  #done: Promise<void>[] = [];

  constructor(read: (node: TestNode) => Promise<string[]>) {
    this.#read = read;
  }

  start(nodes: readonly TestNode[], origin: number): void {
    const deadline = Date.now() + 600_000;
    for (const node of nodes) {
      const samples: { at: number; urls: string[] }[] = [];
      this.samples.set(node.name, samples);
      this.#done.push(
        (async () => {
          while (!this.#stop && Date.now() < deadline) {
            const at = Math.round(performance.now() - origin);
            const urls = await this.#read(node).catch(() => undefined);
            if (urls !== undefined) {
              samples.push({ at, urls });
              if (new Set(urls).size !== urls.length)
                this.duplicates.push(`${node.name} at ${at} ms: ${urls.join(' ')}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await Promise.all(this.#done);
  }

  /** A node's Traefik's server count at each change: `3@0.0 2@12.9 ...` (seconds since the start). */
  timeline(node: TestNode): string {
    const changes: string[] = [];
    let last = '';
    for (const sample of this.samples.get(node.name) ?? []) {
      const key = JSON.stringify(sample.urls);
      if (key !== last) changes.push(`${sample.urls.length}@${(sample.at / 1000).toFixed(1)}`);
      last = key;
    }
    return changes.join(' ');
  }

  /** From when on no sampled Traefik listed any of `servers` (ms since the start); undefined if one still does. */
  goneAt(servers: readonly string[]): number | undefined {
    let gone = 0;
    for (const samples of this.samples.values()) {
      const last = samples.findLastIndex((sample) => sample.urls.some((url) => servers.includes(url)));
      if (last === samples.length - 1) return undefined;
      gone = Math.max(gone, samples[last + 1]?.at ?? 0);
    }
    return gone;
  }

  /** When a node's Traefik last changed its servers (ms since the start): when it had the final ones. */
  settledAt(node: TestNode): number | undefined {
    const samples = this.samples.get(node.name) ?? [];
    const last = samples.at(-1);
    if (last === undefined) return undefined;
    const final = JSON.stringify(last.urls);
    let settled = last.at;
    for (let index = samples.length - 1; index >= 0; index -= 1) {
      if (JSON.stringify(samples[index]?.urls) !== final) break;
      settled = samples[index]?.at ?? settled;
    }
    return settled;
  }
}

/**
 * A service's server keys in etcd (`prefix`) at every revision: two keys with one URL is two copies
 * of a server. And every change under `definitions` (the service's and its router's other keys):
 * once, every Traefik lost the demo's router for 0.3 s at a demote while its servers never left
 * etcd, and what removed it could not be told afterwards.
 */
export class EtcdServers {
  revisions = 0;
  readonly duplicates: string[] = [];
  /** The number of servers at each revision: `2@12.3` (seconds since the start). */
  readonly timeline: string[] = [];
  /** Keys under `definitions` changed, outside the server keys: `delete key@12.3 (revision r)`, `put key=value@…`. */
  readonly definitionChanges: string[] = [];
  readonly #servers = new Map<string, string>();
  readonly #prefix: string;
  readonly #definitions: readonly string[];
  #watcher: Watcher | undefined;

  constructor(prefix: string, definitions: readonly string[] = []) {
    this.#prefix = prefix;
    this.#definitions = definitions;
  }

  async start(client: Etcd3, origin: number): Promise<void> {
    const prefix = this.#prefix;
    const current = await within(`etcd: get ${prefix}`, 10_000, client.getAll().prefix(prefix).strings());
    for (const [key, value] of Object.entries(current)) if (key.endsWith('/url')) this.#servers.set(key, value);
    // One watch over what both cover: their longest common prefix.
    const watched = [prefix, ...this.#definitions].reduce((common, next) => {
      let end = 0;
      while (end < common.length && common[end] === next[end]) end += 1;
      return common.slice(0, end);
    });
    this.#watcher = await within(`etcd: watch ${watched}`, 10_000, client.watch().prefix(watched).create());
    this.#watcher.on('data', (response) => {
      const at = ((performance.now() - origin) / 1000).toFixed(1);
      let servers = false;
      for (const event of response.events) {
        const key = event.kv.key.toString();
        if (!key.startsWith(prefix)) {
          if (this.#definitions.some((definition) => key.startsWith(definition)))
            this.definitionChanges.push(
              event.type === 'Delete'
                ? `delete ${key}@${at} (revision ${response.header.revision})`
                : `put ${key}=${event.kv.value.toString().slice(0, 80)}@${at} (revision ${response.header.revision})`,
            );
          continue;
        }
        servers = true;
        if (!key.endsWith('/url')) continue;
        if (event.type === 'Delete') this.#servers.delete(key);
        else this.#servers.set(key, event.kv.value.toString());
      }
      if (!servers) return;
      this.revisions += 1;
      const urls = [...this.#servers.values()];
      this.timeline.push(`${urls.length}@${at}`);
      if (new Set(urls).size !== urls.length)
        this.duplicates.push(`revision ${response.header.revision}: ${urls.sort().join(' ')}`);
    });
  }

  async stop(): Promise<void> {
    if (this.#watcher !== undefined)
      await within('etcd: the watch to end', 10_000, this.#watcher.cancel()).catch(() => undefined);
  }
}
