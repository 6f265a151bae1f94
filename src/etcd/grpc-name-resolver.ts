import { isIP } from 'node:net';
import { experimental, Metadata, status } from '@grpc/grpc-js';
import { nameLookup, type NameLookup } from '../net/name-lookup.ts';

/** The scheme of the etcd client's targets: `appproxy-dns:etcd-2:2379`. */
const GRPC_SCHEME = 'appproxy-dns';

/** How long a channel waits for its name before its calls fail over to another member. */
const NAME_LIMIT_MS = 2000;

/**
 * How often a channel's name is resolved at most. gRPC asks again after every failed connection
 * attempt; answered at once, a member that refuses connections (etcd restarting) turned that into
 * a loop that starved the event loop. gRPC's own resolver waits 30 s between lookups; a member's
 * task moves to another address faster than that, and one lookup a second is nothing.
 */
const MIN_INTERVAL_MS = 1000;

/** gRPC's own default when a target names no port. */
const DEFAULT_PORT = 443;

/**
 * gRPC's name resolver for the etcd members' names, through the process's `NameLookup`.
 *
 * gRPC's own resolver starts a lookup a channel (etcd3 opens one a service a member, and new ones
 * after each failed call), and a call waits for its channel's name until its deadline ("Deadline
 * exceeded after 10.000s, waiting for name resolution"). With a member's name gone (its task
 * drained or demoted away), those lookups filled Node's worker threads and every etcd call of the
 * instance stalled, the live members' too. Here a name has one lookup at a time in the process,
 * and a channel waits at most `NAME_LIMIT_MS` for it: then it reports the name unavailable, its
 * calls fail at once, and etcd3 retries them on another member. No TXT lookups (gRPC's service
 * config from DNS): etcd has none. As gRPC's own resolver does, an address is answered once, and a
 * name at most every `MIN_INTERVAL_MS`.
 */
export class BoundedNameResolver implements experimental.Resolver {
  readonly #target: experimental.GrpcUri;
  readonly #listener: experimental.ResolverListener;
  readonly #lookup: NameLookup;
  readonly #limitMs: number;
  readonly #intervalMs: number;
  /** Bumped by `destroy`: an answer to a lookup started before it is dropped. */
  #generation = 0;
  #resolving = false;
  #startedAt = Number.NEGATIVE_INFINITY;
  #next: NodeJS.Timeout | undefined;
  /** The target's host and port, parsed once (null: no `host:port`, which fails each resolution). */
  readonly #hostPort: experimental.HostPort | null;
  /** The target is an address: nothing to look up, one answer. */
  readonly #isAddress: boolean;
  /** An address target's one answer was given (until `destroy`). */
  #answered = false;

  constructor(
    target: experimental.GrpcUri,
    listener: experimental.ResolverListener,
    _options: unknown,
    lookup: NameLookup = nameLookup,
    limitMs: number = NAME_LIMIT_MS,
    intervalMs: number = MIN_INTERVAL_MS,
  ) {
    this.#target = target;
    this.#listener = listener;
    this.#lookup = lookup;
    this.#limitMs = limitMs;
    this.#intervalMs = intervalMs;
    this.#hostPort = experimental.splitHostPort(target.path);
    this.#isAddress = this.#hostPort !== null && isIP(this.#hostPort.host) !== 0;
  }

  static getDefaultAuthority(target: experimental.GrpcUri): string {
    return target.path;
  }

  updateResolution(): void {
    if (this.#resolving || this.#next !== undefined) return;
    const waitMs = this.#startedAt + this.#intervalMs - performance.now();
    if (waitMs > 0) {
      this.#next = setTimeout(() => {
        this.#next = undefined;
        this.#resolve();
      }, waitMs);
      this.#next.unref();
      return;
    }
    this.#resolve();
  }

  destroy(): void {
    this.#generation += 1;
    this.#resolving = false;
    this.#answered = false;
    clearTimeout(this.#next);
    this.#next = undefined;
  }

  #resolve(): void {
    if (this.#isAddress && this.#answered) return;
    this.#resolving = true;
    this.#startedAt = performance.now();
    const generation = this.#generation;
    // Never answers synchronously (gRPC's contract): even an address goes through a promise.
    this.#endpoints().then(
      (endpoints) => {
        if (generation !== this.#generation) return;
        this.#resolving = false;
        this.#answered = this.#isAddress;
        this.#listener(experimental.statusOrFromValue(endpoints), {}, null, '');
      },
      (error: unknown) => {
        if (generation !== this.#generation) return;
        this.#resolving = false;
        const details = `name resolution of ${experimental.uriToString(this.#target)} failed: ${
          error instanceof Error ? error.message : String(error)
        }`;
        this.#listener(
          experimental.statusOrFromError({ code: status.UNAVAILABLE, details, metadata: new Metadata() }),
          {},
          null,
          '',
        );
      },
    );
  }

  async #endpoints(): Promise<experimental.Endpoint[]> {
    const hostPort = this.#hostPort;
    if (hostPort === null) throw new Error(`"${this.#target.path}" is no host:port`);
    const port = hostPort.port ?? DEFAULT_PORT;
    const addresses = this.#isAddress ? [hostPort.host] : await this.#lookup.resolve(hostPort.host, this.#limitMs);
    if (addresses.length === 0) throw new Error(`${hostPort.host} has no address`);
    return addresses.map((host) => ({ addresses: [{ host, port }] }));
  }
}

/**
 * The gRPC target of an etcd endpoint (`etcd-2:2379`): named by this resolver's scheme, so that its
 * channels resolve through it. gRPC's own `dns:` resolver stays what it was for everything else.
 */
export function boundedTarget(hostPort: string): string {
  experimental.registerResolver(GRPC_SCHEME, BoundedNameResolver);
  return `${GRPC_SCHEME}:${hostPort}`;
}
