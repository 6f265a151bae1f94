import assert from 'node:assert/strict';
import { test } from 'node:test';
import { utf8Length } from '../../../src/golang/utf8.ts';

// utf8Length is both Go's len(s) and the byte count etcd and Docker see: it must equal what
// TextEncoder writes, on the ASCII fast path and off it (a lone surrogate is written as U+FFFD).
test('utf8Length equals the UTF-8 encoding length', () => {
  const encoder = new TextEncoder();
  for (const text of ['', 'abc', 'traefik/http/routers/x', 'é', '€', '😀', 'a😀b', '\ud800', 'a\udc00b', 'ſhop'])
    assert.equal(utf8Length(text), encoder.encode(text).length, JSON.stringify(text));
});
