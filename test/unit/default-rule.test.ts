import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  compileDefaultRule,
  DEFAULT_RULE_FUNCTIONS,
  type DefaultRuleModel,
} from '../../src/core/provider/default-rule.ts';
import { SPRIG_FUNCTIONS } from '../../src/golang/sprig.ts';
import { BUILTINS } from '../../src/golang/text-template/funcs.ts';

type Expected =
  | { readonly value: string }
  /** The execution error, word for word. */
  | { readonly renderError: string }
  /** A part of the compile error. */
  | { readonly compileError: string };

interface Case {
  readonly desc: string;
  readonly input: string;
  readonly model?: Partial<DefaultRuleModel>;
  readonly expected: Expected;
}

const MODEL: DefaultRuleModel = { Name: 'Test', ContainerName: 'test-1', Labels: {} };

// Expected values and errors are what Traefik's template (Go 1.26 text/template with sprig v3.2.3's
// TxtFuncMap and normalize) gives for the same template and model: Go's own error texts included.
const traefikCases: readonly Case[] = [
  { desc: 'a constant rule', input: 'Host(`foo.bar`)', expected: { value: 'Host(`foo.bar`)' } },
  { desc: 'the name in a rule', input: 'Host(`{{ .Name }}.foo.bar`)', expected: { value: 'Host(`Test.foo.bar`)' } },
  {
    desc: 'the name and a label looked up with index',
    input: 'Host("{{ .Name }}.{{ index .Labels "traefik.domain" }}")',
    model: { Labels: { 'traefik.domain': 'foo.bar' } },
    expected: { value: 'Host("Test.foo.bar")' },
  },
  {
    desc: 'a field the model does not have',
    input: 'Host("{{ .Toto }}")',
    expected: {
      renderError: `template: defaultRule:1:9: executing "defaultRule" at <.Toto>: can't evaluate field Toto in type struct { Name string; ContainerName string; Labels map[string]string }`,
    },
  },
  {
    desc: 'an empty template renders empty (Traefik then drops the router: undefined rule)',
    input: '',
    expected: { value: '' },
  },
  { desc: `Traefik's default rule`, input: 'Host(`{{ normalize .Name }}`)', expected: { value: 'Host(`Test`)' } },
  {
    desc: `Traefik's default rule, normalising a Compose name`,
    input: 'Host(`{{ normalize .Name }}`)',
    model: { Name: 'my.app_shop' },
    expected: { value: 'Host(`my-app-shop`)' },
  },
  {
    desc: 'the container name',
    input: 'Host(`{{ .ContainerName }}.example.com`)',
    expected: { value: 'Host(`test-1.example.com`)' },
  },
  {
    desc: 'normalize of a unicode name',
    input: 'Host(`{{ normalize .Name }}`)',
    model: { Name: 'Été_ΣΦ.app²' },
    expected: { value: 'Host(`Été-ΣΦ-app²`)' },
  },
  { desc: 'text only, with braces that are not delimiters', input: 'a { b } c', expected: { value: 'a { b } c' } },
  { desc: 'several actions', input: '{{ .Name }}-{{ .ContainerName }}', expected: { value: 'Test-test-1' } },
  { desc: 'no space inside the delimiters', input: '{{.Name}}', expected: { value: 'Test' } },
  { desc: 'an action spanning lines', input: '{{ .Name\n| lower }}', expected: { value: 'test' } },
  { desc: '{{- trims the spaces before', input: 'a \t\n {{- .Name }}', expected: { value: 'aTest' } },
  { desc: '-}} trims the spaces after', input: '{{ .Name -}} \n\t b', expected: { value: 'Testb' } },
  { desc: 'both trim markers', input: 'a  {{- .Name -}}  b', expected: { value: 'aTestb' } },
  { desc: '{{-3}} is the number -3, not a trim marker', input: '{{-3}}', expected: { value: '-3' } },
  { desc: '{{- 3}} trims, then prints 3', input: 'x {{- 3}}', expected: { value: 'x3' } },
  {
    desc: 'a trim marker needs the space: "-}}" alone is a syntax error',
    input: '{{ 3-}}',
    expected: { compileError: 'template: defaultRule:1: bad number syntax: "3-"' },
  },
  {
    desc: 'trimming leaves non-ASCII spaces alone',
    input: 'a\u00a0{{- "b" -}}\u00a0c',
    expected: { value: 'a\u00a0b\u00a0c' },
  },
  { desc: 'a comment prints nothing', input: 'a{{/* note */}}b', expected: { value: 'ab' } },
  { desc: 'a trimmed comment', input: 'a {{- /* note */ -}} b', expected: { value: 'ab' } },
  {
    desc: 'an unclosed comment',
    input: 'a{{/* note',
    expected: { compileError: 'template: defaultRule:1: unclosed comment' },
  },
  {
    desc: 'a comment must end at the delimiter',
    input: '{{/* a */ .Name }}',
    expected: { compileError: 'template: defaultRule:1: comment ends before closing delimiter' },
  },
  {
    desc: 'a label through a field chain',
    input: '{{ .Labels.team }}',
    model: { Labels: { team: 'blue' } },
    expected: { value: 'blue' },
  },
  {
    desc: 'a missing label through a field chain prints <no value>',
    input: '{{ .Labels.missing }}',
    expected: { value: '<no value>' },
  },
  {
    desc: 'a missing label through index is empty',
    input: '[{{ index .Labels "missing" }}]',
    expected: { value: '[]' },
  },
  {
    desc: 'index with a key that is not an identifier',
    input: '{{ index .Labels "com.docker.compose.service" }}',
    model: { Labels: { 'com.docker.compose.service': 'web' } },
    expected: { value: 'web' },
  },
  {
    desc: 'the labels map prints sorted by key',
    input: '{{ .Labels }}',
    model: { Labels: { b: '2', a: '1', é: '3', Z: '0' } },
    expected: { value: 'map[Z:0 a:1 b:2 é:3]' },
  },
  {
    desc: 'the model prints as a struct',
    input: '{{ . }}',
    model: { Labels: { a: '1' } },
    expected: { value: '{Test test-1 map[a:1]}' },
  },
  {
    desc: 'a field of a string',
    input: '{{ .Name.First }}',
    expected: {
      renderError: `template: defaultRule:1:8: executing "defaultRule" at <.Name.First>: can't evaluate field First in type string`,
    },
  },
  {
    desc: 'a field of a missing label is no value too',
    input: '{{ .Labels.missing.deeper }}',
    expected: { value: '<no value>' },
  },
  {
    desc: 'a field of a label value',
    input: '{{ .Labels.team.name }}',
    model: { Labels: { team: 'blue' } },
    expected: {
      renderError: `template: defaultRule:1:10: executing "defaultRule" at <.Labels.team.name>: can't evaluate field name in type string`,
    },
  },
  {
    desc: 'unexported-looking field names do not exist',
    input: '{{ .name }}',
    expected: {
      renderError: `template: defaultRule:1:3: executing "defaultRule" at <.name>: can't evaluate field name in type struct { Name string; ContainerName string; Labels map[string]string }`,
    },
  },
  {
    desc: 'a field of a parenthesised pipeline',
    input: '{{ (.Labels).team }}',
    model: { Labels: { team: 'blue' } },
    expected: { value: 'blue' },
  },
  {
    desc: 'a field given arguments',
    input: '{{ .Name "x" }}',
    expected: {
      renderError:
        'template: defaultRule:1:3: executing "defaultRule" at <.Name>: Name has arguments but cannot be invoked as function',
    },
  },
  {
    desc: 'a map key given arguments',
    input: '{{ .Labels.team "x" }}',
    model: { Labels: { team: 'blue' } },
    expected: {
      renderError:
        'template: defaultRule:1:10: executing "defaultRule" at <.Labels.team>: team is not a method but has arguments',
    },
  },
  {
    desc: 'a pipe passes the value as the last argument',
    input: '{{ "a" | printf "%s-%s" "b" }}',
    expected: { value: 'b-a' },
  },
  {
    desc: 'a chain of pipes',
    input: '{{ .Name | lower | printf "%s.example.com" }}',
    expected: { value: 'test.example.com' },
  },
  {
    desc: 'a parenthesised pipeline as an argument',
    input: '{{ printf "%s.%s" (lower .Name) (index .Labels "domain") }}',
    model: { Labels: { domain: 'example.org' } },
    expected: { value: 'test.example.org' },
  },
  { desc: 'a trailing pipe is accepted, as Go does', input: '{{ .Name | }}', expected: { value: 'Test' } },
  {
    desc: 'a constant after a pipe is not a command',
    input: '{{ .Name | "x" }}',
    expected: { compileError: 'template: defaultRule:1: non executable command in pipeline stage 2' },
  },
  {
    desc: 'a constant cannot take arguments',
    input: '{{ "x" .Name }}',
    expected: {
      renderError: `template: defaultRule:1:3: executing "defaultRule" at <"x">: can't give argument to non-function "x"`,
    },
  },
  {
    desc: 'a piped value into a constant command',
    input: '{{ .Name | (.Name) }}',
    expected: {
      renderError: `template: defaultRule:1:3: executing "defaultRule" at <.Name>: can't give argument to non-function .Name`,
    },
  },
  {
    desc: 'string escapes',
    input: '{{ "tab:\\t quote:\\" hex:\\x41 unicode:\\u00e9 \\U0001F600" }}',
    expected: { value: 'tab:\t quote:" hex:A unicode:é 😀' },
  },
  {
    desc: 'raw strings keep backslashes and drop carriage returns',
    input: '{{ `a\\nb\r\nc` }}',
    expected: { value: 'a\\nb\nc' },
  },
  {
    desc: 'integers in every base',
    input: '{{ 42 }} {{ -7 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 017 }} {{ 1_000 }}',
    expected: { value: '42 -7 31 15 5 15 1000' },
  },
  { desc: 'a character constant is its code point', input: "{{ 'a' }} {{ '\\n' }}", expected: { value: '97 10' } },
  { desc: 'booleans', input: '{{ true }} {{ false }}', expected: { value: 'true false' } },
  {
    desc: 'nil is not a command',
    input: '{{ nil }}',
    expected: { renderError: 'template: defaultRule:1:3: executing "defaultRule" at <nil>: nil is not a command' },
  },
  {
    desc: 'an integer too large for an int',
    input: '{{ 99999999999999999999 }}',
    expected: { compileError: 'template: defaultRule:1: integer overflow: "99999999999999999999"' },
  },
  {
    desc: 'an integer that only fits an unsigned int',
    input: '{{ 18446744073709551615 }}',
    expected: {
      renderError:
        'template: defaultRule:1:3: executing "defaultRule" at <18446744073709551615>: 18446744073709551615 overflows int',
    },
  },
  {
    desc: 'an invalid escape',
    input: '{{ "\\q" }}',
    expected: { compileError: 'template: defaultRule:1: invalid syntax' },
  },
  {
    desc: 'a malformed character constant',
    input: `{{ 'ab' }}`,
    expected: { compileError: `template: defaultRule:1: malformed character constant: 'ab'` },
  },
  { desc: 'lower and upper', input: '{{ lower "MiXeD" }} {{ upper "MiXeD" }}', expected: { value: 'mixed MIXED' } },
  {
    desc: 'lower and upper use simple case mappings, as Go does',
    input: '{{ upper "straße" }} {{ lower "İ" }} {{ upper "ᾳ" }}',
    expected: { value: 'STRAßE i ᾼ' },
  },
  { desc: 'title', input: '{{ title "hello wORLD-foo_bar 2nd" }}', expected: { value: 'Hello WORLD-Foo_bar 2nd' } },
  { desc: 'title of a digraph uses its title case', input: '{{ title "ǆemal" }}', expected: { value: 'ǅemal' } },
  {
    desc: 'trim removes Go white space',
    input: '[{{ trim " \\t\\n\\u00a0\\u0085x\\u3000 " }}]',
    expected: { value: '[x]' },
  },
  { desc: 'trimAll: cutset first', input: '{{ trimAll "-." "--a.b--." }}', expected: { value: 'a.b' } },
  {
    desc: 'trimPrefix and trimSuffix: affix first',
    input: '{{ trimPrefix "web-" "web-shop" }} {{ trimSuffix "-svc" "shop-svc" }} {{ trimPrefix "x" "web" }}',
    expected: { value: 'shop shop web' },
  },
  { desc: 'replace: old, new, then the string', input: '{{ replace "_" "-" "a_b_c" }}', expected: { value: 'a-b-c' } },
  { desc: 'replace of the empty string', input: '{{ replace "" "-" "ab" }}', expected: { value: '-a-b-' } },
  {
    desc: 'contains, hasPrefix, hasSuffix: substring first',
    input: '{{ contains "op" "shop" }} {{ hasPrefix "sh" "shop" }} {{ hasSuffix "x" "shop" }}',
    expected: { value: 'true true false' },
  },
  {
    desc: 'splitList: separator first',
    input: '{{ splitList "." "a.b.c" }} {{ index (splitList "." "a.b.c") 1 }}',
    expected: { value: '[a b c] b' },
  },
  {
    desc: 'splitList with an empty separator splits runes',
    input: '{{ splitList "" "hé" }}',
    expected: { value: '[h é]' },
  },
  {
    desc: 'default: fallback first, value last',
    input:
      '{{ default "fallback" .Labels.missing }} {{ default "fallback" (index .Labels "host") }} {{ .Labels.host | default "fallback" }}',
    model: { Labels: { host: 'h.example' } },
    expected: { value: 'fallback h.example h.example' },
  },
  {
    desc: 'default of an empty label',
    input: '{{ index .Labels "empty" | default "fallback" }}',
    model: { Labels: { empty: '' } },
    expected: { value: 'fallback' },
  },
  {
    desc: 'default of nothing is no value',
    input: '{{ default nil .Labels.missing }}',
    expected: { value: '<no value>' },
  },
  {
    desc: 'quote',
    input: '{{ quote .Name "a\\"b" 3 .Labels.missing "\\x01é" }}',
    expected: { value: '"Test" "a\\"b" "3" "\\x01é"' },
  },
  { desc: 'quote of nothing', input: '[{{ quote }}]', expected: { value: '[]' } },
  { desc: 'index of a string gives a byte', input: '{{ index "é" 0 }}', expected: { value: '195' } },
  {
    desc: 'index with several keys',
    input: '{{ index .Labels "team" 0 }}',
    model: { Labels: { team: 'blue' } },
    expected: { value: '98' },
  },
  {
    desc: 'index with no key gives the map',
    input: '{{ index .Labels }}',
    model: { Labels: { a: '1' } },
    expected: { value: 'map[a:1]' },
  },
  {
    desc: 'printf %s %d %v %q',
    input: '{{ printf "%s|%d|%v|%q" .Name 42 true "a\\"b" }}',
    expected: { value: 'Test|42|true|"a\\"b"' },
  },
  {
    desc: 'printf widths, precision and flags',
    input: '{{ printf "[%5s][%-5s][%05d][%+d][%.2s][%x][%X][% x][%8.3d]" "ab" "ab" -42 7 "héllo" "hi" 255 "ab" 12 }}',
    expected: { value: '[   ab][ab   ][-0042][+7][hé][6869][FF][61 62][     012]' },
  },
  { desc: 'printf with the 0 flag pads strings too', input: '{{ printf "%05s" "ab" }}', expected: { value: '000ab' } },
  {
    desc: 'printf of integers in other verbs',
    input: '{{ printf "%c %q %U %b %o %O %x" 65 233 9731 5 8 8 -255 }}',
    expected: { value: "A 'é' U+2603 101 10 0o10 -ff" },
  },
  {
    desc: 'printf of the model and the labels',
    input: '{{ printf "%v|%+v|%s|%d" . . .Labels .Labels }}',
    model: { Labels: { a: '1' } },
    expected: {
      value:
        '{Test test-1 map[a:1]}|{Name:Test ContainerName:test-1 Labels:map[a:1]}|map[a:1]|map[%!d(string=a):%!d(string=1)]',
    },
  },
  {
    desc: 'printf %T',
    input: '{{ printf "%T %T %T %T %T" . .Labels 1 "s" (splitList "," "a") }}',
    expected: {
      value:
        'struct { Name string; ContainerName string; Labels map[string]string } map[string]string int string []string',
    },
  },
  {
    desc: 'printf with a wrong verb',
    input: '{{ printf "%d %t" "x" 3 }}',
    expected: { value: '%!d(string=x) %!t(int=3)' },
  },
  {
    desc: 'printf with missing and extra arguments',
    input: '{{ printf "%s %s" "a" }} {{ printf "%s" "a" "b" 3 }}',
    expected: { value: 'a %!s(MISSING) a%!(EXTRA string=b, int=3)' },
  },
  { desc: 'printf with no verb at the end', input: '{{ printf "100%" }}', expected: { value: '100%!(NOVERB)' } },
  { desc: 'printf %%', input: '{{ printf "100%%" }}', expected: { value: '100%' } },
  {
    desc: 'printf of nothing',
    input: '{{ printf "%s|%v" .Labels.missing nil }}',
    expected: { value: '%!s(<nil>)|<nil>' },
  },
  {
    desc: 'a function given the wrong type',
    input: '{{ upper 3 }}',
    expected: { renderError: 'template: defaultRule:1:9: executing "defaultRule" at <3>: expected string; found 3' },
  },
  {
    desc: 'a function given no value',
    input: '{{ upper .Labels.missing }}',
    expected: {
      renderError:
        'template: defaultRule:1:16: executing "defaultRule" at <.Labels.missing>: invalid value; expected string',
    },
  },
  {
    desc: 'a function given a map',
    input: '{{ lower .Labels }}',
    expected: {
      renderError:
        'template: defaultRule:1:9: executing "defaultRule" at <.Labels>: wrong type for value; expected string; got map[string]string',
    },
  },
  {
    desc: 'too few arguments',
    input: '{{ trimPrefix "x" }}',
    expected: {
      renderError:
        'template: defaultRule:1:3: executing "defaultRule" at <trimPrefix>: wrong number of args for trimPrefix: want 2 got 1',
    },
  },
  {
    desc: 'too many arguments',
    input: '{{ lower "a" "b" }}',
    expected: {
      renderError:
        'template: defaultRule:1:3: executing "defaultRule" at <lower>: wrong number of args for lower: want 1 got 2',
    },
  },
  {
    desc: 'too few arguments to a variadic function',
    input: '{{ printf }}',
    expected: {
      renderError:
        'template: defaultRule:1:3: executing "defaultRule" at <printf>: wrong number of args for printf: want at least 1 got 0',
    },
  },
  {
    desc: 'nil where a string is expected',
    input: '{{ lower nil }}',
    expected: {
      renderError: 'template: defaultRule:1:9: executing "defaultRule" at <nil>: cannot assign nil to string',
    },
  },
  {
    desc: 'index of no value',
    input: '{{ index .Labels.missing "a" }}',
    expected: {
      renderError:
        'template: defaultRule:1:3: executing "defaultRule" at <index .Labels.missing "a">: error calling index: index of untyped nil',
    },
  },
  {
    desc: 'index of a map with an integer',
    input: '{{ index .Labels 1 }}',
    expected: {
      renderError:
        'template: defaultRule:1:3: executing "defaultRule" at <index .Labels 1>: error calling index: value has type int; should be string',
    },
  },
  {
    desc: 'index out of range',
    input: '{{ index (splitList "," "a,b") 5 }}',
    expected: {
      renderError:
        'template: defaultRule:1:3: executing "defaultRule" at <index (splitList "," "a,b") 5>: error calling index: index out of range: 5',
    },
  },
  {
    desc: 'index at the length reaches reflect, as in Go',
    input: '{{ index "abc" 3 }}',
    expected: {
      renderError:
        'template: defaultRule:1:3: executing "defaultRule" at <index "abc" 3>: error calling index: reflect: string index out of range',
    },
  },
  {
    desc: 'index of a struct',
    input: '{{ index . "Name" }}',
    expected: {
      renderError: `template: defaultRule:1:3: executing "defaultRule" at <index . "Name">: error calling index: can't index item of type struct { Name string; ContainerName string; Labels map[string]string }`,
    },
  },
  {
    desc: 'the error names its line and byte column',
    input: 'line one\n  é {{ .Nope }}',
    expected: {
      renderError: `template: defaultRule:2:8: executing "defaultRule" at <.Nope>: can't evaluate field Nope in type struct { Name string; ContainerName string; Labels map[string]string }`,
    },
  },
  {
    desc: 'an unclosed action',
    input: '{{ .Name',
    expected: { compileError: 'template: defaultRule:1: unclosed action' },
  },
  {
    desc: 'a single closing brace',
    input: '{{ .Name }',
    expected: { compileError: 'template: defaultRule:1: unexpected "}" in operand' },
  },
  {
    desc: 'an unclosed parenthesis',
    input: '{{ (.Name }}',
    expected: { compileError: 'template: defaultRule:1: unclosed left paren' },
  },
  {
    desc: 'an unexpected right parenthesis',
    input: '{{ .Name) }}',
    expected: { compileError: 'template: defaultRule:1: unexpected right paren' },
  },
  {
    desc: 'an empty action',
    input: '{{ }}',
    expected: { compileError: 'template: defaultRule:1: missing value for command' },
  },
  {
    desc: 'an empty parenthesised pipeline',
    input: '{{ () }}',
    expected: { compileError: 'template: defaultRule:1: missing value for parenthesized pipeline' },
  },
  {
    desc: 'a bad character',
    input: '{{ .Name# }}',
    expected: { compileError: `template: defaultRule:1: bad character U+0023 '#'` },
  },
  {
    desc: 'an unterminated string',
    input: '{{ "abc }}',
    expected: { compileError: 'template: defaultRule:1: unterminated quoted string' },
  },
  {
    desc: 'a dot after a constant',
    input: '{{ "x".Foo }}',
    expected: { compileError: 'template: defaultRule:1: unexpected . after term "\\"x\\""' },
  },
  {
    desc: '{{end}} without a block',
    input: '{{ end }}',
    expected: { compileError: 'template: defaultRule:1: unexpected {{end}}' },
  },
  {
    desc: '{{break}} outside range',
    input: '{{ break }}',
    expected: { compileError: 'template: defaultRule:1: {{break}} outside {{range}}' },
  },
  {
    desc: 'an undefined function',
    input: '{{ foo .Name }}',
    expected: { compileError: 'template: defaultRule:1: function "foo" not defined' },
  },
];

// What Go accepts and this subset refuses when compiling, rather than doing something else.
const refusedCases: readonly Case[] = [
  {
    desc: '{{if}} is refused',
    input: '{{ if .Name }}x{{ end }}',
    expected: { compileError: 'template: defaultRule:1: {{if}} is not supported: a default rule supports' },
  },
  {
    desc: '{{range}} is refused',
    input: '{{ range .Labels }}x{{ end }}',
    expected: { compileError: '{{range}} is not supported' },
  },
  {
    desc: '{{with}} is refused',
    input: '{{ with .Labels.a }}x{{ end }}',
    expected: { compileError: '{{with}} is not supported' },
  },
  {
    desc: '{{define}} is refused',
    input: '{{ define "x" }}x{{ end }}',
    expected: { compileError: '{{define}} is not supported' },
  },
  {
    desc: '{{template}} is refused',
    input: '{{ template "x" }}',
    expected: { compileError: '{{template}} is not supported' },
  },
  {
    desc: '{{block}} is refused',
    input: '{{ block "x" . }}x{{ end }}',
    expected: { compileError: '{{block}} is not supported' },
  },
  {
    desc: 'a variable declaration is refused',
    input: '{{ $x := .Name }}{{ $x }}',
    expected: { compileError: 'the variable $x is not supported' },
  },
  {
    desc: 'the root variable is refused',
    input: '{{ $.Name }}',
    expected: { compileError: 'the variable $ is not supported' },
  },
  {
    desc: 'a sprig function outside the subset is refused',
    input: '{{ trunc 3 .Name }}',
    expected: { compileError: 'the function trunc is not supported' },
  },
  {
    desc: 'a Go builtin outside the subset is refused',
    input: '{{ len .Name }}',
    expected: { compileError: 'the function len is not supported' },
  },
  {
    desc: 'the message lists the supported functions',
    input: '{{ len .Name }}',
    expected: {
      compileError:
        'with the functions normalize, index, lower, upper, title, trim, trimAll, trimPrefix, trimSuffix, replace, default, printf, contains, hasPrefix, hasSuffix, splitList, quote',
    },
  },
  {
    desc: 'an undefined function is named as Go names it, with the supported ones',
    input: '{{ foo }}',
    expected: { compileError: 'function "foo" not defined; a default rule supports' },
  },
  {
    desc: 'a floating-point constant is refused',
    input: '{{ 1.5 }}',
    expected: { compileError: 'the floating-point constant 1.5 is not supported' },
  },
  {
    desc: 'a complex constant is refused',
    input: '{{ 1+2i }}',
    expected: { compileError: 'the complex constant 1+2i is not supported' },
  },
  {
    desc: 'printf with the # flag is refused',
    input: '{{ printf "%#v" . }}',
    expected: { compileError: 'printf "%#v" uses the # flag, which is not supported' },
  },
  {
    desc: 'printf with an argument index is refused',
    input: '{{ printf "%[1]s" "a" }}',
    expected: { compileError: 'uses argument indexes and * widths, which is not supported' },
  },
  {
    desc: 'printf with a * width is refused',
    input: '{{ printf "%*d" 3 4 }}',
    expected: { compileError: 'uses argument indexes and * widths, which is not supported' },
  },
  {
    desc: 'printf %% in a constant format is not a directive',
    input: '{{ printf "100%%#" }}',
    expected: { value: '100%#' },
  },
  {
    desc: 'a format given at run time is checked when rendering',
    input: '{{ printf .Name 1 }}',
    model: { Name: '%#x' },
    expected: {
      renderError:
        'template: defaultRule:1:3: executing "defaultRule" at <printf .Name 1>: error calling printf: the # flag is not supported',
    },
  },
  {
    desc: 'parentheses nested 500 deep are accepted',
    input: `{{ ${'('.repeat(500)}.Name${')'.repeat(500)} }}`,
    expected: { value: 'Test' },
  },
  {
    desc: 'parentheses nested deeper are refused (Go allows 10000)',
    input: `{{ ${'('.repeat(501)}.Name${')'.repeat(501)} }}`,
    expected: { compileError: 'template: defaultRule:1: max expression depth exceeded' },
  },
];

function check({ input, model, expected }: Case): void {
  const compiled = compileDefaultRule(input);
  if ('compileError' in expected) {
    assert.equal(compiled.ok, false, 'expected a compile error');
    if (!compiled.ok) assert.ok(compiled.error.includes(expected.compileError), compiled.error);
    return;
  }
  assert.ok(compiled.ok, compiled.ok ? '' : compiled.error);
  const rendered = compiled.render({ ...MODEL, ...model });
  if ('value' in expected) assert.deepEqual(rendered, { ok: true, value: expected.value });
  else assert.deepEqual(rendered, { ok: false, error: expected.renderError });
}

for (const c of traefikCases) test(`default rule, as Traefik: ${c.desc}`, () => check(c));
for (const c of refusedCases) test(`default rule, subset: ${c.desc}`, () => check(c));

test('default rule: compiled once, rendered for many models', () => {
  const compiled = compileDefaultRule(
    'Host(`{{ normalize .Name }}.{{ index .Labels "domain" | default "localhost" }}`)',
  );
  assert.ok(compiled.ok);
  assert.deepEqual(compiled.render({ Name: 'my_app', ContainerName: 'x', Labels: { domain: 'example.com' } }), {
    ok: true,
    value: 'Host(`my-app.example.com`)',
  });
  assert.deepEqual(compiled.render({ Name: 'other.app', ContainerName: 'y', Labels: {} }), {
    ok: true,
    value: 'Host(`other-app.localhost`)',
  });
});

test('default rule: labels named like object properties are plain keys', () => {
  const labels = JSON.parse('{"__proto__": "p", "constructor": "c"}') as Record<string, string>;
  const compiled = compileDefaultRule(
    '{{ index .Labels "__proto__" }} {{ .Labels.constructor }} {{ .Labels.toString }} [{{ index .Labels "hasOwnProperty" }}]',
  );
  assert.ok(compiled.ok);
  assert.deepEqual(compiled.render({ ...MODEL, Labels: labels }), { ok: true, value: 'p c <no value> []' });
});

test('default rule: rendering odd templates and models never throws', () => {
  const pieces = [
    '{{',
    '}}',
    '(',
    ')',
    '"',
    '`',
    '|',
    '.',
    '$',
    '-',
    ' ',
    '\\n',
    'a',
    '\ud800',
    '😀',
    '%',
    'printf',
    'index',
    '.Labels',
    'nil',
    '0x',
    "'",
    '/*',
    '*/',
  ];
  // fast-check shrinks a failing input to the shortest one, which a hand-rolled generator would not.
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 9 }), (parts) => {
      const input = parts.join('');
      const compiled = compileDefaultRule(input);
      if (compiled.ok) compiled.render({ Name: input, ContainerName: input, Labels: { [input]: input } });
    }),
    { numRuns: 5000, seed: 1 },
  );
});

test('default rule: the refusals list exactly the functions a default rule can call', () => {
  const callable = ['normalize', ...Object.keys(BUILTINS), ...Object.keys(SPRIG_FUNCTIONS)];
  assert.deepEqual([...DEFAULT_RULE_FUNCTIONS].sort(), callable.sort());
});
