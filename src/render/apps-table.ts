import type { AppRecord } from '../core/apps/app-record.ts';

/** Where users reach the app: its URL, else the port (no --app-public-host), else nothing (not served). */
function whereReached(record: AppRecord): string {
  if (record.url !== '') return record.url;
  if (record.port !== null) return `:${record.port} (${record.entryPoint ?? ''})`;
  return '-';
}

function ago(iso: string | null, nowMs: number): string {
  if (iso === null) return '-';
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

/** `appproxy apps` as a table, one app a line, aligned; errors in full at the end of their line. */
export function formatAppsTable(records: readonly AppRecord[], nowMs: number): string {
  const header = ['WORKLOAD', 'APP', 'PROTO', 'FRONTEND', 'WHERE', 'OWNER', 'LAST ACTIVITY', 'OPEN', 'IDLE', 'ERROR'];
  const rows = records.map((record) => [
    record.workload,
    record.app,
    record.protocol,
    record.frontend,
    whereReached(record),
    record.owner,
    ago(record.lastActivity, nowMs),
    record.openConnections === null ? '-' : String(record.openConnections),
    record.idle === null ? '-' : record.idle ? 'idle' : 'active',
    record.error ?? '',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (column === header.length - 1 ? 0 : (row[column] ?? '').length))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
