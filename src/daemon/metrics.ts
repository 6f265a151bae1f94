import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LIMIT_SETTINGS } from '../core/limits.ts';
import { APPPROXY_VERSION } from '../version.ts';

/** The daemon's Prometheus metrics, in their own registry (no global state). */
export function createMetrics(version: string = APPPROXY_VERSION) {
  const registry = new Registry();
  // The standard names (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...), which
  // dashboards and alerts written for any Node service expect.
  collectDefaultMetrics({ register: registry });
  const refusals = new Counter({
    name: 'appproxy_workloads_refused_total',
    help: 'Workloads left out for passing a limit, by limit (labels, label-name, label-bytes, list-items, workload-keys, workload-bytes, instance-keys, instance-bytes); counted when the refusal starts, not on every pass.',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  // Every limit present from the start, at 0: an alert on its rate needs the series.
  for (const { limit } of LIMIT_SETTINGS) refusals.inc({ limit }, 0);
  new Gauge({
    name: 'appproxy_build_info',
    help: 'Always 1; the labels say which appproxy and Node.js run.',
    labelNames: ['version', 'node'] as const,
    registers: [registry],
  }).set({ version, node: process.version }, 1);
  return {
    registry,
    reconcileSeconds: new Histogram({
      name: 'appproxy_reconcile_duration_seconds',
      help: 'Time of one reconcile pass: Docker read, translation, store read and write.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    reconciles: new Counter({
      name: 'appproxy_reconciles_total',
      help: 'Reconcile passes, by result.',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    transactions: new Counter({
      name: 'appproxy_store_transactions_total',
      help: 'Write transactions applied in the store (etcd or Redis).',
      registers: [registry],
    }),
    operations: new Counter({
      name: 'appproxy_store_operations_total',
      help: "Puts and deletes applied in the store's transactions (etcd or Redis).",
      registers: [registry],
    }),
    // The names these counters had while etcd was the only store, counted alike so that dashboards
    // built on them keep working; to be removed in a later release (see CHANGELOG).
    formerTransactions: new Counter({
      name: 'appproxy_etcd_transactions_total',
      help: 'Deprecated: the same as appproxy_store_transactions_total.',
      registers: [registry],
    }),
    formerOperations: new Counter({
      name: 'appproxy_etcd_operations_total',
      help: 'Deprecated: the same as appproxy_store_operations_total.',
      registers: [registry],
    }),
    events: new Counter({
      name: 'appproxy_docker_events_total',
      help: 'Docker events received, by type and action.',
      labelNames: ['type', 'action'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'appproxy_errors_total',
      help: 'Errors, by where they happened.',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    refusals,
    problems: new Gauge({
      name: 'appproxy_label_problems',
      help: 'Label problems in the last pass, by severity.',
      labelNames: ['severity'] as const,
      registers: [registry],
    }),
    conflicts: new Gauge({
      name: 'appproxy_conflicts',
      help: 'Resources another owner defines differently (left as they are).',
      registers: [registry],
    }),
    resources: new Gauge({
      name: 'appproxy_resources',
      help: 'Resources this instance routes, by kind.',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    workloads: new Gauge({
      name: 'appproxy_workloads_routed',
      help: 'Workloads that contributed configuration in the last pass.',
      registers: [registry],
    }),
    reachable: new Gauge({
      name: 'appproxy_dependency_up',
      help: 'Whether Docker and the store answered within their limits (1) or not (0).',
      labelNames: ['dependency'] as const,
      registers: [registry],
    }),
    swarmManager: new Gauge({
      name: 'appproxy_swarm_manager',
      help: "Whether this instance's engine is a manager of a Swarm with quorum (1: a candidate Swarm writer) or not (0).",
      registers: [registry],
    }),
    swarmWriter: new Gauge({
      name: 'appproxy_swarm_writer',
      help: 'Whether this instance is the elected writer of the Swarm services (1) or not (0).',
      registers: [registry],
    }),
    appLastActivity: new Gauge({
      name: 'appproxy_app_last_activity_seconds',
      help: "When each app (its identity) was last seen in use: a request or an open connection in Traefik's metrics (Unix time).",
      labelNames: ['app'] as const,
      registers: [registry],
    }),
    appOpenConnections: new Gauge({
      name: 'appproxy_app_open_connections',
      help: "Connections open on each port-mode app's entry point, summed over the Traefiks read.",
      labelNames: ['app'] as const,
      registers: [registry],
    }),
    appIdle: new Gauge({
      name: 'appproxy_app_idle',
      help: 'Whether each app with an idle timeout is past it with no open connection (1) or not (0).',
      labelNames: ['app'] as const,
      registers: [registry],
    }),
    appAllocationErrors: new Gauge({
      name: 'appproxy_app_allocation_errors',
      help: 'Apps refused a port now, by reason (exhausted, taken, outside-range, conflicting-requests, served-elsewhere, not-recorded).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    apps: new Gauge({
      name: 'appproxy_apps',
      help: 'Apps this instance declares, by whether they are served.',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    traefikScrapes: new Counter({
      name: 'appproxy_traefik_metrics_scrapes_total',
      help: "Reads of Traefik's metrics for the apps' activity, by result.",
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    storeFull: new Gauge({
      name: 'appproxy_store_full',
      help: 'Whether the store refuses writes for want of space (1: etcd past its quota, Redis at maxmemory) or not (0).',
      labelNames: ['store'] as const,
      registers: [registry],
    }),
    storeWritesRefused: new Counter({
      name: 'appproxy_store_writes_refused_total',
      help: 'Writes the store refused for want of space (each retried with backoff).',
      labelNames: ['store'] as const,
      registers: [registry],
    }),
    traefikCommitToLive: new Histogram({
      name: 'appproxy_traefik_commit_to_live_seconds',
      help: "Time from a transaction's commit to its routers, services and middlewares shown by a Traefik's API as in the store, by Traefik (its API's address).",
      labelNames: ['traefik'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    heapUsedRatio: new Gauge({
      name: 'appproxy_heap_used_ratio',
      help: 'The heap in use after the last pass, as a share of the limit Node gave it (three quarters of the container\'s memory limit, as the image runs Node): near 1, passes slow down collecting garbage and the process is close to stopping with "heap out of memory" (said in the log at 0.75).',
      registers: [registry],
    }),
    passRunning: new Gauge({
      name: 'appproxy_pass_running_seconds',
      help: 'How long the pass under way has run (0: none runs). Every call in a pass has a limit; one that runs for minutes is a defect, said in the log with what it awaits.',
      registers: [registry],
    }),
    traefikApply: new Gauge({
      name: 'appproxy_traefik_apply_seconds',
      help: 'How long a commit lately took to go live in the slowest Traefik read back (the median of its last five): at most this long the next write waits while a commit is not yet live everywhere (--write-hold-max-seconds).',
      registers: [registry],
    }),
    writeHeld: new Histogram({
      name: 'appproxy_write_held_seconds',
      help: 'Passes held until the last commit was live in every Traefik read back (or for the usual apply time): how long each waited.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    traefikUp: new Gauge({
      name: 'appproxy_traefik_up',
      help: "Whether a Traefik's API answered the read-back's last read (1) or not (0), by Traefik.",
      labelNames: ['traefik'] as const,
      registers: [registry],
    }),
    traefikPending: new Gauge({
      name: 'appproxy_traefik_pending_resources',
      help: 'Routers, services and middlewares committed but not yet live in a Traefik, by Traefik.',
      labelNames: ['traefik'] as const,
      registers: [registry],
    }),
    traefikLag: new Gauge({
      name: 'appproxy_traefik_lag_seconds',
      help: "Age of a Traefik's oldest committed change not yet live there (0 when none), by Traefik.",
      labelNames: ['traefik'] as const,
      registers: [registry],
    }),
    traefikRefused: new Gauge({
      name: 'appproxy_traefik_refused_resources',
      help: 'Routers, services and middlewares a Traefik shows disabled with an error, by Traefik.',
      labelNames: ['traefik'] as const,
      registers: [registry],
    }),
    traefikStopped: new Gauge({
      name: 'appproxy_traefik_stopped',
      help: "Whether a Traefik keeps an old configuration while the others apply the store's changes (1) or not (0), by Traefik.",
      labelNames: ['traefik'] as const,
      registers: [registry],
    }),
    traefikInfo: new Gauge({
      name: 'appproxy_traefik_info',
      help: 'Always 1 per Traefik read back; its version, and whether it is older than --traefik-min-version (older="true").',
      labelNames: ['traefik', 'version', 'older'] as const,
      registers: [registry],
    }),
    lastSync: new Gauge({
      name: 'appproxy_last_successful_sync_timestamp_seconds',
      help: 'When the store last matched Docker (Unix time).',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
