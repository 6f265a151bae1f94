import {
  allocatePorts,
  type PortAllocation,
  type PortAssignment,
  type PortRefusal,
  type PortRequest,
} from '../core/apps/allocate-ports.ts';
import type { PortRange } from '../core/apps/port-range.ts';
import type { KeyLayout } from './key-layout.ts';
import type { Operation } from './kv-store.ts';
import type { MirrorEntry } from './store-mirror.ts';

/** What `appproxy/ports/<root>/<port>` holds: the app that has the port, and the owner that serves it. */
export interface PortHolding {
  readonly app: string;
  readonly owner: string;
}

function encodePortHolding(holding: PortHolding): string {
  return JSON.stringify({ app: holding.app, owner: holding.owner });
}

export function decodePortHolding(text: string): PortHolding | undefined {
  try {
    const value = JSON.parse(text) as Partial<PortHolding> | null;
    return typeof value?.app === 'string' && typeof value.owner === 'string'
      ? { app: value.app, owner: value.owner }
      : undefined;
  } catch {
    return undefined;
  }
}

/** One write to the ports' keys, applied only while its key is as the plan saw it. */
export interface PortWrite {
  readonly port: number;
  readonly operation: Operation;
  /** The key's revision when planned (0 for a key that must still be absent: create-if-absent). */
  readonly notModifiedAfter: bigint;
}

export interface PortPlan {
  /** Every request answered; a fresh port is served only once its write applied. */
  readonly allocation: PortAllocation;
  /**
   * Ports to record before they are served: new ones (created only if still absent), and held ones moved to this lease.
   */
  readonly records: readonly PortWrite[];
  /** Ports this owner holds and no longer needs: freed once their routers are gone. */
  readonly releases: readonly PortWrite[];
}

export interface PortPlanInput {
  /** This owner's port-mode apps. */
  readonly requests: readonly PortRequest[];
  /** Every port's holder, every owner's, as the mirror holds them. */
  readonly ports: ReadonlyMap<number, MirrorEntry>;
  readonly layout: KeyLayout;
  readonly leaseId: string;
  readonly range: PortRange;
}

/**
 * The store-backed step around allocatePorts: which ports the store says are held (by this owner
 * and by every other), what this owner's apps get, and the writes that make it so. Pure.
 *
 * An app keeps the port this owner holds for it (a restart of the sidecar finds it on its earlier
 * lease and moves it to the new one). An app whose identity another owner serves is refused: two
 * instances would route one app twice (two containers named alike on two hosts, most likely).
 */
export function planPorts(input: PortPlanInput): PortPlan {
  const { layout, leaseId } = input;
  const held = new Map<string, number>();
  const mine = new Map<number, { holding: PortHolding; entry: MirrorEntry }>();
  const elsewhere = new Map<string, { port: number; owner: string }>();
  for (const [port, entry] of [...input.ports].sort(([a], [b]) => a - b)) {
    const holding = decodePortHolding(entry.value);
    // Unreadable (written by hand): the port stays taken, by nobody this instance knows.
    if (holding === undefined) {
      held.set(`unreadable/${port}`, port);
      continue;
    }
    if (holding.owner === layout.owner) mine.set(port, { holding, entry });
    else if (!elsewhere.has(holding.app)) elsewhere.set(holding.app, { port, owner: holding.owner });
    // One app on two ports (an interrupted write): the lower one is kept; the other is released below.
    if (held.has(holding.app) && holding.owner === layout.owner) continue;
    held.set(holding.owner === layout.owner ? holding.app : `${holding.owner}\u0000${holding.app}`, port);
  }

  const refusedElsewhere = new Map<string, PortRefusal>();
  const requests: PortRequest[] = [];
  for (const request of input.requests) {
    const other = elsewhere.get(request.key);
    if (other !== undefined && held.get(request.key) === undefined) {
      refusedElsewhere.set(request.key, {
        key: request.key,
        reason: 'served-elsewhere',
        holder: other.owner,
        message: `the app ${request.key} is already served by appproxy owner "${other.owner}" on port ${other.port}: two workloads share its identity (a container name or Compose service on two hosts); rename one, or give it its own Compose project`,
      });
    } else {
      requests.push(request);
    }
  }
  const allocated = allocatePorts(requests, held, input.range);
  const allocation: PortAllocation = {
    assigned: allocated.assigned,
    refused: new Map([...allocated.refused, ...refusedElsewhere]),
  };

  const records: PortWrite[] = [];
  const kept = new Set<number>();
  for (const assignment of allocated.assigned.values()) {
    const put = (notModifiedAfter: bigint): PortWrite => ({
      port: assignment.port,
      operation: {
        type: 'put',
        key: layout.portKey(assignment.port),
        value: encodePortHolding({ app: assignment.key, owner: layout.owner }),
        leased: true,
      },
      notModifiedAfter,
    });
    if (assignment.fresh) {
      // Create-if-absent: any holding at all refuses it. The mirror's revision is no guard here: a
      // pass's own write moves it past another instance's holding that the watch has not brought yet.
      records.push(put(0n));
      continue;
    }
    kept.add(assignment.port);
    const entry = mine.get(assignment.port)?.entry;
    if (entry !== undefined && entry.lease !== leaseId) records.push(put(entry.modRevision));
  }
  const releases: PortWrite[] = [];
  for (const [port, { entry }] of mine) {
    if (!kept.has(port))
      releases.push({
        port,
        operation: { type: 'delete', key: layout.portKey(port) },
        notModifiedAfter: entry.modRevision,
      });
  }
  return { allocation, records, releases };
}

/** The allocation with the fresh ports whose writes did not apply taken back, each refused for now. */
export function withoutUnrecorded(allocation: PortAllocation, unrecorded: ReadonlySet<number>): PortAllocation {
  if (unrecorded.size === 0) return allocation;
  const assigned = new Map<string, PortAssignment>();
  const refused = new Map(allocation.refused);
  for (const [key, assignment] of allocation.assigned) {
    if (!unrecorded.has(assignment.port)) assigned.set(key, assignment);
    else
      refused.set(key, {
        key,
        reason: 'not-recorded',
        message: `port ${assignment.port} could not be recorded in the store (other instances were allocating at the same time); it is tried again on the next pass`,
      });
  }
  return { assigned, refused };
}
