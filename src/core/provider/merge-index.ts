import type { ConfigValue } from '../config-tree.ts';
import { originKey } from '../kv/configuration-to-kv.ts';
import { claimIdOf, resourcePath, resourcesIn } from '../resource-kinds.ts';
import { SmallMap } from '../small-map.ts';
import type { Contribution } from './contribution.ts';
import { mergeResourceGroup, type MergeConflict, type ResourceContribution } from './merge-configurations.ts';
import type { ServerOrigin } from './workload-configuration.ts';

/** One resource as the merge of its contributions gives it. */
export interface MergedResource {
  readonly section: string;
  readonly kind: string;
  readonly name: string;
  readonly definition: ConfigValue;
  /** originKey() → workload id, for the keys of its servers. */
  readonly serverOrigins: ReadonlyMap<string, string>;
}

interface Entry extends ResourceContribution {
  readonly section: string;
  readonly kind: string;
  readonly servers: readonly ServerOrigin[];
}

/**
 * The merge across workloads, kept up to date one workload at a time. Every resource is indexed
 * by its claim id (section, kind and name, folded as Traefik folds keys); changing one workload's
 * contributions names the claim ids it touched before and after, and only those are merged again,
 * with exactly the rule mergeConfigurations applies to all (mergeResourceGroup).
 */
export class MergeIndex {
  /** claim id → origin → that origin's definitions of the resource (usually one origin: a SmallMap). */
  readonly #groups = new Map<string, SmallMap<string, Entry[]>>();
  /** workload key → the claim ids and origins it contributes to. */
  // Arrays, not Sets: only ever walked, and an array of a few is a quarter of a Set's memory.
  readonly #byWorkload = new Map<string, { ids: readonly string[]; origins: readonly string[] }>();

  /** Replaces what the workload `key` contributes; returns the claim ids to merge again. */
  set(key: string, contributions: readonly Contribution[]): Set<string> {
    const touched = new Set<string>();
    const previous = this.#byWorkload.get(key);
    if (previous !== undefined) {
      for (const id of previous.ids) {
        touched.add(id);
        const group = this.#groups.get(id);
        for (const origin of previous.origins) group?.delete(origin);
        if (group?.size === 0) this.#groups.delete(id);
      }
      this.#byWorkload.delete(key);
    }
    if (contributions.length === 0) return touched;
    const mine = { ids: new Set<string>(), origins: new Set<string>() };
    for (const { origin, workload, configuration, servers } of contributions) {
      mine.origins.add(origin);
      for (const { section, kind, name, definition } of resourcesIn(configuration)) {
        const id = claimIdOf(resourcePath(section, kind, name));
        mine.ids.add(id);
        touched.add(id);
        let group = this.#groups.get(id);
        if (group === undefined) {
          group = new SmallMap();
          this.#groups.set(id, group);
        }
        const list = group.get(origin) ?? [];
        list.push({ origin, workload, name, resource: definition, section, kind, servers });
        group.set(origin, list);
      }
    }
    this.#byWorkload.set(key, { ids: [...mine.ids], origins: [...mine.origins] });
    return touched;
  }

  /**
   * The merged resource of one claim id (none when nobody defines it or the definitions conflict), and its conflicts.
   */
  resolve(id: string): { resource: MergedResource | undefined; conflicts: MergeConflict[] } {
    const group = this.#groups.get(id);
    if (group === undefined) return { resource: undefined, conflicts: [] };
    const entries = [...group.keys()].sort().flatMap((origin) => group.get(origin) ?? []);
    const first = entries[0];
    if (first === undefined) return { resource: undefined, conflicts: [] };
    const { kept, conflicts } = mergeResourceGroup(first.section, first.kind, entries);
    const [only] = kept;
    if (only === undefined) return { resource: undefined, conflicts };
    const [name, definition] = only;
    const serverOrigins = new Map<string, string>();
    for (const entry of entries) {
      for (const server of entry.servers) {
        const key = originKey(server.protocol, server.service, server.target);
        if (!serverOrigins.has(key)) serverOrigins.set(key, server.workloadId);
      }
    }
    return { resource: { section: first.section, kind: first.kind, name, definition, serverOrigins }, conflicts };
  }
}
