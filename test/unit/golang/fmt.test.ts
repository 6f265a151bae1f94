import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sprintf } from '../../../src/golang/fmt.ts';
import { goBool, goInt, goString, NIL, type Value } from '../../../src/golang/value.ts';

// Go: src/fmt/fmt_test.go, fmtTests: the rows of the verbs and flags the library implements, with
// the values it has (strings, ints, bools, []string, nil). Rows of unsigned or sized integer types
// use an int of the same value where the output does not name the type; rows whose string is not
// UTF-8 cannot be written in JavaScript and are left out, as are the # flag and floats.

const s = goString;
const i = (n: number | bigint): Value => goInt(BigInt(n));
const zeroFill = (prefix: string, width: number, suffix: string): string =>
  prefix + '0'.repeat(width - suffix.length) + suffix;

const fmtTests: readonly (readonly [string, Value, string])[] = [
  ['%d', i(12345), '12345'],
  ['%v', i(12345), '12345'],
  ['%t', goBool(true), 'true'],

  // basic string
  ['%s', s('abc'), 'abc'],
  ['%q', s('abc'), '"abc"'],
  ['%x', s('abc'), '616263'],
  ['%x', s(''), ''],
  ['% x', s(''), ''],
  ['%x', s('xyz'), '78797a'],
  ['%X', s('xyz'), '78797A'],
  ['% x', s('xyz'), '78 79 7a'],
  ['% X', s('xyz'), '78 79 7A'],

  // escaped strings
  ['%q', s(''), '""'],
  ['%q', s('"'), '"\\""'],
  ['%q', s('`'), '"`"'],
  ['%q', s('\n'), '"\\n"'],
  ['%q', s('\\n'), '"\\\\n"'],
  ['%q', s('abc'), '"abc"'],
  ['%q', s('日本語'), '"日本語"'],
  ['%+q', s('日本語'), '"\\u65e5\\u672c\\u8a9e"'],
  ['%q', s('\x07\b\f\n\r\t\v"\\'), '"\\a\\b\\f\\n\\r\\t\\v\\"\\\\"'],
  ['%+q', s('\x07\b\f\n\r\t\v"\\'), '"\\a\\b\\f\\n\\r\\t\\v\\"\\\\"'],
  ['%q', s('☺'), '"☺"'],
  ['% q', s('☺'), '"☺"'],
  ['%+q', s('☺'), '"\\u263a"'],
  ['%10q', s('⌘'), '       "⌘"'],
  ['%+10q', s('⌘'), '  "\\u2318"'],
  ['%-10q', s('⌘'), '"⌘"       '],
  ['%+-10q', s('⌘'), '"\\u2318"  '],
  ['%010q', s('⌘'), '0000000"⌘"'],
  ['%+010q', s('⌘'), '00"\\u2318"'],
  ['%-010q', s('⌘'), '"⌘"       '],
  ['%+-010q', s('⌘'), '"\\u2318"  '],
  ['%q', s('\u{10ffff}'), '"\\U0010ffff"'],
  ['%+q', s('\u{10ffff}'), '"\\U0010ffff"'],
  // string(rune(0x110000)) is "\ufffd" in Go.
  ['%q', s('\ufffd'), '"�"'],
  ['%+q', s('\ufffd'), '"\\ufffd"'],

  // characters
  ['%c', i(0x78), 'x'],
  ['%c', i(0xe4), 'ä'],
  ['%c', i(0x672c), '本'],
  ['%c', i(0x65e5), '日'],
  ['%.0c', i(0x2318), '⌘'],
  ['%3c', i(0x2318), '  ⌘'],
  ['%-3c', i(0x2318), '⌘  '],
  ['%c', i(0xe00), '\u0e00'],
  ['%c', i(0x10ffff), '\u{10ffff}'],
  ['%c', i(-1), '�'],
  ['%c', i(0xdc80), '�'],
  ['%c', i(0x110000), '�'],
  ['%c', i(0xfffffffff), '�'],

  // escaped characters
  ['%q', i(0), "'\\x00'"],
  ['%+q', i(0), "'\\x00'"],
  ['%q', i(0x22), "'\"'"],
  ['%+q', i(0x22), "'\"'"],
  ['%q', i(0x27), "'\\''"],
  ['%+q', i(0x27), "'\\''"],
  ['%q', i(0x60), "'`'"],
  ['%+q', i(0x60), "'`'"],
  ['%q', i(0x78), "'x'"],
  ['%+q', i(0x78), "'x'"],
  ['%q', i(0xff), "'ÿ'"],
  ['%+q', i(0xff), "'\\u00ff'"],
  ['%q', i(0x0a), "'\\n'"],
  ['%+q', i(0x0a), "'\\n'"],
  ['%q', i(0x263a), "'☺'"],
  ['%+q', i(0x263a), "'\\u263a'"],
  ['% q', i(0x263a), "'☺'"],
  ['%.0q', i(0x263a), "'☺'"],
  ['%10q', i(0x2318), "       '⌘'"],
  ['%+10q', i(0x2318), "  '\\u2318'"],
  ['%-10q', i(0x2318), "'⌘'       "],
  ['%+-10q', i(0x2318), "'\\u2318'  "],
  ['%010q', i(0x2318), "0000000'⌘'"],
  ['%+010q', i(0x2318), "00'\\u2318'"],
  ['%-010q', i(0x2318), "'⌘'       "],
  ['%+-010q', i(0x2318), "'\\u2318'  "],
  ['%q', i(0xe00), "'\\u0e00'"],
  ['%q', i(0x10ffff), "'\\U0010ffff'"],
  ['%q', i(0xdc80), "'�'"],

  // width
  ['%5s', s('abc'), '  abc'],
  ['%2s', s('\u263a'), ' ☺'],
  ['%-5s', s('abc'), 'abc  '],
  ['%05s', s('abc'), '00abc'],
  ['%5s', s('abcdefghijklmnopqrstuvwxyz'), 'abcdefghijklmnopqrstuvwxyz'],
  ['%.5s', s('abcdefghijklmnopqrstuvwxyz'), 'abcde'],
  ['%.0s', s('日本語日本語'), ''],
  ['%.5s', s('日本語日本語'), '日本語日本'],
  ['%.10s', s('日本語日本語'), '日本語日本語'],
  ['%08q', s('abc'), '000"abc"'],
  ['%-8q', s('abc'), '"abc"   '],
  ['%.5q', s('abcdefghijklmnopqrstuvwxyz'), '"abcde"'],
  ['%.5x', s('abcdefghijklmnopqrstuvwxyz'), '6162636465'],
  ['%.3q', s('日本語日本語'), '"日本語"'],
  ['%.1q', s('日本語'), '"日"'],
  ['%.1x', s('日本語'), 'e6'],
  ['%10.1q', s('日本語日本語'), '       "日"'],
  ['%10v', NIL, '     <nil>'],
  ['%-10v', NIL, '<nil>     '],

  // integers
  ['%d', i(-12345), '-12345'],
  ['%d', i(-(2n ** 63n)), '-9223372036854775808'],
  ['%.d', i(0), ''],
  ['%.0d', i(0), ''],
  ['%6.0d', i(0), '      '],
  ['%06.0d', i(0), '      '],
  ['% d', i(12345), ' 12345'],
  ['%+d', i(12345), '+12345'],
  ['%+d', i(-12345), '-12345'],
  ['%b', i(7), '111'],
  ['%b', i(-6), '-110'],
  ['%b', i(-(2n ** 63n)), zeroFill('-1', 63, '')],
  ['%o', i(0o1234), '1234'],
  ['%o', i(-0o1234), '-1234'],
  ['%O', i(0o1234), '0o1234'],
  ['%O', i(-0o1234), '-0o1234'],
  ['%x', i(0x12abcdef), '12abcdef'],
  ['%X', i(0x12abcdef), '12ABCDEF'],
  ['%.20b', i(7), '00000000000000000111'],
  ['%10d', i(12345), '     12345'],
  ['%10d', i(-12345), '    -12345'],
  ['%+10d', i(12345), '    +12345'],
  ['%010d', i(12345), '0000012345'],
  ['%010d', i(-12345), '-000012345'],
  ['%20.8d', i(1234), '            00001234'],
  ['%20.8d', i(-1234), '           -00001234'],
  ['%020.8d', i(1234), '            00001234'],
  ['%020.8d', i(-1234), '           -00001234'],
  ['%-20.8d', i(1234), '00001234            '],
  ['%-20.8d', i(-1234), '-00001234           '],
  ['%068d', i(1), zeroFill('', 68, '1')],
  ['%068d', i(-1), zeroFill('-', 67, '1')],
  ['%.68d', i(-42), zeroFill('-', 68, '42')],
  ['%+.68d', i(42), zeroFill('+', 68, '42')],
  ['% .68d', i(42), zeroFill(' ', 68, '42')],
  ['% +.68d', i(42), zeroFill('+', 68, '42')],

  // unicode format
  ['%U', i(0), 'U+0000'],
  ['%U', i(-1), 'U+FFFFFFFFFFFFFFFF'],
  ['%U', i(0x0a), 'U+000A'],
  ['%+U', i(0x78), 'U+0078'],
  ['%U', i(0x263a), 'U+263A'],
  ['%U', i(0x1d6c2), 'U+1D6C2'],
  ['%.68U', i(42), zeroFill('U+', 68, '2A')],

  // slices with other formats
  ['%q', { kind: 'slice', value: ['a', 'b'] }, '["a" "b"]'],

  // padding of empty strings
  ['%2x', s(''), '  '],
  ['% 02x', s(''), '00'],
  ['%-2x', s(''), '  '],
  ['%-02x', s(''), '  '],

  // renamings, with the underlying type
  ['%x', s('thing'), '7468696e67'],

  // %T
  ['%T', i(0), 'int'],
  ['%10T', NIL, '     <nil>'],
  ['%-10T', NIL, '<nil>     '],

  // %p on non-pointers
  ['%p', i(27), '%!p(int=27)'],
  ['%p', NIL, '%!p(<nil>)'],

  // %v on pointers
  ['%v', NIL, '<nil>'],

  // erroneous things
  ['', NIL, '%!(EXTRA <nil>)'],
  ['', i(2), '%!(EXTRA int=2)'],
  ['no args', s('hello'), 'no args%!(EXTRA string=hello)'],
  ['%s %', s('hello'), 'hello %!(NOVERB)'],
  ['%s %.2', s('hello'), 'hello %!(NOVERB)'],
  ['%010.2', s('12345'), '%!(NOVERB)%!(EXTRA string=12345)'],

  // Use spaces instead of zero if padding to the right.
  ['%0-5s', s('abc'), 'abc  '],

  // Incomplete format specification caused crash.
  ['%.', i(3), '%!.(int=3)'],

  // Tests to check that not supported verbs generate an error string.
  ['%☠', NIL, '%!☠(<nil>)'],
  ['%☠', i(0), '%!☠(int=0)'],
  ['%☠', s('hello'), '%!☠(string=hello)'],
];

for (const [format, value, expected] of fmtTests) {
  test(`fmt.Sprintf(${JSON.stringify(format)}, ${JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))})`, () => {
    assert.deepEqual(sprintf(format, [value]), { ok: true, value: expected });
  });
}

test('fmt.Sprintf refuses the # flag, argument indexes and * widths rather than guess', () => {
  for (const format of ['%#x', '%[1]d', '%*d', '%.*d']) assert.equal(sprintf(format, [i(1)]).ok, false, format);
});
