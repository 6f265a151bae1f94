import type { AppRecord } from '../core/apps/app-record.ts';
import type { OwnerRole } from './owner-role.ts';

/**
 * GET /apps: every app under the root key, this instance's as they are now (`roles`, the owners it
 * writes for) and the others' as their owners last wrote them to the store (read from `node`'s
 * mirror), by workload and app.
 */
export function listApps(roles: readonly OwnerRole[], node: OwnerRole): AppRecord[] {
  const own = roles.flatMap((role) => role.engine?.apps.records() ?? []);
  const owners = new Set(roles.map((role) => role.layout.owner));
  const others = (node.engine?.apps.storedRecords() ?? []).filter((record) => !owners.has(record.owner));
  return [...own, ...others].sort((a, b) =>
    a.workload < b.workload ? -1 : a.workload > b.workload ? 1 : a.app < b.app ? -1 : a.app > b.app ? 1 : 0,
  );
}
