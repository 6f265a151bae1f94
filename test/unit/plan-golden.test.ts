import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareGolden } from '../support/golden.ts';
import { planChange } from '../../src/sync/plan-change.ts';
import { transactionWaves, unwritableUnits } from '../../src/sync/split-transactions.ts';
import type { TransactionLimits } from '../../src/sync/kv-store.ts';
import { ETCD_TRANSACTION_LIMITS } from '../../src/etcd/etcd-transaction-limits.ts';
import { desiredFrom, LEASE, mirrorFrom, ownedFrom, testLayout } from '../support/plan-fixtures.ts';

// Each folder under test/golden-plan holds `case.json`: what this owner (host-a, lease 7) wants
// (`desired`, key → value), what the store holds (`tree`, `claims` as claim id → owner → digest,
// `leases` for keys on another lease than the default), the server keys it owns (`owned`) and,
// optionally, the claim ids in scope (`scope`; all of them when absent). A claim digest written
// "@tree" stands for the digest of the resource's fields as `tree` holds them (an owner that agrees). `expected.txns`
// is
// what the engine writes, as text: its waves (a wave only after the one before has committed) and each wave's
// transactions,
// as transactionWaves gives them. `limits` (optional) shrinks one transaction, so that a case above it stays readable.
// UPDATE_GOLDEN=1 rewrites them on purpose.
const root = new URL('../golden-plan/', import.meta.url).pathname;

interface Case {
  readonly desired: Record<string, string>;
  readonly tree: Record<string, string>;
  readonly claims?: Record<string, Record<string, string>>;
  readonly leases?: Record<string, string>;
  readonly owned?: string[];
  readonly scope?: string[];
  readonly limits?: TransactionLimits;
}

for (const name of readdirSync(root).sort()) {
  test(`plan golden: ${name}`, () => {
    const spec = JSON.parse(readFileSync(join(root, name, 'case.json'), 'utf8')) as Case;
    const layout = testLayout();
    const treeResources = desiredFrom(new Map(Object.entries(spec.tree)), layout);
    const claims = Object.fromEntries(
      Object.entries(spec.claims ?? {}).map(([id, owners]) => [
        id,
        Object.fromEntries(
          Object.entries(owners).map(([owner, digest]) => [
            owner,
            digest === '@tree' ? (treeResources.get(id)?.digest ?? '') : digest,
          ]),
        ),
      ]),
    );
    const desired = desiredFrom(new Map(Object.entries(spec.desired)), layout);
    const mirror = mirrorFrom(
      {
        tree: new Map(Object.entries(spec.tree)),
        claims,
        ...(spec.leases === undefined ? {} : { leases: spec.leases }),
      },
      layout,
    );
    const owned = ownedFrom(spec.owned ?? [], layout);
    const scope = spec.scope ?? [...new Set([...desired.keys(), ...mirror.claimIds(), ...owned.keys()])];
    const plan = planChange({ desired, mirror, scope, layout, leaseId: LEASE, ownedServers: owned });
    const { writable, refused } = unwritableUnits(plan.units);
    const lines: string[] = [];
    transactionWaves(writable, spec.limits ?? ETCD_TRANSACTION_LIMITS).forEach((wave, waveIndex) => {
      wave.forEach((transaction, index) => {
        lines.push(`wave ${waveIndex + 1}, transaction ${index + 1}: guards [${transaction.guards.join(', ')}]`);
        for (const operation of transaction.operations) {
          lines.push(
            operation.type === 'put'
              ? `  put ${operation.key} = ${operation.value}${operation.leased ? '  (leased)' : ''}`
              : `  delete ${operation.key}`,
          );
        }
      });
    });
    if (lines.length === 0) lines.push('nothing to write');
    for (const [id, conflict] of [...plan.conflicts].sort())
      lines.push(`conflict ${id}: ${conflict.resource} with ${conflict.owners.join(', ')}`);
    for (const entry of refused) lines.push(`refused ${entry.label}: ${entry.key} (${entry.bytes} bytes)`);
    const actual = `${lines.join('\n')}\n`;
    compareGolden(join(root, name, 'expected.txns'), actual);
  });
}
