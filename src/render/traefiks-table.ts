import type { TraefikListing } from './traefik-listing.ts';

/** `appproxy traefiks`: a line per Traefik, then what needs a look (refused, stopped, unreachable, too old). */
export function formatTraefiksTable(traefiks: readonly TraefikListing[]): string {
  if (traefiks.length === 0) return 'no Traefik read back (is --traefik-api-urls set, and does it resolve?)\n';
  const rows = traefiks.map((entry) => [
    entry.traefik,
    entry.version ?? '?',
    entry.reachable === null ? 'not read yet' : entry.reachable ? 'yes' : 'no',
    entry.stopped !== null ? 'stopped' : entry.current ? 'yes' : 'behind',
    `${entry.lagSeconds} s`,
    String(entry.pending),
    String(entry.refused.length),
  ]);
  const head = ['TRAEFIK', 'VERSION', 'REACHABLE', 'CURRENT', 'LAG', 'PENDING', 'REFUSED'];
  const widths = head.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const lines = [line(head), ...rows.map(line)];
  for (const entry of traefiks) {
    if (entry.reachable === false) lines.push(`${entry.traefik}: its API does not answer: ${entry.lastError ?? ''}`);
    if (entry.olderThanDeclared)
      lines.push(
        `${entry.traefik}: Traefik ${entry.version ?? ''} is older than the declared oldest (--traefik-min-version)`,
      );
    if (entry.stopped !== null)
      lines.push(
        `${entry.traefik}: stopped applying since ${entry.stopped.since}; likely cause: ${entry.stopped.likelyCause}`,
      );
    for (const refused of entry.refused) lines.push(`${entry.traefik}: refused ${refused.resource}: ${refused.error}`);
  }
  return `${lines.join('\n')}\n`;
}
