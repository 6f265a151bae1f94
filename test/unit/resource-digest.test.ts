import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceDigest } from '../../src/sync/resource-digest.ts';

// Claims hold these digests, and every appproxy writing one store compares them: a rolling upgrade
// runs two versions side by side, so the form may not change. Pinned as the first version wrote them.
const cases: { name: string; fields: [string, string][]; digest: string }[] = [
  {
    name: 'a router, keys in any order',
    fields: [
      ['traefik/http/routers/chat/service', 'chat'],
      ['traefik/http/routers/chat/rule', 'Host(`chat.example`)'],
      ['traefik/http/routers/chat/entryPoints/0', 'web'],
    ],
    digest: 'fde8e1b0e386b9bdf3e06c7acc0db918',
  },
  {
    name: 'text beyond ASCII',
    fields: [['traefik/http/services/ü/loadBalancer/sticky/cookie/name', 'é\u2603']],
    digest: '790863cb8a09a1fd6f01aab6652bfd9c',
  },
  { name: 'no fields', fields: [], digest: 'e3b0c44298fc1c149afbf4c8996fb924' },
];

for (const { name, fields, digest } of cases) {
  test(`resource digest: ${name}`, () => {
    assert.equal(resourceDigest(new Map(fields), 'traefik'), digest);
  });
}

test('resource digest: the root key is left out, so deployments with other root keys agree', () => {
  const under = (root: string) => new Map([[`${root}/http/routers/chat/rule`, 'Host(`a`)']]);
  assert.equal(resourceDigest(under('traefik'), 'traefik'), resourceDigest(under('edge/traefik'), 'edge/traefik'));
});
