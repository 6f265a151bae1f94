import type { Logger } from 'pino';
import { configurationToKeyValues } from '../core/kv/configuration-to-kv.ts';
import { buildConfiguration, type BuildResult, type CompiledProviderOptions } from '../core/provider/build-configuration.ts';
import type { DockerSource } from '../docker/docker-source.ts';
import type { EtcdStore } from '../etcd/etcd-store.ts';
import { planChange, type Conflict } from './plan-change.ts';
import { splitTransactions } from './split-transactions.ts';

export interface ReconcileOutcome {
  readonly build: BuildResult;
  readonly transactions: number;
  readonly operations: number;
  readonly conflicts: readonly Conflict[];
  /** The change was planned again because another instance changed claims meanwhile. */
  readonly replans: number;
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
  /** Server keys this instance owns (written with its lease). */
  #ownedServers = new Set<string>();
  /** Keys attached to a previous run's lease, to take over and then clean. */
  #inherited: Set<string>;

  constructor(options: { source: DockerSource; store: EtcdStore; compiled: CompiledProviderOptions; lease: LeaseHolder; logger: Logger; inherited?: readonly string[] }) {
    this.#source = options.source;
    this.#store = options.store;
    this.#compiled = options.compiled;
    this.#lease = options.lease;
    this.#log = options.logger;
    this.#inherited = new Set(options.inherited ?? []);
  }

  /**
   * After the lease was lost and replaced: every leased key (servers, claims) is written again
   * on the new lease, even where etcd still holds it.
   */
  leaseReplaced(): void {
    this.#rewriteLeased = true;
  }

  #rewriteLeased = false;

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
      // Leased keys of an earlier lease (a previous run, or a lost lease) are written again on this one.
      if (this.#rewriteLeased) {
        for (const key of this.#ownedServers) this.#inherited.add(key);
        for (const [id, owners] of snapshot.claims) if (owners.has(owner)) this.#inherited.add(`${claimsPrefix}${id}/${owner}`);
      }
      const owned = new Set([...this.#ownedServers, ...this.#inherited]);
      const plan = planChange({ pairs }, { tree: snapshot.tree, claims: snapshot.claims, ownedServers: owned, rewrite: this.#inherited }, { rootKey, owner, claimsPrefix });
      let revision = snapshot.revision;
      let interrupted = false;
      for (const transaction of splitTransactions(plan.units)) {
        const result = await this.#store.apply(transaction, revision, leaseId);
        if (!result.applied) {
          interrupted = true;
          break;
        }
        transactions += 1;
        operations += transaction.operations.length;
        revision = result.revision;
      }
      if (!interrupted) {
        this.#ownedServers = new Set(plan.ownedServers);
        this.#inherited = new Set();
        this.#rewriteLeased = false;
        return { build, transactions, operations, conflicts: plan.conflicts, replans: attempt };
      }
      if (attempt >= MAX_REPLANS) {
        this.#log.warn({ attempts: attempt + 1 }, 'claims kept changing under this reconcile; will retry on the next pass');
        return { build, transactions, operations, conflicts: plan.conflicts, replans: attempt };
      }
    }
  }
}
