/**
 * Go's fmt, for the verbs and flags of strings, integers, booleans and the composite values of
 * value.ts: Sprint (%v) and Sprintf without the # flag, explicit argument indexes and * widths,
 * which are refused rather than guessed.
 */
import { quote, quoteRune } from './strconv.ts';
import { isPrint } from './unicode.ts';
import { compareStrings, runeCount, utf8Bytes } from './utf8.ts';
import { typeName, type Value } from './value.ts';

interface FormatFlags {
  minus: boolean;
  plus: boolean;
  plusV: boolean;
  space: boolean;
  zero: boolean;
  wid: number | undefined;
  prec: number | undefined;
}

const plainFlags = (): FormatFlags => ({
  minus: false,
  plus: false,
  plusV: false,
  space: false,
  zero: false,
  wid: undefined,
  prec: undefined,
});

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

function validRune(value: bigint): number {
  if (value > 0x10ffffn || (value >= 0xd800n && value <= 0xdfffn)) return 0xfffd;
  return Number(value);
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
      pad(p, quoteRune(validRune(asUnsigned), f.plus), f);
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

function formatString(p: Printer, text: string, verb: string, f: FormatFlags): void {
  switch (verb) {
    case 'v':
    case 's':
      pad(p, truncate(text, f), f);
      return;
    case 'q':
      pad(p, quote(truncate(text, f), f.plus), f);
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
        .map((b) => b.toString(16).padStart(2, '0'))
        .join(f.space ? ' ' : '');
      if (verb === 'X') encoded = encoded.toUpperCase();
      const width = f.wid === undefined ? 0 : f.wid - encoded.length;
      if (!f.minus) writePadding(p, width, f.zero);
      p.out += encoded;
      if (f.minus) writePadding(p, width, false);
      return;
    }
    default:
      badVerb(p, verb, { kind: 'string', value: text }, f);
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
    if (value.kind === 'map' || value.kind === 'slice') p.unsupported ??= 'the %p verb is not supported';
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
    case 'map': {
      p.out += 'map[';
      const keys = [...value.value.keys()].sort(compareStrings);
      keys.forEach((key, i) => {
        if (i > 0) p.out += ' ';
        formatString(p, key, verb, f);
        p.out += ':';
        formatString(p, value.value.get(key) ?? '', verb, f);
      });
      p.out += ']';
      return;
    }
    case 'slice':
      p.out += '[';
      value.value.forEach((item, i) => {
        if (i > 0) p.out += ' ';
        formatString(p, item, verb, f);
      });
      p.out += ']';
      return;
    case 'struct':
      p.out += '{';
      value.fields.forEach(([name, field], i) => {
        if (i > 0) p.out += ' ';
        if (f.plusV) p.out += `${name}:`;
        printValue(p, field, verb, f);
      });
      p.out += '}';
      return;
  }
}

/** fmt.Sprint of one value, i.e. %v. */
export function sprint(value: Value): string {
  const p: Printer = { out: '', unsupported: undefined };
  printValue(p, value, 'v', plainFlags());
  return p.out;
}

export type PrintfResult =
  { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string };

/** fmt.Sprintf, without the # flag, explicit argument indexes and * widths. */
export function sprintf(format: string, args: readonly Value[]): PrintfResult {
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
    if (format[i] === '[' || format[i] === '*')
      return { ok: false, error: 'argument indexes and * widths are not supported' };
    [f.wid, i] = digitsAt(i);
    // A final '.' is the verb, not a precision.
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (format[i] === '[' || format[i] === '*')
        return { ok: false, error: 'argument indexes and * precisions are not supported' };
      let prec: number | undefined;
      [prec, i] = digitsAt(i);
      f.prec = prec ?? 0;
    }
    if ((f.wid ?? 0) > 1e6 || (f.prec ?? 0) > 1e6)
      return { ok: false, error: 'a width or precision over 1000000 is not supported' };
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

/** What sprintf would refuse in `format` ("the # flag"), found before any argument is known. */
export function unsupportedPrintfFeature(format: string): string | undefined {
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

/** Go's %#U of a rune, as syntax errors name a character: `U+0023 '#'`. */
export function formatRune(cp: number): string {
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return isPrint(cp) ? `${code} '${String.fromCodePoint(cp)}'` : code;
}
