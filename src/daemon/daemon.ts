import type { InstanceLimits } from '../core/limits.ts';
import { getHeapStatistics } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DaemonConfig } from '../config/settings.ts';
import type { CompiledTranslateOptions } from '../core/translate/translate-options.ts';
import { DockerChanges } from '../docker/docker-changes.ts';
import type { DockerEngine } from '../docker/docker-engine.ts';
import type { DockerSource } from '../docker/docker-source.ts';
import type { EventWatcherTimings } from '../docker/docker-events.ts';
import { StoreFullError, type KvStore } from '../sync/kv-store.ts';
import { ReconcileScheduler } from '../sync/reconcile-scheduler.ts';
import { WritePace } from '../sync/write-pace.ts';
import { sourcePart, type WorkloadChange } from '../sync/workload-changes.ts';
import { reportAppGauges } from './app-gauges.ts';
import { listApps } from './apps-listing.ts';
import { connectOwner } from './connect-owner.ts';
import { explainHandler } from './explain-handler.ts';
import { HeapWatch } from './heap-watch.ts';
import { startHealthServer, type Explainer } from './health-server.ts';
import { TraefikConfigPage } from './traefik-config-page.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { OutcomeReporter } from './outcome-reporter.ts';
import { passOwners } from './owner-passes.ts';
import { OwnerRole } from './owner-role.ts';
import { Readiness } from './readiness.ts';
import { StoreProbe } from './store-probe.ts';
import { SwarmWriter } from './swarm-writer.ts';
import { ActivityPoller } from '../activity/activity-poller.ts';
import { ActivityTracker } from '../activity/activity-tracker.ts';
import type { AppRecord } from '../core/apps/app-record.ts';
import { ReadbackBook } from '../core/readback/readback-book.ts';
import { TraefikReadback } from '../readback/traefik-readback.ts';
import { reportReadback } from './readback-metrics.ts';
import { traefiksListing } from './traefiks-listing.ts';
import { renderStatusPage, type StatusFacts } from '../render/status-page.ts';

/** A pass that runs this long is said in the log (once), with what it awaits. */
const PASS_WARN_MS = 30_000;
const PASS_WATCH_MS = 5_000;

export interface DaemonParts {
  readonly config: DaemonConfig;
  readonly compiled: CompiledTranslateOptions;
  readonly docker: DockerEngine;
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
 * `appproxy run`: wires the Docker edge, the owners' sync engines and the store together, and
 * runs them from start to stop. Docker changes, the resync timer and lease changes only note what
 * to read again and trigger a pass; each part does the rest (readiness.ts says whether it is
 * ready, owner-passes.ts runs a pass, explain-handler.ts and apps-listing.ts answer HTTP).
 */
export class Daemon {
  readonly #parts: DaemonParts;
  readonly #log: Logger;
  readonly metrics: Metrics;
  readonly #reporter: OutcomeReporter;
  readonly #heap = new HeapWatch();
  readonly #readiness: Readiness;
  readonly #abort = new AbortController();
  /** This node's standalone containers, under this instance's owner id. */
  readonly #node: OwnerRole;
  /** The Swarm services, while this instance is the elected writer. */
  readonly #swarm: SwarmWriter;
  readonly #probe: StoreProbe;
  readonly #traefikConfig: TraefikConfigPage;
  /** GET /explain/<name> (explain-handler.ts). */
  readonly explain: Explainer;
  #scheduler: ReconcileScheduler | undefined;
  #changes: DockerChanges | undefined;
  #http: FastifyInstance | undefined;
  #resync: NodeJS.Timeout | undefined;
  #passWatch: NodeJS.Timeout | undefined;
  /** The pass under way: since when, and whether it was said to run long. */
  #passing: { since: number; said: boolean; roles: readonly OwnerRole[] } | undefined;
  #stopping = false;
  /** The apps' activity, from Traefik's metrics; none without --traefik-metrics-urls. */
  readonly #tracker: ActivityTracker | undefined;
  #poller: ActivityPoller | undefined;
  /** Reads back what each commit changed in every Traefik; none without --traefik-api-urls. */
  readonly readback: TraefikReadback | undefined;
  /** Holds a write while Traefik still applies the last commit (with read-back only). */
  readonly #pace: WritePace;

  constructor(parts: DaemonParts) {
    this.#parts = parts;
    this.#log = parts.logger;
    this.metrics = createMetrics();
    this.#reporter = new OutcomeReporter(this.metrics, parts.logger);
    const { config, compiled, store } = parts;
    this.#readiness = new Readiness(this.metrics, parts.logger, config.store);
    this.#tracker = config.traefikMetricsUrls.length > 0 ? new ActivityTracker() : undefined;
    // A lease was replaced, leadership came: a pass now, past any backoff.
    const passSoon = () => {
      this.#scheduler?.trigger();
      this.#scheduler?.wake();
    };
    this.#pace = new WritePace({ maxHoldMs: config.writeHoldMaxSeconds * 1000 });
    const instanceLimits: InstanceLimits = { keys: config.maxInstanceKeys, bytes: config.maxInstanceBytes };
    this.readback =
      config.traefikApiUrls.length === 0
        ? undefined
        : new TraefikReadback({
            urls: config.traefikApiUrls,
            provider: config.store,
            book: new ReadbackBook({
              lagWarnMs: config.traefikLagWarnSeconds * 1000,
              minVersion: compiled.options.traefikMinVersion,
            }),
            // Every owner's mirror holds the whole tree: the node's, or the Swarm writer's.
            stored: (resource) => (this.#node.engine ?? this.#swarm.role()?.engine)?.storedResource(resource),
            logger: parts.logger.child({ component: 'readback' }),
            onLive: (traefik, seconds) => {
              this.metrics.traefikCommitToLive.observe({ traefik }, seconds);
              this.#pace.applied(traefik, seconds * 1000);
            },
            onRound: (reports, forgotten) => {
              reportReadback(this.metrics, reports, forgotten);
              if (this.#pace.round(reports, forgotten)) this.#scheduler?.release();
              this.metrics.traefikApply.set(this.#pace.applyMs() / 1000);
            },
          });
    this.#traefikConfig = new TraefikConfigPage(config.rootKey, () =>
      (this.#node.engine ?? this.#swarm.role()?.engine)?.traefikTree(),
    );
    const onCommitted = (resources: ReadonlySet<string>, revision: bigint) => {
      if (this.readback?.committed(resources, revision) === true) this.#pace.committed();
    };
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
      onCommitted,
      // Another instance runs with this id now: this one has stopped writing, and exits saying so
      // (an orchestrator restarting it meets the live holder and is refused with the same words).
      onTakenOver: (message) => {
        this.#readiness.ownerTaken(message);
        this.#parts.onFatal?.(message);
      },
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
      onCommitted,
    });
    this.#probe = new StoreProbe({
      store,
      storeName: config.store,
      key: () => (this.#node.connected ? this.#node.layout.ownerKey : undefined),
      readiness: this.#readiness,
      metrics: this.metrics,
      logger: parts.logger,
      onBack: () => this.#scheduler?.wake(),
    });
    this.explain = explainHandler({ ...parts, node: this.#node, swarm: this.#swarm, readback: this.readback });
    this.metrics.swarmWriter.set(0);
    this.metrics.swarmManager.set(0);
  }

  readinessReasons(): string[] {
    return this.#readiness.reasons();
  }

  async start(): Promise<void> {
    const { config } = this.#parts;
    this.#http = await startHealthServer(config.listen, this.#readiness, this.metrics.registry, {
      explain: this.explain,
      apps: () => this.apps(),
      ...(this.readback === undefined ? {} : { traefiks: () => traefiksListing(this.readback?.reports() ?? []) }),
      status: () => renderStatusPage(this.statusFacts()),
      traefikConfig: () => this.#traefikConfig.answer(),
      token: config.httpToken,
    });
    this.#log.info({ listen: config.listen }, 'health and metrics listening');

    this.#scheduler = new ReconcileScheduler(() => this.#pass(), {
      holdMs: () => this.#pace.waitMs(),
      onHeld: (heldMs) => this.metrics.writeHeld.observe(heldMs / 1000),
      onError: (error, retryInMs) => {
        this.metrics.reconciles.inc({ result: 'error' });
        // A full store was said once, when it filled: not again on every retry.
        if (error instanceof StoreFullError)
          this.#log.debug({ err: error, retryInMs }, 'the store is still full; retrying');
        else this.#log.warn({ err: error, retryInMs }, 'reconcile failed; retrying');
      },
    });
    void connectOwner({
      role: this.#node,
      config,
      readiness: this.#readiness,
      metrics: this.metrics,
      logger: this.#log,
      signal: this.#abort.signal,
      onFatal: this.#parts.onFatal,
    }).then((connected) => {
      if (connected) this.#scheduler?.trigger();
    });

    this.#changes = new DockerChanges(
      this.#parts.docker,
      this.#log,
      {
        onChange: (change) => this.#note(change),
        onConnection: (connected) => {
          this.#readiness.dockerEvents(connected);
          if (connected) this.#scheduler?.wake();
        },
        onEvent: (event) => this.metrics.events.inc({ type: event.type, action: event.action }),
        onSwarmManager: (clusterId) => {
          this.metrics.swarmManager.set(clusterId === undefined ? 0 : 1);
          this.#swarm.update(clusterId);
        },
      },
      this.#parts.eventTimings,
    );
    this.#changes.start();
    if (this.#tracker !== undefined) {
      this.#poller = new ActivityPoller({
        urls: config.traefikMetricsUrls,
        intervalMs: config.activityIntervalSeconds * 1000,
        tracker: this.#tracker,
        frontends: () => this.#roles().flatMap((role) => role.engine?.apps.frontends() ?? []),
        // A pass writes only the records that changed: at most one write per app per interval.
        onPolled: () => this.#scheduler?.trigger(),
        onScrape: (_url, ok) => this.metrics.traefikScrapes.inc({ result: ok ? 'ok' : 'error' }),
        logger: this.#log.child({ component: 'activity' }),
      });
      this.#poller.start();
    }
    this.#resync = setInterval(() => this.#note({ kind: 'all' }), config.resyncSeconds * 1000);
    this.#passWatch = setInterval(() => this.#watchPass(), PASS_WATCH_MS);
    this.#passWatch.unref();
    this.#probe.start();
    this.readback?.start();
  }

  #note(change: WorkloadChange): void {
    for (const role of this.#roles()) role.changes?.note(change);
    this.#scheduler?.trigger();
  }

  #roles(): OwnerRole[] {
    return [this.#node, this.#swarm.role()].filter((role): role is OwnerRole => role !== undefined);
  }

  /**
   * Says a pass that has run for PASS_WARN_MS, once, with what each owner's pass awaits: every call
   * in a pass has a limit, so one that runs that long is a defect to be found, and meanwhile no
   * change of this node is written.
   */
  #watchPass(): void {
    const passing = this.#passing;
    const ms = passing === undefined ? 0 : performance.now() - passing.since;
    this.metrics.passRunning.set(Math.round(ms / 100) / 10);
    if (passing === undefined || passing.said || ms < PASS_WARN_MS) return;
    passing.said = true;
    const steps = Object.fromEntries(passing.roles.map((role) => [role.layout.owner, role.passStep() ?? 'done']));
    this.#log.warn(
      { seconds: Math.round(ms / 1000), steps },
      'a pass has run for long: no change is written until it ends; every call in it has a limit, so this is a defect (report it with this line)',
    );
  }

  /** The heap in use after a pass against the limit Node gave it (from the container's memory limit). */
  #watchHeap(): void {
    const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
    this.metrics.heapUsedRatio.set(limit > 0 ? Math.round((used / limit) * 1000) / 1000 : 0);
    const near = this.#heap.observe(used, limit);
    if (near === undefined) return;
    this.#log.warn(
      near,
      `appproxy's heap is at ${near.percent}% of the ${near.limitMiB} MiB Node gave it (three quarters of the container's memory limit, as the image runs Node): passes slow down collecting garbage, and past it the process stops with "heap out of memory". Give it more memory: stacks/appproxy.yml reads APPPROXY_MEMORY_LIMIT (256M fits about 8,000 workloads an instance, 512M about 20,000, 1G about 45,000: docs/benchmarks.md)`,
    );
  }

  async #pass(): Promise<void> {
    if (!this.#node.connected || this.#stopping) return;
    const roles = this.#roles();
    const passing = { since: performance.now(), said: false, roles };
    this.#passing = passing;
    try {
      await this.#passRoles(roles);
    } finally {
      if (this.#passing === passing) this.#passing = undefined;
      this.metrics.passRunning.set(0);
    }
  }

  async #passRoles(roles: OwnerRole[]): Promise<void> {
    const done = await passOwners(roles, {
      metrics: this.metrics,
      readiness: this.#readiness,
      storeName: this.#parts.config.store,
      // Only the role elected now: a role that stepped down while its pass ran was refused for that,
      // and the candidacy standing since is another one.
      onLeadershipLost: async (role) => {
        if (role === this.#swarm.role()) await this.#swarm.fenced();
      },
      onPassed: (role, error) => {
        if (role === this.#swarm.role()) this.#swarm.passed(error);
      },
    });
    this.#reporter.report(done);
    this.#watchHeap();
    reportAppGauges(
      this.metrics,
      roles.flatMap((role) => role.engine?.apps.records() ?? []),
      roles.map((role) => role.engine?.apps.allocationErrors() ?? new Map()),
    );
    this.#readiness.firstSyncDone();
  }

  /** GET /status: readiness, each Traefik as read back, the routes not yet live, the refused workloads. */
  statusFacts(): StatusFacts {
    const listing = this.readback === undefined ? undefined : traefiksListing(this.readback.reports());
    return {
      generatedAt: new Date().toISOString(),
      owner: this.#parts.config.owner,
      notReady: this.#readiness.reasons(),
      traefiks: listing?.traefiks,
      refusedWorkloads: this.#roles()
        .flatMap((role) => role.engine?.problems() ?? [])
        .filter((problem) => problem.severity === 'error')
        .map((problem) => ({ workload: problem.workload, message: problem.message })),
    };
  }

  /** GET /apps (apps-listing.ts). */
  apps(): AppRecord[] {
    return listApps(this.#roles(), this.#node);
  }

  /**
   * Graceful stop: no new pass, the one under way finishes; the leases are left to a restart (or
   * to expire), and the Swarm writer resigns so that the next one is elected at once.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort(new Error('stopping'));
    clearInterval(this.#resync);
    clearInterval(this.#passWatch);
    this.#probe.stop();
    this.#poller?.stop();
    this.readback?.stop();
    this.#changes?.stop();
    await this.#scheduler?.stop();
    await this.#swarm.stop();
    await this.#node.stop();
    await this.#http?.close();
    this.#parts.closeStore?.();
  }
}
