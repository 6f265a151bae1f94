import { foldCase } from '../core/fold-case.ts';
import { partitionTree, resourceDigest } from './resource-keys.ts';

/** What this instance wants in etcd: the pairs its own workloads give (from the core). */
export interface DesiredTree {
  readonly pairs: ReadonlyMap<string, string>;
}

/** What etcd holds, read at one revision. */
export interface ClusterSnapshot {
  /** Every key under `rootKey/`, and the root key itself when present. */
  readonly tree: ReadonlyMap<string, string>;
  /** Claims: resource claim id → owner → digest of the definition that owner wants. */
  readonly claims: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Keys this instance owns now (its servers), as far as it knows. */
  readonly ownedServers: ReadonlySet<string>;
  /** Keys to write even when etcd already holds the value: leased keys of an earlier lease move to the current one. */
  readonly rewrite?: ReadonlySet<string>;
}

export type Operation =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly leased: boolean }
  | { readonly type: 'delete'; readonly key: string };

/**
 * A group of operations that belongs together (one resource, one server, one claim): splitting a
 * change into several transactions never cuts a unit. `stage` orders units so that no intermediate
 * state has a router without its service or middleware, or a service without its servers.
 */
export interface Unit {
  readonly stage: 0 | 1 | 2 | 3;
  readonly label: string;
  readonly operations: readonly Operation[];
  /** Resource claim ids whose claims must not have changed since the snapshot. */
  readonly guards: readonly string[];
}

export interface Conflict {
  readonly resource: string;
  readonly owners: readonly string[];
}

export interface ChangePlan {
  readonly units: readonly Unit[];
  readonly conflicts: readonly Conflict[];
  /** Server keys this instance owns once the plan is applied. */
  readonly ownedServers: ReadonlySet<string>;
}

export interface PlanContext {
  readonly rootKey: string;
  readonly owner: string;
  /** Where claims live (outside the root key's prefix): `<claimsPrefix><claim id>/<owner>`. */
  readonly claimsPrefix: string;
}

/**
 * Traefik's etcd provider ignores a tree that decodes to nothing at all (it keeps the last
 * configuration), so removing the last route would leave every old route in place. When nothing
 * else remains, this one unused service stands in: Traefik then sees a configuration with no
 * routers and drops the old ones. It is removed as soon as anything else is written.
 */
export const PLACEHOLDER_RESOURCE = 'http/services/appproxy-placeholder';
const PLACEHOLDER_FIELD = 'loadBalancer/passHostHeader';

/** Claims compare names without regard to case, as Traefik reads keys (Go's EqualFold: see foldCase). */
export function claimId(resource: string): string {
  return foldCase(resource);
}

export function claimKey(context: PlanContext, resource: string, owner: string): string {
  return `${context.claimsPrefix}${claimId(resource)}/${owner}`;
}

function stageOf(resource: string, removing: boolean): 0 | 1 | 2 | 3 {
  const isRouter = /^(http|tcp|udp)\/routers\//i.test(resource);
  if (!removing) return isRouter ? 1 : 0;
  return isRouter ? 2 : 3;
}

function diffEntries(want: ReadonlyMap<string, string>, have: ReadonlyMap<string, string> | undefined, leased: boolean, rewrite: ReadonlySet<string>): Operation[] {
  const operations: Operation[] = [];
  for (const [key, value] of want) {
    if (have?.get(key) !== value || rewrite.has(key)) operations.push({ type: 'put', key, value, leased });
  }
  for (const key of have?.keys() ?? []) {
    if (!want.has(key)) operations.push({ type: 'delete', key });
  }
  return operations;
}

/**
 * The smallest change that makes etcd hold what this instance wants, without touching what other
 * instances own:
 *
 * - a resource is written when no other instance claims it with a different definition; a
 *   differing claim is a conflict, reported, and neither definition replaces the other;
 * - this instance's claim of each resource it wants is written beside it (leased, so that it
 *   leaves with the instance);
 * - a resource it no longer wants loses its claim, and its keys go only when no claim remains;
 * - resources nobody claims (their owners died and their leases ran out) are removed;
 * - its own servers are written leased, and its servers that are no longer wanted are removed.
 */
export function planChange(desired: DesiredTree, snapshot: ClusterSnapshot, context: PlanContext): ChangePlan {
  const want = partitionTree(desired.pairs, context.rootKey);
  const have = partitionTree(snapshot.tree, context.rootKey);
  // A service whose only keys are its servers is still a resource this instance serves and claims.
  for (const resource of want.serverResource.values()) if (!want.resources.has(resource)) want.resources.set(resource, new Map());
  const units: Unit[] = [];
  const conflicts: Conflict[] = [];
  const blocked = new Set<string>();
  const rewrite = snapshot.rewrite ?? new Set<string>();

  const rootMarker = snapshot.tree.get(context.rootKey);
  if (rootMarker === undefined) {
    // Traefik's etcd provider cannot start its watch while nothing exists at the root key itself.
    units.push({ stage: 0, label: 'root marker', operations: [{ type: 'put', key: context.rootKey, value: 'appproxy', leased: false }], guards: [] });
  }

  // What etcd holds, by claim id: the spellings of each resource, their keys and values (servers'
  // keys too, for removal). Built once: looking resources up by scanning would be quadratic.
  const haveById = new Map<string, { resources: string[]; entries: Map<string, string>; keys: string[] }>();
  for (const [resource, entries] of have.resources) {
    const entry = haveById.get(claimId(resource)) ?? { resources: [], entries: new Map<string, string>(), keys: [] };
    entry.resources.push(resource);
    for (const [key, value] of entries) entry.entries.set(key, value);
    entry.keys.push(...entries.keys());
    haveById.set(claimId(resource), entry);
  }
  for (const [server, resource] of have.serverResource) {
    const entry = haveById.get(claimId(resource)) ?? { resources: [resource], entries: new Map<string, string>(), keys: [] };
    entry.keys.push(...(have.servers.get(server)?.keys() ?? []));
    haveById.set(claimId(resource), entry);
  }

  const wantedClaims = new Set<string>();
  for (const [resource, entries] of want.resources) {
    if (claimId(resource) === PLACEHOLDER_RESOURCE) continue;
    const id = claimId(resource);
    wantedClaims.add(id);
    const digest = resourceDigest(entries, context.rootKey);
    const claims = snapshot.claims.get(id);
    const others = [...(claims ?? new Map<string, string>())].filter(([owner]) => owner !== context.owner);
    const operations: Operation[] = [];
    const ownClaim = claimKey(context, resource, context.owner);
    if (claims?.get(context.owner) !== digest || rewrite.has(ownClaim)) operations.push({ type: 'put', key: ownClaim, value: digest, leased: true });
    if (others.some(([, other]) => other !== digest)) {
      conflicts.push({ resource, owners: others.map(([owner]) => owner) });
      blocked.add(id);
    } else {
      // Keys of the same resource spelled in another case are the same key to Traefik: replace them.
      operations.push(...diffEntries(entries, haveById.get(id)?.entries, false, rewrite));
    }
    if (operations.length > 0) units.push({ stage: stageOf(resource, false), label: resource, operations, guards: [id] });
  }

  // Claims this instance holds for resources it no longer wants; and resources nobody claims.
  const ids = new Set([...haveById.keys(), ...[...snapshot.claims.keys()]]);
  for (const id of ids) {
    if (wantedClaims.has(id) || id === PLACEHOLDER_RESOURCE) continue;
    const claims = snapshot.claims.get(id);
    const mine = claims?.has(context.owner) ?? false;
    const othersRemain = [...(claims?.keys() ?? [])].some((owner) => owner !== context.owner);
    const operations: Operation[] = [];
    if (mine) operations.push({ type: 'delete', key: `${context.claimsPrefix}${id}/${context.owner}` });
    if (!othersRemain) {
      for (const key of haveById.get(id)?.keys ?? []) operations.push({ type: 'delete', key });
    }
    if (operations.length > 0) {
      const resource = haveById.get(id)?.resources[0] ?? id;
      units.push({ stage: stageOf(resource, true), label: resource, operations, guards: [id] });
    }
  }

  const placeholderKey = `${context.rootKey}/${PLACEHOLDER_RESOURCE}/${PLACEHOLDER_FIELD}`;
  const removed = new Set(units.flatMap((unit) => unit.operations.filter((operation) => operation.type === 'delete').map((operation) => operation.key)));
  const remaining = [...have.resources.keys()].some((resource) => claimId(resource) !== PLACEHOLDER_RESOURCE && [...(have.resources.get(resource)?.keys() ?? [])].some((key) => !removed.has(key)));
  const needsPlaceholder = want.resources.size === 0 && !remaining;
  if (needsPlaceholder && !snapshot.tree.has(placeholderKey)) {
    units.push({ stage: 3, label: 'placeholder', operations: [{ type: 'put', key: placeholderKey, value: 'true', leased: false }], guards: [] });
  } else if (!needsPlaceholder && snapshot.tree.has(placeholderKey)) {
    units.push({ stage: 0, label: 'placeholder', operations: [{ type: 'delete', key: placeholderKey }], guards: [] });
  }

  // This instance's servers, leased; never into a service whose definition is in conflict.
  const ownedServers = new Set<string>();
  for (const [server, entries] of want.servers) {
    const resource = want.serverResource.get(server) ?? '';
    if (blocked.has(claimId(resource))) continue;
    for (const key of entries.keys()) ownedServers.add(key);
    const operations = diffEntries(entries, have.servers.get(server), true, rewrite);
    if (operations.length > 0) units.push({ stage: 0, label: server, operations, guards: [] });
  }
  const stale: Operation[] = [];
  for (const key of snapshot.ownedServers) {
    if (!ownedServers.has(key) && snapshot.tree.has(key)) stale.push({ type: 'delete', key });
  }
  if (stale.length > 0) units.push({ stage: 3, label: 'stale servers', operations: stale, guards: [] });

  return { units: dedupe(units), conflicts, ownedServers };
}

/** A key deleted as part of a removed resource may also be one of this instance's stale servers: keep the first operation on each key (etcd refuses a transaction that touches a key twice). */
function dedupe(units: Unit[]): Unit[] {
  const seen = new Set<string>();
  const result: Unit[] = [];
  for (const unit of [...units].sort((a, b) => a.stage - b.stage)) {
    const operations = unit.operations.filter((operation) => !seen.has(operation.key) && seen.add(operation.key));
    if (operations.length > 0) result.push({ ...unit, operations });
  }
  return result;
}
