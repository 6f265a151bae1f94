// The golden-file switch every golden test shares: compare with the file, or write it when
// UPDATE_GOLDEN=1 (on purpose; review the diff) or when it does not exist yet (then fail once).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const updateGolden = process.env['UPDATE_GOLDEN'] === '1';

export function compareGolden(path: string, actual: string): void {
  if (updateGolden || !existsSync(path)) {
    writeFileSync(path, actual);
    if (!updateGolden) assert.fail(`${path} did not exist and was written: review it, then run again`);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `${path} differs (UPDATE_GOLDEN=1 rewrites it)`);
}
