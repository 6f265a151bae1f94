import { claimIdOf, isRouter } from '../core/resource-kinds.ts';
import { PLACEHOLDER_RESOURCE, type KeyLayout } from './key-layout.ts';
import type { Operation } from './kv-store.ts';
import { operationBytes } from './operation-bytes.ts';
import type { ClaimRecord, MirrorEntry, MirrorResource } from './store-mirror.ts';

/** What this instance wants of one resource: from the core's merge, keyed by its claim id. */
export interface DesiredResource {
  /** `http/services/chat`, spelled as the workloads spell it. */
  readonly resource: string;
  /** Its own keys and values (servers excluded), full keys. */
  readonly fields: ReadonlyMap<string, string>;
  /** This instance's servers of it, by server path (`http/services/chat/loadBalancer/servers/<id>`). */
  readonly servers: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** resourceDigest(fields): what this instance writes into its claim. */
  readonly digest: string;
}

/** The parts of the in-memory mirror of the store the planner reads (StoreMirror implements it). */
export interface MirrorView {
  hasRootMarker(): boolean;
  hasPlaceholder(): boolean;
  resource(claimId: string): MirrorResource | undefined;
  claims(claimId: string): ReadonlyMap<string, ClaimRecord> | undefined;
  resourcesWithFields(): ReadonlySet<string>;
  entry(key: string): MirrorEntry | undefined;
}

export interface PlanInput {
  /** Everything this instance wants, by claim id. */
  readonly desired: ReadonlyMap<string, DesiredResource>;
  readonly mirror: MirrorView;
  /** The claim ids to plan for: those a change touched, or all of them for a full resync. */
  readonly scope: Iterable<string>;
  readonly layout: KeyLayout;
  /** The lease this instance's leased keys must be on; a key on another one is written again. */
  readonly leaseId: string;
  /** Server keys this instance owns now, by claim id (its earlier run's, at start). */
  readonly ownedServers: ReadonlyMap<string, ReadonlySet<string>>;
  /** Claim ids in scope known to need nothing (planned before from the very same input): left out. */
  readonly settled?: ((claimId: string) => boolean) | undefined;
  /**
   * The revision through which the mirror knows every claim of a claim id (default: all of them, as
   * in a snapshot). A resource whose keys are newer may have a claim on its way: it is not taken
   * for one nobody claims.
   */
  readonly knownThrough?: ((claimId: string) => bigint) | undefined;
}

/**
 * A group of operations that belongs together (one resource, one server, one claim): splitting a
 * change into several transactions never cuts a unit. `stage` orders units so that no intermediate
 * state has a router without its service or middleware, or a service without its servers.
 */
export interface Unit {
  readonly stage: 0 | 1 | 2 | 3;
  readonly label: string;
  readonly operations: readonly Operation[];
  /** Claim ids whose claims must not have changed since the plan's revision. */
  readonly guards: readonly string[];
  /** Bytes of its keys and values (operationBytes), counted once: packing a first sync reads it for every unit. */
  readonly bytes: number;
}

/** A unit, its bytes counted. */
export function makeUnit(
  stage: Unit['stage'],
  label: string,
  operations: readonly Operation[],
  guards: readonly string[],
): Unit {
  let bytes = 0;
  for (const operation of operations) bytes += operationBytes(operation);
  return { stage, label, operations, guards, bytes };
}

export interface Conflict {
  readonly resource: string;
  readonly owners: readonly string[];
}

export interface ChangePlan {
  readonly units: readonly Unit[];
  /** Conflicts with other owners, of the claim ids in scope. */
  readonly conflicts: ReadonlyMap<string, Conflict>;
  /** Server keys this instance owns once the plan is applied, for each claim id planned. */
  readonly ownedServers: ReadonlyMap<string, Set<string>>;
  /** Claim ids planned that need nothing: no operation, no conflict. */
  readonly quiet: readonly string[];
}

const PLACEHOLDER_CLAIM = claimIdOf(PLACEHOLDER_RESOURCE);
/** The servers owned of a resource that has none (never added to: shared by every such resource). */
const NO_SERVERS: Set<string> = new Set();

function stageOf(resource: string, removing: boolean): 0 | 1 | 2 | 3 {
  const router = isRouter(resource);
  if (!removing) return router ? 1 : 0;
  return router ? 2 : 3;
}

/** Appends to `operations` what makes `have` hold `want` (nothing is allocated when they agree). */
function diffEntries(
  operations: Operation[],
  want: ReadonlyMap<string, string>,
  have: ReadonlyMap<string, MirrorEntry> | undefined,
  leased: boolean,
  leaseId: string,
): Operation[] {
  for (const [key, value] of want) {
    const held = have?.get(key);
    // A leased key on another lease (an earlier run's, or one that was lost) is written again, so
    // that it lives exactly as long as this instance does.
    if (held?.value !== value || (leased && held.lease !== leaseId))
      operations.push({ type: 'put', key, value, leased });
  }
  for (const key of have?.keys() ?? []) {
    if (!want.has(key)) operations.push({ type: 'delete', key });
  }
  return operations;
}

/**
 * The smallest change that makes the store hold what this instance wants for the claim ids in
 * scope, without touching what other instances own. Pure: the same input gives the same plan.
 *
 * - a resource is written when no other instance claims it with a different definition; a
 *   differing claim is a conflict, reported, and neither definition replaces the other;
 * - this instance's claim of each resource it wants is written beside it (leased, so that it
 *   leaves with the instance);
 * - a resource it no longer wants loses its claim, and its keys go only when no claim remains;
 * - resources nobody claims (their owners died and their leases ran out) are removed;
 * - its own servers are written leased, and its servers that are no longer wanted are removed.
 */
export function planChange(input: PlanInput): ChangePlan {
  const { desired, mirror, layout, leaseId } = input;
  const units: Unit[] = [];
  const conflicts = new Map<string, Conflict>();
  const ownedServers = new Map<string, Set<string>>();
  /** Claim ids whose fields this plan removes entirely. */
  const emptied = new Set<string>();
  const quiet: string[] = [];

  if (!mirror.hasRootMarker()) {
    // Traefik's etcd provider cannot start its watch while nothing exists at the root key itself.
    units.push(
      makeUnit(0, 'root marker', [{ type: 'put', key: layout.rootKey, value: 'appproxy', leased: false }], []),
    );
  }

  const scope = input.scope instanceof Set ? (input.scope as ReadonlySet<string>) : new Set(input.scope);
  for (const id of scope) {
    if (id === PLACEHOLDER_CLAIM || input.settled?.(id) === true) continue;
    const unitsBefore = units.length;
    let unknown = false;
    const want = desired.get(id);
    const have = mirror.resource(id);
    const claims = mirror.claims(id);
    // A set of its own only for a resource with servers (one claim in three): the others share one
    // that nothing adds to.
    const owned = want !== undefined && want.servers.size > 0 ? new Set<string>() : NO_SERVERS;
    ownedServers.set(id, owned);

    if (want !== undefined) {
      const mine = claims?.get(layout.owner);
      const operations: Operation[] = [];
      if (mine?.digest !== want.digest || mine.lease !== leaseId)
        operations.push({ type: 'put', key: layout.claimKey(id), value: want.digest, leased: true });
      // Most resources have one claim, this instance's: the others are looked at only when there are.
      let blocked = false;
      if (claims !== undefined && claims.size > (mine === undefined ? 0 : 1)) {
        const others = [...claims].filter(([owner]) => owner !== layout.owner);
        blocked = others.some(([, other]) => other.digest !== want.digest);
        if (blocked) conflicts.set(id, { resource: want.resource, owners: others.map(([owner]) => owner) });
      }
      if (!blocked) {
        // Keys of the same resource spelled in another case are the same key to Traefik: replace them.
        diffEntries(operations, want.fields, have?.fields, false, leaseId);
      }
      if (operations.length > 0) units.push(makeUnit(stageOf(want.resource, false), want.resource, operations, [id]));
      if (!blocked) {
        // Never into a service whose definition is in conflict.
        for (const [server, entries] of want.servers) {
          for (const key of entries.keys()) owned.add(key);
          const serverOperations = diffEntries([], entries, have?.servers.get(server), true, leaseId);
          if (serverOperations.length > 0) units.push(makeUnit(0, server, serverOperations, []));
        }
      }
    } else if (have !== undefined || claims !== undefined) {
      // Not wanted here: give up the claim; the keys go only when nobody else claims the resource.
      const operations: Operation[] = [];
      if (claims?.has(layout.owner) === true) operations.push({ type: 'delete', key: layout.claimKey(id) });
      const othersRemain = [...(claims?.keys() ?? [])].some((owner) => owner !== layout.owner);
      // Written after the claims the mirror knows of (the tree's events came before the claims'
      // written with them): another owner may have just claimed it. Left for a later plan.
      unknown = !othersRemain && have !== undefined && !claimsKnown(have, input.knownThrough?.(id));
      if (!othersRemain && have !== undefined && !unknown) {
        for (const key of have.fields.keys()) operations.push({ type: 'delete', key });
        for (const server of have.servers.values())
          for (const key of server.keys()) operations.push({ type: 'delete', key });
        if (have.fields.size > 0) emptied.add(id);
      }
      if (operations.length > 0) {
        const resource = [...(have?.spellings.keys() ?? [])][0] ?? id;
        units.push(makeUnit(stageOf(resource, true), resource, operations, [id]));
      }
    }

    const stale: Operation[] = [];
    for (const key of input.ownedServers.get(id) ?? []) {
      if (!owned.has(key) && mirror.entry(key) !== undefined) stale.push({ type: 'delete', key });
    }
    if (stale.length > 0) units.push(makeUnit(3, 'stale servers', stale, []));
    // One left for a later plan is not quiet: the next full pass plans it again.
    if (units.length === unitsBefore && !conflicts.has(id) && !unknown) quiet.push(id);
  }

  const withFields = mirror.resourcesWithFields();
  let remaining = withFields.size;
  for (const id of emptied) if (withFields.has(id)) remaining -= 1;
  const needsPlaceholder = desired.size === 0 && remaining === 0;
  if (needsPlaceholder && !mirror.hasPlaceholder()) {
    units.push(
      makeUnit(3, 'placeholder', [{ type: 'put', key: layout.placeholderKey, value: 'true', leased: false }], []),
    );
  } else if (!needsPlaceholder && mirror.hasPlaceholder()) {
    units.push(makeUnit(0, 'placeholder', [{ type: 'delete', key: layout.placeholderKey }], []));
  }

  return { units: dedupe(units), conflicts, ownedServers, quiet };
}

/**
 * Whether a resource's fields are no newer than the revision its claims are known through. Its
 * fields are written with a claim, in one transaction; servers are not (each owner's own, leased).
 */
function claimsKnown(have: MirrorResource, knownThrough: bigint | undefined): boolean {
  if (knownThrough === undefined) return true;
  for (const entry of have.fields.values()) if (entry.modRevision > knownThrough) return false;
  return true;
}

/**
 * A key deleted as part of a removed resource may also be one of this instance's stale servers: keep the first
 * operation on each key (etcd refuses a transaction that touches a key twice). Only deletions can meet: a put is
 * of a key wanted now (a field, a wanted server's key, a claim), which is never deleted in the same plan, and
 * each key belongs to one claim id. So a first sync's 100,000 puts are not looked up at all.
 */
function dedupe(units: Unit[]): Unit[] {
  const deleted = new Set<string>();
  const result: Unit[] = [];
  for (const unit of [...units].sort((a, b) => a.stage - b.stage)) {
    if (!unit.operations.some((operation) => operation.type === 'delete')) {
      result.push(unit);
      continue;
    }
    const operations = unit.operations.filter(
      (operation) => operation.type === 'put' || (!deleted.has(operation.key) && deleted.add(operation.key)),
    );
    // A unit is copied only when it lost an operation (rare): a first sync's plan is not held twice.
    if (operations.length === unit.operations.length) result.push(unit);
    else if (operations.length > 0) result.push(makeUnit(unit.stage, unit.label, operations, unit.guards));
  }
  return result;
}
