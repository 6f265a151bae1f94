import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { KeyLayout } from '../sync/key-layout.ts';
import type { KvStore, LeaseInfo, StoreWatch } from '../sync/kv-store.ts';
import type { OwnerRecord } from './owner-record.ts';

/** How long a starting instance waits for a live holder of its owner id to answer. */
export const PROBE_ANSWER_MS = 1000;

/** Between two reads of a lease's time: longer than a keep-alive round trip, short beside a lease. */
const SECOND_READ_MS = 300;

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
 * Whether the instance in `record` (its lease read as `times`) still runs. A restart must take over at once (before the
 * old
 * lease expires, or routes would go missing), and a second instance with the same id must be
 * refused, so the question is asked directly: the starting instance writes a probe, a live holder
 * answers it through its watch within milliseconds. Two short cuts first: a lease that is gone,
 * or one that reads less time left than a kept-alive lease ever does (it is refreshed every third
 * of its time), belongs to nobody alive.
 */
export async function holderIsAlive(
  store: KvStore,
  layout: KeyLayout,
  record: OwnerRecord,
  times: LeaseInfo | undefined,
  asker: { instance: string; leaseId: string },
): Promise<boolean> {
  if (times === undefined) return false;
  // etcd reports whole seconds, rounded down: a kept-alive lease reads at least two thirds of its
  // time, but for a moment before each refresh; read twice, a refresh apart, to be sure.
  const least = Math.floor((times.grantedSeconds * 2) / 3);
  if (times.remainingSeconds < least) {
    await new Promise((resolve) => setTimeout(resolve, SECOND_READ_MS));
    const again = await store.lease(record.lease);
    if (again === undefined || (again.remainingSeconds < least && again.remainingSeconds <= times.remainingSeconds))
      return false;
  }
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

/**
 * The holder's side: while this instance runs under its owner id, every probe another instance
 * writes is answered (on this instance's lease, so the answer goes with it).
 */
export class OwnerGuard {
  readonly #store: KvStore;
  readonly #layout: KeyLayout;
  readonly #instance: string;
  readonly #leaseId: () => string;
  readonly #log: Logger;
  #watch: StoreWatch | undefined;
  #stopped = false;

  constructor(store: KvStore, layout: KeyLayout, instance: string, leaseId: () => string, logger: Logger) {
    this.#store = store;
    this.#layout = layout;
    this.#instance = instance;
    this.#leaseId = leaseId;
    this.#log = logger;
  }

  /** Starts answering; a lost watch is started again at the next `ensure`. */
  async ensure(): Promise<void> {
    if (this.#watch !== undefined || this.#stopped) return;
    const range = { key: this.#layout.probeKey, prefix: false };
    const snapshot = await this.#store.load([range]);
    this.#watch = await this.#store.watch([range], snapshot.revision, {
      onEvents: (events) => {
        // Not its own probe (one left on its lease when it connected): every other is answered, even
        // one naming this instance, since another process can have the same name.
        for (const event of events)
          if (event.type === 'put' && event.lease !== this.#leaseId()) void this.#answer(event.value);
      },
      onLost: () => {
        const watch = this.#watch;
        this.#watch = undefined;
        void watch?.stop().catch(() => undefined);
      },
    });
    // A probe written before the watch began is answered too.
    const pending = snapshot.entries[0];
    if (pending !== undefined && pending.lease !== this.#leaseId()) void this.#answer(pending.value);
  }

  async #answer(probe: string): Promise<void> {
    this.#log.error(
      { instance: probe.replace(/#[^#]*$/, ''), owner: this.#layout.owner },
      'another instance tried to start with this owner id; it is told that this one runs',
    );
    try {
      await this.#store.putLeased(
        this.#layout.aliveKey,
        JSON.stringify({ instance: this.#instance, probe }),
        this.#leaseId(),
      );
    } catch (error) {
      this.#log.warn({ err: error }, 'could not answer the probe');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#watch?.stop().catch(() => undefined);
    this.#watch = undefined;
  }
}
