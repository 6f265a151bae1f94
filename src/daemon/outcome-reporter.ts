import type { Logger } from 'pino';
import { RESOURCE_KINDS } from '../core/resource-kinds.ts';
import type { SyncEngine, SyncOutcome } from '../sync/sync-engine.ts';
import type { Metrics } from './metrics.ts';

/**
 * Turns each pass into metrics and log lines. Problems (a bad label, a conflict) are logged when
 * they appear, not on every pass: the set of the last pass is kept to compare with.
 */
export class OutcomeReporter {
  readonly #metrics: Metrics;
  readonly #log: Logger;
  #lastProblems = new Set<string>();

  constructor(metrics: Metrics, logger: Logger) {
    this.#metrics = metrics;
    this.#log = logger;
  }

  /**
   * One pass of each owner this instance writes for (its node's containers, the Swarm services while it is their
   * writer).
   */
  report(passes: readonly { readonly outcome: SyncOutcome; readonly engine: SyncEngine }[]): void {
    const m = this.#metrics;
    m.reconciles.inc({ result: 'ok' });
    const outcome = {
      transactions: passes.reduce((sum, pass) => sum + pass.outcome.transactions, 0),
      operations: passes.reduce((sum, pass) => sum + pass.outcome.operations, 0),
      replans: passes.reduce((sum, pass) => sum + pass.outcome.replans, 0),
      planned: passes.reduce((sum, pass) => sum + pass.outcome.planned, 0),
      refused: passes.flatMap((pass) => pass.outcome.refused),
    };
    m.transactions.inc(outcome.transactions);
    m.operations.inc(outcome.operations);
    m.formerTransactions.inc(outcome.transactions);
    m.formerOperations.inc(outcome.operations);
    m.lastSync.set(Date.now() / 1000);
    const allCounts = passes.map((pass) => pass.engine.desired.counts());
    const counts = { routed: allCounts.reduce((sum, item) => sum + item.routed, 0) };
    m.workloads.set(counts.routed);
    for (const [section, kinds] of Object.entries(RESOURCE_KINDS)) {
      for (const kind of kinds)
        m.resources.set(
          { kind: `${section}_${kind}` },
          allCounts.reduce((sum, item) => sum + (item.resources.get(`${section}_${kind}`) ?? 0), 0),
        );
    }
    const problems = passes.flatMap((pass) => pass.engine.problems());
    const conflicts = passes.flatMap((pass) => pass.engine.writer.conflicts());
    m.conflicts.set(conflicts.length);
    m.problems.set({ severity: 'error' }, problems.filter((problem) => problem.severity === 'error').length);
    m.problems.set({ severity: 'warning' }, problems.filter((problem) => problem.severity === 'warning').length);
    const current = new Set<string>();
    for (const problem of problems) {
      const key = JSON.stringify(problem);
      current.add(key);
      if (this.#lastProblems.has(key)) continue;
      this.#log[problem.severity === 'error' ? 'error' : 'warn'](
        {
          workload: problem.workload,
          label: problem.label,
          ...(problem.limit === undefined ? {} : { limit: problem.limit }),
        },
        problem.message,
      );
      // A refusal is counted when it appears: the same one standing over many passes is one.
      if (problem.limit !== undefined) m.refusals.inc({ limit: problem.limit });
    }
    for (const conflict of conflicts) {
      const key = `conflict:${conflict.resource}:${conflict.owners.join(',')}`;
      current.add(key);
      if (!this.#lastProblems.has(key)) {
        this.#log.error(
          { resource: conflict.resource, owners: conflict.owners },
          'another owner defines this resource differently; left as it is: make the definitions equal or rename one',
        );
      }
    }
    for (const entry of outcome.refused) {
      const key = `refused:${entry.key}:${entry.bytes}`;
      current.add(key);
      if (!this.#lastProblems.has(key)) {
        this.#log.error(
          { resource: entry.label, key: entry.key, bytes: entry.bytes },
          'a value is larger than the store takes in one request; this resource is left as it is: shorten the label that sets it',
        );
      }
    }
    this.#lastProblems = current;
    if (outcome.transactions > 0) {
      this.#log.info(
        {
          transactions: outcome.transactions,
          operations: outcome.operations,
          replans: outcome.replans,
          planned: outcome.planned,
          routed: counts.routed,
        },
        'store updated',
      );
    }
  }
}
