import type { InstanceLimits } from '../core/limits.ts';
import type { Logger } from 'pino';
import type { CompiledTranslateOptions } from '../core/translate/translate-options.ts';
import pTimeout from 'p-timeout';
import { retryForever } from '../retry/retry-forever.ts';
import { KeyLayout } from '../sync/key-layout.ts';
import type { Candidacy, KvStore } from '../sync/kv-store.ts';
import type { CommitListener } from '../sync/sync-engine.ts';
import type { WorkloadSource } from '../sync/workload-changes.ts';
import { OwnerRole } from './owner-role.ts';
import type { ActivitySource } from '../sync/app-serving.ts';
import { thisInstance } from './owner-record.ts';
import { NotSwarmManagerError } from '../docker/docker-source.ts';

/**
 * The Swarm services' keys live on a lease this many times the election's: when the writer dies,
 * its election key goes after one lease time and the next writer is elected, while the services'
 * keys are still there for it to take over (rewritten on its own lease, unchanged for Traefik).
 * No moment without them, and no moment with two copies: every writer writes them under the same
 * owner id. Should every instance be gone, they leave Traefik after this many lease times.
 */
export const SWARM_LEASE_FACTOR = 3;
/** A lost candidacy stands again after this wait (the store may be down: no tight loop). */
const STAND_AGAIN_MS = 1000;
/** How long each of a step down's calls (the role's stop, the resignation) may take. */
const STEP_DOWN_LIMIT_MS = 5000;

export interface SwarmWriterOptions {
  readonly store: KvStore;
  readonly rootKey: string;
  /** This instance's own owner id (announced as the candidate's value). */
  readonly instanceOwner: string;
  /** The Swarm services' owner id; by default `swarm-<first 12 characters of the cluster id>`. */
  readonly swarmOwner: string | undefined;
  readonly compiled: CompiledTranslateOptions;
  readonly source: WorkloadSource;
  readonly leaseSeconds: number;
  readonly logger: Logger;
  /** The writer's store view changed: a pass is needed. */
  readonly onDirty: () => void;
  /** Leadership came, or the writer's lease was replaced: a pass is needed now, past any backoff. */
  readonly onChange: () => void;
  /** Whether this instance writes the Swarm services now. */
  readonly onWriter: (writer: boolean) => void;
  /** What is known of the apps' use, for their records. */
  readonly activity?: ActivitySource | undefined;
  /** The keys and bytes everything the Swarm writer writes may reach. */
  readonly limits?: InstanceLimits | undefined;
  /** Each committed transaction's changed resources (the read-back). */
  readonly onCommitted?: CommitListener | undefined;
}

/** The owner id of a Swarm cluster's services when none is configured. */
export function defaultSwarmOwner(clusterId: string): string {
  return `swarm-${(clusterId.replace(/[^A-Za-z0-9]/g, '').slice(0, 12) || 'cluster').toLowerCase()}`;
}

/**
 * Exactly one instance of those on a Swarm's managers writes its services, elected through the
 * store (etcd's election API): the others stand in line and take over within the lease time when
 * the writer dies, loses the store, or stops. Each instance writes its own node's containers
 * regardless (its OwnerRole of the node). A writer's transactions carry its leader key as a
 * fence: one that lost its election without noticing yet cannot write.
 */
export class SwarmWriter {
  readonly #options: SwarmWriterOptions;
  readonly #log: Logger;
  #clusterId: string | undefined;
  #candidacy: Candidacy | undefined;
  #role: OwnerRole | undefined;
  #term: AbortController | undefined;
  #standTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Since when the writer's passes find this engine unable to read the Swarm services. */
  #unreadableSince: number | undefined;

  constructor(options: SwarmWriterOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  /** The Swarm services' owner role while this instance writes them (and is connected). */
  role(): OwnerRole | undefined {
    return this.#role?.connected === true ? this.#role : undefined;
  }

  /** The owner id the Swarm services are written under (once a cluster is known). */
  owner(): string | undefined {
    if (this.#clusterId === undefined) return this.#options.swarmOwner;
    return this.#options.swarmOwner ?? defaultSwarmOwner(this.#clusterId);
  }

  /** What Docker says this engine is now: a manager of cluster `clusterId`, or not a manager (undefined). */
  update(clusterId: string | undefined): void {
    if (this.#stopped) return;
    if (clusterId === this.#clusterId) return;
    if (this.#candidacy !== undefined) {
      this.#log.info({ clusterId }, 'no longer a manager of the same Swarm; stepping down as a candidate Swarm writer');
      void this.#stepDown('not a manager of this Swarm any more');
    }
    this.#clusterId = clusterId;
    if (clusterId !== undefined) this.#stand();
  }

  #stand(): void {
    const owner = this.owner();
    if (this.#stopped || this.#clusterId === undefined || this.#candidacy !== undefined || owner === undefined) return;
    const layout = new KeyLayout(this.#options.rootKey, owner);
    const value = JSON.stringify({ owner: this.#options.instanceOwner, ...thisInstance() });
    const candidacy = this.#options.store.campaign(
      layout.electionsPrefix,
      owner,
      value,
      this.#options.leaseSeconds,
      (reason) => {
        if (this.#candidacy !== candidacy) return;
        this.#log.warn({ reason, swarmOwner: owner }, 'Swarm writer candidacy lost; standing again');
        void this.#stepDown(reason).finally(() => this.#standLater());
      },
    );
    this.#candidacy = candidacy;
    this.#log.info({ swarmOwner: owner }, 'standing as Swarm writer');
    candidacy.elected().then(
      () => void this.#lead(candidacy, owner),
      (error: unknown) => {
        if (this.#candidacy !== candidacy) return;
        this.#log.warn({ err: error }, 'Swarm writer candidacy failed; standing again');
        void this.#stepDown(String(error)).finally(() => this.#standLater());
      },
    );
  }

  #standLater(): void {
    if (this.#stopped) return;
    clearTimeout(this.#standTimer);
    this.#standTimer = setTimeout(() => this.#stand(), STAND_AGAIN_MS);
  }

  async #lead(candidacy: Candidacy, owner: string): Promise<void> {
    if (this.#candidacy !== candidacy || this.#stopped) return;
    const term = new AbortController();
    this.#term = term;
    try {
      await retryForever(
        async () => {
          const fence = await candidacy.fence();
          const role = new OwnerRole({
            store: this.#options.store,
            rootKey: this.#options.rootKey,
            owner,
            compiled: this.#options.compiled,
            source: this.#options.source,
            leaseSeconds: this.#options.leaseSeconds * SWARM_LEASE_FACTOR,
            logger: this.#log.child({ owner }),
            exclusive: false,
            fence,
            onDirty: this.#options.onDirty,
            onLeaseReplaced: this.#options.onChange,
            activity: this.#options.activity,
            limits: this.#options.limits,
            onCommitted: this.#options.onCommitted,
          });
          await role.connect();
          if (term.signal.aborted) {
            await role.stop();
            return;
          }
          this.#role = role;
        },
        {
          minMs: 200,
          maxMs: 2000,
          signal: term.signal,
          onFailure: (error, retryInMs) => this.#log.warn({ err: error, retryInMs }, 'Swarm writer not connected yet'),
        },
      );
    } catch {
      return; // the term ended before it began
    }
    if (this.#role === undefined) return;
    this.#log.info(
      { swarmOwner: owner, lease: this.#role.leaseId() },
      'elected Swarm writer: this instance writes the Swarm services',
    );
    this.#options.onWriter(true);
    this.#options.onChange();
  }

  /**
   * How the writer's pass went (its error, or undefined). A manager cut off from its Swarm's quorum
   * still says it manages the Swarm (`GET /info` may not answer at all), while its service listing
   * fails: such a writer writes nothing, yet holds the election while it reaches etcd. Once its
   * passes have failed so for half the election lease, it steps down and stands again, behind the
   * others: a manager that can read the services writes them.
   */
  passed(error: unknown): void {
    const unreadable = error instanceof Error && error.cause instanceof NotSwarmManagerError;
    if (!unreadable || this.#role === undefined) {
      this.#unreadableSince = undefined;
      return;
    }
    const now = performance.now();
    this.#unreadableSince ??= now;
    const forMs = now - this.#unreadableSince;
    if (forMs < (this.#options.leaseSeconds * 1000) / 2) return;
    this.#unreadableSince = undefined;
    this.#log.warn(
      { forSeconds: Math.round(forMs / 100) / 10 },
      'this engine cannot read the Swarm services (no Swarm leader within its reach): stepping down as the Swarm writer; a manager that can read them writes them',
    );
    void this.#stepDown('this engine cannot read the Swarm services').finally(() => this.#standLater());
  }

  /** A write was refused by the fence: another instance leads. */
  async fenced(): Promise<void> {
    this.#log.warn('a Swarm write was refused: another instance leads now; standing again');
    await this.#stepDown('fenced');
    this.#standLater();
  }

  async #stepDown(reason: string): Promise<void> {
    const candidacy = this.#candidacy;
    const role = this.#role;
    this.#candidacy = undefined;
    this.#role = undefined;
    this.#term?.abort(new Error(reason));
    this.#term = undefined;
    if (role !== undefined) {
      this.#options.onWriter(false);
      // Not revoked: the next writer takes the keys over before their lease runs out.
      await this.#bounded('stopping the Swarm writer role', role.stop());
    }
    if (candidacy !== undefined) await this.#bounded('resigning', candidacy.resign());
  }

  /**
   * A step down's own calls reach the store, which may be what failed: each is given STEP_DOWN_LIMIT_MS
   * and then left, so that the instance always stands again (on three nodes, one that stepped down
   * while cut off from etcd's majority never stood again, and no writer was elected once it was the
   * last manager able to).
   */
  async #bounded(what: string, work: Promise<unknown>): Promise<void> {
    await pTimeout(work, {
      milliseconds: STEP_DOWN_LIMIT_MS,
      message: `${what}: no end within ${STEP_DOWN_LIMIT_MS} ms`,
    }).catch((error: unknown) =>
      this.#log.warn({ err: error }, `${what} did not end cleanly; standing again all the same`),
    );
  }

  /** A clean stop: the keys stay for the next writer, and resigning lets it be elected at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#standTimer);
    await this.#stepDown('stopping');
  }
}
