// What a store must hold under the root after a sync, for the engine's and the owner roles' unit
// tests: the whole, non-incremental translation of the workloads as one owner writes it.
import { configurationToKeyValues } from '../../src/core/kv/configuration-to-kv.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import {
  compileTranslateOptions,
  type CompiledTranslateOptions,
  defaultTranslateOptions,
} from '../../src/core/translate/translate-options.ts';
import type { Workload } from '../../src/core/workload.ts';
import { KeyLayout } from '../../src/sync/key-layout.ts';
import type { MemoryStore } from './memory-store.ts';

/** Traefik's default provider options, compiled (what `appproxy run` uses without settings). */
export const defaultCompiled: CompiledTranslateOptions = (() => {
  const result = compileTranslateOptions(defaultTranslateOptions);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.value;
})();

function sorted(tree: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The root marker and every key of the translation; the placeholder when there is nothing else. */
export function expectedTree(
  workloads: readonly Workload[],
  compiled: CompiledTranslateOptions,
  ownerId: string,
  rootKey = 'traefik',
): Record<string, string> {
  const build = buildConfiguration(workloads, compiled);
  const pairs = configurationToKeyValues(build.configuration, build.servers, { rootKey, ownerId });
  const tree: Record<string, string> = { [rootKey]: 'appproxy' };
  for (const [key, value] of pairs) tree[key] = value;
  if (pairs.size === 0) tree[new KeyLayout(rootKey, ownerId).placeholderKey] = 'true';
  return sorted(tree);
}

/** What the store holds under the root (the marker and `<root>/...`; not `<root>_other`). */
export function rootTree(store: MemoryStore, rootKey = 'traefik'): Record<string, string> {
  return Object.fromEntries(
    Object.entries(store.tree(rootKey)).filter(([key]) => key === rootKey || key.startsWith(`${rootKey}/`)),
  );
}
