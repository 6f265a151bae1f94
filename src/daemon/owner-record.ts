import { hostname } from 'node:os';

/**
 * What `appproxy/owners/<rootKey>/<owner>` holds: the owner's lease (what a restart takes over) and
 * which instance runs it (what a second instance given the same owner id is told).
 */
export interface OwnerRecord {
  readonly lease: string;
  /** Host name and process id, e.g. `node-1/4711`. */
  readonly instance: string;
  /** When that instance started (ISO time). */
  readonly since: string;
  /**
   * Earlier holders' leases whose keys this holder took over and had not yet moved onto its own
   * when it wrote the record (its first pass moves them, then revokes these). A holder that stops
   * before then leaves them to the next, which keeps them alive too: otherwise routes it never
   * moved would expire under a live holder.
   */
  readonly movingFrom?: readonly string[];
}

const STARTED = new Date().toISOString();

/** This process, as a record names it. */
export function thisInstance(): { instance: string; since: string } {
  return { instance: `${hostname()}/${process.pid}`, since: STARTED };
}

export function encodeOwnerRecord(record: OwnerRecord): string {
  return JSON.stringify(record);
}

/** Reads a record; one written by an older appproxy holds the bare lease id. Undefined for an empty value. */
export function decodeOwnerRecord(value: string | undefined): OwnerRecord | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return { lease: value, instance: 'unknown (an older appproxy)', since: '' };
  try {
    const parsed = JSON.parse(value) as Partial<Record<keyof OwnerRecord, unknown>>;
    if (typeof parsed.lease === 'string' && parsed.lease !== '') {
      const movingFrom = Array.isArray(parsed.movingFrom)
        ? parsed.movingFrom.filter((lease): lease is string => typeof lease === 'string' && lease !== '')
        : [];
      return {
        lease: parsed.lease,
        instance: String(parsed.instance ?? 'unknown'),
        since: String(parsed.since ?? ''),
        ...(movingFrom.length === 0 ? {} : { movingFrom }),
      };
    }
  } catch {
    // Not ours (written by hand): treated as no record.
  }
  return undefined;
}
