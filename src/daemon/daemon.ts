import type Dockerode from 'dockerode';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DaemonConfig } from '../config/settings.ts';
import type { CompiledProviderOptions } from '../core/provider/build-configuration.ts';
import { DockerChanges } from '../docker/docker-changes.ts';
import type { DockerSource } from '../docker/docker-source.ts';
import type { EventWatcherTimings } from '../docker/docker-events.ts';
import { swarmTaskContainer } from '../docker/task-container.ts';
import { retryForever } from '../retry/retry-forever.ts';
import { KeyLayout } from '../sync/key-layout.ts';
import { StoreUnavailableError, type KvStore, type StoreLease } from '../sync/kv-store.ts';
import { ReconcileScheduler } from '../sync/reconcile-scheduler.ts';
import { Reconciler, SourceUnavailableError } from '../sync/reconciler.ts';
import { SyncEngine } from '../sync/sync-engine.ts';
import { distance } from 'fastest-levenshtein';
import { explainWorkload, findWorkload } from '../core/explain/explain-workload.ts';
import { formatExplanation, type DaemonFacts } from '../core/explain/format-explanation.ts';
import { claimIdOf } from '../core/resource-kinds.ts';
import { credentialProblem } from './credential-problem.ts';
import { startHealthServer } from './health-server.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { OutcomeReporter } from './outcome-reporter.ts';

/** How often the store is asked one small read, to know whether it answers (and when it is back). */
const STORE_PROBE_MS = 2000;

export interface DaemonParts {
  readonly config: DaemonConfig;
  readonly compiled: CompiledProviderOptions;
  readonly docker: Dockerode;
  readonly source: DockerSource;
  readonly store: KvStore;
  readonly logger: Logger;
  /** Closes the store's client when the daemon stops. */
  readonly closeStore?: () => void;
  /** Called once when retrying cannot help (etcd refused the credentials): the command exits. */
  readonly onFatal?: (message: string) => void;
  /** Event-stream liveness checks (tests shorten them). */
  readonly eventTimings?: EventWatcherTimings;
}

/**
 * `appproxy run`: wires the Docker edge, the sync engine and the store together, and says whether
 * it is ready. Docker changes, the resync timer and lease changes only note what to read again
 * and trigger a pass; the engine does the rest.
 */
export class Daemon {
  readonly #parts: DaemonParts;
  readonly #log: Logger;
  readonly metrics: Metrics;
  readonly layout: KeyLayout;
  readonly #reporter: OutcomeReporter;
  readonly #abort = new AbortController();
  #lease: StoreLease | undefined;
  #engine: SyncEngine | undefined;
  #reconciler: Reconciler | undefined;
  #scheduler: ReconcileScheduler | undefined;
  #changes: DockerChanges | undefined;
  #http: FastifyInstance | undefined;
  #timers: NodeJS.Timeout[] = [];
  #firstSync = false;
  #dockerOk = false;
  #eventsFollowed = false;
  #etcdOk = false;
  #previousLease: string | undefined;
  #stopping = false;
  #probing = false;

  constructor(parts: DaemonParts) {
    this.#parts = parts;
    this.#log = parts.logger;
    this.metrics = createMetrics();
    this.layout = new KeyLayout(parts.config.rootKey, parts.config.owner);
    this.#reporter = new OutcomeReporter(this.metrics, parts.logger);
    this.#setDockerOk(false);
    this.#setEtcdOk(false);
  }

  /**
   * Docker counts as reachable while the event stream is followed (and its engine answers pings)
   * and the last listing got its answers: either alone can be true of a wedged engine.
   */
  #setDockerOk(ok: boolean, via: 'events' | 'listing' = 'listing'): void {
    if (via === 'events') this.#eventsFollowed = ok;
    else this.#dockerOk = ok;
    this.metrics.reachable.set({ dependency: 'docker' }, this.#dockerOk && this.#eventsFollowed ? 1 : 0);
  }

  #setEtcdOk(ok: boolean): void {
    this.#etcdOk = ok;
    this.metrics.reachable.set({ dependency: 'etcd' }, ok ? 1 : 0);
  }

  readinessReasons(): string[] {
    const reasons: string[] = [];
    if (!this.#firstSync) reasons.push('first sync not done');
    if (!this.#dockerOk) reasons.push('Docker unreachable (its last listing failed)');
    else if (!this.#eventsFollowed) reasons.push('Docker unreachable (event stream not followed)');
    if (!this.#etcdOk) reasons.push('etcd unreachable');
    return reasons;
  }

  async start(): Promise<void> {
    const { config } = this.#parts;
    this.#http = await startHealthServer(config.listen, { reasons: () => this.readinessReasons() }, this.metrics.registry, (name) => this.explain(name));
    this.#log.info({ listen: config.listen }, 'health and metrics listening');

    this.#scheduler = new ReconcileScheduler(() => this.#pass(), {
      onError: (error, retryInMs) => {
        this.metrics.reconciles.inc({ result: 'error' });
        this.#log.warn({ err: error, retryInMs }, 'reconcile failed; retrying');
      },
    });
    void this.#connectStore();

    this.#changes = new DockerChanges(
      this.#parts.docker,
      this.#log,
      {
        onChange: (change) => {
          this.#reconciler?.note(change);
          this.#scheduler?.trigger();
        },
        onConnection: (connected) => {
          this.#setDockerOk(connected, 'events');
          if (connected) this.#scheduler?.wake();
        },
        onEvent: (event) => this.metrics.events.inc({ type: event.type, action: event.action }),
      },
      this.#parts.eventTimings,
    );
    this.#changes.start();
    this.#timers.push(
      setInterval(() => {
        this.#reconciler?.note({ kind: 'all' });
        this.#scheduler?.trigger();
      }, config.resyncSeconds * 1000),
      setInterval(() => void this.#probeStore(), STORE_PROBE_MS),
    );
  }

  /**
   * A pass with nothing to write reads nothing from the store (the mirror has it), so passes alone
   * would not notice a store that stopped answering: one small read, under the call limit, does.
   */
  async #probeStore(): Promise<void> {
    if (this.#engine === undefined || this.#probing) return;
    this.#probing = true;
    try {
      await this.#parts.store.get(this.layout.ownerKey);
      if (!this.#etcdOk) {
        this.#log.info('etcd answers again');
        this.#scheduler?.wake();
      }
      this.#setEtcdOk(true);
    } catch (error) {
      if (this.#etcdOk) this.#log.warn({ err: error }, 'etcd does not answer; what is routed stays as it is');
      this.#setEtcdOk(false);
      this.metrics.errors.inc({ kind: 'etcd' });
    } finally {
      this.#probing = false;
    }
  }

  /** Opens the lease, retrying with backoff until the store answers; then the first pass runs. */
  async #connectStore(): Promise<void> {
    const { config, store } = this.#parts;
    try {
      await retryForever(
        async () => {
          const previousId = await store.get(this.layout.ownerKey);
          const previousKeys = previousId === undefined || previousId === '' ? undefined : await store.leaseKeys(previousId);
          const lease = await store.openLease(config.etcd.leaseSeconds, () => {
            // The engine moves every leased key of this owner to the new lease.
            void store.putLeased(this.layout.ownerKey, lease.leaseId(), lease.leaseId()).catch((error: unknown) => this.#log.warn({ err: error }, 'owner record not written'));
            this.#engine?.requestFullPass();
            this.#scheduler?.trigger();
            this.#scheduler?.wake();
          });
          try {
            await store.putLeased(this.layout.ownerKey, lease.leaseId(), lease.leaseId());
          } catch (error) {
            lease.release();
            throw error;
          }
          this.#lease = lease;
          if (previousKeys !== undefined && previousId !== lease.leaseId()) {
            this.#previousLease = previousId;
            this.#log.info({ previousLease: previousId, keys: previousKeys.length }, 'taking over what a previous run of this owner wrote');
          }
          this.#engine = new SyncEngine({
            store,
            layout: this.layout,
            compiled: this.#parts.compiled,
            lease,
            logger: this.#log.child({ component: 'sync' }),
            inherited: previousKeys ?? [],
            onDirty: () => this.#scheduler?.trigger(),
          });
          this.#reconciler = new Reconciler(this.#parts.source, this.#engine);
        },
        {
          minMs: 200,
          signal: this.#abort.signal,
          isFatal: (error) => credentialProblem(error, config) !== undefined,
          onFailure: (error, retryInMs) => {
            this.#setEtcdOk(false);
            this.metrics.errors.inc({ kind: 'etcd' });
            this.#log.warn({ err: error, retryInMs }, 'etcd not reachable yet');
          },
        },
      );
    } catch (error) {
      if (this.#stopping) return;
      const fatal = credentialProblem(error, config) ?? String(error);
      this.#log.fatal(fatal);
      this.#parts.onFatal?.(fatal);
      return;
    }
    this.#setEtcdOk(true);
    this.#log.info({ lease: this.#lease?.leaseId(), ttlSeconds: config.etcd.leaseSeconds }, 'etcd connected, lease granted');
    this.#scheduler?.trigger();
  }

  async #pass(): Promise<void> {
    const reconciler = this.#reconciler;
    const engine = this.#engine;
    if (reconciler === undefined || engine === undefined || this.#stopping) return;
    const timer = this.metrics.reconcileSeconds.startTimer();
    let outcome;
    try {
      outcome = await reconciler.reconcile();
      this.#setEtcdOk(true);
    } catch (error) {
      const kind = error instanceof SourceUnavailableError ? 'docker' : error instanceof StoreUnavailableError ? 'etcd' : 'other';
      if (kind === 'docker') this.#setDockerOk(false);
      if (kind === 'etcd') this.#setEtcdOk(false);
      this.metrics.errors.inc({ kind });
      throw error;
    } finally {
      timer();
    }
    // Whatever the pass read, Docker answered it.
    if (outcome.read !== 'nothing') this.#setDockerOk(true);
    this.#reporter.report(outcome, engine);
    if (this.#previousLease !== undefined) {
      // Everything still wanted now lives on the new lease; what is left on the old one is stale.
      const previous = this.#previousLease;
      this.#previousLease = undefined;
      await this.#parts.store.revoke(previous).catch((error: unknown) => this.#log.warn({ err: error, lease: previous }, 'previous lease not revoked; it will expire'));
    }
    this.#firstSync = true;
  }

  /**
   * `appproxy explain` as this daemon sees it: the workloads read from Docker now, and what only
   * the daemon knows (its owner id and lease, other owners' conflicting claims, the last
   * transaction that touched the workload's keys).
   */
  async explain(name: string): Promise<{ status: number; body: unknown }> {
    const { config, compiled } = this.#parts;
    let workloads;
    try {
      workloads = await this.#parts.source.listWorkloads();
    } catch (error) {
      return { status: 503, body: { error: `Docker could not be read: ${(error as Error).message}` } };
    }
    const match = findWorkload(workloads, name, distance);
    const target = match.found ?? (await swarmTaskContainer(this.#parts.docker, name));
    if (target === undefined) return { status: 404, body: { error: `no container or Swarm service named "${name}"`, closest: match.found === undefined ? match.closest : [] } };
    const explanation = explainWorkload(target, workloads, compiled, { rootKey: config.rootKey, ownerId: config.owner });
    const resourceIds = new Set(explanation.resources.map((resource) => claimIdOf(resource.resource)));
    const keys = new Set(explanation.keys.map((line) => line.slice(0, line.indexOf('='))));
    const daemon: DaemonFacts = {
      owner: config.owner,
      lease: this.#lease?.leaseId(),
      ownerConflicts: (this.#engine?.conflicts() ?? []).filter((conflict) => resourceIds.has(claimIdOf(conflict.resource))),
      lastTransaction: this.#engine?.lastTransactionTouching(keys),
    };
    return { status: 200, body: { ...explanation, daemon, text: formatExplanation(explanation, daemon) } };
  }

  /** Graceful stop: no new pass, the one under way finishes; the lease is left to a restart (or to expire). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort(new Error('stopping'));
    for (const timer of this.#timers) clearInterval(timer);
    this.#changes?.stop();
    await this.#scheduler?.stop();
    await this.#engine?.stop();
    this.#lease?.release();
    await this.#http?.close();
    this.#parts.closeStore?.();
  }
}
