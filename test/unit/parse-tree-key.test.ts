import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseTreeKey, type ParsedTreeKey } from '../../src/core/resource-kinds.ts';

// parseTreeKey finds segment ends by hand (the mirror parses every key it holds). The reading it
// must keep is the plain one: split on '/', a resource is the first three segments, a server the
// first six of a service's `loadBalancer/servers/<id>` (matched without regard to case).

const cases: [string, ParsedTreeKey | undefined][] = [
  ['http/routers/chat/rule', { resource: 'http/routers/chat' }],
  ['http/routers/chat', { resource: 'http/routers/chat' }],
  [
    'tcp/services/db/loadBalancer/servers/0/address',
    { resource: 'tcp/services/db', server: 'tcp/services/db/loadBalancer/servers/0' },
  ],
  [
    'HTTP/Services/chat/LOADBALANCER/Servers/abc',
    { resource: 'HTTP/Services/chat', server: 'HTTP/Services/chat/LOADBALANCER/Servers/abc' },
  ],
  ['http/services/chat/loadBalancer/servers/', { resource: 'http/services/chat' }],
  ['http/services/chat/loadBalancer/servers', { resource: 'http/services/chat' }],
  ['http/services/chat/loadBalancer/sticky/cookie/name', { resource: 'http/services/chat' }],
  ['tls/stores/default/defaultCertificate/certFile', { resource: 'tls/stores/default' }],
  ['tls/options/default/minVersion', undefined],
  ['HTTP/routers/chat/rule', undefined],
  ['http/routers/', undefined],
  ['http/routers//rule', undefined],
  ['http//chat/rule', undefined],
  ['/routers/chat/rule', undefined],
  ['http/routers', undefined],
  ['http', undefined],
  ['', undefined],
];

for (const [key, expected] of cases)
  test(`parseTreeKey: ${JSON.stringify(key)}`, () => assert.deepEqual(parseTreeKey(key), expected));

/** The reading by split, as the function read keys before it found segment ends by hand. */
function bySplit(relative: string): ParsedTreeKey | undefined {
  const segments = relative.split('/');
  const [section = '', kind = '', name = ''] = segments;
  if (section === '' || kind === '' || name === '') return undefined;
  const resource = `${section}/${kind}/${name}`;
  const protocols = new Set(['http', 'tcp', 'udp']);
  if (
    segments.length >= 6 &&
    protocols.has(section.toLowerCase()) &&
    kind.toLowerCase() === 'services' &&
    segments[3]?.toLowerCase() === 'loadbalancer' &&
    segments[4]?.toLowerCase() === 'servers' &&
    segments[5] !== ''
  )
    return { resource, server: segments.slice(0, 6).join('/') };
  if (protocols.has(section) || (section === 'tls' && kind === 'stores')) return { resource };
  return undefined;
}

test('parseTreeKey: reads any key as splitting it on slashes does', () => {
  const segment = fc.oneof(
    fc.constantFrom('http', 'HTTP', 'tcp', 'udp', 'tls', 'stores', 'services', 'Services', 'routers'),
    fc.constantFrom('loadBalancer', 'loadbalancer', 'servers', 'SERVERS', '0', 'url', ''),
    fc.string({ maxLength: 4 }),
  );
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 9 }), (segments) => {
      const key = segments.join('/');
      assert.deepEqual(parseTreeKey(key), bySplit(key), key);
    }),
    { numRuns: 20_000 },
  );
});
