import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

// Two rules of the layout, kept by a test rather than by memory: Traefik's semantics know nothing
// of what appproxy adds on top (the translate layer combines them), and no module imports itself
// through others. Type-only imports count: a reader follows them just the same.

const SRC = resolve(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g;

const graph = new Map<string, string[]>();
for (const file of sources(SRC)) {
  const imports = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((match) =>
    relative(SRC, resolve(dirname(file), match[1] as string)),
  );
  graph.set(relative(SRC, file), imports);
}

test('import layers: Traefik semantics and the labels they read import nothing of the apps, the translate layer or explain', () => {
  const lower = ['core/provider/', 'core/labels/', 'core/policy/', 'core/kv/', 'core/schema/'];
  const upper = ['core/apps/', 'core/translate/', 'core/explain/'];
  const crossings = [...graph].flatMap(([file, imports]) =>
    lower.some((folder) => file.startsWith(folder))
      ? imports
          .filter((target) => upper.some((folder) => target.startsWith(folder)))
          .map((target) => `${file} → ${target}`)
      : [],
  );
  assert.deepEqual(crossings, []);
});

test('import layers: no import circle in src', () => {
  const state = new Map<string, 'open' | 'done'>();
  const circles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      circles.push([...path.slice(path.indexOf(file)), file].join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(circles, []);
});
