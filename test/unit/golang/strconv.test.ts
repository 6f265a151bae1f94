import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBool, parseUint, quote, quoteRune, unquote } from '../../../src/golang/strconv.ts';

// Go's own test tables, for what the library implements. Rows whose Go string is not UTF-8
// ("abc\xffdef") cannot be written as a JavaScript string and are left out of quoting; unquoting
// such a literal reports it as not UTF-8 instead of returning its bytes.

// Go: src/strconv/quote_test.go, quotetests (in, Quote, QuoteToASCII).
const quoteTests: readonly (readonly [string, string, string])[] = [
  ['\x07\b\f\r\n\t\v', '"\\a\\b\\f\\r\\n\\t\\v"', '"\\a\\b\\f\\r\\n\\t\\v"'],
  ['\\', '"\\\\"', '"\\\\"'],
  ['\u263a', '"☺"', '"\\u263a"'],
  ['\u{10ffff}', '"\\U0010ffff"', '"\\U0010ffff"'],
  ['\x04', '"\\x04"', '"\\x04"'],
  ['!\u00a0!\u2000!\u3000!', '"!\\u00a0!\\u2000!\\u3000!"', '"!\\u00a0!\\u2000!\\u3000!"'],
];

// Go: src/strconv/quote_test.go, quoterunetests (in, QuoteRune, QuoteRuneToASCII).
const quoteRuneTests: readonly (readonly [number, string, string])[] = [
  [0x61, "'a'", "'a'"],
  [0x07, "'\\a'", "'\\a'"],
  [0x5c, "'\\\\'", "'\\\\'"],
  [0xff, "'ÿ'", "'\\u00ff'"],
  [0x263a, "'☺'", "'\\u263a'"],
  [0xfffd, "'�'", "'\\ufffd'"],
  [0x10ffff, "'\\U0010ffff'", "'\\U0010ffff'"],
  [0x10ffff + 1, "'�'", "'\\ufffd'"],
  [0x04, "'\\x04'", "'\\x04'"],
  [0xa0, "'\\u00a0'", "'\\u00a0'"],
  [0x2000, "'\\u2000'", "'\\u2000'"],
  [0x3000, "'\\u3000'", "'\\u3000'"],
];

// Go: src/strconv/quote_test.go, unquotetests (in, Unquote); undefined where Go's result is not UTF-8.
const unquoteTests: readonly (readonly [string, string | undefined])[] = [
  ['""', ''],
  ['"a"', 'a'],
  ['"abc"', 'abc'],
  ['"☺"', '☺'],
  ['"hello world"', 'hello world'],
  ['"\\xFF"', undefined],
  ['"\\377"', undefined],
  ['"\\u1234"', '\u1234'],
  ['"\\U00010111"', '\u{10111}'],
  ['"\\U0001011111"', '\u{10111}11'],
  ['"\\a\\b\\f\\n\\r\\t\\v\\\\\\""', '\x07\b\f\n\r\t\v\\"'],
  ['"\'"', "'"],
  ["'a'", 'a'],
  ["'☹'", '☹'],
  ["'\\a'", '\x07'],
  ["'\\x10'", '\x10'],
  ["'\\377'", undefined],
  ["'\\u1234'", '\u1234'],
  ["'\\U00010111'", '\u{10111}'],
  ["'\\t'", '\t'],
  ["' '", ' '],
  ["'\\''", "'"],
  ["'\"'", '"'],
  ['``', ''],
  ['`a`', 'a'],
  ['`abc`', 'abc'],
  ['`☺`', '☺'],
  ['`hello world`', 'hello world'],
  ['`\\xFF`', '\\xFF'],
  ['`\\377`', '\\377'],
  ['`\\`', '\\'],
  ['`\n`', '\n'],
  ['`\t`', '\t'],
  ['` `', ' '],
];

// Go: src/strconv/quote_test.go, misquoted.
const misquoted: readonly string[] = [
  '',
  '"',
  '"a',
  '"\'',
  'b"',
  '"\\"',
  '"\\9"',
  '"\\19"',
  '"\\129"',
  "'\\'",
  "'\\9'",
  "'\\19'",
  "'\\129'",
  "'ab'",
  '"\\x1!"',
  '"\\U12345678"',
  '"\\z"',
  '`',
  '`xxx',
  '`"',
  '"\\\'"',
  "'\\\"'",
  '"\n"',
  '"\\n\n"',
  "'\n'",
];

// Go: src/strconv/atob_test.go, atobtests.
const atobTests: readonly (readonly [string, boolean | undefined])[] = [
  ['', undefined],
  ['asdf', undefined],
  ['0', false],
  ['f', false],
  ['F', false],
  ['FALSE', false],
  ['false', false],
  ['False', false],
  ['1', true],
  ['t', true],
  ['T', true],
  ['TRUE', true],
  ['true', true],
  ['True', true],
];

// Go: src/strconv/atoi_test.go, parseUint64BaseTests, the rows of base 0 (undefined: ErrSyntax or ErrRange).
const parseUintTests: readonly (readonly [string, bigint | undefined])[] = [
  ['', undefined],
  ['0', 0n],
  ['0x', undefined],
  ['0X', undefined],
  ['1', 1n],
  ['12345', 12345n],
  ['012345', 0o12345n],
  ['0x12345', 0x12345n],
  ['0X12345', 0x12345n],
  ['12345x', undefined],
  ['0xabcdefg123', undefined],
  ['123456789abc', undefined],
  ['98765432100', 98765432100n],
  ['18446744073709551615', 2n ** 64n - 1n],
  ['18446744073709551616', undefined],
  ['18446744073709551620', undefined],
  ['0xFFFFFFFFFFFFFFFF', 2n ** 64n - 1n],
  ['0x10000000000000000', undefined],
  ['01777777777777777777777', 2n ** 64n - 1n],
  ['01777777777777777777778', undefined],
  ['02000000000000000000000', undefined],
  ['0200000000000000000000', 2n ** 61n],
  ['0b', undefined],
  ['0B', undefined],
  ['0b101', 5n],
  ['0B101', 5n],
  ['0o', undefined],
  ['0O', undefined],
  ['0o377', 255n],
  ['0O377', 255n],
  ['1_2_3_4_5', 12345n],
  ['_12345', undefined],
  ['1__2345', undefined],
  ['12345_', undefined],
  ['0x_1_2_3_4_5', 0x12345n],
  ['_0x12345', undefined],
  ['0x__12345', undefined],
  ['0x1__2345', undefined],
  ['0x1234__5', undefined],
  ['0x12345_', undefined],
  ['0_1_2_3_4_5', 0o12345n],
  ['_012345', undefined],
  ['0__12345', undefined],
  ['01234__5', undefined],
  ['012345_', undefined],
  ['0o_1_2_3_4_5', 0o12345n],
  ['_0o12345', undefined],
  ['0o__12345', undefined],
  ['0o1234__5', undefined],
  ['0o12345_', undefined],
  ['0b_1_0_1', 5n],
  ['_0b101', undefined],
  ['0b__101', undefined],
  ['0b1__01', undefined],
  ['0b10__1', undefined],
  ['0b101_', undefined],
];

for (const [input, expected, ascii] of quoteTests) {
  test(`strconv.Quote(${JSON.stringify(input)})`, () => {
    assert.equal(quote(input), expected);
    assert.equal(quote(input, true), ascii);
    // Go runs the quote tests backward through Unquote too.
    assert.deepEqual(unquote(expected), { ok: true, value: input });
  });
}

for (const [rune, expected, ascii] of quoteRuneTests) {
  test(`strconv.QuoteRune(U+${rune.toString(16)})`, () => {
    assert.equal(quoteRune(rune), expected);
    assert.equal(quoteRune(rune, true), ascii);
  });
}

for (const [input, expected] of unquoteTests) {
  test(`strconv.Unquote(${input})`, () => {
    assert.deepEqual(
      unquote(input),
      expected === undefined ? { ok: false, invalidUtf8: true } : { ok: true, value: expected },
    );
  });
}

for (const input of misquoted) {
  test(`strconv.Unquote(${JSON.stringify(input)}) is a syntax error`, () => {
    assert.deepEqual(unquote(input), { ok: false, invalidUtf8: false });
  });
}

for (const [input, expected] of atobTests) {
  test(`strconv.ParseBool(${JSON.stringify(input)})`, () => assert.equal(parseBool(input), expected));
}

for (const [input, expected] of parseUintTests) {
  test(`strconv.ParseUint(${JSON.stringify(input)}, 0, 64)`, () => assert.equal(parseUint(input), expected));
}
