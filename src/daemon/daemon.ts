import type Dockerode from 'dockerode';
import { EtcdAuthenticationFailedError, EtcdPermissionDeniedError, EtcdUserNotFoundError, type Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DaemonConfig } from '../config/settings.ts';
import type { CompiledProviderOptions } from '../core/provider/build-configuration.ts';
import { DockerEventWatcher } from '../docker/docker-events.ts';
import type { DockerSource } from '../docker/docker-source.ts';
import { EtcdStore, storeLayout } from '../etcd/etcd-store.ts';
import { EtcdWatcher } from '../etcd/etcd-watcher.ts';
import { LeaseKeeper } from '../etcd/lease-keeper.ts';
import { ReconcileScheduler } from '../sync/reconcile-scheduler.ts';
import { Reconciler, type ReconcileOutcome } from '../sync/reconciler.ts';
import { startHealthServer } from './health-server.ts';
import { createMetrics, type Metrics } from './metrics.ts';

export interface DaemonParts {
  readonly config: DaemonConfig;
  readonly compiled: CompiledProviderOptions;
  readonly docker: Dockerode;
  readonly source: DockerSource;
  readonly etcd: Etcd3;
  readonly logger: Logger;
  /** Called once when retrying cannot help (etcd refused the credentials): the command exits. */
  readonly onFatal?: (message: string) => void;
}

function isCredentialError(error: Error): boolean {
  return error instanceof EtcdAuthenticationFailedError || error instanceof EtcdUserNotFoundError || error instanceof EtcdPermissionDeniedError;
}

/**
 * Errors that retrying cannot cure: etcd refused the user, the password or the user's rights.
 * Starting anyway would look like an etcd outage (not ready, forever), so the daemon stops and says so.
 */
function credentialProblem(wrapped: unknown, config: DaemonConfig): string | undefined {
  // The store wraps etcd3's errors (EtcdUnavailableError): look down the chain of causes.
  let error = wrapped;
  while (error instanceof Error && !isCredentialError(error) && error.cause !== undefined) error = error.cause;
  const user = config.etcd.username === undefined ? 'no user' : `user "${config.etcd.username}"`;
  if (error instanceof EtcdAuthenticationFailedError || error instanceof EtcdUserNotFoundError) {
    return `etcd refused the credentials (${user}): ${(error as Error).message}. Check --etcd-username and the password (APPPROXY_ETCD_PASSWORD or the config file)`;
  }
  if (error instanceof EtcdPermissionDeniedError) {
    const root = config.rootKey;
    return `etcd denied ${user} access: ${(error as Error).message}. Grant its role readwrite on the key "${root}" and the prefixes "${root}/", "appproxy/claims/${root}/" and "appproxy/owners/${root}/"`;
  }
  return undefined;
}

/** How often Swarm services and tasks are read again: task changes on other nodes send no event here. */
const SWARM_POLL_MS = 2000;

/**
 * `appproxy run`: keeps etcd equal to what Docker runs. Docker events, a resync timer and lease
 * changes only trigger the reconcile; the reconcile computes everything each time.
 */
export class Daemon {
  readonly #parts: DaemonParts;
  readonly #log: Logger;
  readonly metrics: Metrics;
  readonly store: EtcdStore;
  #lease: LeaseKeeper | undefined;
  #reconciler: Reconciler | undefined;
  #scheduler: ReconcileScheduler | undefined;
  #events: DockerEventWatcher | undefined;
  #watcher: EtcdWatcher | undefined;
  #http: FastifyInstance | undefined;
  #timers: NodeJS.Timeout[] = [];
  #firstSync = false;
  #dockerOk = false;
  #eventsFollowed = false;
  #etcdOk = false;
  #previousLease: string | undefined;
  #stopping = false;
  /** The last pass, for tests and logs. */
  lastOutcome: ReconcileOutcome | undefined;

  constructor(parts: DaemonParts) {
    this.#parts = parts;
    this.#log = parts.logger;
    this.metrics = createMetrics();
    this.store = new EtcdStore(parts.etcd, storeLayout(parts.config.rootKey, parts.config.owner));
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
    this.#http = await startHealthServer(config.listen, { reasons: () => this.readinessReasons() }, this.metrics.registry);
    this.#log.info({ listen: config.listen }, 'health and metrics listening');

    this.#scheduler = new ReconcileScheduler(() => this.#pass(), {
      onError: (error, retryInMs) => {
        this.metrics.reconciles.inc({ result: 'error' });
        this.#log.warn({ err: error, retryInMs }, 'reconcile failed; retrying');
      },
    });
    void this.#connectEtcd();

    this.#events = new DockerEventWatcher(
      this.#parts.docker,
      this.#log.child({ component: 'docker-events' }),
      (event) => {
        this.metrics.events.inc({ type: event.type, action: event.action });
        if (event.type === 'container') this.#parts.source.invalidate?.(event.id);
        this.#scheduler?.trigger();
      },
      (connected) => {
        this.#setDockerOk(connected, 'events');
        // A (re)connected stream may have missed events: resync.
        if (connected) this.#scheduler?.trigger();
      },
    );
    this.#events.start();
    this.#timers.push(setInterval(() => this.#scheduler?.trigger(), config.resyncSeconds * 1000));
    this.#timers.push(setInterval(() => this.#pollSwarm(), SWARM_POLL_MS));
  }

  /** Grants the lease, retrying with backoff until etcd answers; then the first pass runs. */
  async #connectEtcd(): Promise<void> {
    const { config } = this.#parts;
    for (let delay = 200; !this.#stopping; delay = Math.min(delay * 2, 10_000)) {
      try {
        const previous = await this.store.previousLease();
        const lease = new LeaseKeeper(this.#parts.etcd, config.etcd.leaseSeconds, this.#log.child({ component: 'lease' }), () => {
          // The reconcile moves every leased key of this owner to the new lease.
          void this.store.recordOwner(lease.leaseId()).catch((error: unknown) => this.#log.warn({ err: error }, 'owner record not written'));
          this.#scheduler?.trigger();
        });
        await lease.start();
        this.#lease = lease;
        if (previous !== undefined && previous.id !== lease.leaseId()) {
          this.#previousLease = previous.id;
          this.#log.info({ previousLease: previous.id, keys: previous.keys.length }, 'taking over what a previous run of this owner wrote');
        }
        this.#reconciler = new Reconciler({
          source: this.#parts.source,
          store: this.store,
          compiled: this.#parts.compiled,
          lease,
          logger: this.#log.child({ component: 'reconcile' }),
          inherited: previous?.keys ?? [],
        });
        await this.store.recordOwner(lease.leaseId());
        const reconciler = this.#reconciler;
        this.#watcher = new EtcdWatcher(
          this.#parts.etcd,
          [`${config.rootKey}/`, this.store.layout.claimsPrefix],
          this.#log.child({ component: 'etcd-watch' }),
          (revision) => reconciler.ownRevisions.has(revision),
          () => this.#scheduler?.trigger(),
        );
        await this.#watcher.start();
        this.#setEtcdOk(true);
        this.#log.info({ lease: lease.leaseId(), ttlSeconds: config.etcd.leaseSeconds }, 'etcd connected, lease granted');
        this.#scheduler?.trigger();
        return;
      } catch (error) {
        this.#setEtcdOk(false);
        this.metrics.errors.inc({ kind: 'etcd' });
        const fatal = credentialProblem(error, config);
        if (fatal !== undefined && this.#parts.onFatal !== undefined) {
          this.#log.fatal(fatal);
          this.#parts.onFatal(fatal);
          return;
        }
        this.#log.warn({ err: error, retryInMs: delay }, 'etcd not reachable yet');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  #swarmSignature = '';

  /** Swarm task states on other nodes send no event to this engine: compare a cheap signature instead. */
  async #pollSwarm(): Promise<void> {
    try {
      const info = (await this.#parts.docker.info()) as { Swarm?: { ControlAvailable?: boolean } };
      if (info.Swarm?.ControlAvailable !== true) return;
      const tasks = (await this.#parts.docker.listTasks({ filters: JSON.stringify({ 'desired-state': ['running'] }) })) as { ID: string; Version?: { Index?: number } }[];
      const signature = tasks.map((task) => `${task.ID}:${task.Version?.Index ?? 0}`).sort().join(',');
      if (signature !== this.#swarmSignature) {
        this.#swarmSignature = signature;
        this.#scheduler?.trigger();
      }
    } catch (error) {
      this.#log.debug({ err: error }, 'Swarm poll failed');
    }
  }

  async #pass(): Promise<void> {
    const reconciler = this.#reconciler;
    if (reconciler === undefined || this.#stopping) return;
    const timer = this.metrics.reconcileSeconds.startTimer();
    let outcome: ReconcileOutcome;
    try {
      outcome = await reconciler.reconcile();
      this.#setEtcdOk(true);
    } catch (error) {
      const kind = (error as Error).name === 'EtcdUnavailableError' ? 'etcd' : 'docker';
      if (kind === 'etcd') this.#setEtcdOk(false);
      else this.#setDockerOk(false);
      this.metrics.errors.inc({ kind });
      throw error;
    } finally {
      timer();
    }
    // The pass listed the workloads: Docker answered.
    this.#setDockerOk(true);
    this.lastOutcome = outcome;
    this.#report(outcome);
    if (this.#previousLease !== undefined) {
      // Everything still wanted now lives on the new lease; what is left on the old one is stale.
      const previous = this.#previousLease;
      this.#previousLease = undefined;
      await this.store.revoke(previous).catch((error: unknown) => this.#log.warn({ err: error, lease: previous }, 'previous lease not revoked; it will expire'));
    }
    this.#firstSync = true;
  }

  #lastProblems = new Set<string>();

  #report(outcome: ReconcileOutcome): void {
    const m = this.metrics;
    m.reconciles.inc({ result: 'ok' });
    m.transactions.inc(outcome.transactions);
    m.operations.inc(outcome.operations);
    m.lastSync.set(Date.now() / 1000);
    m.workloads.set(outcome.build.routed.length);
    m.conflicts.set(outcome.conflicts.length);
    const configuration = outcome.build.configuration as Record<string, Record<string, Record<string, unknown>> | undefined>;
    for (const protocol of ['http', 'tcp', 'udp'] as const) {
      for (const kind of ['routers', 'services', 'middlewares'] as const) {
        m.resources.set({ kind: `${protocol}_${kind}` }, Object.keys(configuration[protocol]?.[kind] ?? {}).length);
      }
    }
    m.problems.set({ severity: 'error' }, outcome.build.problems.filter((problem) => problem.severity === 'error').length);
    m.problems.set({ severity: 'warning' }, outcome.build.problems.filter((problem) => problem.severity === 'warning').length);
    // Problems are logged when they appear, not on every pass.
    const current = new Set<string>();
    for (const problem of outcome.build.problems) {
      const key = JSON.stringify(problem);
      current.add(key);
      if (!this.#lastProblems.has(key)) this.#log[problem.severity === 'error' ? 'error' : 'warn']({ workload: problem.workload, label: problem.label }, problem.message);
    }
    for (const conflict of outcome.conflicts) {
      const key = `conflict:${conflict.resource}:${conflict.owners.join(',')}`;
      current.add(key);
      if (!this.#lastProblems.has(key)) {
        this.#log.error({ resource: conflict.resource, owners: conflict.owners }, 'another owner defines this resource differently; left as it is: make the definitions equal or rename one');
      }
    }
    for (const entry of outcome.refused) {
      const key = `refused:${entry.key}:${entry.bytes}`;
      current.add(key);
      if (!this.#lastProblems.has(key)) {
        this.#log.error({ resource: entry.label, key: entry.key, bytes: entry.bytes }, 'a value is larger than etcd takes in one request; this resource is left as it is: shorten the label that sets it');
      }
    }
    this.#lastProblems = current;
    if (outcome.transactions > 0) {
      this.#log.info({ transactions: outcome.transactions, operations: outcome.operations, replans: outcome.replans, routed: outcome.build.routed.length }, 'etcd updated');
    }
  }

  /** Graceful stop: no new pass, the one under way finishes; the lease is left to a restart (or to expire). */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#events?.stop();
    await this.#watcher?.stop();
    await this.#scheduler?.stop();
    this.#lease?.release();
    await this.#http?.close();
    this.#parts.etcd.close();
  }
}
