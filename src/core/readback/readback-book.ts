import {
  compareTraefikVersions,
  formatTraefikVersion,
  parseTraefikVersion,
  type TraefikVersion,
} from '../schema/traefik-version.ts';
import type { Judgement } from './traefik-view.ts';

/**
 * What the daemon knows of every Traefik that reads its root key: which of the resources it
 * committed each one shows, since when one lags, what it refused, its version. Pure and
 * synchronous, with the time passed in: the read-back loop (src/readback/traefik-readback.ts)
 * fetches and records here; metrics, /traefiks, explain and the log lines read from here.
 *
 * Traefik applies the whole tree at once, at one revision of the store: once it shows a change,
 * it shows every earlier one. So an instance's pending resources are kept in commit order and the
 * loop reads them oldest first, stopping at the first that is not there yet: while an instance is
 * behind, each round costs one request there, and a change costs what it touched.
 */

export interface ReadbackSettings {
  /** An instance whose oldest unapplied change is older than this is behind (said once, in the log). */
  readonly lagWarnMs: number;
  /** The oldest Traefik the operator declared (--traefik-min-version). */
  readonly minVersion: TraefikVersion;
}

/** One committed change of one resource, awaited in one instance. */
export interface PendingResource {
  readonly resource: string;
  /** When the change was committed (ms since the epoch). */
  readonly committedAt: number;
  readonly revision: string;
  /** What the last read showed, when it was read. */
  readonly why?: string;
  /** The last read that found it not there (ms since the epoch). */
  readonly missingAt?: number;
}

export interface RefusedResource {
  readonly resource: string;
  readonly error: string;
  readonly since: number;
}

interface Instance {
  readonly id: string;
  readonly source: string;
  version?: string;
  reachable: boolean | undefined;
  lastAnswer: number | undefined;
  unreachableSince: number | undefined;
  lastError: string | undefined;
  /**
   * The last read that found a change missing, and when that change was committed: a change
   * committed no earlier was missing then too (Traefik applies the tree at one revision).
   */
  lastMiss: { readonly at: number; readonly committedAt: number } | undefined;
  /** Insertion order is commit order: a re-committed resource moves to the end. */
  readonly pending: Map<string, PendingResource>;
  readonly refused: Map<string, RefusedResource>;
  /** The episodes already said in the log (behind, stopped, too old), so that each is said once. */
  readonly said: Set<string>;
}

/** One instance, as /traefiks, metrics and explain show it. */
export interface TraefikReport {
  /** The instance's API (an address the configured URL resolved to). */
  readonly id: string;
  /** The configured URL it came from. */
  readonly source: string;
  readonly version: string | undefined;
  /** Its API answered the last read (undefined: not read yet). */
  readonly reachable: boolean | undefined;
  readonly unreachableSince: number | undefined;
  readonly lastError: string | undefined;
  /** No committed change older than the lag limit is missing there. */
  readonly current: boolean;
  /** Age of its oldest missing change, ms (0 when none is missing). */
  readonly lagMs: number;
  readonly pending: readonly PendingResource[];
  readonly refused: readonly RefusedResource[];
  /** It reports a version older than the declared oldest. */
  readonly olderThanDeclared: boolean;
  /** It keeps an old configuration while others apply the changes: since when, and the likely cause. */
  readonly stopped: { readonly since: number; readonly cause: string } | undefined;
}

/** A line for the log, said once an episode. */
export interface ReadbackNotice {
  readonly level: 'warn' | 'info' | 'error';
  readonly traefik: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

export class ReadbackBook {
  readonly #settings: ReadbackSettings;
  readonly #instances = new Map<string, Instance>();

  constructor(settings: ReadbackSettings) {
    this.#settings = settings;
  }

  /** The instances the configured URLs resolve to now; the others are forgotten (their ids are returned). */
  setInstances(instances: readonly { readonly id: string; readonly source: string }[]): string[] {
    const keep = new Set(instances.map((instance) => instance.id));
    const gone = [...this.#instances.keys()].filter((id) => !keep.has(id));
    for (const id of gone) this.#instances.delete(id);
    for (const { id, source } of instances) {
      if (this.#instances.has(id)) continue;
      this.#instances.set(id, {
        id,
        source,
        reachable: undefined,
        lastAnswer: undefined,
        unreachableSince: undefined,
        lastError: undefined,
        lastMiss: undefined,
        pending: new Map(),
        refused: new Map(),
        said: new Set(),
      });
    }
    return gone;
  }

  ids(): string[] {
    return [...this.#instances.keys()];
  }

  /** Committed changes of these resources: awaited in every instance (a newer commit of one replaces the older). */
  committed(resources: readonly string[], revision: string, now: number): void {
    for (const instance of this.#instances.values()) {
      for (const resource of resources) {
        instance.pending.delete(resource);
        instance.pending.set(resource, { resource, committedAt: now, revision });
      }
    }
  }

  /** The resources to read in an instance, oldest commit first. */
  pendingOf(id: string): PendingResource[] {
    return [...(this.#instances.get(id)?.pending.values() ?? [])];
  }

  /**
   * What a read of one resource in one instance showed. Live: how long after its commit, estimated
   * as the middle of the interval it became live in (after the last read that still missed it,
   * no later than this one), so that the figure does not depend on how often the loop reads.
   */
  record(id: string, resource: string, judgement: Judgement, now: number): { liveAfterMs?: number } {
    const instance = this.#instances.get(id);
    const pending = instance?.pending.get(resource);
    if (instance === undefined) return {};
    if (judgement.state === 'pending') {
      if (pending !== undefined) {
        instance.pending.set(resource, { ...pending, why: judgement.why, missingAt: now });
        if (instance.lastMiss === undefined || instance.lastMiss.at <= now)
          instance.lastMiss = { at: now, committedAt: pending.committedAt };
      }
      return {};
    }
    instance.pending.delete(resource);
    if (judgement.state === 'refused') {
      const before = instance.refused.get(resource);
      instance.refused.set(resource, {
        resource,
        error: judgement.error,
        since: before?.error === judgement.error ? before.since : now,
      });
    } else instance.refused.delete(resource);
    if (pending === undefined) return {};
    const miss = instance.lastMiss;
    const missedAt = Math.max(
      pending.committedAt,
      pending.missingAt ?? 0,
      miss !== undefined && miss.committedAt <= pending.committedAt ? miss.at : 0,
    );
    return { liveAfterMs: Math.max(0, (Math.min(missedAt, now) + now) / 2 - pending.committedAt) };
  }

  /** Whether an instance's API answered, and its version when it told it. */
  answered(id: string, now: number, answer: { ok: true; version?: string } | { ok: false; error: string }): void {
    const instance = this.#instances.get(id);
    if (instance === undefined) return;
    if (answer.ok) {
      instance.reachable = true;
      instance.lastAnswer = now;
      instance.unreachableSince = undefined;
      instance.lastError = undefined;
      if (answer.version !== undefined) instance.version = answer.version;
    } else {
      if (instance.reachable !== false) instance.unreachableSince = now;
      instance.reachable = false;
      instance.lastError = answer.error;
    }
  }

  /** When the change of a resource an instance lacks was committed, while the read-back awaits it there. */
  awaitedSince(id: string, resource: string): number | undefined {
    return this.#instances.get(id)?.pending.get(resource)?.committedAt;
  }

  /** When an instance's API last answered (ms since the epoch). */
  lastAnswer(id: string): number | undefined {
    return this.#instances.get(id)?.lastAnswer;
  }

  /** Whether an instance's API answered its last read. */
  reachable(id: string): boolean {
    return this.#instances.get(id)?.reachable === true;
  }

  /** Whether an instance's version is known (the loop asks for it once, and again after it stopped answering). */
  knowsVersion(id: string): boolean {
    return this.#instances.get(id)?.version !== undefined;
  }

  reports(now: number): TraefikReport[] {
    const instances = [...this.#instances.values()];
    const lag = (instance: Instance): number => {
      const oldest = instance.pending.values().next().value;
      return oldest === undefined ? 0 : Math.max(0, now - oldest.committedAt);
    };
    const current = (instance: Instance): boolean => lag(instance) <= this.#settings.lagWarnMs;
    return instances.map((instance) => {
      const lagMs = lag(instance);
      const olderThanDeclared = this.#olderThanDeclared(instance);
      const othersApply = instances.some((other) => other !== instance && other.reachable === true && current(other));
      const oldest = instance.pending.values().next().value;
      const stopped =
        !current(instance) && othersApply && oldest !== undefined
          ? { since: oldest.committedAt, cause: this.#likelyCause(instance) }
          : undefined;
      return {
        id: instance.id,
        source: instance.source,
        version: instance.version,
        reachable: instance.reachable,
        unreachableSince: instance.unreachableSince,
        lastError: instance.lastError,
        current: current(instance),
        lagMs,
        pending: [...instance.pending.values()],
        refused: [...instance.refused.values()],
        olderThanDeclared,
        stopped,
      };
    });
  }

  /**
   * The log lines this state calls for and has not said yet: a refused resource, an instance
   * behind, stopped, unreachable or older than declared; and their end. Each once an episode.
   */
  notices(now: number): ReadbackNotice[] {
    const notices: ReadbackNotice[] = [];
    for (const report of this.reports(now)) {
      const instance = this.#instances.get(report.id) as Instance;
      const say = (key: string, active: boolean, notice: () => ReadbackNotice, ended?: () => ReadbackNotice) => {
        if (active && !instance.said.has(key)) {
          instance.said.add(key);
          notices.push(notice());
        } else if (!active && instance.said.delete(key) && ended !== undefined) notices.push(ended());
      };
      const traefik = report.id;
      const refusedNow = new Set(report.refused.map((entry) => `refused:${entry.resource}:${entry.error}`));
      for (const entry of report.refused)
        say(`refused:${entry.resource}:${entry.error}`, true, () => ({
          level: 'error',
          traefik,
          message: `Traefik refused ${entry.resource}: ${entry.error}; fix the labels that define it (appproxy explain names them)`,
          details: { resource: entry.resource, error: entry.error },
        }));
      for (const key of [...instance.said].filter((key) => key.startsWith('refused:') && !refusedNow.has(key)))
        instance.said.delete(key);
      say(
        'unreachable',
        report.reachable === false,
        () => ({
          level: 'warn',
          traefik,
          message: `Traefik's API does not answer: whether routes are live there is unknown; check that it runs and that --traefik-api-urls reaches its API (${report.lastError ?? 'no answer'})`,
          details: { error: report.lastError },
        }),
        () => ({ level: 'info', traefik, message: "Traefik's API answers again", details: {} }),
      );
      say(
        'behind',
        !report.current && report.stopped === undefined && report.reachable === true,
        () => ({
          level: 'warn',
          traefik,
          message: `Traefik is behind: a change committed ${Math.round(report.lagMs / 1000)} s ago is not live there (more than --traefik-lag-warn-seconds); a large tree or a burst of changes makes its KV provider lag`,
          details: { lagSeconds: Math.round(report.lagMs / 1000), pending: report.pending.length },
        }),
        () => ({ level: 'info', traefik, message: 'Traefik has caught up', details: {} }),
      );
      say(
        'stopped',
        report.stopped !== undefined,
        () => ({
          level: 'error',
          traefik,
          message: `Traefik stopped applying the store's changes since ${new Date(report.stopped?.since ?? now).toISOString()} while the other Traefiks apply them; likely cause: ${report.stopped?.cause ?? ''}`,
          details: { since: new Date(report.stopped?.since ?? now).toISOString(), pending: report.pending.length },
        }),
        () => ({ level: 'info', traefik, message: "Traefik applies the store's changes again", details: {} }),
      );
      say('older', report.olderThanDeclared, () => ({
        level: 'error',
        traefik,
        message: `Traefik ${report.version ?? ''} is older than the declared oldest Traefik, ${formatTraefikVersion(this.#settings.minVersion)} (--traefik-min-version): a field written for that release makes it keep its last configuration for the whole tree; upgrade it, or declare its version`,
        details: { version: report.version, declared: formatTraefikVersion(this.#settings.minVersion) },
      }));
    }
    return notices;
  }

  #olderThanDeclared(instance: Instance): boolean {
    const version = instance.version === undefined ? undefined : parseTraefikVersion(instance.version);
    return version !== undefined && compareTraefikVersions(version, this.#settings.minVersion) < 0;
  }

  /** What the daemon can see of why an instance keeps an old configuration. */
  #likelyCause(instance: Instance): string {
    if (instance.reachable === false)
      return `its API does not answer (${instance.lastError ?? 'no answer'}): it may be down or cut off`;
    if (this.#olderThanDeclared(instance))
      return `its version ${instance.version ?? ''} is older than the declared oldest, ${formatTraefikVersion(this.#settings.minVersion)}: a field it cannot decode makes it keep its last configuration`;
    return 'it reads the store no more (its connection to the store: see its log), or a key in the tree it cannot decode (written by another tool, or for a newer Traefik); its version is not below the declared oldest';
  }
}
