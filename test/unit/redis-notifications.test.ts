import assert from 'node:assert/strict';
import { test } from 'node:test';
import { notifiesTraefik } from '../../src/redis/keyspace-notifications.ts';

// Which notify-keyspace-events values let Traefik's Redis provider hear a change: the keyspace
// channel (K) for string writes ($) and deletes (g), or every class (A).
const cases: readonly [string, boolean][] = [
  ['', false],
  ['KEA', true],
  ['KA', true],
  ['K$g', true],
  ['Kg$x', true],
  ['EA', false],
  ['K$', false],
  ['Kg', false],
  ['Ex', false],
];

for (const [flags, expected] of cases) {
  test(`keyspace notifications "${flags}": ${expected ? 'enough' : 'not enough'} for Traefik`, () => {
    assert.equal(notifiesTraefik(flags), expected);
  });
}
