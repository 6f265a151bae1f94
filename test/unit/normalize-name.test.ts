import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeName } from '../../src/core/provider/normalize-name.ts';

interface Case {
  readonly desc: string;
  readonly input: string;
  readonly expected: string;
}

// Expected values are what Traefik's provider.Normalize (Go, Unicode 15 tables) returns for the input.
const cases: readonly Case[] = [
  { desc: 'a plain name is unchanged', input: 'web', expected: 'web' },
  { desc: 'letters keep their case', input: 'MyApp', expected: 'MyApp' },
  { desc: 'digits are kept', input: 'web01', expected: 'web01' },
  { desc: 'a dot separates', input: 'my.app', expected: 'my-app' },
  { desc: 'an underscore separates', input: 'web_shop', expected: 'web-shop' },
  { desc: 'a hyphen separates (and is put back)', input: 'web-shop', expected: 'web-shop' },
  { desc: 'a Compose service and project', input: 'my.app_shop', expected: 'my-app-shop' },
  { desc: 'runs of separators become one hyphen', input: 'a__b..c--d', expected: 'a-b-c-d' },
  { desc: 'leading and trailing separators are dropped', input: '--web--', expected: 'web' },
  { desc: 'spaces and tabs separate', input: 'my app\tv2', expected: 'my-app-v2' },
  { desc: 'a slash separates (container names start with one)', input: '/web-1', expected: 'web-1' },
  { desc: 'the empty string', input: '', expected: '' },
  { desc: 'separators only', input: '_-.-_', expected: '' },
  { desc: 'already normalised: unchanged', input: 'my-app-shop', expected: 'my-app-shop' },
  { desc: 'accented letters are letters', input: 'Été_café', expected: 'Été-café' },
  { desc: 'Greek and Cyrillic letters', input: 'αβγ.Кошка', expected: 'αβγ-Кошка' },
  { desc: 'CJK ideographs are letters', input: '日本語_サービス', expected: '日本語-サービス' },
  { desc: 'Arabic-Indic digits are numbers', input: 'app_١٢٣', expected: 'app-١٢٣' },
  { desc: 'superscripts and fractions are numbers', input: 'x²_½', expected: 'x²-½' },
  { desc: 'Roman numerals are numbers', input: 'Ⅻ.app', expected: 'Ⅻ-app' },
  { desc: 'a title-case digraph is a letter', input: 'ǅemal', expected: 'ǅemal' },
  { desc: 'combining marks are not letters: they separate', input: 'a\u0301b', expected: 'a-b' },
  { desc: 'a zero-width space separates', input: 'a\u200bb', expected: 'a-b' },
  { desc: 'a no-break space separates', input: 'a\u00a0b', expected: 'a-b' },
  { desc: 'emoji separate', input: 'web😀shop', expected: 'web-shop' },
  { desc: 'symbols and punctuation separate', input: 'a+b=c!d@e#f$g%h&i*j(k)l', expected: 'a-b-c-d-e-f-g-h-i-j-k-l' },
  { desc: 'a lone surrogate separates, like the U+FFFD Go decodes in its place', input: 'a\ud800b', expected: 'a-b' },
];

for (const { desc, input, expected } of cases) {
  test(`normalizeName: ${desc}`, () => {
    assert.equal(normalizeName(input), expected);
  });
}

test('normalizeName: normalising twice changes nothing', () => {
  for (const { input } of cases) assert.equal(normalizeName(normalizeName(input)), normalizeName(input));
});
