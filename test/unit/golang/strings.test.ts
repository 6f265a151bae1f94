import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  contains,
  lower,
  replaceAll,
  split,
  title,
  trim,
  trimPrefix,
  trimSpace,
  trimSuffix,
  upper,
} from '../../../src/golang/strings.ts';

// Go: src/strings/strings_test.go, for the functions sprig's string functions call. Rows whose
// strings are not UTF-8 ("x\xc0") cannot be written in JavaScript and are left out.

// upperTests and lowerTests.
const upperTests: readonly (readonly [string, string])[] = [
  ['', ''],
  ['ONLYUPPER', 'ONLYUPPER'],
  ['abc', 'ABC'],
  ['AbC123', 'ABC123'],
  ['azAZ09_', 'AZAZ09_'],
  ['longStrinGwitHmixofsmaLLandcAps', 'LONGSTRINGWITHMIXOFSMALLANDCAPS'],
  [
    'RENAN BASTOS 93 AOSDAJDJAIDJAIDAJIaidsjjaidijadsjiadjiOOKKO',
    'RENAN BASTOS 93 AOSDAJDJAIDJAIDAJIAIDSJJAIDIJADSJIADJIOOKKO',
  ],
  ['long\u0250string\u0250with\u0250nonascii\u2C6Fchars', 'LONG\u2C6FSTRING\u2C6FWITH\u2C6FNONASCII\u2C6FCHARS'],
  ['\u0250\u0250\u0250\u0250\u0250', '\u2C6F\u2C6F\u2C6F\u2C6F\u2C6F'],
  ['a\u0080\u{10FFFF}', 'A\u0080\u{10FFFF}'],
];
const lowerTests: readonly (readonly [string, string])[] = [
  ['', ''],
  ['abc', 'abc'],
  ['AbC123', 'abc123'],
  ['azAZ09_', 'azaz09_'],
  ['longStrinGwitHmixofsmaLLandcAps', 'longstringwithmixofsmallandcaps'],
  [
    'renan bastos 93 AOSDAJDJAIDJAIDAJIaidsjjaidijadsjiadjiOOKKO',
    'renan bastos 93 aosdajdjaidjaidajiaidsjjaidijadsjiadjiookko',
  ],
  ['LONG\u2C6FSTRING\u2C6FWITH\u2C6FNONASCII\u2C6FCHARS', 'long\u0250string\u0250with\u0250nonascii\u0250chars'],
  ['\u2C6D\u2C6D\u2C6D\u2C6D\u2C6D', '\u0251\u0251\u0251\u0251\u0251'],
  ['A\u0080\u{10FFFF}', 'a\u0080\u{10FFFF}'],
];

// trimSpaceTests.
const space = '\t\v\r\f\n\u0085\u00a0\u2000\u3000';
const trimSpaceTests: readonly (readonly [string, string])[] = [
  ['', ''],
  ['abc', 'abc'],
  [space + 'abc' + space, 'abc'],
  [' ', ''],
  [' \t\r\n \t\t\r\r\n\n ', ''],
  [' \t\r\n x\t\t\r\r\n\n ', 'x'],
  [' \u2000\t\r\n x\t\t\r\r\ny\n \u3000', 'x\t\t\r\r\ny'],
  ['1 \t\r\n2', '1 \t\r\n2'],
  ['x ☺ ', 'x ☺'],
];

// trimTests: function, in, arg, out.
const trimTests: readonly (readonly ['Trim' | 'TrimPrefix' | 'TrimSuffix', string, string, string])[] = [
  ['Trim', 'abba', 'a', 'bb'],
  ['Trim', 'abba', 'ab', ''],
  ['Trim', '<tag>', '<>', 'tag'],
  ['Trim', '* listitem', ' *', 'listitem'],
  ['Trim', '"quote"', '"', 'quote'],
  ['Trim', '\u2C6F\u2C6F\u0250\u0250\u2C6F\u2C6F', '\u2C6F', '\u0250\u0250'],
  ['Trim', ' Ġ ', ' ', 'Ġ'],
  ['Trim', ' Ġİ0', '0 ', 'Ġİ'],
  ['Trim', 'abba', '', 'abba'],
  ['Trim', '', '123', ''],
  ['Trim', '', '', ''],
  ['TrimPrefix', 'aabb', 'a', 'abb'],
  ['TrimPrefix', 'aabb', 'b', 'aabb'],
  ['TrimSuffix', 'aabb', 'a', 'aabb'],
  ['TrimSuffix', 'aabb', 'b', 'aab'],
];
const trimFunctions = { Trim: trim, TrimPrefix: trimPrefix, TrimSuffix: trimSuffix };

// ReplaceTests, the rows of n = -1 (ReplaceAll): in, old, new, out.
const replaceTests: readonly (readonly [string, string, string, string])[] = [
  ['hello', 'l', 'L', 'heLLo'],
  ['hello', 'x', 'X', 'hello'],
  ['', 'x', 'X', ''],
  ['radar', 'r', '<r>', '<r>ada<r>'],
  ['', '', '<>', '<>'],
  ['banana', 'a', '<>', 'b<>n<>n<>'],
  ['banana', 'an', '<>', 'b<><>a'],
  ['banana', 'ana', '<>', 'b<>na'],
  ['banana', '', '<>', '<>b<>a<>n<>a<>n<>a<>'],
  ['banana', 'a', 'a', 'banana'],
  ['☺☻☹', '', '<>', '<>☺<>☻<>☹<>'],
];

// TitleTests.
const titleTests: readonly (readonly [string, string])[] = [
  ['', ''],
  ['a', 'A'],
  [' aaa aaa aaa ', ' Aaa Aaa Aaa '],
  [' Aaa Aaa Aaa ', ' Aaa Aaa Aaa '],
  ['123a456', '123a456'],
  ['double-blind', 'Double-Blind'],
  ['ÿøû', 'Ÿøû'],
  ['with_underscore', 'With_underscore'],
  ['unicode \u2028 line separator', 'Unicode \u2028 Line Separator'],
];

// ContainsTests (Go's sliced inputs written out), and the needles past the native search's length.
const containsTests: readonly (readonly [string, string, boolean])[] = [
  ['abc', 'bc', true],
  ['abc', 'bcd', false],
  ['abc', '', true],
  ['', 'a', false],
  ['xxxxxx', '01', false],
  ['01xxxx', '01', true],
  ['xx01xx', '01', true],
  ['xxxx01', '01', true],
  ['1xxxxx', '01', false],
  ['xxxxx0', '01', false],
  ['xxxxxxxxxxxxxxxxxxxx', '0123456789ABCDEF', false],
  ['0123456789ABCDEFxxxx', '0123456789ABCDEF', true],
  ['xx0123456789ABCDEFxx', '0123456789ABCDEF', true],
  ['xxxx0123456789ABCDEF', '0123456789ABCDEF', true],
  ['123456789ABCDEFxxxxx', '0123456789ABCDEF', false],
  ['xxxxx0123456789ABCDE', '0123456789ABCDEF', false],
  ['xxxxxxxxxxxxxxxxxxxxx', '0123456789ABCDEFG', false],
  ['0123456789ABCDEFGxxxx', '0123456789ABCDEFG', true],
  ['xx0123456789ABCDEFGxx', '0123456789ABCDEFG', true],
  ['xxxx0123456789ABCDEFG', '0123456789ABCDEFG', true],
  ['123456789ABCDEFGxxxxx', '0123456789ABCDEFG', false],
  ['xxxxx0123456789ABCDEF', '0123456789ABCDEFG', false],
  ['xx01x', '012', false],
  ['xx0123x', '01234', false],
  ['xx01234567x', '012345678', false],
  ['xx0123456789ABCDEFx', '0123456789ABCDEFG', false],
];

// splittests, the rows of n = -1 (Split).
const abcd = 'abcd';
const faces = '☺☻☹';
const splitTests: readonly (readonly [string, string, readonly string[]])[] = [
  ['', '', []],
  [abcd, 'a', ['', 'bcd']],
  [abcd, 'z', ['abcd']],
  [abcd, '', ['a', 'b', 'c', 'd']],
  ['1,2,3,4', ',', ['1', '2', '3', '4']],
  ['1....2....3....4', '...', ['1', '.2', '.3', '.4']],
  [faces, '☹', ['☺☻', '']],
  [faces, '~', [faces]],
  [faces, '', ['☺', '☻', '☹']],
];

for (const [input, expected] of upperTests)
  test(`strings.ToUpper(${JSON.stringify(input)})`, () => assert.equal(upper(input), expected));
for (const [input, expected] of lowerTests)
  test(`strings.ToLower(${JSON.stringify(input)})`, () => assert.equal(lower(input), expected));
for (const [input, expected] of trimSpaceTests)
  test(`strings.TrimSpace(${JSON.stringify(input)})`, () => assert.equal(trimSpace(input), expected));
for (const [fn, input, arg, expected] of trimTests) {
  test(`strings.${fn}(${JSON.stringify(input)}, ${JSON.stringify(arg)})`, () =>
    assert.equal(trimFunctions[fn](input, arg), expected));
}
for (const [input, old, replacement, expected] of replaceTests) {
  test(`strings.ReplaceAll(${JSON.stringify(input)}, ${JSON.stringify(old)}, ${JSON.stringify(replacement)})`, () =>
    assert.equal(replaceAll(input, old, replacement), expected));
}
for (const [input, expected] of titleTests)
  test(`strings.Title(${JSON.stringify(input)})`, () => assert.equal(title(input), expected));
for (const [text, substring, expected] of containsTests) {
  test(`strings.Contains(${JSON.stringify(text)}, ${JSON.stringify(substring)})`, () =>
    assert.equal(contains(text, substring), expected));
}
for (const [text, separator, expected] of splitTests) {
  test(`strings.Split(${JSON.stringify(text)}, ${JSON.stringify(separator)})`, () =>
    assert.deepEqual(split(text, separator), expected));
}
