import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sprintf } from '../../../src/golang/fmt.ts';
import { argText, type FuncMap } from '../../../src/golang/text-template/funcs.ts';
import { lex, type ItemType } from '../../../src/golang/text-template/lex.ts';
import { parseGoTemplate } from '../../../src/golang/text-template/template.ts';
import { goBool, goInt, goMap, goString, NIL, type Value } from '../../../src/golang/value.ts';

// Go's own test tables for text/template, for what the subset implements.

// Go: src/text/template/parse/lex_test.go, lexTests and lexPosTests. Go's keyword items (itemRange,
// itemIf, ...) are one `keyword` type here; comments are not emitted, as Go's lexer does not emit
// them unless asked; Go's test asks, so its comment items are left out of these rows.
type Expected = readonly (readonly [ItemType, string] | readonly [ItemType, string, number])[];

const tEOF = ['eof', ''] as const;
const tLeft = ['leftDelim', '{{'] as const;
const tRight = ['rightDelim', '}}'] as const;
const tSpace = ['space', ' '] as const;
const tLpar = ['leftParen', '('] as const;
const tRpar = ['rightParen', ')'] as const;
const tPipe = ['pipe', '|'] as const;
const tDot = ['dot', '.'] as const;
const raw = '`abc\\n\\t\\" `';
const rawNL = '`now is{{\n}}the time`';
const tQuote = ['string', '"abc \\n\\t\\" "'] as const;

const lexTests: readonly (readonly [string, string, Expected])[] = [
  ['empty', '', [tEOF]],
  ['spaces', ' \t\n', [['text', ' \t\n'], tEOF]],
  ['text', 'now is the time', [['text', 'now is the time'], tEOF]],
  ['text with comment', 'hello-{{/* this is a comment */}}-world', [['text', 'hello-'], ['text', '-world'], tEOF]],
  ['punctuation', '{{,@% }}', [tLeft, ['char', ','], ['char', '@'], ['char', '%'], tSpace, tRight, tEOF]],
  ['parens', '{{((3))}}', [tLeft, tLpar, tLpar, ['number', '3'], tRpar, tRpar, tRight, tEOF]],
  ['empty action', '{{}}', [tLeft, tRight, tEOF]],
  ['for', '{{for}}', [tLeft, ['identifier', 'for'], tRight, tEOF]],
  [
    'block',
    '{{block "foo" .}}',
    [tLeft, ['keyword', 'block'], tSpace, ['string', '"foo"'], tSpace, tDot, tRight, tEOF],
  ],
  ['quote', '{{"abc \\n\\t\\" "}}', [tLeft, tQuote, tRight, tEOF]],
  ['raw quote', `{{${raw}}}`, [tLeft, ['rawString', raw], tRight, tEOF]],
  ['raw quote with newline', `{{${rawNL}}}`, [tLeft, ['rawString', rawNL], tRight, tEOF]],
  [
    'numbers',
    '{{1 02 0x14 0X14 -7.2i 1e3 1E3 +1.2e-4 4.2i 1+2i 1_2 0x1.e_fp4 0X1.E_FP4}}',
    [
      tLeft,
      ...['1', '02', '0x14', '0X14', '-7.2i', '1e3', '1E3', '+1.2e-4', '4.2i'].flatMap((n) => [
        ['number', n] as const,
        tSpace,
      ]),
      ['complex', '1+2i'],
      tSpace,
      ['number', '1_2'],
      tSpace,
      ['number', '0x1.e_fp4'],
      tSpace,
      ['number', '0X1.E_FP4'],
      tRight,
      tEOF,
    ],
  ],
  [
    'characters',
    "{{'a' '\\n' '\\'' '\\\\' '\\u00FF' '\\xFF' '本'}}",
    [
      tLeft,
      ...["'a'", "'\\n'", "'\\''", "'\\\\'", "'\\u00FF'", "'\\xFF'"].flatMap((c) => [
        ['charConstant', c] as const,
        tSpace,
      ]),
      ['charConstant', "'本'"],
      tRight,
      tEOF,
    ],
  ],
  ['bools', '{{true false}}', [tLeft, ['bool', 'true'], tSpace, ['bool', 'false'], tRight, tEOF]],
  ['dot', '{{.}}', [tLeft, tDot, tRight, tEOF]],
  ['nil', '{{nil}}', [tLeft, ['nil', 'nil'], tRight, tEOF]],
  [
    'dots',
    '{{.x . .2 .x.y.z}}',
    [
      tLeft,
      ['field', '.x'],
      tSpace,
      tDot,
      tSpace,
      ['number', '.2'],
      tSpace,
      ['field', '.x'],
      ['field', '.y'],
      ['field', '.z'],
      tRight,
      tEOF,
    ],
  ],
  [
    'keywords',
    '{{range if else end with}}',
    [
      tLeft,
      ...['range', 'if', 'else', 'end'].flatMap((word) => [['keyword', word] as const, tSpace]),
      ['keyword', 'with'],
      tRight,
      tEOF,
    ],
  ],
  [
    'variables',
    '{{$c := printf $ $hello $23 $ $var.Field .Method}}',
    [
      tLeft,
      ['variable', '$c'],
      tSpace,
      ['declare', ':='],
      tSpace,
      ['identifier', 'printf'],
      tSpace,
      ['variable', '$'],
      tSpace,
      ['variable', '$hello'],
      tSpace,
      ['variable', '$23'],
      tSpace,
      ['variable', '$'],
      tSpace,
      ['variable', '$var'],
      ['field', '.Field'],
      tSpace,
      ['field', '.Method'],
      tRight,
      tEOF,
    ],
  ],
  ['variable invocation', '{{$x 23}}', [tLeft, ['variable', '$x'], tSpace, ['number', '23'], tRight, tEOF]],
  [
    'pipeline',
    'intro {{echo hi 1.2 |noargs|args 1 "hi"}} outro',
    [
      ['text', 'intro '],
      tLeft,
      ['identifier', 'echo'],
      tSpace,
      ['identifier', 'hi'],
      tSpace,
      ['number', '1.2'],
      tSpace,
      tPipe,
      ['identifier', 'noargs'],
      tPipe,
      ['identifier', 'args'],
      tSpace,
      ['number', '1'],
      tSpace,
      ['string', '"hi"'],
      tRight,
      ['text', ' outro'],
      tEOF,
    ],
  ],
  [
    'declaration',
    '{{$v := 3}}',
    [tLeft, ['variable', '$v'], tSpace, ['declare', ':='], tSpace, ['number', '3'], tRight, tEOF],
  ],
  [
    '2 declarations',
    '{{$v , $w := 3}}',
    [
      tLeft,
      ['variable', '$v'],
      tSpace,
      ['char', ','],
      tSpace,
      ['variable', '$w'],
      tSpace,
      ['declare', ':='],
      tSpace,
      ['number', '3'],
      tRight,
      tEOF,
    ],
  ],
  [
    'field of parenthesized expression',
    '{{(.X).Y}}',
    [tLeft, tLpar, ['field', '.X'], tRpar, ['field', '.Y'], tRight, tEOF],
  ],
  [
    'trimming spaces before and after',
    'hello- {{- 3 -}} -world',
    [['text', 'hello-'], tLeft, ['number', '3'], tRight, ['text', '-world'], tEOF],
  ],
  [
    'trimming spaces before and after comment',
    'hello- {{- /* hello */ -}} -world',
    [['text', 'hello-'], ['text', '-world'], tEOF],
  ],
  // errors
  ['badchar', '#{{\x01}}', [['text', '#'], tLeft, ['error', 'unrecognized character in action: U+0001']]],
  ['unclosed action', '{{', [tLeft, ['error', 'unclosed action']]],
  ['EOF in action', '{{range', [tLeft, ['keyword', 'range'], ['error', 'unclosed action']]],
  ['unclosed quote', '{{"\n"}}', [tLeft, ['error', 'unterminated quoted string']]],
  ['unclosed raw quote', '{{`xx}}', [tLeft, ['error', 'unterminated raw quoted string']]],
  ['unclosed char constant', "{{'\n}}", [tLeft, ['error', 'unterminated character constant']]],
  ['bad number', '{{3k}}', [tLeft, ['error', 'bad number syntax: "3k"']]],
  ['unclosed paren', '{{(3}}', [tLeft, tLpar, ['number', '3'], ['error', 'unclosed left paren']]],
  ['extra right paren', '{{3)}}', [tLeft, ['number', '3'], ['error', 'unexpected right paren']]],
  // Fixed bugs
  ['long pipeline deadlock', '{{|||||}}', [tLeft, tPipe, tPipe, tPipe, tPipe, tPipe, tRight, tEOF]],
  [
    'text with bad comment',
    'hello-{{/*/}}-world',
    [
      ['text', 'hello-'],
      ['error', 'unclosed comment'],
    ],
  ],
  [
    'text with comment close separated from delim',
    'hello-{{/* */ }}-world',
    [
      ['text', 'hello-'],
      ['error', 'comment ends before closing delimiter'],
    ],
  ],
  ['unmatched right delimiter', 'hello-{.}}-world', [['text', 'hello-{.}}-world'], tEOF]],
  // lexPosTests: positions too.
  [
    'position: punctuation',
    '{{,@%#}}',
    [
      ['leftDelim', '{{', 0],
      ['char', ',', 2],
      ['char', '@', 3],
      ['char', '%', 4],
      ['char', '#', 5],
      ['rightDelim', '}}', 6],
      ['eof', '', 8],
    ],
  ],
  [
    'position: sample',
    '0123{{hello}}xyz',
    [
      ['text', '0123', 0],
      ['leftDelim', '{{', 4],
      ['identifier', 'hello', 6],
      ['rightDelim', '}}', 11],
      ['text', 'xyz', 13],
      ['eof', '', 16],
    ],
  ],
  [
    'position: trimafter',
    '{{x -}}\n{{y}}',
    [
      ['leftDelim', '{{', 0],
      ['identifier', 'x', 2],
      ['rightDelim', '}}', 5],
      ['leftDelim', '{{', 8],
      ['identifier', 'y', 10],
      ['rightDelim', '}}', 11],
      ['eof', '', 13],
    ],
  ],
  [
    'position: trimbefore',
    '{{x}}\n{{- y}}',
    [
      ['leftDelim', '{{', 0],
      ['identifier', 'x', 2],
      ['rightDelim', '}}', 3],
      ['leftDelim', '{{', 6],
      ['identifier', 'y', 10],
      ['rightDelim', '}}', 11],
      ['eof', '', 13],
    ],
  ],
];

for (const [name, input, expected] of lexTests) {
  test(`text/template lex: ${name}`, () => {
    const items = lex(input);
    const withPositions = expected.some((item) => item.length === 3);
    assert.deepEqual(
      items.map((item) => (withPositions ? [item.type, item.val, item.pos] : [item.type, item.val])),
      expected.map((item) => [...item]),
    );
  });
}

// Go: src/text/template/exec_test.go, execTests, with tVal's fields in the kinds the library has:
// MSI is a map[string]string and SI a []string of the same digits, which print as Go prints the
// originals; where a missing key's zero value differs ("0" for an int), the row says so.
const U: Value = { kind: 'struct', type: 'struct { V string }', fields: [['V', goString('v')]] };
const tVal: Value = {
  kind: 'struct',
  type: 'template.T',
  fields: [
    ['True', goBool(true)],
    ['I', goInt(17n)],
    ['X', goString('x')],
    ['U', U],
    ['SI', { kind: 'slice', value: ['3', '4', '5'] }],
    ['MSI', goMap({ one: '1', two: '2', three: '3' })],
  ],
};

const execFuncs: FuncMap = {
  add: {
    params: [],
    variadic: 'any',
    call: (args) => goInt(args.reduce((sum, arg) => sum + (arg.kind === 'int' ? arg.value : 0n), 0n)),
  },
  makemap: {
    params: [],
    variadic: 'string',
    call: (args) => {
      const map = new Map<string, string>();
      for (let k = 0; k + 1 < args.length; k += 2) map.set(argText(args, k), argText(args, k + 1));
      return { kind: 'map', value: map };
    },
  },
  oneArg: { params: ['string'], call: (args) => goString(`oneArg=${argText(args, 0)}`) },
  twoArgs: { params: ['string', 'string'], call: (args) => goString(`twoArgs=${argText(args, 0)}${argText(args, 1)}`) },
  typeOf: {
    params: ['any'],
    call: (args) => {
      const printed = sprintf('%T', [args[0] ?? NIL]);
      return goString(printed.ok ? printed.value : '');
    },
  },
};

/** name, template, data, output (undefined: execution fails). */
const execTests: readonly (readonly [string, string, Value, string | undefined])[] = [
  // Trivial cases.
  ['empty', '', NIL, ''],
  ['text', 'some text', NIL, 'some text'],
  ['nil action', '{{nil}}', NIL, undefined],
  // Ideal constants.
  ['ideal int', '{{typeOf 3}}', goInt(0n), 'int'],
  ['ideal int, the largest', '{{typeOf 0x7fffffffffffffff}}', goInt(0n), 'int'],
  ['ideal too big', '{{typeOf 0x8000000000000000}}', goInt(0n), undefined],
  // Fields of structs.
  ['.X', '-{{.X}}-', tVal, '-x-'],
  ['.U.V', '-{{.U.V}}-', tVal, '-v-'],
  ['.unexported', '{{.unexported}}', tVal, undefined],
  // Fields on maps.
  ['map .one', '{{.MSI.one}}', tVal, '1'],
  ['map .two', '{{.MSI.two}}', tVal, '2'],
  ['map .NO', '{{.MSI.NO}}', tVal, '<no value>'],
  ['map .WRONG args', '{{.MSI.one 1}}', tVal, undefined],
  // Dots of all kinds to test basic evaluation.
  ['dot int', '<{{.}}>', goInt(13n), '<13>'],
  ['dot bool', '<{{.}}>', goBool(true), '<true>'],
  ['dot string', '<{{.}}>', goString('hello'), '<hello>'],
  ['dot slice', '<{{.}}>', { kind: 'slice', value: ['-1', '-2', '-3'] }, '<[-1 -2 -3]>'],
  ['dot map', '<{{.}}>', goMap({ two: '22' }), '<map[two:22]>'],
  [
    'dot struct',
    '<{{.}}>',
    {
      kind: 'struct',
      type: 'struct { a int; b string }',
      fields: [
        ['a', goInt(7n)],
        ['b', goString('seven')],
      ],
    },
    '<{7 seven}>',
  ],
  // Parenthesized expressions.
  ['parens in pipeline', '{{printf `%d %d %d` (1) (2 | add 3) (add 4 (add 5 6))}}', tVal, '1 5 15'],
  ['parens: spaces and args', '{{(makemap "up" "down" "left" "right").left}}', tVal, 'right'],
  // Print etc.
  ['printf int', '{{printf "%04x" 127}}', tVal, '007f'],
  ['printf string', '{{printf "%s" "hello"}}', tVal, 'hello'],
  ['printf field', '{{printf "%s" .U.V}}', tVal, 'v'],
  // Indexing.
  ['slice[0]', '{{index .SI 0}}', tVal, '3'],
  ['slice[1]', '{{index .SI 1}}', tVal, '4'],
  ['slice[HUGE]', '{{index .SI 10}}', tVal, undefined],
  ['slice[WRONG]', '{{index .SI `hello`}}', tVal, undefined],
  ['slice[nil]', '{{index .SI nil}}', tVal, undefined],
  ['map[one]', '{{index .MSI `one`}}', tVal, '1'],
  ['map[two]', '{{index .MSI `two`}}', tVal, '2'],
  // The zero value of a string, where Go's map[string]int gives "0".
  ['map[NO]', '{{index .MSI `XXX`}}', tVal, ''],
  ['map[nil]', '{{index .MSI nil}}', tVal, undefined],
  ['map[``]', '{{index .MSI ``}}', tVal, ''],
  ['map[WRONG]', '{{index .MSI 10}}', tVal, undefined],
  ['nil[1]', '{{index nil 1}}', tVal, undefined],
  // Fixed bugs.
  ['bug7a', '{{3 2}}', tVal, undefined],
  ['bug8a', '{{3|oneArg}}', tVal, undefined],
  ['bug9', '{{.cause}}', goMap({ cause: 'neglect' }), 'neglect'],
  ['bug12xe', '{{printf `%T` 0xef}}', tVal, 'int'],
  ['bug12xE', '{{printf `%T` 0xEE}}', tVal, 'int'],
  ['bug12Xe', '{{printf `%T` 0Xef}}', tVal, 'int'],
  ['bug12XE', '{{printf `%T` 0XEE}}', tVal, 'int'],
  ['bug14a', '{{(nil).True}}', tVal, undefined],
  ['bug16a', '{{true|printf}}', tVal, undefined],
  ['bug16b', '{{1|printf}}', tVal, undefined],
  ['bug16d', "{{'x'|printf}}", tVal, undefined],
  ['bug16f', '{{true|twoArgs "xxx"}}', tVal, undefined],
  ['bug16g', '{{"aaa" |twoArgs "bbb"}}', tVal, 'twoArgs=bbbaaa'],
  ['bug16h', '{{1|oneArg}}', tVal, undefined],
  ['bug16i', '{{"aaa"|oneArg}}', tVal, 'oneArg=aaa'],
  ['bug16k', '{{"aaa"|printf }}', tVal, 'aaa'],
];

for (const [name, input, data, expected] of execTests) {
  test(`text/template exec: ${name}`, () => {
    const parsed = parseGoTemplate(input, { name, funcs: execFuncs, subset: 'the test subset' });
    // Go's table parses every row; the failures are the execution's.
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const result = parsed.template.execute(data);
    if (expected === undefined) assert.equal(result.ok, false, 'expected an execution error');
    else assert.deepEqual(result, { ok: true, value: expected });
  });
}

test('text/template: the error of an execution names the template, line, byte column and node, as Go does', () => {
  const parsed = parseGoTemplate('line 1\nline 2\n  {{index "hi" 5}}', {
    name: 'top',
    funcs: {},
    subset: 'the test subset',
  });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.template.execute(goInt(5n)), {
    ok: false,
    error: 'template: top:3:4: executing "top" at <index "hi" 5>: error calling index: index out of range: 5',
  });
});

test('text/template: a function the subset lacks is refused as unsupported, one nobody defines as not defined', () => {
  const options = { name: 't', funcs: {}, knownFuncs: new Set(['sprigOnly']), subset: 'the test subset' };
  const lacking = parseGoTemplate('{{len "x"}}{{sprigOnly}}', options);
  assert.deepEqual(lacking, { ok: false, error: 'template: t:1: the function len is not supported: the test subset' });
  const known = parseGoTemplate('{{sprigOnly}}', options);
  assert.deepEqual(known, {
    ok: false,
    error: 'template: t:1: the function sprigOnly is not supported: the test subset',
  });
  assert.deepEqual(parseGoTemplate('{{nobody}}', options), {
    ok: false,
    error: 'template: t:1: function "nobody" not defined; the test subset',
  });
});

test('text/template: functions given take precedence over the builtins, as in Go', () => {
  const printf = { params: ['string'], variadic: 'any', call: () => goString('mine') } as const;
  const parsed = parseGoTemplate('{{printf "%d" 1}}', { name: 't', funcs: { printf }, subset: '' });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.template.execute(NIL), { ok: true, value: 'mine' });
});
