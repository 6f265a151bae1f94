// The Traefik releases the real tests run appproxy's output through: the older ones of
// TRAEFIK_VERSIONS (scripts/lib/test-env.conf; `bash scripts/test-env.sh install` puts each in
// TRAEFIK_VERSIONS_DIR/<version>) and the environment's own 3.7. A test that starts them itself
// gives each a root key of its own on the shared store, and ports of its own from
// TRAEFIK_VERSIONS_PORT on (10 a release, by its index here; scripts/lib/test-env.conf says which
// test uses which of the ten).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KvStore, Operation } from '../../src/sync/kv-store.ts';
import { testEnv } from './env.ts';
import { environmentTraefikBinary } from './etcd-cluster.ts';

export interface TraefikRelease {
  /** As TRAEFIK_VERSIONS names it, or `environment` for the environment's own. */
  readonly name: string;
  readonly binary: string;
  /** What the binary reports (`traefik version`), e.g. `3.0.4`. */
  readonly version: string;
  /** Its place among the releases: its ports start at TRAEFIK_VERSIONS_PORT + 10 × index. */
  readonly index: number;
}

/** The release names, known without running anything (for naming tests when a file loads). */
export function traefikReleaseNames(): string[] {
  return [...testEnv.traefikVersions.versions, 'environment'];
}

function binaryOf(name: string): string {
  if (name === 'environment') return environmentTraefikBinary();
  const binary = join(testEnv.traefikVersions.dir, name, 'bin', 'traefik');
  if (!existsSync(binary))
    throw new Error(
      `no Traefik ${name} at ${binary}: run \`bash scripts/test-env.sh install\` (it installs TRAEFIK_VERSIONS of scripts/lib/test-env.conf)`,
    );
  return binary;
}

/**
 * Every release with its binary and the version that binary reports (an installed one must be the
 * version it is filed under); at least three, among them the oldest 3.0 and a 3.7.
 */
export function traefikReleases(): TraefikRelease[] {
  const releases = traefikReleaseNames().map((name, index): TraefikRelease => {
    const binary = binaryOf(name);
    const reported = execFileSync(binary, ['version'], { encoding: 'utf8', timeout: 20_000 });
    const version = /^Version:\s*(\S+)/m.exec(reported)?.[1] ?? '?';
    if (name !== 'environment') assert.equal(version, name, `${binary} reports ${version}`);
    return { name, binary, version, index };
  });
  const versions = releases.map((release) => release.version).join(', ');
  assert.ok(
    releases.length >= 3,
    `three Traefik releases or more (TRAEFIK_VERSIONS in scripts/lib/test-env.conf and the environment's), got ${versions}`,
  );
  assert.ok(
    releases.some((release) => release.version.startsWith('3.0.')),
    `the oldest 3.0 among ${versions}`,
  );
  assert.ok(
    releases.some((release) => release.version.startsWith('3.7.')),
    `3.7 among ${versions}`,
  );
  return releases;
}

/** Negative when `a` is the older of two `x.y.z` releases, zero when they are one, positive otherwise. */
export function compareReleases(a: string, b: string): number {
  const [x, y] = [a, b].map((text) => text.split('.').map(Number)) as [number[], number[]];
  for (let index = 0; index < 3; index += 1) {
    const difference = (x[index] ?? 0) - (y[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** `3.3` for 3.3.0, `3.0.2` as it is: how appproxy's errors write a release. */
export function shortRelease(version: string): string {
  return version.replace(/^(\d+\.\d+)\.0$/, '$1');
}

const fieldVersions = JSON.parse(
  readFileSync(new URL('../fixtures/traefik-field-versions.json', import.meta.url), 'utf8'),
) as { fields: Record<string, string> };

/** The release that introduced a field of Traefik's dynamic configuration (`dynamic.Cookie.Path`), from the fixture. */
export function fieldSince(field: string): string {
  const since = fieldVersions.fields[field];
  if (since === undefined)
    throw new Error(`test/fixtures/traefik-field-versions.json has no ${field} (a field of Traefik 3.0 has no entry)`);
  return since;
}

async function applyAll(kv: KvStore, operations: readonly Operation[]): Promise<void> {
  for (let start = 0; start < operations.length; start += 100) {
    const result = await kv.apply({ operations: operations.slice(start, start + 100), guards: [] }, '0');
    assert.ok(result.applied, 'an unguarded transaction was not applied');
  }
}

/**
 * Deletes every key under `rootKey/` and the key `rootKey` itself, nothing else (the shared
 * clearTree also empties appproxy's bookkeeping of every owner, which other tests may be using).
 */
export async function removeRoot(kv: KvStore, rootKey: string): Promise<void> {
  const keys = (
    await kv.load([
      { key: `${rootKey}/`, prefix: true },
      { key: rootKey, prefix: false },
    ])
  ).entries.map((entry) => entry.key);
  await applyAll(
    kv,
    keys.map((key): Operation => ({ type: 'delete', key })),
  );
}

/**
 * On etcd, writes the key equal to the root itself, before Traefik starts: its etcd provider does not
 * start its watch while nothing exists under the root ("failed to watch KV: key not found in store")
 * and retries with a growing backoff (12 s after 15 s, Traefik 3.0.4 here), so a tree written later
 * could take that long to appear. The key counts for that check and is no configuration (see
 * ensure_root_key in scripts/test-env.sh). Redis needs none.
 */
export async function holdRoot(kv: KvStore, store: 'etcd' | 'redis', rootKey: string): Promise<void> {
  if (store !== 'etcd') return;
  await applyAll(kv, [
    { type: 'put', key: rootKey, value: "appproxy test: keeps Traefik's etcd watch established", leased: false },
  ]);
}
