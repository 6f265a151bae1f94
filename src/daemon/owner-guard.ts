import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { KeyLayout } from '../sync/key-layout.ts';
import type { KvStore, LeaseInfo, StoreWatch } from '../sync/kv-store.ts';
import { decodeOwnerRecord, type OwnerRecord } from './owner-record.ts';

/** How long a starting instance waits for a live holder of its owner id to answer. */
export const PROBE_ANSWER_MS = 1000;

/** A live instance runs with this owner id: retrying cannot help, another id must be given. */
export class OwnerHeldError extends Error {
  constructor(owner: string, holder: OwnerRecord) {
    super(
      `owner id "${owner}" is in use by a live instance (${holder.instance}${holder.since === '' ? '' : `, started ${holder.since}`}, lease ${holder.lease}): ` +
        "two instances with one owner id would overwrite each other's servers. Give each instance its own --owner (APPPROXY_OWNER)",
    );
    this.name = 'OwnerHeldError';
  }
}

/**
 * Whether the instance in `record` (its lease read as `times`) still runs. A restart must take
 * over at once (before the old lease expires, or routes would go missing), and a second instance
 * with the same id must be refused, so the question is asked directly: the starting instance
 * writes a probe, a live holder answers it through its watch within milliseconds. Only a lease
 * that is gone answers without a probe: a lease with little time left may belong to a holder
 * whose keep-alive is merely late (a slow store, a long pause), and taking its id over would make
 * two writers of one owner.
 */
export async function holderIsAlive(
  store: KvStore,
  layout: KeyLayout,
  record: OwnerRecord,
  times: LeaseInfo | undefined,
  asker: { instance: string; leaseId: string },
): Promise<boolean> {
  if (times === undefined) return false;
  // The probe names the asker, and is made unique: two instances may have one name (the same host
  // name, which is also the default owner id, and pid 1 in their containers).
  const probe = `${asker.instance}#${randomUUID()}`;
  const snapshot = await store.load([{ key: layout.aliveKey, prefix: false }]);
  let answered = false;
  let onAnswer = () => undefined as void;
  const answer = new Promise<void>((resolve) => (onAnswer = resolve));
  const watch: StoreWatch = await store.watch([{ key: layout.aliveKey, prefix: false }], snapshot.revision, {
    onEvents: (events) => {
      for (const event of events) {
        if (event.type === 'put' && parseAnswer(event.value)?.probe === probe) {
          answered = true;
          onAnswer();
        }
      }
    },
    onLost: () => onAnswer(),
  });
  try {
    await store.apply(
      { operations: [{ type: 'put', key: layout.probeKey, value: probe, leased: true }], guards: [] },
      asker.leaseId,
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([answer, new Promise<void>((resolve) => (timer = setTimeout(resolve, PROBE_ANSWER_MS)))]);
    clearTimeout(timer);
  } finally {
    await watch.stop().catch(() => undefined);
  }
  await store
    .apply({ operations: [{ type: 'delete', key: layout.probeKey }], guards: [] }, asker.leaseId)
    .catch(() => undefined);
  return answered;
}

function parseAnswer(value: string): { instance: string; probe: string } | undefined {
  try {
    const parsed = JSON.parse(value) as { instance?: unknown; probe?: unknown };
    return typeof parsed.probe === 'string' ? { instance: String(parsed.instance), probe: parsed.probe } : undefined;
  } catch {
    return undefined;
  }
}

/** What the holder's side is told: how to recognise its own leases, and whom to tell when its id is taken. */
export interface OwnerGuardOptions {
  readonly store: KvStore;
  readonly layout: KeyLayout;
  /** This instance, as a probe's answer names it. */
  readonly instance: string;
  /** The lease this instance writes on now. */
  readonly leaseId: () => string;
  /** Whether a lease is one this instance has held (the record is written again on a replaced lease). */
  readonly ownLease: (lease: string) => boolean;
  /** Another instance wrote the owner record: this one no longer holds the id. Told once. */
  readonly onTakenOver: (holder: OwnerRecord) => void;
  readonly logger: Logger;
}

/**
 * The holder's side, while this instance runs under its owner id: every probe another instance
 * writes is answered (on this instance's lease, so the answer goes with it), and the owner record
 * is watched: a record written on a lease this instance never held means another instance took
 * the id (it found no answer: a partition, a stalled process), and this one must stop writing at
 * once, or the two would delete each other's servers.
 */
export class OwnerGuard {
  readonly #o: OwnerGuardOptions;
  #watch: StoreWatch | undefined;
  #stopped = false;
  #takenOver = false;

  constructor(options: OwnerGuardOptions) {
    this.#o = options;
  }

  /** Starts answering and watching; a lost watch is started again at the next `ensure`. */
  async ensure(): Promise<void> {
    if (this.#watch !== undefined || this.#stopped || this.#takenOver) return;
    const { store, layout } = this.#o;
    const ranges = [
      { key: layout.probeKey, prefix: false },
      { key: layout.ownerKey, prefix: false },
    ];
    const snapshot = await store.load(ranges);
    this.#watch = await store.watch(ranges, snapshot.revision, {
      onEvents: (events) => {
        for (const event of events) {
          if (event.key === layout.ownerKey) {
            // Gone with this instance's lease (it writes the record again on the replaced one), or
            // written by this instance: its own. Any other writer took the id.
            if (event.type === 'put' && !this.#o.ownLease(event.lease)) this.#lost(event.value);
          } else if (event.type === 'put' && event.lease !== this.#o.leaseId()) {
            // Not its own probe (one left on its lease when it connected): every other is answered,
            // even one naming this instance, since another process can have the same name.
            void this.#answer(event.value);
          }
        }
      },
      onLost: () => {
        const watch = this.#watch;
        this.#watch = undefined;
        void watch?.stop().catch(() => undefined);
      },
    });
    // What happened before the watch began: a probe is answered, a record of another instance told.
    for (const entry of snapshot.entries) {
      if (entry.key === layout.ownerKey) {
        if (!this.#o.ownLease(entry.lease)) this.#lost(entry.value);
      } else if (entry.lease !== this.#o.leaseId()) void this.#answer(entry.value);
    }
  }

  #lost(value: string): void {
    if (this.#takenOver || this.#stopped) return;
    this.#takenOver = true;
    const holder = decodeOwnerRecord(value) ?? { lease: 'unknown', instance: 'unknown (unreadable record)', since: '' };
    void this.stop();
    this.#o.onTakenOver(holder);
  }

  async #answer(probe: string): Promise<void> {
    this.#o.logger.error(
      { instance: probe.replace(/#[^#]*$/, ''), owner: this.#o.layout.owner },
      'another instance tried to start with this owner id; it is told that this one runs',
    );
    try {
      await this.#o.store.putLeased(
        this.#o.layout.aliveKey,
        JSON.stringify({ instance: this.#o.instance, probe }),
        this.#o.leaseId(),
      );
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'could not answer the probe');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#watch?.stop().catch(() => undefined);
    this.#watch = undefined;
  }
}
