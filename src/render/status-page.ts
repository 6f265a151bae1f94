import type { TraefikListing } from './traefik-listing.ts';

/** What the status page shows: the daemon's readiness, each Traefik as the read-back sees it, the refused workloads. */
export interface StatusFacts {
  readonly generatedAt: string;
  readonly owner: string;
  /** Why the daemon is not ready (empty: ready). */
  readonly notReady: readonly string[];
  /** Undefined without --traefik-api-urls. */
  readonly traefiks: readonly TraefikListing[] | undefined;
  readonly refusedWorkloads: readonly { readonly workload: string; readonly message: string }[];
}

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/**
 * GET /status: one page, no script, refreshed by the browser every 5 s. Every value is escaped
 * (labels and Traefik's errors come from users).
 */
export function renderStatusPage(facts: StatusFacts): string {
  const rows = (facts.traefiks ?? []).map((entry) => {
    // Unreachable first: a Traefik that does not answer also counts as stopped once the others
    // apply what it has not (the read-back's likely cause then says so), and the row must not
    // hide that it cannot be read at all (`appproxy traefiks` shows both, in two columns).
    const state =
      entry.reachable === false
        ? 'unreachable'
        : entry.stopped !== null
          ? 'stopped'
          : entry.current
            ? 'current'
            : 'behind';
    return `<tr class="${state}"><td>${escape(entry.traefik)}</td><td>${escape(entry.version ?? '?')}${entry.olderThanDeclared ? ' (older than declared)' : ''}</td><td>${state}</td><td>${entry.lagSeconds} s</td><td>${entry.pending}</td><td>${entry.refused.length}</td></tr>`;
  });
  const notes = (facts.traefiks ?? []).flatMap((entry) => [
    ...(entry.stopped === null
      ? []
      : [
          `<li><b>${escape(entry.traefik)}</b> stopped applying since ${escape(entry.stopped.since)}: ${escape(entry.stopped.likelyCause)}</li>`,
        ]),
    ...(entry.reachable === false
      ? [`<li><b>${escape(entry.traefik)}</b> does not answer: ${escape(entry.lastError ?? '')}</li>`]
      : []),
  ]);
  const pending = (facts.traefiks ?? []).flatMap((entry) =>
    entry.oldestPending.map(
      (item) =>
        `<li><b>${escape(entry.traefik)}</b> lacks ${escape(item.resource)} (committed ${escape(item.committedAt)})</li>`,
    ),
  );
  const refused = (facts.traefiks ?? []).flatMap((entry) =>
    entry.refused.map(
      (item) => `<li><b>${escape(entry.traefik)}</b> refused ${escape(item.resource)}: ${escape(item.error)}</li>`,
    ),
  );
  const workloads = facts.refusedWorkloads.map(
    (item) => `<li><b>${escape(item.workload)}</b>: ${escape(item.message)}</li>`,
  );
  const list = (id: string, title: string, items: readonly string[], none: string) =>
    `<h2>${title}</h2>${items.length === 0 ? `<p id="${id}" class="none">${none}</p>` : `<ul id="${id}">${items.join('')}</ul>`}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>appproxy ${escape(facts.owner)}: status</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
tr.current td:nth-child(3) { color: #176f2c; } tr.behind td:nth-child(3) { color: #9a6700; }
tr.stopped td:nth-child(3), tr.unreachable td:nth-child(3) { color: #b3261e; font-weight: bold; }
.none { color: #666; } li { margin: 2px 0; }
</style></head><body>
<h1>appproxy ${escape(facts.owner)}</h1>
<p id="ready">${facts.notReady.length === 0 ? 'ready' : `not ready: ${escape(facts.notReady.join('; '))}`} · ${escape(facts.generatedAt)}</p>
<h2>Traefiks</h2>
${
  facts.traefiks === undefined
    ? '<p id="traefiks" class="none">no read-back: start the daemon with --traefik-api-urls</p>'
    : `<table id="traefiks"><tr><th>Traefik</th><th>version</th><th>state</th><th>lag</th><th>not yet live</th><th>refused</th></tr>${rows.join('')}</table>${notes.length === 0 ? '' : `<ul id="traefik-notes">${notes.join('')}</ul>`}`
}
${list('pending', 'Routes not yet live', pending, 'none: every committed change is live in every Traefik read')}
${list('refused-routes', 'Refused by Traefik', refused, 'none')}
${list('refused-workloads', 'Refused workloads', workloads, 'none')}
</body></html>
`;
}
