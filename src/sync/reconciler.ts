import type { Logger } from 'pino';
import { configurationToKeyValues } from '../core/kv/configuration-to-kv.ts';
import { buildConfiguration, type BuildResult, type CompiledProviderOptions } from '../core/provider/build-configuration.ts';
import type { DockerSource } from '../docker/docker-source.ts';
import type { EtcdStore } from '../etcd/etcd-store.ts';
import { planChange, type Conflict } from './plan-change.ts';
import { classifyKey } from './resource-keys.ts';
import { splitTransactions, unwritableUnits } from './split-transactions.ts';

function isServerKey(key: string, rootKey: string): boolean {
  return key.startsWith(`${rootKey}/`) && classifyKey(key.slice(rootKey.length + 1))?.server !== undefined;
}

export interface ReconcileOutcome {
  readonly build: BuildResult;
  readonly transactions: number;
  readonly operations: number;
  readonly conflicts: readonly Conflict[];
  /** The change was planned again because another instance changed claims meanwhile. */
  readonly replans: number;
  /** Resources left as they are because one of their values is larger than etcd takes in a request. */
  readonly refused: readonly { readonly label: string; readonly key: string; readonly bytes: number }[];
}

export interface LeaseHolder {
  /** The current lease id; a new one after the previous was lost. */
  leaseId(): string;
}

const MAX_REPLANS = 5;

/**
 * One reconcile: the whole desired state from Docker, the smallest change from what etcd holds,
 * applied in as few guarded transactions as etcd allows. Events only decide when it runs.
 */
export class Reconciler {
  readonly #source: DockerSource;
  readonly #store: EtcdStore;
  readonly #compiled: CompiledProviderOptions;
  readonly #lease: LeaseHolder;
  readonly #log: Logger;
  /** Server keys this instance owns (written with its lease); at start, what an earlier run of this owner left. */
  #ownedServers: Set<string>;

  constructor(options: { source: DockerSource; store: EtcdStore; compiled: CompiledProviderOptions; lease: LeaseHolder; logger: Logger; inherited?: readonly string[] }) {
    this.#source = options.source;
    this.#store = options.store;
    this.#compiled = options.compiled;
    this.#lease = options.lease;
    this.#log = options.logger;
    this.#ownedServers = new Set(options.inherited ?? []);
  }

  /** Revisions of this instance's own writes: their watch events are not news. */
  readonly ownRevisions = new Set<string>();

  async reconcile(): Promise<ReconcileOutcome> {
    const workloads = await this.#source.listWorkloads();
    const build = buildConfiguration(workloads, this.#compiled);
    const { rootKey, owner, claimsPrefix } = this.#store.layout;
    const pairs = configurationToKeyValues(build.configuration, build.servers, { rootKey, ownerId: owner });

    let transactions = 0;
    let operations = 0;
    for (let attempt = 0; ; attempt += 1) {
      const snapshot = await this.#store.snapshot();
      const leaseId = this.#lease.leaseId();
      // This owner's leased keys that sit on another lease (an earlier run's, or one that was lost)
      // are written again on the current one, so that they live as long as this instance does.
      const rewrite = new Set<string>();
      for (const [id, owners] of snapshot.claims) {
        const key = `${claimsPrefix}${id}/${owner}`;
        if (owners.has(owner) && snapshot.leases.get(key) !== leaseId) rewrite.add(key);
      }
      for (const key of pairs.keys()) {
        if (isServerKey(key, rootKey) && snapshot.tree.has(key) && snapshot.leases.get(key) !== leaseId) rewrite.add(key);
      }
      const plan = planChange({ pairs }, { tree: snapshot.tree, claims: snapshot.claims, ownedServers: this.#ownedServers, rewrite }, { rootKey, owner, claimsPrefix });
      let revision = snapshot.revision;
      let interrupted = false;
      // One oversized value must not block every other change: its resource stays as it is.
      const { writable, refused } = unwritableUnits(plan.units);
      for (const transaction of splitTransactions(writable)) {
        const result = await this.#store.apply(transaction, revision, leaseId);
        if (!result.applied) {
          interrupted = true;
          break;
        }
        transactions += 1;
        operations += transaction.operations.length;
        revision = result.revision;
        this.ownRevisions.add(revision.toString());
        if (this.ownRevisions.size > 1000) this.ownRevisions.delete(this.ownRevisions.values().next().value as string);
      }
      if (!interrupted) {
        this.#ownedServers = new Set(plan.ownedServers);
        return { build, transactions, operations, conflicts: plan.conflicts, replans: attempt, refused };
      }
      if (attempt >= MAX_REPLANS) {
        this.#log.warn({ attempts: attempt + 1 }, 'claims kept changing under this reconcile; will retry on the next pass');
        return { build, transactions, operations, conflicts: plan.conflicts, replans: attempt, refused };
      }
    }
  }
}
