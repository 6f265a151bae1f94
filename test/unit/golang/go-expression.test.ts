import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFailure } from '../../../src/golang/failure.ts';
import { parseGoExpression } from '../../../src/golang/go-expression.ts';
import { scan } from '../../../src/golang/go-scanner.ts';
import { parsePredicate, type PredicateDefinition } from '../../../src/golang/predicate.ts';
import { utf8Length } from '../../../src/golang/utf8.ts';

// Go: src/go/scanner/scanner_test.go, errors (src, byte offset of the error, message; "" for
// none): the rows of the tokens the scanner checks here. Rune literals and numbers are scanned
// only for their extent, since no expression read here may hold one; their rows are left out.
const scanErrors: readonly (readonly [string, number, string])[] = [
  ['\x07', 0, 'illegal character U+0007'],
  ['#', 0, "illegal character U+0023 '#'"],
  ['…', 0, "illegal character U+2026 '…'"],
  ['""', 0, ''],
  ['"abc', 0, 'string literal not terminated'],
  ['"abc\n', 0, 'string literal not terminated'],
  ['"abc\n   ', 0, 'string literal not terminated'],
  ['``', 0, ''],
  ['`', 0, 'raw string literal not terminated'],
  ['/**/', 0, ''],
  ['/*', 0, 'comment not terminated'],
  ['"abc\x00def"', 4, 'illegal character NUL'],
  ['\ufeff\ufeff', 3, 'illegal byte order mark'],
  ['//\ufeff', 2, 'illegal byte order mark'],
  ['"abc\ufeffdef"', 4, 'illegal byte order mark'],
  ['abc\x00def', 3, 'illegal character NUL'],
  ['abc\x00', 3, 'illegal character NUL'],
];

for (const [source, offset, message] of scanErrors) {
  test(`go/scanner: ${JSON.stringify(source)}`, () => {
    const error = scan(source).find((token) => token.error !== undefined)?.error;
    if (message === '') assert.equal(error, undefined);
    else
      assert.deepEqual(
        error === undefined ? undefined : { at: utf8Length(source.slice(0, error.at)), message: error.message },
        { at: offset, message },
      );
  });
}

test('go/parser: the position of an error is line:column, the column in bytes', () => {
  const parsed = parseGoExpression('f("é",\n  #)', 'hint');
  assert.ok(isFailure(parsed));
  assert.equal(parsed.failure, "2:3: illegal character U+0023 '#'");
});

// vulcand/predicate over a definition of the caller's type: here, the set of names a predicate
// matches, as a string, to see the tree the definition was given.
const NAMES: PredicateDefinition<string> = {
  and: (operands) => `and(${operands.join(', ')})`,
  or: (operands) => `or(${operands.join(', ')})`,
  not: (operand) => `not(${operand})`,
  functions: { Is: { params: ['name'], call: ([name]) => name ?? '<not UTF-8>' } },
  grammar: 'a test predicate',
};

const predicateCases: readonly (readonly [string, string])[] = [
  ['Is("a")', 'a'],
  ['!Is("a")', 'not(a)'],
  ['Is("a") && Is("b") && Is("c")', 'and(a, b, c)'],
  ['Is("a") || Is("b") && !Is("c")', 'or(a, and(b, not(c)))'],
  ['(Is("a") || Is(`b`)) && Is("\\x63")', 'and(or(a, b), c)'],
  ['Is("\\xff")', '<not UTF-8>'],
];

for (const [source, expected] of predicateCases) {
  test(`predicate: ${source}`, () =>
    assert.deepEqual(parsePredicate(source, NAMES), { kind: 'predicate', value: expected }));
}

test('predicate: a constant is a value the caller may refuse, with its position', () => {
  assert.deepEqual(parsePredicate(' "x"', NAMES), { kind: 'value', describe: 'the string "x"', position: '1:2' });
});

test('predicate: what the definition lacks is named with the grammar', () => {
  assert.deepEqual(parsePredicate('Is("a") == Is("b")', NAMES), {
    failure: '1:9: operator == is not supported: a test predicate',
  });
  assert.deepEqual(parsePredicate('Was("a")', NAMES), { failure: '1:1: unsupported function Was: a test predicate' });
  assert.deepEqual(parsePredicate('constructor("a")', NAMES), {
    failure: '1:1: unsupported function constructor: a test predicate',
  });
  assert.deepEqual(parsePredicate('Is("a", "b")', NAMES), { failure: '1:1: Is takes 1 arguments (name), not 2' });
  assert.deepEqual(parsePredicate('Is("a") && "b"', NAMES), {
    failure: '1:12: the operand of && must be a Is expression, not the string "b": a test predicate',
  });
});
