import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { PortAllocation } from '../core/apps/allocate-ports.ts';
import { appFrontends, portRequests, type AppFrontend } from '../core/apps/app-frontends.ts';
import {
  decodeAppRecord,
  refusedAppRecord,
  servedAppRecord,
  type AppActivity,
  type AppRecord,
} from '../core/apps/app-record.ts';
import type { AppDeclaration } from '../core/apps/declare-apps.ts';
import type { BuildProblem } from '../core/provider/build-problem.ts';
import type { CompiledTranslateOptions } from '../core/translate/translate-options.ts';
import type { Contribution } from '../core/provider/contribution.ts';
import { planPorts, withoutUnrecorded, type PortWrite } from './app-ports.ts';
import type { KeyLayout } from './key-layout.ts';
import type { Operation } from './kv-store.ts';
import type { MirrorSession } from './mirror-session.ts';

/** What the daemon knows of each app's use (from Traefik's metrics); undefined when it tracks none. */
export interface ActivitySource {
  activity(frontend: AppFrontend): AppActivity | undefined;
}

export interface AppServingOptions {
  readonly layout: KeyLayout;
  readonly compiled: CompiledTranslateOptions;
  /** Where ports and records are read and written (the owner's mirror, kept in step with its writes). */
  readonly session: MirrorSession;
  /** A pass is needed (a port could not be recorded this time). */
  readonly onDirty: () => void;
  readonly activity?: ActivitySource | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** Attempts at recording fresh ports in one pass: each failed one means another instance took one first. */
const MAX_ALLOCATION_ROUNDS = 8;
/** Writes per transaction, well under the smallest store's limit (etcd's 128 operations). */
const WRITES_PER_TRANSACTION = 100;
/** Ports remembered for apps that gave theirs up, so that they get them again while they are free. */
const REMEMBERED_PORTS = 10_000;

/**
 * The apps' step of a pass, around the tree's plan: before it, the port-mode apps get ports
 * through the store (new ports created only if still absent, so that two instances never serve
 * one port; a failed guard means another took it first: the mirror catches up and the
 * allocation is made again), and it returns every app's routers and services, by the workload that
 * declares them, for the desired state to merge (only those that changed, so that a port change
 * redoes that step alone); after it (once the routers of apps that went are gone), their ports are
 * freed and the apps' records written.
 */
export class AppServing {
  readonly #o: AppServingOptions;
  readonly #now: () => number;
  /** Workload id → digest of the app contributions set for it. */
  readonly #entries = new Map<string, string>();
  readonly #lastPorts = new Map<string, number>();
  #releases: readonly PortWrite[] = [];
  #apps: readonly AppDeclaration[] = [];
  #frontends: readonly AppFrontend[] = [];
  #leftOut: readonly { app: AppDeclaration; label: string; message: string }[] = [];
  #problems: readonly BuildProblem[] = [];
  #records = new Map<string, AppRecord>();
  #allocationErrors = new Map<string, number>();
  /** Apps whose identity another owner serves: their record is that owner's. */
  #elsewhere = new Set<string>();

  constructor(options: AppServingOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => Date.now());
  }

  /**
   * Allocates and records ports; returns the app contributions of each workload whose contributions
   * changed since the last pass (an empty list: it has none any more).
   */
  async serve(apps: readonly AppDeclaration[], leaseId: () => string): Promise<Map<string, readonly Contribution[]>> {
    const { layout, compiled } = this.#o;
    const { mirror } = this.#o.session;
    const range = compiled.options.apps.portRange;
    let allocation: PortAllocation | undefined;
    let unrecorded = new Set<number>();
    for (let round = 0; round < MAX_ALLOCATION_ROUNDS; round += 1) {
      const lease = leaseId();
      const requests = portRequests(apps).map((request) => ({
        ...request,
        preferred: this.#lastPorts.get(request.key),
      }));
      const plan = planPorts({ requests, ports: mirror.ports(), layout, leaseId: lease, range });
      allocation = plan.allocation;
      this.#releases = plan.releases;
      const failed = await this.#write(plan.records, lease);
      unrecorded = failed.ports;
      if (failed.revision === undefined) break;
      await this.#o.session.catchUp(failed.revision);
    }
    const changed = new Map<string, readonly Contribution[]>();
    if (allocation === undefined) return changed;
    if (unrecorded.size > 0) {
      this.#o.logger.warn(
        { ports: unrecorded.size },
        'app ports kept being taken by other instances while this one recorded them; tried again on the next pass',
      );
      this.#o.onDirty();
    }
    allocation = withoutUnrecorded(allocation, unrecorded);
    for (const assignment of allocation.assigned.values()) {
      this.#lastPorts.delete(assignment.key);
      this.#lastPorts.set(assignment.key, assignment.port);
    }
    while (this.#lastPorts.size > REMEMBERED_PORTS)
      this.#lastPorts.delete(this.#lastPorts.keys().next().value as string);

    const served = appFrontends(apps, allocation, compiled.options);
    this.#apps = apps;
    this.#frontends = served.frontends;
    this.#leftOut = served.leftOut;
    this.#problems = served.problems;
    const errors = new Map<string, number>();
    for (const refusal of allocation.refused.values())
      errors.set(refusal.reason, (errors.get(refusal.reason) ?? 0) + 1);
    this.#allocationErrors = errors;
    this.#elsewhere = new Set(
      [...allocation.refused.values()]
        .filter((refusal) => refusal.reason === 'served-elsewhere')
        .map((refusal) => refusal.key),
    );

    // Contributions by the workload that declares them (an app's origin names its workload's id).
    const byWorkload = new Map<string, Contribution[]>();
    const workloadOf = new Map(apps.map((app) => [`${app.resourceName}-${app.workloadId}`, app.workloadId]));
    for (const contribution of served.contributions) {
      const id = workloadOf.get(contribution.origin) ?? contribution.origin;
      const list = byWorkload.get(id) ?? [];
      list.push(contribution);
      byWorkload.set(id, list);
    }
    for (const id of new Set([...this.#entries.keys(), ...byWorkload.keys()])) {
      const contributions = byWorkload.get(id) ?? [];
      const digest = createHash('sha1').update(JSON.stringify(contributions)).digest('base64');
      if (this.#entries.get(id) === digest) continue;
      changed.set(id, contributions);
      if (contributions.length === 0) this.#entries.delete(id);
      else this.#entries.set(id, digest);
    }
    return changed;
  }

  /** After the tree's change: frees the ports no longer needed and writes the apps' records. */
  async finish(leaseId: string): Promise<void> {
    if (this.#releases.length > 0) {
      // A release that fails (the key changed meanwhile) is planned again on the next pass.
      await this.#write(this.#releases, leaseId);
      this.#releases = [];
      // A freed port is news to apps refused one here (no watch event tells this instance its own writes).
      if (this.#allocationErrors.size > 0) this.#o.onDirty();
    }
    const { layout } = this.#o;
    const stored = this.#o.session.mirror.appRecords();
    const now = this.#now();
    const records = new Map<string, AppRecord>();
    const since = (identity: string): { servedSinceMs: number; storedActivityMs: number | undefined } => {
      const entry = stored.get(identity);
      const earlier = entry === undefined ? undefined : decodeAppRecord(entry.value);
      if (earlier === undefined || earlier.owner !== layout.owner)
        return { servedSinceMs: now, storedActivityMs: undefined };
      const servedSinceMs = Date.parse(earlier.servedSince);
      const activity = earlier.lastActivity === null ? Number.NaN : Date.parse(earlier.lastActivity);
      return {
        servedSinceMs: Number.isFinite(servedSinceMs) ? servedSinceMs : now,
        storedActivityMs: Number.isFinite(activity) ? activity : undefined,
      };
    };
    for (const frontend of this.#frontends) {
      records.set(
        frontend.key,
        servedAppRecord(frontend, {
          owner: layout.owner,
          nowMs: now,
          ...since(frontend.key),
          activity: this.#o.activity?.activity(frontend),
        }),
      );
    }
    for (const { app, message } of this.#leftOut) {
      if (this.#elsewhere.has(app.key)) continue;
      records.set(
        app.key,
        refusedAppRecord(
          {
            key: app.key,
            workload: app.workload,
            app: app.spec.name,
            protocol: app.spec.protocol,
            mode: app.spec.frontend,
            idleTimeoutSeconds: app.spec.idleTimeoutSeconds,
          },
          message,
          { owner: layout.owner, servedSinceMs: since(app.key).servedSinceMs },
        ),
      );
    }
    const operations: Operation[] = [];
    for (const [identity, record] of records) {
      const value = JSON.stringify(record);
      const entry = stored.get(identity);
      if (entry?.value !== value || entry.lease !== leaseId)
        operations.push({ type: 'put', key: layout.appRecordKey(identity), value, leased: true });
    }
    for (const [identity, entry] of stored) {
      if (!records.has(identity) && decodeAppRecord(entry.value)?.owner === layout.owner)
        operations.push({ type: 'delete', key: layout.appRecordKey(identity) });
    }
    for (let start = 0; start < operations.length; start += WRITES_PER_TRANSACTION) {
      await this.#o.session.apply(
        { operations: operations.slice(start, start + WRITES_PER_TRANSACTION), guards: [] },
        leaseId,
      );
    }
    this.#records = records;
  }

  /**
   * Applies port writes, a transaction per batch, each write guarded on its own key; stops at the first refused batch.
   */
  async #write(writes: readonly PortWrite[], leaseId: string): Promise<{ ports: Set<number>; revision?: bigint }> {
    for (let start = 0; start < writes.length; start += WRITES_PER_TRANSACTION) {
      const batch = writes.slice(start, start + WRITES_PER_TRANSACTION);
      const result = await this.#o.session.apply(
        {
          operations: batch.map((write) => write.operation),
          guards: batch.map((write) => ({
            range: { key: write.operation.key, prefix: false },
            notModifiedAfter: write.notModifiedAfter,
          })),
        },
        leaseId,
      );
      if (!result.applied)
        return { ports: new Set(writes.slice(start).map((write) => write.port)), revision: result.revision };
    }
    return { ports: new Set() };
  }

  problems(): readonly BuildProblem[] {
    return this.#problems;
  }

  /** This owner's apps, as last written (served ones and those left out). */
  records(): AppRecord[] {
    return [...this.#records.values()];
  }

  /** Apps refused a port now, by reason (exhausted, taken, ...). */
  allocationErrors(): ReadonlyMap<string, number> {
    return this.#allocationErrors;
  }

  /** The apps this owner declares now (for the activity tracker). */
  frontends(): readonly AppFrontend[] {
    return this.#frontends;
  }

  /** Every owner's app records under the root key, as the mirror holds them. */
  storedRecords(): AppRecord[] {
    return [...this.#o.session.mirror.appRecords().values()]
      .map((entry) => decodeAppRecord(entry.value))
      .filter((record): record is AppRecord => record !== undefined);
  }

  declared(): number {
    return this.#apps.length;
  }
}
