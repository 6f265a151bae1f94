import { hash } from 'node:crypto';
import type { AppDeclaration } from '../core/apps/declare-apps.ts';
import { resourceEntries } from '../core/kv/configuration-to-kv.ts';
import { defaultInstanceLimits, formatCount, limitMessage, type InstanceLimits } from '../core/limits.ts';
import { conflictProblems, type BuildProblem } from '../core/provider/build-problem.ts';
import type { Contribution } from '../core/provider/contribution.ts';
import type { CompiledTranslateOptions } from '../core/translate/translate-options.ts';
import { translateWorkload, type WorkloadTranslation } from '../core/translate/translate-workload.ts';
import type { MergeConflict } from '../core/provider/merge-configurations.ts';
import { MergeIndex } from '../core/provider/merge-index.ts';
import { resourcePath } from '../core/resource-kinds.ts';
import type { Workload } from '../core/workload.ts';
import type { KeyLayout } from './key-layout.ts';
import type { DesiredResource } from './plan-change.ts';
import { resourceDigest } from './resource-digest.ts';

/** Counts the daemon reports as metrics; kept as changes happen, never recounted. */
export interface SyncCounts {
  readonly workloads: number;
  /** Containers, tasks and service VIPs that contribute configuration. */
  readonly routed: number;
  /** Desired resources by `<section>_<kind>`. */
  readonly resources: ReadonlyMap<string, number>;
}

/** Keys and bytes (of keys and values) one desired resource puts in the store, its claim included. */
export interface StoreSize {
  readonly keys: number;
  readonly bytes: number;
}

interface WorkloadState {
  readonly kind: Workload['kind'];
  readonly name: string;
  readonly fingerprint: string;
  readonly translation: WorkloadTranslation;
  /** Set while the workload is left out because this instance's keys or bytes would pass their limit. */
  readonly refusal: BuildProblem | undefined;
}

/**
 * What this owner wants in the store, kept at the cost of what changed: each workload's
 * translation is kept until its data changes, the merge is redone only for the resources a
 * changed workload touches, and each resource touched is turned into the keys it puts in the
 * store. Pure and synchronous: it reads no store and no Docker; the claim ids it changed are taken
 * by the pass (`takeChanged`).
 */
export class DesiredState {
  readonly #layout: KeyLayout;
  readonly #compiled: CompiledTranslateOptions;
  readonly #limits: InstanceLimits;
  readonly #workloads = new Map<string, WorkloadState>();
  readonly #merge = new MergeIndex();
  readonly #desired = new Map<string, DesiredResource>();
  readonly #mergeConflicts = new Map<string, MergeConflict[]>();
  readonly #changed = new Set<string>();
  #routed = 0;
  readonly #resourceCounts = new Map<string, number>();
  /** The apps of each workload that has any (from its translation). */
  readonly #appsOf = new Map<string, WorkloadTranslation['apps']>();
  /** A full listing came: until then the apps' step frees no port (an unanswered Docker is no app gone). */
  #listed = false;
  /** What each desired resource puts in the store, and the sum: everything this instance owns. */
  readonly #sizes = new Map<string, StoreSize>();
  #total: StoreSize = { keys: 0, bytes: 0 };
  /** A workload left or changed since refused ones were last tried: one of them may fit now. */
  #freed = false;
  /** How many workloads are refused now: with none, a workload leaving walks no list of 50,000. */
  #refusedCount = 0;

  constructor(options: { layout: KeyLayout; compiled: CompiledTranslateOptions; limits?: InstanceLimits | undefined }) {
    this.#layout = options.layout;
    this.#compiled = options.compiled;
    this.#limits = options.limits ?? defaultInstanceLimits;
  }

  /**
   * Sets every workload at once (a full listing), or every one of one kind (the Swarm services):
   * unchanged ones cost a comparison, missing ones are removed.
   */
  replaceWorkloads(workloads: readonly Workload[], kind?: Workload['kind']): void {
    this.#listed = true;
    const seen = new Set<string>();
    for (const workload of workloads) {
      seen.add(workload.id);
      this.upsertWorkload(workload);
    }
    for (const [id, state] of [...this.#workloads])
      if (!seen.has(id) && (kind === undefined || state.kind === kind)) this.removeWorkload(id);
  }

  /** One workload is new or may have changed. */
  upsertWorkload(workload: Workload): void {
    // A digest, not the text: 20 bytes kept per workload instead of a kilobyte.
    const fingerprint = hash('sha1', JSON.stringify(workload), 'base64');
    const known = this.#workloads.get(workload.id);
    if (known?.fingerprint === fingerprint) return;
    // The fingerprint covers everything the translation reads: its apps come without ports
    // (translation.apps), so that ports, which depend on the other apps and on a store, never go
    // stale here; the apps' step (app-serving.ts) gives them on every pass.
    const translation = translateWorkload(workload, this.#compiled);
    const admitted = known !== undefined && known.refusal === undefined ? known.translation : undefined;
    if (admitted !== undefined) this.#freed = true;
    const refusal = this.#admit(workload.id, workload.name, admitted, translation);
    this.#refusedCount += (refusal === undefined ? 0 : 1) - (known?.refusal === undefined ? 0 : 1);
    this.#workloads.set(workload.id, { kind: workload.kind, name: workload.name, fingerprint, translation, refusal });
  }

  /** One workload is gone. */
  removeWorkload(id: string): void {
    const known = this.#workloads.get(id);
    if (known === undefined) return;
    this.#workloads.delete(id);
    if (known.refusal !== undefined) {
      this.#refusedCount -= 1;
      return;
    }
    this.#setTranslation(id, known.translation, undefined);
    this.#freed = true;
  }

  /** Replaces what the apps' step contributes for one workload (its apps' routers and services, with their ports). */
  setAppContributions(workloadId: string, contributions: readonly Contribution[]): void {
    // An entry of its own beside the workload's translation: the key cannot be a workload id.
    for (const claimId of this.#merge.set(`apps\u0000${workloadId}`, contributions)) this.#resolve(claimId);
  }

  /** Refused workloads tried again, in the order they came, once something left: each that fits now is routed. */
  retryRefused(): void {
    if (!this.#freed) return;
    this.#freed = false;
    if (this.#refusedCount === 0) return;
    for (const [id, state] of this.#workloads) {
      if (state.refusal === undefined) continue;
      // The first refusal is kept while it stands: its figures are those of when it was refused.
      const refusal = this.#admit(id, state.name, undefined, state.translation);
      if (refusal === undefined) {
        this.#workloads.set(id, { ...state, refusal: undefined });
        this.#refusedCount -= 1;
      }
    }
  }

  /** Whether a full listing came yet. */
  get listed(): boolean {
    return this.#listed;
  }

  /** Every app the workloads declare, without ports. */
  apps(): AppDeclaration[] {
    return [...this.#appsOf.values()].flat();
  }

  /** Claim id → what this owner wants of that resource. */
  get resources(): ReadonlyMap<string, DesiredResource> {
    return this.#desired;
  }

  /** The claim ids whose desired resource changed since the last call. */
  takeChanged(): Set<string> {
    const changed = new Set(this.#changed);
    this.#changed.clear();
    return changed;
  }

  /**
   * Every problem of the workloads now: each one's own, its refusal, and the merge conflicts (reported to each workload
   * involved).
   */
  problems(): BuildProblem[] {
    const problems: BuildProblem[] = [];
    for (const { translation, refusal } of this.#workloads.values()) {
      problems.push(...translation.problems);
      if (refusal !== undefined) problems.push(refusal);
    }
    for (const conflicts of this.#mergeConflicts.values())
      for (const conflict of conflicts) problems.push(...conflictProblems(conflict));
    return problems;
  }

  /** Why a workload is left out for this instance's limits, if it is. */
  refusalOf(workloadId: string): BuildProblem | undefined {
    return this.#workloads.get(workloadId)?.refusal;
  }

  /**
   * Keys and bytes of everything this instance wants in the store now (what --max-instance-keys and
   * --max-instance-bytes cap).
   */
  storeSize(): StoreSize {
    return this.#total;
  }

  counts(): SyncCounts {
    return { workloads: this.#workloads.size, routed: this.#routed, resources: this.#resourceCounts };
  }

  /**
   * Puts a workload's translation in the merge in place of `before`, unless everything this
   * instance owns would then pass its limit: then the workload is left out whole (the merge is as
   * if it were not there), and the refusal is returned. Workloads already in never move for it.
   */
  #admit(
    id: string,
    name: string,
    before: WorkloadTranslation | undefined,
    translation: WorkloadTranslation,
  ): BuildProblem | undefined {
    this.#setTranslation(id, before, translation);
    const total = this.#total;
    const over =
      total.keys > this.#limits.keys
        ? 'instance-keys'
        : total.bytes > this.#limits.bytes
          ? 'instance-bytes'
          : undefined;
    if (translation.contributions.length === 0 || over === undefined) return undefined;
    this.#setTranslation(id, translation, undefined);
    const found =
      over === 'instance-keys'
        ? `with it, this instance would own ${formatCount(total.keys)} keys in the store`
        : `with it, this instance would own ${formatCount(total.bytes)} bytes of keys and values in the store`;
    const max = over === 'instance-keys' ? this.#limits.keys : this.#limits.bytes;
    return {
      severity: 'error',
      workload: name,
      label: undefined,
      limit: over,
      message: limitMessage(
        over,
        found,
        max,
        'what is routed already stays; remove workloads (it is tried again as they go)',
      ),
    };
  }

  #setTranslation(id: string, before: WorkloadTranslation | undefined, after: WorkloadTranslation | undefined): void {
    this.#routed += (after?.contributions.length ?? 0) - (before?.contributions.length ?? 0);
    // Kept apart, so that a pass looks at the workloads that have apps, not at every workload.
    if (after !== undefined && after.apps.length > 0) this.#appsOf.set(id, after.apps);
    else this.#appsOf.delete(id);
    for (const claimId of this.#merge.set(id, after?.contributions ?? [])) this.#resolve(claimId);
  }

  #resolve(claimId: string): void {
    const { resource, conflicts } = this.#merge.resolve(claimId);
    if (conflicts.length > 0) this.#mergeConflicts.set(claimId, conflicts);
    else this.#mergeConflicts.delete(claimId);
    const previous = this.#desired.get(claimId);
    if (previous !== undefined) this.#count(previous.resource, -1);
    const size = this.#sizes.get(claimId);
    if (size !== undefined) {
      this.#total = { keys: this.#total.keys - size.keys, bytes: this.#total.bytes - size.bytes };
      this.#sizes.delete(claimId);
    }
    if (resource === undefined) {
      this.#desired.delete(claimId);
    } else {
      const entries = resourceEntries(
        resource.section,
        resource.kind,
        resource.name,
        resource.definition,
        resource.serverOrigins,
        { rootKey: this.#layout.rootKey, ownerId: this.#layout.owner },
      );
      const path = resourcePath(resource.section, resource.kind, resource.name);
      const desired = {
        resource: path,
        fields: entries.fields,
        servers: entries.servers,
        digest: resourceDigest(entries.fields, this.#layout.rootKey),
      };
      this.#desired.set(claimId, desired);
      this.#count(path, 1);
      const added = this.#sizeOf(claimId, desired);
      this.#sizes.set(claimId, added);
      this.#total = { keys: this.#total.keys + added.keys, bytes: this.#total.bytes + added.bytes };
    }
    this.#changed.add(claimId);
  }

  /** What a desired resource puts in the store: its fields, this instance's servers of it, and its claim. */
  #sizeOf(claimId: string, desired: DesiredResource): StoreSize {
    let keys = desired.fields.size + 1;
    let bytes = Buffer.byteLength(this.#layout.claimKey(claimId)) + Buffer.byteLength(desired.digest);
    for (const [key, value] of desired.fields) bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    for (const server of desired.servers.values()) {
      keys += server.size;
      for (const [key, value] of server) bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    }
    return { keys, bytes };
  }

  #count(resource: string, delta: number): void {
    const [section = '', kind = ''] = resource.split('/', 2);
    const key = `${section}_${kind}`;
    this.#resourceCounts.set(key, (this.#resourceCounts.get(key) ?? 0) + delta);
  }
}
