// Builds the planner's inputs from plain key/value pairs, for the planner's table and golden tests:
// the desired side grouped by resource as the engine groups it, the mirror loaded from a tree,
// claims and leases as the store would hold them.
import { KeyLayout } from '../../src/sync/key-layout.ts';
import type { DesiredResource } from '../../src/sync/plan-change.ts';
import { resourceDigest } from '../../src/sync/resource-digest.ts';
import { StoreMirror } from '../../src/sync/store-mirror.ts';

export const LEASE = '7';

/** What the engine would want, from the pairs configurationToKeyValues would give. */
export function desiredFrom(pairs: ReadonlyMap<string, string>, layout: KeyLayout): Map<string, DesiredResource> {
  const grouped = new Map<
    string,
    { resource: string; fields: Map<string, string>; servers: Map<string, Map<string, string>> }
  >();
  for (const [key, value] of pairs) {
    const classified = layout.classify(key);
    if (classified?.kind !== 'tree') continue;
    let entry = grouped.get(classified.claimId);
    if (entry === undefined) {
      entry = { resource: classified.resource, fields: new Map(), servers: new Map() };
      grouped.set(classified.claimId, entry);
    }
    if (classified.server === undefined) entry.fields.set(key, value);
    else entry.servers.set(classified.server, new Map([...(entry.servers.get(classified.server) ?? []), [key, value]]));
  }
  return new Map(
    [...grouped].map(([id, entry]) => [id, { ...entry, digest: resourceDigest(entry.fields, layout.rootKey) }]),
  );
}

export interface MirrorSpec {
  /** Keys under the root (and the root marker itself). */
  readonly tree: ReadonlyMap<string, string>;
  /** Claim id → owner → digest. */
  readonly claims?: Record<string, Record<string, string>>;
  /** The lease of given keys; servers and claims are on LEASE otherwise, everything else on none. */
  readonly leases?: Record<string, string>;
}

export function mirrorFrom(spec: MirrorSpec, layout: KeyLayout): StoreMirror {
  const entries = [...spec.tree].map(([key, value]) => {
    const classified = layout.classify(key);
    const leased = classified?.kind === 'tree' && classified.server !== undefined;
    return { key, value, lease: spec.leases?.[key] ?? (leased ? LEASE : '0'), modRevision: 1n };
  });
  for (const [id, owners] of Object.entries(spec.claims ?? {})) {
    for (const [owner, digest] of Object.entries(owners)) {
      const key = layout.claimKey(id, owner);
      entries.push({ key, value: digest, lease: spec.leases?.[key] ?? LEASE, modRevision: 1n });
    }
  }
  const mirror = new StoreMirror(layout);
  mirror.load({ revision: 1n, entries });
  return mirror;
}

/** Owned server keys, grouped by claim id as the engine keeps them. */
export function ownedFrom(keys: readonly string[], layout: KeyLayout): Map<string, Set<string>> {
  const owned = new Map<string, Set<string>>();
  for (const key of keys) {
    const classified = layout.classify(key);
    if (classified?.kind !== 'tree') continue;
    owned.set(classified.claimId, new Set([...(owned.get(classified.claimId) ?? []), key]));
  }
  return owned;
}

export function testLayout(owner = 'host-a'): KeyLayout {
  return new KeyLayout('traefik', owner);
}
