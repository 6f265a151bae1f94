// Reads scripts/lib/test-env.conf, the one home of the test environment's addresses, which
// scripts/test-env.sh sources. The file is plain KEY=value lines (single quotes around a value with
// shell characters, no expansions), so a few lines parse it the way bash reads it.
import { readFileSync } from 'node:fs';

export const TEST_ENV_CONF = new URL('../../scripts/lib/test-env.conf', import.meta.url).pathname;

/** The assignments of a test-env.conf text; a line that is neither one nor a comment is an error. */
export function parseTestEnvConf(text: string): ReadonlyMap<string, string> {
  const values = new Map<string, string>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^([A-Z][A-Z0-9_]*)=(?:'([^']*)'|([^'"\s$`\\]*))$/.exec(line);
    if (match === null)
      throw new Error(`${TEST_ENV_CONF}:${index + 1}: not a plain KEY=value or KEY='value' line: ${line}`);
    values.set(match[1] ?? '', match[2] ?? match[3] ?? '');
  });
  return values;
}

/** The conf's values, read once; `get` throws naming a key that is missing. */
export function readTestEnvConf(path = TEST_ENV_CONF): { get(key: string): string; has(key: string): boolean } {
  const values = parseTestEnvConf(readFileSync(path, 'utf8'));
  return {
    get(key) {
      const value = values.get(key);
      if (value === undefined) throw new Error(`${path} has no ${key}`);
      return value;
    },
    has: (key) => values.has(key),
  };
}
