import assert from 'node:assert/strict';
import test from 'node:test';
import { renderStatusPage } from '../../src/render/status-page.ts';
import type { TraefikListing } from '../../src/render/traefik-listing.ts';

const STOPPED = { since: '2026-12-07T00:00:00.000Z', likelyCause: 'its API does not answer (fetch failed)' };

function listing(traefik: string, facts: Partial<TraefikListing>): TraefikListing {
  return {
    traefik,
    source: 'http://traefik:8080',
    version: '3.7.15',
    olderThanDeclared: false,
    reachable: true,
    unreachableSince: null,
    lastError: null,
    current: true,
    lagSeconds: 0,
    pending: 0,
    oldestPending: [],
    refused: [],
    stopped: null,
    ...facts,
  };
}

test("status page: each Traefik's row says its state, unreachable before stopped", () => {
  const cases: [string, Partial<TraefikListing>, string][] = [
    ['current', {}, 'current'],
    ['behind', { current: false, lagSeconds: 40, pending: 1 }, 'behind'],
    ['stopped while the others apply', { current: false, stopped: STOPPED }, 'stopped'],
    ['unreachable', { reachable: false, lastError: 'ECONNREFUSED' }, 'unreachable'],
    // The read-back counts an unreachable Traefik as stopped once the others apply what it has not.
    ['unreachable and stopped', { reachable: false, current: false, stopped: STOPPED }, 'unreachable'],
  ];
  for (const [name, facts, state] of cases) {
    const page = renderStatusPage({
      generatedAt: '2026-12-07T00:00:00.000Z',
      owner: 'node1',
      notReady: [],
      traefiks: [listing('http://a:8080', facts)],
      refusedWorkloads: [],
    });
    const row = /<tr class="([a-z]+)"><td>http:\/\/a:8080<\/td>/.exec(page);
    assert.equal(row?.[1], state, name);
  }
});
