import type { InstanceLimits } from '../core/limits.ts';
import type Dockerode from 'dockerode';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DaemonConfig } from '../config/settings.ts';
import type { CompiledProviderOptions } from '../core/provider/build-configuration.ts';
import { DockerChanges } from '../docker/docker-changes.ts';
import type { DockerSource } from '../docker/docker-source.ts';
import type { EventWatcherTimings } from '../docker/docker-events.ts';
import { explainTarget } from '../docker/task-container.ts';
import { retryForever } from '../retry/retry-forever.ts';
import { LeadershipLostError, StoreFullError, StoreUnavailableError, type KvStore } from '../sync/kv-store.ts';
import { ReconcileScheduler } from '../sync/reconcile-scheduler.ts';
import { SourceUnavailableError } from '../sync/reconciler.ts';
import { sourcePart, type WorkloadChange } from '../sync/workload-changes.ts';
import { explainWorkload } from '../core/explain/explain-workload.ts';
import { formatExplanation, type DaemonFacts } from '../core/explain/format-explanation.ts';
import { claimIdOf } from '../core/resource-kinds.ts';
import { credentialProblem } from './credential-problem.ts';
import { startHealthServer } from './health-server.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { OutcomeReporter } from './outcome-reporter.ts';
import { OwnerHeldError } from './owner-guard.ts';
import { OwnerRole } from './owner-role.ts';
import { StoreFullState } from './store-full-state.ts';
import { SwarmWriter } from './swarm-writer.ts';
import { ActivityPoller } from '../activity/activity-poller.ts';
import { ActivityTracker } from '../activity/activity-tracker.ts';
import type { AppRecord } from '../core/apps/app-record.ts';

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
  /** Called once when retrying cannot help (the store refused the credentials): the command exits. */
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
  readonly #reporter: OutcomeReporter;
  readonly #storeFull: StoreFullState;
  readonly #abort = new AbortController();
  /** This node's standalone containers, under this instance's owner id. */
  readonly #node: OwnerRole;
  /** The Swarm services, while this instance is the elected writer. */
  readonly #swarm: SwarmWriter;
  #scheduler: ReconcileScheduler | undefined;
  #changes: DockerChanges | undefined;
  #http: FastifyInstance | undefined;
  #timers: NodeJS.Timeout[] = [];
  #firstSync = false;
  #dockerOk = false;
  #eventsFollowed = false;
  #storeOk = false;
  #stopping = false;
  #probing = false;
  /** The apps' activity, from Traefik's metrics; none without --traefik-metrics-urls. */
  readonly #tracker: ActivityTracker | undefined;
  #poller: ActivityPoller | undefined;

  constructor(parts: DaemonParts) {
    this.#parts = parts;
    this.#log = parts.logger;
    this.metrics = createMetrics();
    this.#reporter = new OutcomeReporter(this.metrics, parts.logger);
    this.#storeFull = new StoreFullState(this.metrics, parts.logger, parts.config.store);
    const { config, compiled, store } = parts;
    this.#tracker = config.traefikMetricsUrls.length > 0 ? new ActivityTracker() : undefined;
    // A lease was replaced, leadership came: a pass now, past any backoff.
    const passSoon = () => {
      this.#scheduler?.trigger();
      this.#scheduler?.wake();
    };
    const instanceLimits: InstanceLimits = { keys: config.maxInstanceKeys, bytes: config.maxInstanceBytes };
    this.#node = new OwnerRole({
      store,
      rootKey: config.rootKey,
      owner: config.owner,
      compiled,
      source: sourcePart(parts.source, 'containers'),
      leaseSeconds: config.leaseSeconds,
      logger: parts.logger,
      exclusive: true,
      onDirty: () => this.#scheduler?.trigger(),
      onLeaseReplaced: passSoon,
      activity: this.#tracker,
      limits: instanceLimits,
    });
    this.#swarm = new SwarmWriter({
      store,
      rootKey: config.rootKey,
      instanceOwner: config.owner,
      swarmOwner: config.swarmOwner,
      compiled,
      source: sourcePart(parts.source, 'swarm'),
      leaseSeconds: config.leaseSeconds,
      logger: parts.logger.child({ component: 'swarm-writer' }),
      onDirty: () => this.#scheduler?.trigger(),
      onChange: passSoon,
      onWriter: (writer) => this.metrics.swarmWriter.set(writer ? 1 : 0),
      activity: this.#tracker,
      limits: instanceLimits,
    });
    this.metrics.swarmWriter.set(0);
    this.#setDockerOk(false);
    this.#setStoreOk(false);
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

  #setStoreOk(ok: boolean): void {
    this.#storeOk = ok;
    this.metrics.reachable.set({ dependency: this.#parts.config.store }, ok ? 1 : 0);
  }

  readinessReasons(): string[] {
    const reasons: string[] = [];
    if (!this.#firstSync) reasons.push('first sync not done');
    if (!this.#dockerOk) reasons.push('Docker unreachable (its last listing failed)');
    else if (!this.#eventsFollowed) reasons.push('Docker unreachable (event stream not followed)');
    if (!this.#storeOk) reasons.push(`${this.#parts.config.store} unreachable`);
    const full = this.#storeFull.reason();
    if (full !== undefined) reasons.push(full);
    return reasons;
  }

  async start(): Promise<void> {
    const { config } = this.#parts;
    this.#http = await startHealthServer(config.listen, { reasons: () => this.readinessReasons() }, this.metrics.registry, (name) => this.explain(name), () => this.apps());
    this.#log.info({ listen: config.listen }, 'health and metrics listening');

    this.#scheduler = new ReconcileScheduler(() => this.#pass(), {
      onError: (error, retryInMs) => {
        this.metrics.reconciles.inc({ result: 'error' });
        // A full store was said once, when it filled: not again on every retry.
        if (error instanceof StoreFullError) this.#log.debug({ err: error, retryInMs }, 'the store is still full; retrying');
        else this.#log.warn({ err: error, retryInMs }, 'reconcile failed; retrying');
      },
    });
    void this.#connectStore();

    this.#changes = new DockerChanges(
      this.#parts.docker,
      this.#log,
      {
        onChange: (change) => this.#note(change),
        onConnection: (connected) => {
          this.#setDockerOk(connected, 'events');
          if (connected) this.#scheduler?.wake();
        },
        onEvent: (event) => this.metrics.events.inc({ type: event.type, action: event.action }),
        onSwarmManager: (clusterId) => this.#swarm.update(clusterId),
      },
      this.#parts.eventTimings,
    );
    this.#changes.start();
    if (this.#tracker !== undefined) {
      this.#poller = new ActivityPoller({
        urls: config.traefikMetricsUrls,
        intervalMs: config.activityIntervalSeconds * 1000,
        tracker: this.#tracker,
        frontends: () => this.#roles().flatMap((role) => role.engine?.appFrontends() ?? []),
        // A pass writes only the records that changed: at most one write per app per interval.
        onPolled: () => this.#scheduler?.trigger(),
        onScrape: (_url, ok) => this.metrics.traefikScrapes.inc({ result: ok ? 'ok' : 'error' }),
        logger: this.#log.child({ component: 'activity' }),
      });
      this.#poller.start();
    }
    this.#timers.push(
      setInterval(() => this.#note({ kind: 'all' }), config.resyncSeconds * 1000),
      setInterval(() => void this.#probeStore(), STORE_PROBE_MS),
    );
  }

  #note(change: WorkloadChange): void {
    for (const role of this.#roles()) role.changes?.note(change);
    this.#scheduler?.trigger();
  }

  /**
   * A pass with nothing to write reads nothing from the store (the mirror has it), so passes alone
   * would not notice a store that stopped answering: one small read, under the call limit, does.
   */
  async #probeStore(): Promise<void> {
    if (!this.#node.connected || this.#probing) return;
    this.#probing = true;
    try {
      await this.#parts.store.get(this.#node.layout.ownerKey);
      if (!this.#storeOk) {
        this.#log.info({ store: this.#parts.config.store }, 'the store answers again');
        this.#scheduler?.wake();
      }
      this.#setStoreOk(true);
    } catch (error) {
      if (this.#storeOk) this.#log.warn({ err: error, store: this.#parts.config.store }, 'the store does not answer; what is routed stays as it is');
      this.#setStoreOk(false);
      this.metrics.errors.inc({ kind: this.#parts.config.store });
    } finally {
      this.#probing = false;
    }
  }

  /** Connects this node's owner, retrying with backoff until the store answers; then the first pass runs. */
  async #connectStore(): Promise<void> {
    const { config } = this.#parts;
    const fatal = (error: unknown) => (error instanceof OwnerHeldError ? error.message : credentialProblem(error, config));
    try {
      await retryForever(() => this.#node.connect(), {
        minMs: 200,
        signal: this.#abort.signal,
        isFatal: (error) => fatal(error) !== undefined,
        onFailure: (error, retryInMs) => {
          this.metrics.errors.inc({ kind: config.store });
          // A full store answers: it refuses the lease or the owner record, which wait for space.
          if (error instanceof StoreFullError) {
            this.#setStoreOk(true);
            this.#storeFull.refused(error);
            return;
          }
          this.#setStoreOk(false);
          this.#log.warn({ err: error, retryInMs, store: config.store }, 'the store is not reachable yet');
        },
      });
    } catch (error) {
      if (this.#stopping) return;
      const message = fatal(error) ?? String(error);
      this.#log.fatal(message);
      this.#parts.onFatal?.(message);
      return;
    }
    this.#setStoreOk(true);
    this.#storeFull.wrote();
    this.#log.info({ owner: config.owner, store: config.store, lease: this.#node.leaseId(), ttlSeconds: config.leaseSeconds }, 'store connected, lease granted');
    this.#scheduler?.trigger();
  }

  #roles(): OwnerRole[] {
    return [this.#node, this.#swarm.role()].filter((role): role is OwnerRole => role !== undefined);
  }

  /** One pass of each owner this instance writes for; one failing does not hold the other back. */
  async #pass(): Promise<void> {
    if (!this.#node.connected || this.#stopping) return;
    const timer = this.metrics.reconcileSeconds.startTimer();
    const roles = this.#roles();
    const done = [];
    let failure: unknown;
    try {
      for (const role of roles) {
        try {
          const outcome = await role.pass();
          if (outcome !== undefined && role.engine !== undefined) done.push({ outcome, engine: role.engine });
          // Whatever the pass read, Docker answered it.
          if (outcome !== undefined && outcome.read !== 'nothing') this.#setDockerOk(true);
        } catch (error) {
          if (error instanceof LeadershipLostError) {
            await this.#swarm.fenced();
            continue;
          }
          const kind = error instanceof SourceUnavailableError ? 'docker' : error instanceof StoreUnavailableError ? this.#parts.config.store : 'other';
          if (kind === 'docker') this.#setDockerOk(false);
          // A full store answers, and keeps what is routed: not unreachable, but full.
          if (error instanceof StoreFullError) this.#storeFull.refused(error);
          else if (error instanceof StoreUnavailableError) this.#setStoreOk(false);
          this.metrics.errors.inc({ kind });
          failure ??= error;
        }
      }
    } finally {
      timer();
    }
    if (failure !== undefined) throw failure;
    this.#setStoreOk(true);
    this.#storeFull.wrote();
    this.#reporter.report(done);
    this.#reportApps(roles);
    this.#firstSync = true;
  }

  /** The apps' gauges, from the records of the pass (apps gone leave their series). */
  #reportApps(roles: readonly OwnerRole[]): void {
    const m = this.metrics;
    const records = roles.flatMap((role) => role.engine?.appRecords() ?? []);
    m.appLastActivity.reset();
    m.appOpenConnections.reset();
    m.appIdle.reset();
    for (const record of records) {
      if (record.lastActivity !== null) m.appLastActivity.set({ app: record.identity }, Date.parse(record.lastActivity) / 1000);
      if (record.openConnections !== null) m.appOpenConnections.set({ app: record.identity }, record.openConnections);
      if (record.idle !== null) m.appIdle.set({ app: record.identity }, record.idle ? 1 : 0);
    }
    m.apps.set({ state: 'served' }, records.filter((record) => record.error === null).length);
    m.apps.set({ state: 'left-out' }, records.filter((record) => record.error !== null).length);
    m.appAllocationErrors.reset();
    // Every reason present, at 0 when none: an alert can compare with it.
    for (const reason of ['exhausted', 'taken', 'outside-range', 'conflicting-requests', 'served-elsewhere', 'not-recorded']) m.appAllocationErrors.set({ reason }, 0);
    for (const role of roles) for (const [reason, count] of role.engine?.appAllocationErrors() ?? []) m.appAllocationErrors.inc({ reason }, count);
  }

  /**
   * GET /apps: every app under the root key, this instance's as they are now and the others' as
   * their owners last wrote them to the store.
   */
  apps(): AppRecord[] {
    const roles = this.#roles();
    const own = roles.flatMap((role) => role.engine?.appRecords() ?? []);
    const owners = new Set(roles.map((role) => role.layout.owner));
    const others = (this.#node.engine?.storedAppRecords() ?? []).filter((record) => !owners.has(record.owner));
    return [...own, ...others].sort((a, b) => (a.workload < b.workload ? -1 : a.workload > b.workload ? 1 : a.app < b.app ? -1 : a.app > b.app ? 1 : 0));
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
    const found = await explainTarget(workloads, name, this.#parts.docker);
    if (found.target === undefined) return { status: 404, body: { error: `no container or Swarm service named "${name}"`, closest: found.closest } };
    const { target } = found;
    // A Swarm service is written under the Swarm writer's owner id, whichever instance that is now.
    const swarmRole = this.#swarm.role();
    const swarmOwner = this.#swarm.owner();
    const forSwarm = target.kind === 'swarm-service';
    const role = forSwarm ? swarmRole : this.#node;
    const owner = forSwarm ? (swarmOwner ?? config.owner) : config.owner;
    const translated = explainWorkload(target, workloads, compiled, { rootKey: config.rootKey, ownerId: owner });
    // Only the daemon knows what else its owner writes: a refusal for the instance's limits is its to tell.
    const refusal = role?.engine?.refusalOf(target.id);
    const explanation = refusal === undefined ? translated : { ...translated, routed: false, reasons: [...translated.reasons, `error: ${refusal.message}`], keys: [] };
    const resourceIds = new Set(explanation.resources.map((resource) => claimIdOf(resource.resource)));
    const keys = new Set(explanation.keys.map((line) => line.slice(0, line.indexOf('='))));
    const daemon: DaemonFacts = {
      owner: forSwarm && swarmRole === undefined ? `${owner} (written by the elected Swarm writer, another instance)` : owner,
      lease: role?.leaseId(),
      ownerConflicts: (role?.engine?.conflicts() ?? []).filter((conflict) => resourceIds.has(claimIdOf(conflict.resource))),
      lastTransaction: role?.engine?.lastTransactionTouching(keys),
    };
    return { status: 200, body: { ...explanation, daemon, text: formatExplanation(explanation, daemon) } };
  }

  /**
   * Graceful stop: no new pass, the one under way finishes; the leases are left to a restart (or
   * to expire), and the Swarm writer resigns so that the next one is elected at once.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort(new Error('stopping'));
    for (const timer of this.#timers) clearInterval(timer);
    this.#poller?.stop();
    this.#changes?.stop();
    await this.#scheduler?.stop();
    await this.#swarm.stop();
    await this.#node.stop();
    await this.#http?.close();
    this.#parts.closeStore?.();
  }
}
