/**
 * The lexer of Go's text/template (text/template/parse/lex.go) with the default delimiters, run to
 * completion instead of lazily: the same items, trim markers and comments, and Go's error texts.
 */
import { formatRune } from '../fmt.ts';
import { quote } from '../strconv.ts';
import { isPrint } from '../unicode.ts';

const EOF = -1;

export type ItemType =
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

export interface Item {
  readonly type: ItemType;
  readonly pos: number;
  readonly val: string;
}

// `break` and `continue` are keywords, as Go lexes them when no function has those names.
const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);
const ALPHANUMERIC = /^[\p{L}\p{Nd}_]$/u;

function isSpace(cp: number): boolean {
  return cp === 0x20 || cp === 0x09 || cp === 0x0d || cp === 0x0a;
}

function isAlphaNumeric(cp: number): boolean {
  return cp >= 0 && ALPHANUMERIC.test(String.fromCodePoint(cp));
}

/** The items of a template, ending with an `eof` or an `error` item. */
export function lex(input: string): Item[] {
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
    if (!scanNumber()) return errorf(`bad number syntax: ${quote(input.slice(start, pos))}`);
    const sign = peek();
    if (sign === 0x2b || sign === 0x2d) {
      if (!scanNumber() || input[pos - 1] !== 'i')
        return errorf(`bad number syntax: ${quote(input.slice(start, pos))}`);
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

  for (let state: State | null = lexText; state !== null;) state = state();
  return items;
}
