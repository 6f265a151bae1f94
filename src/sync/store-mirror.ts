import type { KeyLayout } from './key-layout.ts';
import { PLACEHOLDER_RESOURCE } from './key-layout.ts';
import { claimIdOf } from '../core/resource-kinds.ts';
import { SmallMap } from '../core/small-map.ts';
import type { Operation, StoreSnapshot, WatchEvent } from './kv-store.ts';

export interface MirrorEntry {
  readonly value: string;
  /** '0' for a key without a lease. */
  readonly lease: string;
  readonly modRevision: bigint;
}

/**
 * What the store holds of one resource (all its spellings): its own fields, and its servers. The
 * maps that nearly always hold one entry (or none) are SmallMaps: a mirror of 10,000 workloads
 * has over 100,000 of them.
 */
export interface MirrorResource {
  /** Spellings seen (`http/routers/Chat`), with how many keys each has. */
  readonly spellings: SmallMap<string, number>;
  readonly fields: Map<string, MirrorEntry>;
  readonly servers: SmallMap<string, SmallMap<string, MirrorEntry>>;
}

export interface ClaimRecord {
  readonly digest: string;
  readonly lease: string;
}

const PLACEHOLDER_CLAIM = claimIdOf(PLACEHOLDER_RESOURCE);

/** The newest revisions of watch events a caller left out as already reflected: of any range, and of the claims. */
export interface DeliveredRevisions {
  readonly any: bigint;
  readonly claims: bigint;
}
const NONE_DELIVERED: DeliveredRevisions = { any: 0n, claims: 0n };

/**
 * What the store holds under one layout (Traefik's tree, the root marker, the claims), in memory,
 * indexed by resource: loaded once, then kept current by the store's watch and by this instance's
 * own transactions, so that a pass reads nothing from the store. Watch events older than what is
 * known of a key (this instance's own writes come back through the watch too) change nothing.
 */
export class StoreMirror {
  readonly #layout: KeyLayout;
  #revision = 0n;
  /**
   * The newest revision through which the watch (or a load) brought every change of the ranges.
   * This owner's own transactions move `#revision`, not this: another owner's change at an older
   * revision may still be on its way (the watch lags the answer), and a plan guarded at the own
   * commit's revision would pass over it (a claim just made elsewhere, taken for none).
   */
  #watched = 0n;
  /**
   * The same for the claims alone: etcd watches each range apart, and the tree's events of a
   * revision may come before its claims' (a resource seen without the claim written with it).
   */
  #claimsWatched = 0n;
  #entries = new Map<string, MirrorEntry>();
  #resources = new Map<string, MirrorResource>();
  #claims = new Map<string, SmallMap<string, ClaimRecord>>();
  /**
   * Keys this instance deleted, with the revision, so that an older put coming late through the watch is not taken back
   * in.
   */
  #tombstones = new Map<string, bigint>();
  /** Claim ids that have fields (not only servers), the placeholder excepted. */
  #withFields = new Set<string>();
  #waiters: { revision: bigint; resolve: () => void }[] = [];
  /**
   * Each claim id's version: a number never given twice (not even across loads), taken whenever a
   * key or claim of it changes; none while the store holds nothing of it. Equal versions mean the
   * mirror holds the same of that claim id (see ChangeWriter: a claim id already settled is not planned again).
   */
  #versions = new Map<string, number>();
  #tick = 0;
  /** The app port range's holders, by port; and the apps' records, by app identity. */
  #ports = new Map<number, MirrorEntry>();
  #appRecords = new Map<string, MirrorEntry>();
  /** Another writer changed a port's holder since the last takePortsChanged(). */
  #portsChanged = false;

  #changeCount = 0;

  constructor(layout: KeyLayout) {
    this.#layout = layout;
  }

  /** The newest revision the mirror reflects (this owner's own commits included). */
  get revision(): bigint {
    return this.#revision;
  }

  /**
   * The newest revision through which every claim is known from the watch (or a load): what a
   * plan's guards on claims start from (ChangeWriter).
   */
  get claimsRevision(): bigint {
    return this.#claimsWatched;
  }

  /**
   * Changes whenever any entry does. Not the revision: events held while this owner's transactions
   * are in flight are applied after a newer revision of its own, and change entries without moving it.
   */
  get changes(): number {
    return this.#changeCount;
  }

  /** Replaces everything with a snapshot. */
  load(snapshot: StoreSnapshot): void {
    this.#changeCount += 1;
    this.#entries = new Map();
    this.#versions = new Map();
    this.#resources = new Map();
    this.#claims = new Map();
    this.#tombstones = new Map();
    this.#withFields = new Set();
    this.#ports = new Map();
    this.#appRecords = new Map();
    this.#portsChanged = true;
    for (const entry of snapshot.entries)
      this.#set(entry.key, { value: entry.value, lease: entry.lease, modRevision: entry.modRevision });
    this.#watched = snapshot.revision;
    this.#claimsWatched = snapshot.revision;
    this.#advance(snapshot.revision);
  }

  /**
   * Applies watch events; returns the claim ids whose keys changed (own writes coming back change
   * nothing). `seen`: the newest revisions of events left out because they were reflected already,
   * of any range and of the claims (the mirror is at least that current once these are applied). A
   * port whose holder changed is told by takePortsChanged().
   */
  applyEvents(events: readonly WatchEvent[], seen: DeliveredRevisions = NONE_DELIVERED): Set<string> {
    const changed = new Set<string>();
    let newest = seen.any > this.#revision ? seen.any : this.#revision;
    let watched = seen.any > this.#watched ? seen.any : this.#watched;
    let claims = seen.claims > this.#claimsWatched ? seen.claims : this.#claimsWatched;
    const claimsPrefix = this.#layout.claimsPrefix;
    for (const event of events) {
      if (event.modRevision > newest) newest = event.modRevision;
      if (event.modRevision > watched) watched = event.modRevision;
      if (event.modRevision > claims && event.key.startsWith(claimsPrefix)) claims = event.modRevision;
      if (this.reflects(event)) continue;
      const known = this.#entries.get(event.key);
      const id = this.#claimIdOfKey(event.key);
      if (this.#layout.classify(event.key)?.kind === 'port') this.#portsChanged = true;
      if (event.type === 'put') {
        if (known?.value === event.value && known.lease === event.lease) {
          this.#set(event.key, { value: event.value, lease: event.lease, modRevision: event.modRevision });
          continue;
        }
        this.#set(event.key, { value: event.value, lease: event.lease, modRevision: event.modRevision });
      } else {
        if (known === undefined) continue;
        this.#delete(event.key);
      }
      if (id !== undefined) changed.add(id);
    }
    // Tombstones are (nearly: concurrent transactions may answer out of order) in revision order,
    // the old ones at the front; one left behind goes on a later pass.
    for (const [key, revision] of this.#tombstones) {
      if (revision > newest) break;
      this.#tombstones.delete(key);
    }
    this.#watched = watched;
    this.#claimsWatched = claims;
    this.#advance(newest);
    return changed;
  }

  /**
   * Whether the mirror already holds what `event` says, or something newer (its own writes, or a
   * deletion of its own after it): applying it would change nothing.
   */
  reflects(event: WatchEvent): boolean {
    const known = this.#entries.get(event.key);
    if (known !== undefined && known.modRevision >= event.modRevision) return true;
    const deletedAt = this.#tombstones.get(event.key);
    return deletedAt !== undefined && deletedAt >= event.modRevision;
  }

  /** Records a transaction this instance committed at `revision`. */
  applyOwn(operations: readonly Operation[], revision: bigint, leaseId: string): void {
    for (const operation of operations) {
      if (operation.type === 'put') {
        this.#set(operation.key, {
          value: operation.value,
          lease: operation.leased ? leaseId : '0',
          modRevision: revision,
        });
      } else {
        this.#delete(operation.key);
        this.#tombstones.delete(operation.key);
        this.#tombstones.set(operation.key, revision);
      }
    }
    this.#advance(revision);
  }

  /** Resolves once the watch has brought `revision` (own commits do not count), or rejects after `ms`. */
  waitForRevision(revision: bigint, ms: number): Promise<void> {
    if (this.#watched >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((candidate) => candidate !== waiter);
        reject(new Error(`the store's watch did not reach revision ${revision} within ${ms} ms`));
      }, ms);
      this.#waiters.push(waiter);
    });
  }

  entry(key: string): MirrorEntry | undefined {
    return this.#entries.get(key);
  }

  /** Every key and value of Traefik's tree (under `<rootKey>/`), as the store holds them. */
  *treeEntries(): Iterable<readonly [string, string]> {
    const prefix = this.#layout.treePrefix;
    for (const [key, entry] of this.#entries) if (key.startsWith(prefix)) yield [key, entry.value];
  }

  /** Who holds each port of the app port range (the encoded holdings, see app-ports.ts). */
  ports(): ReadonlyMap<number, MirrorEntry> {
    return this.#ports;
  }

  /** Every app record under the root key, by app identity. */
  appRecords(): ReadonlyMap<string, MirrorEntry> {
    return this.#appRecords;
  }

  /** Whether another writer took or freed a port since the last call (and a load counts as one). */
  takePortsChanged(): boolean {
    const changed = this.#portsChanged;
    this.#portsChanged = false;
    return changed;
  }

  hasRootMarker(): boolean {
    return this.#entries.has(this.#layout.rootKey);
  }

  hasPlaceholder(): boolean {
    return this.#entries.has(this.#layout.placeholderKey);
  }

  /** The version of what the mirror holds of a claim id (0: nothing); it changes with any of its keys or claims. */
  version(claimId: string): number {
    return this.#versions.get(claimId) ?? 0;
  }

  resource(claimId: string): MirrorResource | undefined {
    return this.#resources.get(claimId);
  }

  claims(claimId: string): ReadonlyMap<string, ClaimRecord> | undefined {
    return this.#claims.get(claimId);
  }

  /** Every claim id the store holds keys or claims for (one with both is named twice). */
  *claimIds(): Iterable<string> {
    yield* this.#resources.keys();
    yield* this.#claims.keys();
  }

  /** Resources (the placeholder excepted) that have fields of their own. */
  resourcesWithFields(): ReadonlySet<string> {
    return this.#withFields;
  }

  #advance(revision: bigint): void {
    if (revision > this.#revision) this.#revision = revision;
    if (this.#waiters.length === 0) return;
    const ready = this.#waiters.filter((waiter) => waiter.revision <= this.#watched);
    this.#waiters = this.#waiters.filter((waiter) => waiter.revision > this.#watched);
    for (const waiter of ready) waiter.resolve();
  }

  #claimIdOfKey(key: string): string | undefined {
    const classified = this.#layout.classify(key);
    if (classified?.kind !== 'tree' && classified?.kind !== 'claim') return undefined;
    return classified.claimId;
  }

  #set(key: string, entry: MirrorEntry): void {
    this.#changeCount += 1;
    // One lookup, not two (has, then set): a first sync sets 100,000 new keys.
    const before = this.#entries.size;
    this.#entries.set(key, entry);
    const existed = this.#entries.size === before;
    const classified = this.#layout.classify(key);
    if (classified === undefined || classified.kind === 'root') return;
    if (classified.kind === 'port') {
      this.#ports.set(classified.port, entry);
      return;
    }
    if (classified.kind === 'app') {
      this.#appRecords.set(classified.identity, entry);
      return;
    }
    if (classified.kind === 'claim') {
      let owners = this.#claims.get(classified.claimId);
      if (owners === undefined) {
        owners = new SmallMap();
        this.#claims.set(classified.claimId, owners);
      }
      owners.set(classified.owner, { digest: entry.value, lease: entry.lease });
      this.#versions.set(classified.claimId, ++this.#tick);
      return;
    }
    this.#versions.set(classified.claimId, ++this.#tick);
    let resource = this.#resources.get(classified.claimId);
    if (resource === undefined) {
      resource = { spellings: new SmallMap(), fields: new Map(), servers: new SmallMap() };
      this.#resources.set(classified.claimId, resource);
    }
    if (!existed) resource.spellings.set(classified.resource, (resource.spellings.get(classified.resource) ?? 0) + 1);
    if (classified.server === undefined) {
      // Added with its first field only: a resource's other fields would look it up again for nothing.
      if (resource.fields.size === 0 && classified.claimId !== PLACEHOLDER_CLAIM)
        this.#withFields.add(classified.claimId);
      resource.fields.set(key, entry);
      return;
    }
    let server = resource.servers.get(classified.server);
    if (server === undefined) {
      server = new SmallMap();
      resource.servers.set(classified.server, server);
    }
    server.set(key, entry);
  }

  #delete(key: string): void {
    if (!this.#entries.delete(key)) return;
    this.#changeCount += 1;
    const classified = this.#layout.classify(key);
    if (classified === undefined || classified.kind === 'root') return;
    if (classified.kind === 'port') {
      this.#ports.delete(classified.port);
      return;
    }
    if (classified.kind === 'app') {
      this.#appRecords.delete(classified.identity);
      return;
    }
    if (classified.kind === 'claim') {
      const owners = this.#claims.get(classified.claimId);
      owners?.delete(classified.owner);
      if (owners?.size === 0) this.#claims.delete(classified.claimId);
      this.#changedOf(classified.claimId);
      return;
    }
    const resource = this.#resources.get(classified.claimId);
    if (resource === undefined) return;
    const left = (resource.spellings.get(classified.resource) ?? 1) - 1;
    if (left > 0) resource.spellings.set(classified.resource, left);
    else resource.spellings.delete(classified.resource);
    if (classified.server === undefined) {
      resource.fields.delete(key);
      if (resource.fields.size === 0) this.#withFields.delete(classified.claimId);
    } else {
      const server = resource.servers.get(classified.server);
      server?.delete(key);
      if (server?.size === 0) resource.servers.delete(classified.server);
    }
    if (resource.fields.size === 0 && resource.servers.size === 0) this.#resources.delete(classified.claimId);
    this.#changedOf(classified.claimId);
  }

  /** A key or claim of `claimId` went: a new version, or none when the mirror holds nothing of it now. */
  #changedOf(claimId: string): void {
    if (this.#resources.has(claimId) || this.#claims.has(claimId)) this.#versions.set(claimId, ++this.#tick);
    else this.#versions.delete(claimId);
  }
}
