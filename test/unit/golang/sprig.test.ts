import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SPRIG_FUNCTION_NAMES, SPRIG_FUNCTIONS } from '../../../src/golang/sprig.ts';
import { parseGoTemplate } from '../../../src/golang/text-template/template.ts';
import { goMap } from '../../../src/golang/value.ts';

// Sprig's own tests (github.com/Masterminds/sprig, strings_test.go and defaults_test.go) for the
// functions implemented here, run as sprig's runt runs them: with an empty map[string]string as
// data. Sprig's contains test wraps each call in {{if}}, which the subset lacks; the printed
// boolean says the same.
const sprigTests: readonly (readonly [string, string])[] = [
  // TestQuote
  ['{{quote "a" "b" "c"}}', '"a" "b" "c"'],
  ['{{quote "\\"a\\"" "b" "c"}}', '"\\"a\\"" "b" "c"'],
  ['{{quote 1 2 3 }}', '"1" "2" "3"'],
  // TestContains
  ['{{contains "cat" "fair catch"}}', 'true'],
  ['{{hasPrefix "cat" "catch"}}', 'true'],
  ['{{hasSuffix "cat" "ducat"}}', 'true'],
  // TestTrim
  ['{{trim "   5.00   "}}', '5.00'],
  ['{{trimAll "$" "$5.00$"}}', '5.00'],
  ['{{trimPrefix "$" "$5.00"}}', '5.00'],
  ['{{trimSuffix "$" "5.00$"}}', '5.00'],
  // TestReplace
  ['{{"I Am Henry VIII" | replace " " "-"}}', 'I-Am-Henry-VIII'],
  // TestDefault
  ['{{"" | default "foo"}}', 'foo'],
  ['{{default "foo" 234}}', '234'],
  ['{{ .Nothing | default "123" }}', '123'],
  ['{{ default "123" }}', '123'],
];

for (const [template, expected] of sprigTests) {
  test(`sprig: ${template}`, () => {
    const parsed = parseGoTemplate(template, { name: 'sprig', funcs: SPRIG_FUNCTIONS, subset: 'sprig' });
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    assert.deepEqual(parsed.template.execute(goMap({})), { ok: true, value: expected });
  });
}

test('sprig: every function implemented is one of sprig', () => {
  for (const name of Object.keys(SPRIG_FUNCTIONS)) assert.ok(SPRIG_FUNCTION_NAMES.has(name), name);
});
