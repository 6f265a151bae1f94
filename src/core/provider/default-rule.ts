// The default rule of routers that have none: a Go text/template that Traefik executes with the
// container's Name, ContainerName and Labels (pkg/provider/configuration.go, MakeDefaultRuleTemplate:
// text/template with sprig's TxtFuncMap plus `normalize`).
//
// This is a faithful subset of Go's text/template, not a look-alike: the lexer and the parser follow
// Go's (trim markers, comments, pipelines, parenthesised pipelines, field chains, literals and Go's
// error texts), and execution follows Go's reflection rules for the one struct Traefik passes (missing
// map keys print "<no value>", a missing field is "can't evaluate field", a piped value is the last
// argument, arguments are type-checked as Go does). What Go accepts and this does not — control
// actions, variables, functions outside the supported list, floating-point and complex constants —
// is refused when compiling, with a message that says so, instead of behaving differently.
import { includesText, splitText } from './find-text.ts';
import { normalizeName } from './normalize-name.ts';
import { appendRune, decodeUtf8, formatRune, isPrint, SIMPLE_ESCAPES } from './go-text.ts';

/** The data a default rule sees: the struct Traefik's Docker provider passes to the template. */
export interface DefaultRuleModel {
  readonly Name: string;
  readonly ContainerName: string;
  readonly Labels: Readonly<Record<string, string>>;
}

export type RenderResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string };

export type CompiledRule =
  | { readonly ok: true; readonly render: (model: DefaultRuleModel) => RenderResult }
  | { readonly ok: false; readonly error: string };

// Traefik names its template "defaultRule"; Go puts that name in every error.
const TEMPLATE_NAME = 'defaultRule';
// Go prints the type of the anonymous struct Traefik passes in "can't evaluate field" errors.
const MODEL_TYPE = 'struct { Name string; ContainerName string; Labels map[string]string }';
const MODEL_FIELDS = ['Name', 'ContainerName', 'Labels'] as const;
// Go allows 10000 nested parentheses; recursion that deep would exhaust the JavaScript stack.
const MAX_PAREN_DEPTH = 500;

// ---------------------------------------------------------------------------------------------
// Failures are values: every step returns its result or a Failure, never throws.

interface Failure {
  readonly failure: string;
}

function isFailure(value: unknown): value is Failure {
  return typeof value === 'object' && value !== null && 'failure' in value;
}

// ---------------------------------------------------------------------------------------------
// Text helpers shared by the lexer, the parser and the functions.

const EOF = -1;

function utf8Length(text: string): number {
  let length = 0;
  for (const char of text) {
    const cp = char.codePointAt(0) ?? 0;
    length += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return length;
}

function runeCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** UTF-8 bytes of a string; a lone surrogate becomes U+FFFD, as Go's decoding would give. */
function utf8Bytes(text: string): number[] {
  const bytes: number[] = [];
  for (const char of text) appendRune(bytes, char.codePointAt(0) ?? 0xfffd);
  return bytes;
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** Go's strconv.Quote (and QuoteRune with quote "'"; QuoteToASCII with asciiOnly). */
function goQuote(text: string, quote: '"' | "'" = '"', asciiOnly = false): string {
  let out = quote;
  for (const char of text) {
    let cp = char.codePointAt(0) ?? 0xfffd;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (char === quote || char === '\\') {
      out += `\\${char}`;
      continue;
    }
    if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) {
      out += String.fromCodePoint(cp);
      continue;
    }
    const escape = C_ESCAPES.get(cp);
    if (escape !== undefined) out += escape;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return out + quote;
}

const C_ESCAPES = new Map<number, string>([
  [0x07, '\\a'],
  [0x08, '\\b'],
  [0x0c, '\\f'],
  [0x0a, '\\n'],
  [0x0d, '\\r'],
  [0x09, '\\t'],
  [0x0b, '\\v'],
]);

/** Go orders map keys as byte strings: code point order, which UTF-16 order is not. */
function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i]?.codePointAt(0) ?? 0;
    const y = right[i]?.codePointAt(0) ?? 0;
    if (x !== y) return x - y;
  }
  return left.length - right.length;
}

// ---------------------------------------------------------------------------------------------
// Go literals: strconv.UnquoteChar, Unquote and ParseInt with base 0.


interface UnquotedChar {
  /** A rune, or a single byte when `byte` (from \x and octal escapes in strings). */
  readonly value: number;
  readonly byte: boolean;
  readonly rest: string;
}

/** strconv.UnquoteChar: the first character or escape of `s`, inside a literal quoted by `quote`. */
function unquoteChar(s: string, quote: string): UnquotedChar | undefined {
  const first = s.codePointAt(0);
  if (first === undefined) return undefined;
  const c = String.fromCodePoint(first);
  if (c === quote && (quote === "'" || quote === '"')) return undefined;
  if (c !== '\\') return { value: first, byte: false, rest: s.slice(c.length) };
  const kind = s[1];
  if (kind === undefined) return undefined;
  const simple = SIMPLE_ESCAPES.get(kind);
  if (simple !== undefined) return { value: simple, byte: false, rest: s.slice(2) };
  if (kind === "'" || kind === '"') return kind === quote ? { value: kind.charCodeAt(0), byte: false, rest: s.slice(2) } : undefined;
  if (kind === 'x' || kind === 'u' || kind === 'U') {
    const size = kind === 'x' ? 2 : kind === 'u' ? 4 : 8;
    const digits = s.slice(2, 2 + size);
    if (!new RegExp(`^[0-9a-fA-F]{${size}}$`).test(digits)) return undefined;
    const value = Number.parseInt(digits, 16);
    if (kind === 'x') return { value, byte: true, rest: s.slice(2 + size) };
    if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return undefined;
    return { value, byte: false, rest: s.slice(2 + size) };
  }
  if (kind >= '0' && kind <= '7') {
    const digits = s.slice(1, 4);
    if (!/^[0-7]{3}$/.test(digits)) return undefined;
    const value = Number.parseInt(digits, 8);
    if (value > 255) return undefined;
    return { value, byte: true, rest: s.slice(4) };
  }
  return undefined;
}

type Unquoted = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly invalidUtf8: boolean };

/** strconv.Unquote for "..." and `...` literals. */
function unquoteString(literal: string): Unquoted {
  const quote = literal[0];
  if (literal.length < 2 || literal[literal.length - 1] !== quote) return { ok: false, invalidUtf8: false };
  const body = literal.slice(1, -1);
  if (quote === '`') {
    if (body.includes('`')) return { ok: false, invalidUtf8: false };
    // Go drops carriage returns from raw strings, so a template edited on Windows means the same.
    return { ok: true, value: body.replaceAll('\r', '') };
  }
  if (quote !== '"' || body.includes('\n')) return { ok: false, invalidUtf8: false };
  const bytes: number[] = [];
  let rest = body;
  while (rest !== '') {
    const next = unquoteChar(rest, '"');
    if (next === undefined) return { ok: false, invalidUtf8: false };
    if (next.byte) bytes.push(next.value);
    else appendRune(bytes, next.value);
    rest = next.rest;
  }
  const value = decodeUtf8(bytes);
  return value === undefined ? { ok: false, invalidUtf8: true } : { ok: true, value };
}

/** Go's underscoreOK: underscores only between digits (or after a base prefix). */
function underscoreOK(text: string): boolean {
  let s = text;
  if (s[0] === '+' || s[0] === '-') s = s.slice(1);
  let saw = '^';
  let i = 0;
  let hexDigits = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1] ?? '')) {
    i = 2;
    saw = '0';
    hexDigits = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    if ((c >= '0' && c <= '9') || (hexDigits && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const isDecimalDigit = (c: string): boolean => (c >= '0' && c <= '9') || c === '_';
const isHexDigit = (c: string): boolean => isDecimalDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

/**
 * Whether a number's text has the shape of a Go float constant: what
 * `/^[+-]?(?:(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?|0[xX][0-9a-fA-F_]*\.?[0-9a-fA-F_]*[pP][+-]?[0-9_]+)$/`
 * accepts, read in one pass (that expression backtracks quadratically over a long `0x1111…`).
 */
export function hasFloatSyntax(text: string): boolean {
  let i = text[0] === '+' || text[0] === '-' ? 1 : 0;
  const hex = text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X');
  if (hex) i += 2;
  const start = i;
  let dot = -1;
  for (; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '.' && dot < 0) dot = i;
    else if (!(hex ? isHexDigit(c) : isDecimalDigit(c))) break;
  }
  // Before a point, a decimal mantissa starts with a digit, not an underscore.
  if (!hex && dot > start && text[start] === '_') return false;
  if (i === text.length) return !hex;
  const marker = text[i];
  if (hex ? marker !== 'p' && marker !== 'P' : marker !== 'e' && marker !== 'E') return false;
  i++;
  if (text[i] === '+' || text[i] === '-') i++;
  if (i === text.length) return false;
  for (; i < text.length; i++) if (!isDecimalDigit(text[i] as string)) return false;
  return true;
}

/** strconv.ParseUint(text, 0, 64) without the sign, as a bigint; undefined on a syntax or range error. */
function parseUnsigned(text: string): bigint | undefined {
  if (text === '') return undefined;
  let base = 10;
  let digits = text;
  if (text[0] === '0') {
    const prefix = text[1]?.toLowerCase();
    if (text.length >= 3 && prefix === 'b') [base, digits] = [2, text.slice(2)];
    else if (text.length >= 3 && prefix === 'o') [base, digits] = [8, text.slice(2)];
    else if (text.length >= 3 && prefix === 'x') [base, digits] = [16, text.slice(2)];
    else [base, digits] = [8, text.slice(1)];
  }
  let value = 0n;
  let underscores = false;
  for (const c of digits) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const digit = Number.parseInt(c, 36);
    if (Number.isNaN(digit) || digit >= base) return undefined;
    value = value * BigInt(base) + BigInt(digit);
    if (value > 0xffffffffffffffffn) return undefined;
  }
  if (underscores && !underscoreOK(text)) return undefined;
  return value;
}

// ---------------------------------------------------------------------------------------------
// Lexer: Go's text/template/parse/lex.go, run to completion instead of lazily (same items).

type ItemType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'complex'
  | 'assign'
  | 'declare'
  | 'eof'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  | 'keyword'
  | 'dot'
  | 'nil';

interface Item {
  readonly type: ItemType;
  readonly pos: number;
  readonly val: string;
}

// `break` and `continue` are keywords because neither sprig nor Go defines a function by those names.
// The functions Traefik's template knows (sprig's TxtFuncMap and Go's builtins), to tell a function
// this subset does not support from one that does not exist.
const GO_FUNCTIONS = new Set(
  (
    'abbrev abbrevboth add add1 add1f addf adler32sum ago all and any append atoi b32dec b32enc b64dec b64enc base ' +
    'bcrypt biggest buildCustomCert call camelcase cat ceil chunk clean coalesce compact concat contains date ' +
    'dateInZone dateModify date_in_zone date_modify decryptAES deepCopy deepEqual default derivePassword dict dig dir ' +
    'div divf duration durationRound empty encryptAES env eq expandenv ext fail first float64 floor fromJson ge genCA ' +
    'genCAWithKey genPrivateKey genSelfSignedCert genSelfSignedCertWithKey genSignedCert genSignedCertWithKey get ' +
    'getHostByName gt has hasKey hasPrefix hasSuffix hello html htmlDate htmlDateInZone htpasswd indent index initial ' +
    'initials int int64 isAbs join js kebabcase keys kindIs kindOf last le len list lower lt max maxf merge ' +
    'mergeOverwrite min minf mod mul mulf mustAppend mustChunk mustCompact mustDateModify mustDeepCopy mustFirst ' +
    'mustFromJson mustHas mustInitial mustLast mustMerge mustMergeOverwrite mustPrepend mustPush mustRegexFind ' +
    'mustRegexFindAll mustRegexMatch mustRegexReplaceAll mustRegexReplaceAllLiteral mustRegexSplit mustRest ' +
    'mustReverse mustSlice mustToDate mustToJson mustToPrettyJson mustToRawJson mustUniq mustWithout must_date_modify ' +
    'ne nindent nospace not now omit or osBase osClean osDir osExt osIsAbs pick pluck plural prepend print printf ' +
    'println push quote randAlpha randAlphaNum randAscii randBytes randInt randNumeric regexFind regexFindAll ' +
    'regexMatch regexQuoteMeta regexReplaceAll regexReplaceAllLiteral regexSplit repeat replace rest reverse round ' +
    'semver semverCompare seq set sha1sum sha256sum shuffle slice snakecase sortAlpha split splitList splitn squote ' +
    'sub subf substr swapcase ternary title toDate toDecimal toJson toPrettyJson toRawJson toString toStrings trim ' +
    'trimAll trimPrefix trimSuffix trimall trunc tuple typeIs typeIsLike typeOf uniq unixEpoch unset until untilStep ' +
    'untitle upper urlJoin urlParse urlquery uuidv4 values without wrap wrapWith'
  ).split(' '),
);
const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);
const ALPHANUMERIC = /^[\p{L}\p{Nd}_]$/u;

function isSpace(cp: number): boolean {
  return cp === 0x20 || cp === 0x09 || cp === 0x0d || cp === 0x0a;
}

function isAlphaNumeric(cp: number): boolean {
  return cp >= 0 && ALPHANUMERIC.test(String.fromCodePoint(cp));
}

function lex(input: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let atEOF = false;
  let parenDepth = 0;

  type State = () => State | null;

  const next = (): number => {
    if (pos >= input.length) {
      atEOF = true;
      return EOF;
    }
    const cp = input.codePointAt(pos) ?? EOF;
    pos += cp > 0xffff ? 2 : 1;
    return cp;
  };
  const backup = (): void => {
    if (atEOF || pos === 0) return;
    const low = input.charCodeAt(pos - 1);
    const high = input.charCodeAt(pos - 2);
    pos -= low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff ? 2 : 1;
  };
  const peek = (): number => {
    const cp = next();
    backup();
    return cp;
  };
  const emit = (type: ItemType): void => {
    items.push({ type, pos: start, val: input.slice(start, pos) });
    start = pos;
  };
  const ignore = (): void => {
    start = pos;
  };
  const errorf = (message: string): null => {
    items.push({ type: 'error', pos: start, val: message });
    return null;
  };
  const accept = (valid: string): boolean => {
    const cp = next();
    if (cp !== EOF && valid.includes(String.fromCodePoint(cp))) return true;
    backup();
    return false;
  };
  const acceptRun = (valid: string): void => {
    while (accept(valid));
  };
  const hasLeftTrimMarker = (at: number): boolean => input[at] === '-' && isSpace(input.charCodeAt(at + 1));
  const hasRightTrimMarker = (at: number): boolean => isSpace(input.charCodeAt(at)) && input[at + 1] === '-';
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (hasRightTrimMarker(pos) && input.startsWith('}}', pos + 2)) return { delim: true, trim: true };
    return { delim: input.startsWith('}}', pos), trim: false };
  };
  const leftTrimLength = (at: number): number => {
    let end = at;
    while (end < input.length && isSpace(input.charCodeAt(end))) end++;
    return end - at;
  };
  const atTerminator = (): boolean => {
    const cp = peek();
    if (isSpace(cp)) return true;
    if (cp === EOF || '.,|:)('.includes(String.fromCodePoint(cp))) return true;
    return input.startsWith('}}', pos);
  };

  const lexText: State = () => {
    const x = input.indexOf('{{', pos);
    if (x >= 0) {
      if (x > pos) {
        pos = x;
        let trimLength = 0;
        if (hasLeftTrimMarker(pos + 2)) {
          let end = pos;
          while (end > start && isSpace(input.charCodeAt(end - 1))) end--;
          trimLength = pos - end;
        }
        pos -= trimLength;
        const text = input.slice(start, pos);
        const item: Item = { type: 'text', pos: start, val: text };
        pos += trimLength;
        ignore();
        if (text.length > 0) items.push(item);
      }
      return lexLeftDelim;
    }
    pos = input.length;
    if (pos > start) emit('text');
    emit('eof');
    return null;
  };

  const lexLeftDelim: State = () => {
    pos += 2;
    const afterMarker = hasLeftTrimMarker(pos) ? 2 : 0;
    if (input.startsWith('/*', pos + afterMarker)) {
      pos += afterMarker;
      ignore();
      return lexComment;
    }
    emit('leftDelim');
    pos += afterMarker;
    ignore();
    parenDepth = 0;
    return lexInsideAction;
  };

  const lexComment: State = () => {
    pos += 2;
    const x = input.indexOf('*/', pos);
    if (x < 0) return errorf('unclosed comment');
    pos = x + 2;
    const { delim, trim } = atRightDelim();
    if (!delim) return errorf('comment ends before closing delimiter');
    if (trim) pos += 2;
    pos += 2;
    if (trim) pos += leftTrimLength(pos);
    ignore();
    return lexText;
  };

  const lexRightDelim: State = () => {
    const { trim } = atRightDelim();
    if (trim) {
      pos += 2;
      ignore();
    }
    pos += 2;
    emit('rightDelim');
    if (trim) {
      pos += leftTrimLength(pos);
      ignore();
    }
    return lexText;
  };

  const lexInsideAction: State = () => {
    if (atRightDelim().delim) {
      if (parenDepth === 0) return lexRightDelim;
      return errorf('unclosed left paren');
    }
    const cp = next();
    if (cp === EOF) return errorf('unclosed action');
    if (isSpace(cp)) {
      backup();
      return lexSpace;
    }
    const c = String.fromCodePoint(cp);
    switch (c) {
      case '=':
        emit('assign');
        return lexInsideAction;
      case ':':
        if (next() !== 0x3d) return errorf('expected :=');
        emit('declare');
        return lexInsideAction;
      case '|':
        emit('pipe');
        return lexInsideAction;
      case '"':
        return lexQuote;
      case '`':
        return lexRawQuote;
      case '$':
        return lexVariable;
      case "'":
        return lexChar;
      case '(':
        parenDepth++;
        emit('leftParen');
        return lexInsideAction;
      case ')':
        parenDepth--;
        if (parenDepth < 0) return errorf('unexpected right paren');
        emit('rightParen');
        return lexInsideAction;
    }
    if (c === '.') {
      const following = input.charCodeAt(pos);
      if (pos < input.length && (following < 0x30 || following > 0x39)) return lexField;
    }
    if (c === '.' || c === '+' || c === '-' || (cp >= 0x30 && cp <= 0x39)) {
      backup();
      return lexNumber;
    }
    if (isAlphaNumeric(cp)) {
      backup();
      return lexIdentifier;
    }
    if (cp <= 0x7f && isPrint(cp)) {
      emit('char');
      return lexInsideAction;
    }
    return errorf(`unrecognized character in action: ${formatRune(cp)}`);
  };

  const lexSpace: State = () => {
    let spaces = 0;
    while (isSpace(peek())) {
      next();
      spaces++;
    }
    // A trim-marked right delimiter starts with a space: leave that space to it.
    if (hasRightTrimMarker(pos - 1) && input.startsWith('}}', pos + 1)) {
      backup();
      if (spaces === 1) return lexRightDelim;
    }
    emit('space');
    return lexInsideAction;
  };

  const lexIdentifier: State = () => {
    for (;;) {
      const cp = next();
      if (isAlphaNumeric(cp)) continue;
      backup();
      const word = input.slice(start, pos);
      if (!atTerminator()) return errorf(`bad character ${formatRune(cp)}`);
      if (KEYWORDS.has(word)) emit('keyword');
      else if (word === 'nil') emit('nil');
      else if (word === 'true' || word === 'false') emit('bool');
      else emit('identifier');
      return lexInsideAction;
    }
  };

  const lexFieldOrVariable = (type: 'field' | 'variable'): State | null => {
    if (atTerminator()) {
      emit(type === 'variable' ? 'variable' : 'dot');
      return lexInsideAction;
    }
    let cp: number;
    for (;;) {
      cp = next();
      if (!isAlphaNumeric(cp)) {
        backup();
        break;
      }
    }
    if (!atTerminator()) return errorf(`bad character ${formatRune(cp)}`);
    emit(type);
    return lexInsideAction;
  };
  const lexField: State = () => lexFieldOrVariable('field');
  const lexVariable: State = () => {
    if (atTerminator()) {
      emit('variable');
      return lexInsideAction;
    }
    return lexFieldOrVariable('variable');
  };

  const lexChar: State = () => {
    for (;;) {
      const cp = next();
      if (cp === 0x5c) {
        const escaped = next();
        if (escaped !== EOF && escaped !== 0x0a) continue;
        return errorf('unterminated character constant');
      }
      if (cp === EOF || cp === 0x0a) return errorf('unterminated character constant');
      if (cp === 0x27) break;
    }
    emit('charConstant');
    return lexInsideAction;
  };

  const scanNumber = (): boolean => {
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    if (isAlphaNumeric(peek())) {
      next();
      return false;
    }
    return true;
  };
  const lexNumber: State = () => {
    if (!scanNumber()) return errorf(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
    const sign = peek();
    if (sign === 0x2b || sign === 0x2d) {
      if (!scanNumber() || input[pos - 1] !== 'i') return errorf(`bad number syntax: ${goQuote(input.slice(start, pos))}`);
      emit('complex');
    } else {
      emit('number');
    }
    return lexInsideAction;
  };

  const lexQuote: State = () => {
    for (;;) {
      const cp = next();
      if (cp === 0x5c) {
        const escaped = next();
        if (escaped !== EOF && escaped !== 0x0a) continue;
        return errorf('unterminated quoted string');
      }
      if (cp === EOF || cp === 0x0a) return errorf('unterminated quoted string');
      if (cp === 0x22) break;
    }
    emit('string');
    return lexInsideAction;
  };
  const lexRawQuote: State = () => {
    for (;;) {
      const cp = next();
      if (cp === EOF) return errorf('unterminated raw quoted string');
      if (cp === 0x60) break;
    }
    emit('rawString');
    return lexInsideAction;
  };

  for (let state: State | null = lexText; state !== null; ) state = state();
  return items;
}

// ---------------------------------------------------------------------------------------------
// Parse tree: Go's text/template/parse nodes, for the subset executed here.

type FunctionName = keyof typeof FUNCTIONS;

interface PipeNode {
  readonly type: 'pipe';
  readonly pos: number;
  readonly cmds: CommandNode[];
}
interface CommandNode {
  readonly type: 'command';
  readonly pos: number;
  readonly args: ArgNode[];
}
interface FieldNode {
  readonly type: 'field';
  readonly pos: number;
  readonly ident: readonly string[];
}
interface ChainNode {
  readonly type: 'chain';
  readonly pos: number;
  readonly node: PipeNode | IdentifierNode;
  readonly fields: readonly string[];
}
interface IdentifierNode {
  readonly type: 'identifier';
  readonly pos: number;
  readonly name: FunctionName;
}
interface NumberNode {
  readonly type: 'number';
  readonly pos: number;
  readonly text: string;
  /** The value as a Go int; undefined when it only fits an uint64 ("overflows int" when used). */
  readonly int: bigint | undefined;
}
interface StringNode {
  readonly type: 'string';
  readonly pos: number;
  readonly quoted: string;
  readonly text: string;
}
type LiteralNode =
  | { readonly type: 'dot'; readonly pos: number }
  | { readonly type: 'nil'; readonly pos: number }
  | { readonly type: 'bool'; readonly pos: number; readonly value: boolean }
  | NumberNode
  | StringNode;
type ArgNode = PipeNode | FieldNode | ChainNode | IdentifierNode | LiteralNode;
interface ActionNode {
  readonly type: 'action';
  readonly pos: number;
  readonly pipe: PipeNode;
}
interface TextNode {
  readonly type: 'text';
  readonly pos: number;
  readonly text: string;
}
type Node = ArgNode | CommandNode | ActionNode | TextNode;

/** Go's Node.String(), which its execution errors quote as `at <...>`. */
function nodeString(node: Node): string {
  switch (node.type) {
    case 'text':
      return node.text;
    case 'action':
      return `{{${nodeString(node.pipe)}}}`;
    case 'pipe':
      return node.cmds.map(nodeString).join(' | ');
    case 'command':
      return node.args.map((arg) => (arg.type === 'pipe' ? `(${nodeString(arg)})` : nodeString(arg))).join(' ');
    case 'field':
      return `.${node.ident.join('.')}`;
    case 'chain': {
      const base = node.node.type === 'pipe' ? `(${nodeString(node.node)})` : nodeString(node.node);
      return base + node.fields.map((field) => `.${field}`).join('');
    }
    case 'identifier':
      return node.name;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return node.value ? 'true' : 'false';
    case 'number':
      return node.text;
    case 'string':
      return node.quoted;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser: Go's text/template/parse/parse.go, refusing what this subset does not execute.

function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Go's item String(), as used in "unexpected ... in ..." errors. */
function itemString(item: Item): string {
  if (item.type === 'eof') return 'EOF';
  if (item.type === 'error') return item.val;
  if (item.type === 'keyword' || item.type === 'dot' || item.type === 'nil') return `<${item.val}>`;
  if (utf8Length(item.val) > 10) return `${goQuote([...item.val].slice(0, 10).join(''))}...`;
  return goQuote(item.val);
}

function supportedSummary(): string {
  return (
    'a default rule supports text, comments and {{ }} actions made of .Name, .ContainerName, .Labels (and .Labels.key), ' +
    'string, integer and boolean constants, parentheses and pipes, with the functions ' +
    Object.keys(FUNCTIONS).join(', ')
  );
}

/** The line of a position, found by binary search in the newlines, counted once per template. */
function lineFinder(text: string): (pos: number) => number {
  const newlines: number[] = [];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) newlines.push(i);
  return (pos) => {
    let low = 0;
    let high = newlines.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((newlines[middle] as number) < pos) low = middle + 1;
      else high = middle;
    }
    return low + 1;
  };
}

function parseTemplate(text: string): Node[] | Failure {
  const items = lex(text);
  // Counting lines from the start for every action made a template of many lines quadratic.
  const lineOf = lineFinder(text);
  let index = 0;
  let furthest = 0;
  let actionLine = 0;
  let depth = 0;

  const at = (i: number): Item => items[Math.min(i, items.length - 1)] ?? { type: 'eof', pos: text.length, val: '' };
  const next = (): Item => {
    const item = at(index);
    index++;
    furthest = Math.max(furthest, index);
    return item;
  };
  const backup = (): void => {
    index--;
  };
  const peek = (): Item => at(index);
  const nextNonSpace = (): Item => {
    let item = next();
    while (item.type === 'space') item = next();
    return item;
  };
  const peekNonSpace = (): Item => {
    const item = nextNonSpace();
    backup();
    return item;
  };
  // Go reports the line of the last token it read from the lexer.
  const errorf = (message: string): Failure => ({
    failure: `template: ${TEMPLATE_NAME}:${lineOf(at(Math.max(furthest - 1, 0)).pos)}: ${message}`,
  });
  const unsupported = (construct: string): Failure => errorf(`${construct} is not supported: ${supportedSummary()}`);
  const unexpected = (item: Item, context: string): Failure => {
    if (item.type === 'error') {
      const line = lineOf(item.pos);
      let extra = '';
      if (actionLine !== 0 && actionLine !== line) {
        extra = ` in action started at ${TEMPLATE_NAME}:${actionLine}`;
        if (item.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      return errorf(`${item.val}${extra}`);
    }
    return errorf(`unexpected ${itemString(item)} in ${context}`);
  };

  const numberNode = (item: Item): NumberNode | Failure => {
    if (item.type === 'charConstant') {
      const char = unquoteChar(item.val.slice(1), "'");
      if (char === undefined) return errorf('invalid syntax');
      if (char.rest !== "'") return errorf(`malformed character constant: ${item.val}`);
      return { type: 'number', pos: item.pos, text: item.val, int: BigInt(char.value) };
    }
    if (item.type === 'complex' || item.val.endsWith('i')) return unsupported(`the complex constant ${item.val}`);
    const text = item.val;
    const negative = text.startsWith('-');
    const unsigned = parseUnsigned(text.replace(/^[+-]/, ''));
    if (unsigned !== undefined) {
      const value = negative ? -unsigned : unsigned;
      if (value >= -(2n ** 63n) && value < 2n ** 63n) return { type: 'number', pos: item.pos, text, int: value };
      // Go keeps an uint64-only constant and fails only when it is used as an int.
      if (!text.startsWith('+') && !negative) return { type: 'number', pos: item.pos, text, int: undefined };
    }
    if (hasFloatSyntax(text) && /[0-9]/.test(text)) {
      // Go: a float that looks like an integer is an integer too large to fit in an int.
      if (!/[.eEpP]/.test(text)) return errorf(`integer overflow: ${goQuote(text)}`);
      return unsupported(`the floating-point constant ${text}`);
    }
    return errorf(`illegal number syntax: ${goQuote(text)}`);
  };

  const term = (): ArgNode | null | Failure => {
    const item = nextNonSpace();
    switch (item.type) {
      case 'identifier':
        if (!Object.hasOwn(FUNCTIONS, item.val)) {
          if (GO_FUNCTIONS.has(item.val)) return unsupported(`the function ${item.val}`);
          return errorf(`function ${goQuote(item.val)} not defined; ${supportedSummary()}`);
        }
        return { type: 'identifier', pos: item.pos, name: item.val as FunctionName };
      case 'dot':
        return { type: 'dot', pos: item.pos };
      case 'nil':
        return { type: 'nil', pos: item.pos };
      case 'variable':
        return unsupported(`the variable ${item.val}`);
      case 'field':
        return { type: 'field', pos: item.pos, ident: [item.val.slice(1)] };
      case 'bool':
        return { type: 'bool', pos: item.pos, value: item.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number':
        return numberNode(item);
      case 'leftParen': {
        if (depth >= MAX_PAREN_DEPTH) return errorf('max expression depth exceeded');
        depth++;
        const pipe = pipeline('parenthesized pipeline', 'rightParen');
        depth--;
        return pipe;
      }
      case 'string':
      case 'rawString': {
        const unquoted = unquoteString(item.val);
        if (!unquoted.ok) return unquoted.invalidUtf8 ? unsupported(`the string constant ${item.val}, which is not UTF-8,`) : errorf('invalid syntax');
        return { type: 'string', pos: item.pos, quoted: item.val, text: unquoted.value };
      }
      default:
        backup();
        return null;
    }
  };

  const operand = (): ArgNode | null | Failure => {
    const node = term();
    if (node === null || isFailure(node)) return node;
    if (peek().type !== 'field') return node;
    const chainPos = peek().pos;
    const fields: string[] = [];
    while (peek().type === 'field') fields.push(next().val.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos: chainPos, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
      case 'pipe':
      case 'identifier':
        return { type: 'chain', pos: chainPos, node, fields };
      case 'chain':
        return { type: 'chain', pos: chainPos, node: node.node, fields: [...node.fields, ...fields] };
    }
  };

  const command = (): CommandNode | Failure => {
    const cmd: CommandNode = { type: 'command', pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const node = operand();
      if (isFailure(node)) return node;
      if (node !== null) cmd.args.push(node);
      const item = next();
      if (item.type === 'space') continue;
      if (item.type === 'rightDelim' || item.type === 'rightParen') backup();
      else if (item.type !== 'pipe') return unexpected(item, 'operand');
      break;
    }
    if (cmd.args.length === 0) return errorf('empty command');
    return cmd;
  };

  const pipeline = (context: string, end: 'rightDelim' | 'rightParen'): PipeNode | Failure => {
    const pipe: PipeNode = { type: 'pipe', pos: peekNonSpace().pos, cmds: [] };
    const first = peekNonSpace();
    if (first.type === 'variable') return unsupported(`the variable ${first.val}`);
    for (;;) {
      const item = nextNonSpace();
      if (item.type === end) break;
      switch (item.type) {
        case 'bool':
        case 'charConstant':
        case 'complex':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen': {
          backup();
          const cmd = command();
          if (isFailure(cmd)) return cmd;
          pipe.cmds.push(cmd);
          break;
        }
        default:
          return unexpected(item, context);
      }
    }
    if (pipe.cmds.length === 0) return errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const type = pipe.cmds[i]?.args[0]?.type;
      if (type === 'bool' || type === 'dot' || type === 'nil' || type === 'number' || type === 'string') {
        return errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
    return pipe;
  };

  const action = (): ActionNode | Failure => {
    const item = nextNonSpace();
    if (item.type === 'keyword') {
      // These are errors in Go too, outside the control actions that are not supported.
      if (item.val === 'end' || item.val === 'else') {
        const after = nextNonSpace();
        if (after.type !== 'rightDelim' && !(item.val === 'else' && after.type === 'keyword' && (after.val === 'if' || after.val === 'with'))) {
          return unexpected(after, item.val);
        }
        return errorf(`unexpected {{${item.val}}}`);
      }
      if (item.val === 'break' || item.val === 'continue') {
        const after = nextNonSpace();
        if (after.type !== 'rightDelim') return unexpected(after, `{{${item.val}}}`);
        return errorf(`{{${item.val}}} outside {{range}}`);
      }
      return unsupported(`{{${item.val}}}`);
    }
    backup();
    const pos = peek().pos;
    const pipe = pipeline('command', 'rightDelim');
    if (isFailure(pipe)) return pipe;
    return { type: 'action', pos, pipe };
  };

  const nodes: Node[] = [];
  while (peek().type !== 'eof') {
    const item = nextNonSpace();
    if (item.type === 'text') {
      nodes.push({ type: 'text', pos: item.pos, text: item.val });
      continue;
    }
    if (item.type !== 'leftDelim') return unexpected(item, 'input');
    actionLine = lineOf(item.pos);
    const node = action();
    actionLine = 0;
    if (isFailure(node)) return node;
    nodes.push(node);
  }
  return nodes;
}

// ---------------------------------------------------------------------------------------------
// Values: the Go values a default rule can produce, with the names Go gives their types.

type Value =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'uint8'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'labels'; readonly value: ReadonlyMap<string, string> }
  | { readonly kind: 'list'; readonly value: readonly string[] }
  | { readonly kind: 'model'; readonly value: ModelValue }
  /** A nil interface{} argument. */
  | { readonly kind: 'nil' }
  /** Go's invalid reflect.Value: a missing map key; it prints as "<no value>". */
  | { readonly kind: 'none' };

interface ModelValue {
  readonly Name: string;
  readonly ContainerName: string;
  readonly Labels: ReadonlyMap<string, string>;
}

const NONE: Value = { kind: 'none' };
const NIL: Value = { kind: 'nil' };
const str = (value: string): Value => ({ kind: 'string', value });

function typeName(value: Value): string {
  switch (value.kind) {
    case 'string':
    case 'int':
    case 'uint8':
    case 'bool':
      return value.kind;
    case 'labels':
      return 'map[string]string';
    case 'list':
      return '[]string';
    case 'model':
      return MODEL_TYPE;
    case 'nil':
      return 'interface {}';
    case 'none':
      return 'invalid';
  }
}

function modelField(model: ModelValue, name: (typeof MODEL_FIELDS)[number]): Value {
  return name === 'Labels' ? { kind: 'labels', value: model.Labels } : str(model[name]);
}

// ---------------------------------------------------------------------------------------------
// fmt: the part of Go's fmt.Sprintf that printf, quote and printing need.

interface FormatFlags {
  minus: boolean;
  plus: boolean;
  plusV: boolean;
  space: boolean;
  zero: boolean;
  wid: number | undefined;
  prec: number | undefined;
}

const plainFlags = (): FormatFlags => ({ minus: false, plus: false, plusV: false, space: false, zero: false, wid: undefined, prec: undefined });

/** Collects output; `unsupported` notes a format this implementation refuses rather than guesses. */
interface Printer {
  out: string;
  unsupported: string | undefined;
}

function writePadding(p: Printer, count: number, zero: boolean): void {
  if (count <= 0) return;
  // Go pads on the left with zeros under the 0 flag, strings included.
  p.out += (zero ? '0' : ' ').repeat(count);
}

function pad(p: Printer, text: string, f: FormatFlags): void {
  const width = f.wid === undefined ? 0 : f.wid - runeCount(text);
  if (f.minus) {
    p.out += text;
    writePadding(p, width, false);
  } else {
    writePadding(p, width, f.zero);
    p.out += text;
  }
}

function truncate(text: string, f: FormatFlags): string {
  return f.prec === undefined ? text : [...text].slice(0, f.prec).join('');
}

function badVerb(p: Printer, verb: string, value: Value, f: FormatFlags): void {
  p.out += `%!${verb}(`;
  if (value.kind === 'nil' || value.kind === 'none') p.out += '<nil>';
  else {
    p.out += `${typeName(value)}=`;
    printValue(p, value, 'v', f);
  }
  p.out += ')';
}

function formatInteger(p: Printer, value: bigint, signed: boolean, verb: string, f: FormatFlags): void {
  const asUnsigned = value < 0n ? value + 2n ** 64n : value;
  switch (verb) {
    case 'v':
    case 'd':
    case 'b':
    case 'o':
    case 'O':
    case 'x':
    case 'X':
      break;
    case 'c':
      pad(p, String.fromCodePoint(validRune(asUnsigned)), f);
      return;
    case 'q':
      pad(p, goQuote(String.fromCodePoint(validRune(asUnsigned)), "'", f.plus), f);
      return;
    case 'U': {
      const prec = f.prec !== undefined && f.prec > 4 ? f.prec : 4;
      pad(p, `U+${asUnsigned.toString(16).toUpperCase().padStart(prec, '0')}`, { ...f, zero: false });
      return;
    }
    default:
      badVerb(p, verb, signed ? { kind: 'int', value } : { kind: 'uint8', value: Number(value) }, f);
      return;
  }
  const negative = signed && value < 0n;
  const magnitude = negative ? -value : value;
  const base = verb === 'b' ? 2 : verb === 'o' || verb === 'O' ? 8 : verb === 'x' || verb === 'X' ? 16 : 10;
  let prec = 0;
  if (f.prec !== undefined) {
    prec = f.prec;
    // Precision 0 and value 0 print nothing but the padding.
    if (prec === 0 && magnitude === 0n) {
      writePadding(p, f.wid ?? 0, false);
      return;
    }
  } else if (f.zero && !f.minus && f.wid !== undefined) {
    prec = f.wid - (negative || f.plus || f.space ? 1 : 0);
  }
  let digits = magnitude.toString(base);
  if (verb === 'X') digits = digits.toUpperCase();
  digits = digits.padStart(prec, '0');
  if (verb === 'O') digits = `0o${digits}`;
  const sign = negative ? '-' : f.plus ? '+' : f.space ? ' ' : '';
  pad(p, sign + digits, { ...f, zero: false });
}

function validRune(value: bigint): number {
  if (value > 0x10ffffn || (value >= 0xd800n && value <= 0xdfffn)) return 0xfffd;
  return Number(value);
}

function formatString(p: Printer, text: string, verb: string, f: FormatFlags): void {
  switch (verb) {
    case 'v':
    case 's':
      pad(p, truncate(text, f), f);
      return;
    case 'q':
      pad(p, goQuote(truncate(text, f), '"', f.plus), f);
      return;
    case 'x':
    case 'X': {
      const bytes = utf8Bytes(text);
      const length = f.prec !== undefined && f.prec < bytes.length ? f.prec : bytes.length;
      if (length === 0) {
        writePadding(p, f.wid ?? 0, f.zero);
        return;
      }
      let encoded = bytes
        .slice(0, length)
        .map((b) => hex(b, 2))
        .join(f.space ? ' ' : '');
      if (verb === 'X') encoded = encoded.toUpperCase();
      const width = f.wid === undefined ? 0 : f.wid - encoded.length;
      if (!f.minus) writePadding(p, width, f.zero);
      p.out += encoded;
      if (f.minus) writePadding(p, width, false);
      return;
    }
    default:
      badVerb(p, verb, str(text), f);
  }
}

/** Go's printArg/printValue for one value, composite values element by element as Go does. */
function printValue(p: Printer, value: Value, verb: string, f: FormatFlags): void {
  if (value.kind === 'nil' || value.kind === 'none') {
    if (verb === 'v' || verb === 'T') pad(p, '<nil>', f);
    else badVerb(p, verb, value, f);
    return;
  }
  if (verb === 'T') {
    pad(p, truncate(typeName(value), f), f);
    return;
  }
  if (verb === 'p') {
    if (value.kind === 'labels' || value.kind === 'list') p.unsupported ??= 'the %p verb is not supported';
    else badVerb(p, verb, value, f);
    return;
  }
  switch (value.kind) {
    case 'bool':
      if (verb === 't' || verb === 'v') pad(p, value.value ? 'true' : 'false', f);
      else badVerb(p, verb, value, f);
      return;
    case 'int':
      formatInteger(p, value.value, true, verb, f);
      return;
    case 'uint8':
      formatInteger(p, BigInt(value.value), false, verb, f);
      return;
    case 'string':
      formatString(p, value.value, verb, f);
      return;
    case 'labels': {
      p.out += 'map[';
      const keys = [...value.value.keys()].sort(compareCodePoints);
      keys.forEach((key, i) => {
        if (i > 0) p.out += ' ';
        formatString(p, key, verb, f);
        p.out += ':';
        formatString(p, value.value.get(key) ?? '', verb, f);
      });
      p.out += ']';
      return;
    }
    case 'list':
      p.out += '[';
      value.value.forEach((item, i) => {
        if (i > 0) p.out += ' ';
        formatString(p, item, verb, f);
      });
      p.out += ']';
      return;
    case 'model':
      p.out += '{';
      MODEL_FIELDS.forEach((name, i) => {
        if (i > 0) p.out += ' ';
        if (f.plusV) p.out += `${name}:`;
        printValue(p, modelField(value.value, name), verb, f);
      });
      p.out += '}';
      return;
  }
}

/** fmt.Sprint of one value, i.e. %v: how an action prints its result and how sprig's strval converts. */
function sprint(value: Value): string {
  const p: Printer = { out: '', unsupported: undefined };
  printValue(p, value, 'v', plainFlags());
  return p.out;
}

type PrintfResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string };

/** fmt.Sprintf, without the # flag, explicit argument indexes and * widths. */
function sprintf(format: string, args: readonly Value[]): PrintfResult {
  const p: Printer = { out: '', unsupported: undefined };
  let argNum = 0;
  let i = 0;
  const end = format.length;
  const digitsAt = (from: number): [number | undefined, number] => {
    let to = from;
    while (to < end && /[0-9]/.test(format[to] ?? '')) to++;
    return to === from ? [undefined, to] : [Number(format.slice(from, to)), to];
  };
  while (i < end) {
    const last = i;
    while (i < end && format[i] !== '%') i++;
    p.out += format.slice(last, i);
    if (i >= end) break;
    i++;
    const f = plainFlags();
    for (; i < end; i++) {
      const c = format[i];
      if (c === '#') return { ok: false, error: 'the # flag is not supported' };
      if (c === '0') f.zero = !f.minus;
      else if (c === '+') f.plus = true;
      else if (c === '-') [f.minus, f.zero] = [true, false];
      else if (c === ' ') f.space = true;
      else break;
    }
    if (format[i] === '[' || format[i] === '*') return { ok: false, error: 'argument indexes and * widths are not supported' };
    [f.wid, i] = digitsAt(i);
    if (format[i] === '.') {
      i++;
      if (format[i] === '[' || format[i] === '*') return { ok: false, error: 'argument indexes and * precisions are not supported' };
      let prec: number | undefined;
      [prec, i] = digitsAt(i);
      f.prec = prec ?? 0;
    }
    if ((f.wid ?? 0) > 1e6 || (f.prec ?? 0) > 1e6) return { ok: false, error: 'a width or precision over 1000000 is not supported' };
    if (i >= end) {
      p.out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (verb === '%') {
      p.out += '%';
      continue;
    }
    const arg = args[argNum];
    if (arg === undefined) {
      p.out += `%!${verb}(MISSING)`;
      continue;
    }
    if (verb === 'v') [f.plusV, f.plus] = [f.plus, false];
    printValue(p, arg, verb, f);
    argNum++;
  }
  if (argNum < args.length) {
    p.out += '%!(EXTRA ';
    args.slice(argNum).forEach((arg, k) => {
      if (k > 0) p.out += ', ';
      if (arg.kind === 'nil' || arg.kind === 'none') p.out += '<nil>';
      else {
        p.out += `${typeName(arg)}=`;
        printValue(p, arg, 'v', plainFlags());
      }
    });
    p.out += ')';
  }
  if (p.unsupported !== undefined) return { ok: false, error: p.unsupported };
  return { ok: true, value: p.out };
}

/** What sprintf would refuse in a constant format, found when compiling rather than per container. */
function checkPrintfFormat(format: string): string | undefined {
  for (let i = format.indexOf('%'); i >= 0; i = format.indexOf('%', i + 1)) {
    const directive = /^%[-+ 0#]*(?:[[*]|[0-9]*\.?[[*]?)?/.exec(format.slice(i))?.[0] ?? '%';
    if (directive.includes('#')) return 'the # flag';
    if (/[[*]/.test(directive)) return 'argument indexes and * widths';
    const verbAt = i + directive.length;
    // %% prints a percent sign and consumes nothing.
    if (format[verbAt] === '%' && directive === '%') i = verbAt;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Go's simple case mappings (strings.ToUpper/ToLower/Title map rune by rune; JavaScript's full
// mappings turn ß into SS and İ into i̇, which Go does not).

function singleRune(mapped: string, original: number): number {
  const cp = mapped.codePointAt(0) ?? original;
  return mapped.length === (cp > 0xffff ? 2 : 1) ? cp : original;
}

function simpleUpper(cp: number): number {
  if (cp < 0x80) return cp >= 0x61 && cp <= 0x7a ? cp - 0x20 : cp;
  // Greek letters with ypogegrammeni: the full mapping is two letters, the simple one the capital.
  if (cp >= 0x1f80 && cp <= 0x1faf) return (cp & 0xf) < 8 ? cp + 8 : cp;
  if (cp === 0x1fb3 || cp === 0x1fc3 || cp === 0x1ff3) return cp + 9;
  if (cp === 0x1fbc || cp === 0x1fcc || cp === 0x1ffc) return cp;
  return singleRune(String.fromCodePoint(cp).toUpperCase(), cp);
}

function simpleLower(cp: number): number {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp;
  if (cp === 0x130) return 0x69;
  return singleRune(String.fromCodePoint(cp).toLowerCase(), cp);
}

function simpleTitle(cp: number): number {
  // Digraphs have a title case of their own; Georgian letters are their own title case.
  if (cp >= 0x1c4 && cp <= 0x1cc) return cp - ((cp - 0x1c4) % 3) + 1;
  if (cp >= 0x1f1 && cp <= 0x1f3) return 0x1f2;
  if ((cp >= 0x10d0 && cp <= 0x10fa) || (cp >= 0x10fd && cp <= 0x10ff)) return cp;
  return simpleUpper(cp);
}

function mapRunes(text: string, map: (cp: number) => number): string {
  let out = '';
  for (const char of text) out += String.fromCodePoint(map(char.codePointAt(0) ?? 0));
  return out;
}

const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}]$/u;
// Go's unicode.IsSpace: JavaScript's \s also has U+FEFF and lacks U+0085.
const GO_SPACE = '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/** strings.Title: the first letter of each word to title case, words split as Go's isSeparator does. */
function title(text: string): string {
  let prev = 0x20;
  return mapRunes(text, (cp) => {
    const separator =
      prev <= 0x7f
        ? !/[0-9A-Za-z_]/.test(String.fromCodePoint(prev))
        : !LETTER_OR_DIGIT.test(String.fromCodePoint(prev)) && GO_SPACE.includes(String.fromCodePoint(prev));
    prev = cp;
    return separator ? simpleTitle(cp) : cp;
  });
}

function trimRunes(text: string, drop: (char: string) => boolean): string {
  const chars = [...text];
  let from = 0;
  let to = chars.length;
  while (from < to && drop(chars[from] ?? '')) from++;
  while (to > from && drop(chars[to - 1] ?? '')) to--;
  return chars.slice(from, to).join('');
}

/**
 * Whether a character of trimRunes is in `cutset`, as `cutset.includes(char)` says, with a set
 * instead of a search of the cutset for each character (both come from labels). A lone surrogate
 * is found inside a pair too, as includes finds it.
 */
function inCutset(cutset: string): (char: string) => boolean {
  const chars = new Set<string>();
  for (const char of cutset) {
    chars.add(char);
    if (char.length === 2) {
      chars.add(char[0] as string);
      chars.add(char[1] as string);
    }
  }
  return (char) => chars.has(char);
}

/** strings.Replace(src, old, new, -1), where an empty `old` matches before every rune and at the end. */
function replaceAll(src: string, old: string, replacement: string): string {
  if (old === '') return replacement + [...src].map((char) => char + replacement).join('');
  return splitText(src, old).join(replacement);
}

/** sprig's empty(): what `default` treats as unset. */
function isEmpty(value: Value): boolean {
  switch (value.kind) {
    case 'none':
    case 'nil':
      return true;
    case 'string':
      return value.value === '';
    case 'labels':
      return value.value.size === 0;
    case 'list':
      return value.value.length === 0;
    case 'bool':
      return !value.value;
    case 'int':
      return value.value === 0n;
    case 'uint8':
      return value.value === 0;
    case 'model':
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Functions, with their Go parameter types: 'string', 'any' (interface{}), 'value' (reflect.Value).

type Param = 'string' | 'any' | 'value';
type CallResult = Value | { readonly callError: string };

interface FunctionSpec {
  readonly params: readonly Param[];
  readonly variadic?: Param;
  readonly call: (args: readonly Value[]) => CallResult;
}

const argText = (args: readonly Value[], i: number): string => {
  const arg = args[i];
  return arg?.kind === 'string' ? arg.value : '';
};
const bool = (value: boolean): Value => ({ kind: 'bool', value });

/** Go's builtin index on the values a default rule has: maps, []string and strings. */
function index(args: readonly Value[]): CallResult {
  let item = args[0] ?? NONE;
  if (item.kind === 'none' || item.kind === 'nil') return { callError: 'index of untyped nil' };
  for (const key of args.slice(1)) {
    if (item.kind === 'labels') {
      if (key.kind === 'none' || key.kind === 'nil') return { callError: 'value is nil; should be of type string' };
      if (key.kind !== 'string') return { callError: `value has type ${typeName(key)}; should be string` };
      item = str(item.value.get(key.value) ?? '');
    } else if (item.kind === 'list' || item.kind === 'string') {
      if (key.kind === 'none' || key.kind === 'nil') return { callError: 'cannot index slice/array with nil' };
      if (key.kind !== 'int' && key.kind !== 'uint8') return { callError: `cannot index slice/array with type ${typeName(key)}` };
      const position = key.kind === 'int' ? key.value : BigInt(key.value);
      const elements: readonly (string | number)[] = item.kind === 'list' ? item.value : utf8Bytes(item.value);
      if (position < 0n || position > BigInt(elements.length)) return { callError: `index out of range: ${position}` };
      const element = elements[Number(position)];
      // Go checks against the length inclusively, so the index equal to it reaches reflect, which panics.
      if (element === undefined) return { callError: `reflect: ${item.kind === 'list' ? 'slice' : 'string'} index out of range` };
      item = typeof element === 'string' ? str(element) : { kind: 'uint8', value: element };
    } else {
      return { callError: `can't index item of type ${typeName(item)}` };
    }
  }
  return item;
}

const FUNCTIONS = {
  normalize: { params: ['string'], call: (a) => str(normalizeName(argText(a, 0))) },
  index: { params: ['value'], variadic: 'value', call: index },
  lower: { params: ['string'], call: (a) => str(mapRunes(argText(a, 0), simpleLower)) },
  upper: { params: ['string'], call: (a) => str(mapRunes(argText(a, 0), simpleUpper)) },
  title: { params: ['string'], call: (a) => str(title(argText(a, 0))) },
  trim: { params: ['string'], call: (a) => str(trimRunes(argText(a, 0), (c) => GO_SPACE.includes(c))) },
  trimAll: { params: ['string', 'string'], call: (a) => str(trimRunes(argText(a, 1), inCutset(argText(a, 0)))) },
  trimPrefix: { params: ['string', 'string'], call: (a) => str(argText(a, 1).startsWith(argText(a, 0)) ? argText(a, 1).slice(argText(a, 0).length) : argText(a, 1)) },
  trimSuffix: {
    params: ['string', 'string'],
    call: (a) => str(argText(a, 0) !== '' && argText(a, 1).endsWith(argText(a, 0)) ? argText(a, 1).slice(0, -argText(a, 0).length) : argText(a, 1)),
  },
  replace: { params: ['string', 'string', 'string'], call: (a) => str(replaceAll(argText(a, 2), argText(a, 0), argText(a, 1))) },
  default: {
    params: ['any'],
    variadic: 'any',
    call: (a) => {
      const given = a[1];
      const chosen = given === undefined || isEmpty(given) ? (a[0] ?? NONE) : given;
      // default returns interface{}; a nil one becomes no value once the pipeline unwraps it.
      return chosen.kind === 'nil' ? NONE : chosen;
    },
  },
  printf: {
    params: ['string'],
    variadic: 'any',
    call: (a) => {
      const result = sprintf(argText(a, 0), a.slice(1));
      return result.ok ? str(result.value) : { callError: result.error };
    },
  },
  contains: { params: ['string', 'string'], call: (a) => bool(includesText(argText(a, 1), argText(a, 0))) },
  hasPrefix: { params: ['string', 'string'], call: (a) => bool(argText(a, 1).startsWith(argText(a, 0))) },
  hasSuffix: { params: ['string', 'string'], call: (a) => bool(argText(a, 1).endsWith(argText(a, 0))) },
  splitList: {
    params: ['string', 'string'],
    call: (a) => ({ kind: 'list', value: argText(a, 0) === '' ? [...argText(a, 1)] : splitText(argText(a, 1), argText(a, 0)) }),
  },
  quote: {
    params: [],
    variadic: 'any',
    call: (a) =>
      str(
        a
          .filter((v) => v.kind !== 'nil' && v.kind !== 'none')
          .map((v) => goQuote(v.kind === 'string' ? v.value : sprint(v)))
          .join(' '),
      ),
  },
} satisfies Record<string, FunctionSpec>;

// ---------------------------------------------------------------------------------------------
// Execution: Go's text/template/exec.go for the nodes above.

interface State {
  readonly source: string;
  /** The node being executed, which Go names in its errors (`s.at(node)`). */
  node: Node | undefined;
}

function execError(state: State, message: string): Failure {
  const node = state.node;
  if (node === undefined) return { failure: `template: ${TEMPLATE_NAME}: ${message}` };
  const before = state.source.slice(0, node.pos);
  const lineStart = before.lastIndexOf('\n') + 1;
  const location = `${TEMPLATE_NAME}:${lineAt(state.source, node.pos)}:${utf8Length(before.slice(lineStart))}`;
  return { failure: `template: ${location}: executing "${TEMPLATE_NAME}" at <${nodeString(node)}>: ${message}` };
}

type Out = Value | Failure;

function validateType(state: State, value: Value, param: Param | null): Out {
  if (value.kind === 'none') {
    if (param === null || param === 'value') return NONE;
    if (param === 'any') return NIL;
    return execError(state, `invalid value; expected ${param}`);
  }
  if (param === 'string' && value.kind !== 'string') return execError(state, `wrong type for value; expected string; got ${typeName(value)}`);
  return value;
}

function idealConstant(state: State, node: NumberNode): Out {
  state.node = node;
  if (node.int === undefined) return execError(state, `${node.text} overflows int`);
  return { kind: 'int', value: node.int };
}

function evalArg(state: State, dot: Value, param: Param | null, node: ArgNode): Out {
  state.node = node;
  let value: Out;
  switch (node.type) {
    case 'dot':
      return validateType(state, dot, param);
    case 'nil':
      if (param === 'any') return NIL;
      if (param === 'value' || param === null) return NONE;
      return execError(state, `cannot assign nil to ${param}`);
    case 'field':
      value = evalFieldChain(state, dot, node.ident, [node], undefined);
      break;
    case 'pipe':
      value = evalPipeline(state, dot, node);
      break;
    case 'identifier':
      value = evalFunction(state, dot, node, node, undefined, undefined);
      break;
    case 'chain':
      value = evalChain(state, dot, node, undefined, undefined);
      break;
    case 'bool':
      if (param === 'string') return execError(state, `expected string; found ${nodeString(node)}`);
      return bool(node.value);
    case 'string':
      return str(node.text);
    case 'number':
      if (param === 'string') return execError(state, `expected string; found ${nodeString(node)}`);
      return idealConstant(state, node);
  }
  return isFailure(value) ? value : validateType(state, value, param);
}

function evalField(state: State, name: string, args: readonly ArgNode[] | undefined, final: Value | undefined, receiver: Value): Out {
  if (receiver.kind === 'none') return NONE;
  const hasArgs = (args !== undefined && args.length > 1) || final !== undefined;
  if (receiver.kind === 'model') {
    const field = MODEL_FIELDS.find((candidate) => candidate === name);
    if (field !== undefined) {
      if (hasArgs) return execError(state, `${name} has arguments but cannot be invoked as function`);
      return modelField(receiver.value, field);
    }
  } else if (receiver.kind === 'labels') {
    if (hasArgs) return execError(state, `${name} is not a method but has arguments`);
    const value = receiver.value.get(name);
    // Go's default missingkey option: a missing key is no value, which prints "<no value>".
    return value === undefined ? NONE : str(value);
  }
  return execError(state, `can't evaluate field ${name} in type ${typeName(receiver)}`);
}

/** Go's evalFieldChain: .X.Y.Z, the last field given the arguments; errors name the node last visited. */
function evalFieldChain(state: State, receiver: Value, ident: readonly string[], args: readonly ArgNode[] | undefined, final: Value | undefined): Out {
  let current = receiver;
  for (let i = 0; i < ident.length; i++) {
    const last = i === ident.length - 1;
    const next = evalField(state, ident[i] ?? '', last ? args : undefined, last ? final : undefined, current);
    if (isFailure(next)) return next;
    current = next;
  }
  return current;
}

function evalChain(state: State, dot: Value, chain: ChainNode, args: readonly ArgNode[] | undefined, final: Value | undefined): Out {
  state.node = chain;
  const base = evalArg(state, dot, null, chain.node);
  if (isFailure(base)) return base;
  return evalFieldChain(state, base, chain.fields, args, final);
}

function evalFunction(
  state: State,
  dot: Value,
  ident: IdentifierNode,
  cmd: CommandNode | IdentifierNode,
  args: readonly ArgNode[] | undefined,
  final: Value | undefined,
): Out {
  state.node = ident;
  const spec: FunctionSpec = FUNCTIONS[ident.name];
  const name = ident.name;
  const rest = args === undefined ? [] : args.slice(1);
  const numIn = rest.length + (final === undefined ? 0 : 1);
  const numFixed = spec.variadic === undefined ? rest.length : spec.params.length;
  if (spec.variadic !== undefined) {
    if (numIn < numFixed) return execError(state, `wrong number of args for ${name}: want at least ${numFixed} got ${rest.length}`);
  } else if (numIn !== spec.params.length) {
    return execError(state, `wrong number of args for ${name}: want ${spec.params.length} got ${numIn}`);
  }
  const argv: Value[] = [];
  for (let i = 0; i < rest.length; i++) {
    const node = rest[i];
    const param = i < numFixed ? spec.params[i] : spec.variadic;
    if (node === undefined || param === undefined) continue;
    const value = evalArg(state, dot, param, node);
    if (isFailure(value)) return value;
    argv.push(value);
  }
  if (final !== undefined) {
    const param = spec.variadic === undefined || numIn - 1 < numFixed ? spec.params[numIn - 1] : spec.variadic;
    const value = validateType(state, final, param ?? 'any');
    if (isFailure(value)) return value;
    argv.push(value);
  }
  const result = spec.call(argv);
  if ('callError' in result) {
    state.node = cmd;
    return execError(state, `error calling ${name}: ${result.callError}`);
  }
  return result;
}

function notAFunction(state: State, args: readonly ArgNode[], final: Value | undefined): Failure | undefined {
  if (args.length > 1 || final !== undefined) return execError(state, `can't give argument to non-function ${nodeString(args[0] ?? { type: 'dot', pos: 0 })}`);
  return undefined;
}

function evalCommand(state: State, dot: Value, cmd: CommandNode, final: Value | undefined): Out {
  const first = cmd.args[0];
  if (first === undefined) return execError(state, 'empty command');
  switch (first.type) {
    case 'field':
      state.node = first;
      return evalFieldChain(state, dot, first.ident, cmd.args, final);
    case 'chain':
      return evalChain(state, dot, first, cmd.args, final);
    case 'identifier':
      return evalFunction(state, dot, first, cmd, cmd.args, final);
    case 'pipe':
      return notAFunction(state, cmd.args, final) ?? evalPipeline(state, dot, first);
  }
  state.node = first;
  const refused = notAFunction(state, cmd.args, final);
  if (refused !== undefined) return refused;
  switch (first.type) {
    case 'bool':
      return bool(first.value);
    case 'dot':
      return dot;
    case 'nil':
      return execError(state, 'nil is not a command');
    case 'number':
      return idealConstant(state, first);
    case 'string':
      return str(first.text);
  }
}

function evalPipeline(state: State, dot: Value, pipe: PipeNode): Out {
  state.node = pipe;
  let value: Value | undefined;
  for (const cmd of pipe.cmds) {
    const result = evalCommand(state, dot, cmd, value);
    if (isFailure(result)) return result;
    // A pipeline unwraps interface{} results; a nil one is no value.
    value = result.kind === 'nil' ? NONE : result;
  }
  return value ?? NONE;
}

function execute(source: string, nodes: readonly Node[], model: DefaultRuleModel): RenderResult {
  const labels = new Map(Object.entries(model.Labels));
  const dot: Value = { kind: 'model', value: { Name: model.Name, ContainerName: model.ContainerName, Labels: labels } };
  const state: State = { source, node: undefined };
  let out = '';
  for (const node of nodes) {
    state.node = node;
    if (node.type === 'text') {
      out += node.text;
    } else if (node.type === 'action') {
      const value = evalPipeline(state, dot, node.pipe);
      if (isFailure(value)) return { ok: false, error: value.failure };
      out += value.kind === 'none' ? '<no value>' : sprint(value);
    }
  }
  return { ok: true, value: out };
}

/** Refuses printf formats given as constants that use what sprintf refuses. */
function checkConstantFormats(nodes: readonly Node[]): string | undefined {
  const visit = (node: Node): string | undefined => {
    switch (node.type) {
      case 'action':
        return visit(node.pipe);
      case 'pipe':
        for (const cmd of node.cmds) {
          const found = visit(cmd);
          if (found !== undefined) return found;
        }
        return undefined;
      case 'command': {
        const [first, format] = node.args;
        if (first?.type === 'identifier' && first.name === 'printf' && format?.type === 'string') {
          const refused = checkPrintfFormat(format.text);
          if (refused !== undefined) return `printf ${format.quoted} uses ${refused}, which is not supported`;
        }
        for (const arg of node.args) {
          const found = visit(arg);
          if (found !== undefined) return found;
        }
        return undefined;
      }
      case 'chain':
        return visit(node.node);
      default:
        return undefined;
    }
  };
  for (const node of nodes) {
    const found = visit(node);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Compiles a default rule template as Traefik's MakeDefaultRuleTemplate does (Go text/template with
 * sprig's functions and `normalize`), for the supported subset; rendering never throws.
 */
export function compileDefaultRule(template: string): CompiledRule {
  const nodes = parseTemplate(template);
  if (isFailure(nodes)) return { ok: false, error: nodes.failure };
  const refused = checkConstantFormats(nodes);
  if (refused !== undefined) return { ok: false, error: `template: ${TEMPLATE_NAME}: ${refused}` };
  return { ok: true, render: (model) => execute(template, nodes, model) };
}
