import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { it } from 'node:test';

// The Docker port holds only while one module knows dockerode: a second importer would let its
// types, errors and calls without limits flow past the port again.

const SRC = new URL('../../src', import.meta.url).pathname;
const ADAPTER = 'docker/dockerode-engine.ts';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

it(`only ${ADAPTER} imports dockerode or docker-modem`, () => {
  const importers = sources(SRC)
    .filter((path) =>
      /from ['"](dockerode|docker-modem)['"]|import\(['"](dockerode|docker-modem)['"]\)/.test(
        readFileSync(path, 'utf8'),
      ),
    )
    .map((path) => relative(SRC, path));
  assert.deepStrictEqual(importers, [ADAPTER]);
});
