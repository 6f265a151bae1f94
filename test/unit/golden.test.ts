import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareGolden } from '../support/golden.ts';
import { configurationToKeyValues } from '../../src/core/kv/configuration-to-kv.ts';
import { buildConfiguration } from '../../src/core/translate/build-configuration.ts';
import {
  compileTranslateOptions,
  defaultTranslateOptions,
  type TranslateOptions,
} from '../../src/core/translate/translate-options.ts';
import { formatRender } from '../../src/render/render-output.ts';
import { describeProblem } from '../../src/commands/render-command.ts';
import { workloadsFromInspect } from '../../src/docker/workloads-from-inspect.ts';

// Each folder under test/golden holds `input.json` (what `docker inspect` prints for the
// containers), optionally `options.json` (provider options; `apps`, `limits` and `policy` hold the app
// settings, the limits and the label policy's settings that differ from the defaults), and the expected `expected.kv`,
// `expected.yaml` and `expected.problems` (one line a problem). UPDATE_GOLDEN=1 rewrites the
// expected files from the current output, on purpose; review the diff before committing.
const root = new URL('../golden/', import.meta.url).pathname;

for (const name of readdirSync(root).sort()) {
  const folder = join(root, name);
  test(`golden: ${name}`, () => {
    const input = readFileSync(join(folder, 'input.json'), 'utf8');
    const optionsPath = join(folder, 'options.json');
    const overrides = existsSync(optionsPath)
      ? (JSON.parse(readFileSync(optionsPath, 'utf8')) as Partial<
          Omit<TranslateOptions, 'apps' | 'limits' | 'policy'>
        > & {
          rootKey?: string;
          apps?: Partial<TranslateOptions['apps']>;
          limits?: Partial<TranslateOptions['limits']>;
          policy?: Partial<TranslateOptions['policy']>;
        })
      : {};
    const { rootKey = 'traefik', apps = {}, limits = {}, policy = {}, ...options } = overrides;
    const compiled = compileTranslateOptions({
      ...defaultTranslateOptions,
      ...options,
      apps: { ...defaultTranslateOptions.apps, ...apps },
      limits: { ...defaultTranslateOptions.limits, ...limits },
      policy: { ...defaultTranslateOptions.policy, ...policy },
    });
    assert.ok(compiled.ok);
    const result = buildConfiguration(workloadsFromInspect(input, name), compiled.value);
    const pairs = configurationToKeyValues(result.configuration, result.servers, { rootKey, ownerId: 'golden-host' });
    compareGolden(join(folder, 'expected.kv'), formatRender('kv', result.configuration, pairs));
    compareGolden(join(folder, 'expected.yaml'), formatRender('yaml', result.configuration, pairs));
    compareGolden(
      join(folder, 'expected.problems'),
      result.problems.map((problem) => `${describeProblem(problem)}\n`).join(''),
    );
  });
}
