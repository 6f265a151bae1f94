import { parseBool } from '../../golang/strconv.ts';
import type { ConfigScalar } from '../config-tree.ts';
import type { FieldType } from '../schema/schema-fields.ts';

export type ScalarResult =
  { readonly ok: true; readonly value: ConfigScalar } | { readonly ok: false; readonly message: string };

// Go's time.ParseDuration syntax: a sequence of decimal numbers, each with a unit.
const GO_DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const FLOAT = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** More digits than any 64-bit integer has (after leading zeros), so out of range whatever they are. */
const MAX_INTEGER_DIGITS = 20;

function integer(text: string, min: bigint, max: bigint): ConfigScalar | undefined {
  if (!/^[-+]?\d+$/.test(text)) return undefined;
  // BigInt reads decimal digits in more than linear time: a 64 KiB value of digits is refused
  // by its length, which gives the same answer.
  const sign = text[0] === '-' || text[0] === '+' ? 1 : 0;
  let first = sign;
  while (first < text.length - 1 && text[first] === '0') first++;
  if (text.length - first > MAX_INTEGER_DIGITS) return undefined;
  const value = BigInt(text.slice(0, sign) + text.slice(first));
  if (value < min || value > max) return undefined;
  // Beyond 2^53 a JS number would round: keep the digits.
  return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
}

/** Parses one label value the way Traefik's parser does for a field of the given scalar type. */
export function parseScalar(text: string, type: FieldType): ScalarResult {
  if (type.kind !== 'scalar') return { ok: false, message: 'expects an object, not a single value' };
  switch (type.scalar) {
    case 'string': {
      if (type.enumValues === undefined) return { ok: true, value: text };
      const match = type.enumValues.find((candidate) => candidate.toLowerCase() === text.toLowerCase());
      if (match === undefined) return { ok: false, message: `"${text}" is not one of ${type.enumValues.join(', ')}` };
      // Written as given, as Traefik's providers pass it on: Traefik itself decides at run time
      // (sameSite is lower-cased there; a ruleSyntax other than "v2" exactly means v3), and two
      // containers spelling a value differently conflict under Traefik's merge as they do here.
      return { ok: true, value: text };
    }
    case 'bool': {
      // Go's strconv.ParseBool, which Traefik's parser uses.
      const value = parseBool(text);
      return value === undefined ? { ok: false, message: `expects true or false, got "${text}"` } : { ok: true, value };
    }
    case 'int': {
      const value = integer(text, INT64_MIN, INT64_MAX);
      return value === undefined
        ? { ok: false, message: `expects a whole number, got "${text}"` }
        : { ok: true, value };
    }
    case 'uint': {
      const value = /^-/.test(text) ? undefined : integer(text, 0n, UINT64_MAX);
      return value === undefined
        ? { ok: false, message: `expects a whole number of 0 or more, got "${text}"` }
        : { ok: true, value };
    }
    case 'float':
      return FLOAT.test(text)
        ? { ok: true, value: Number(text) }
        : { ok: false, message: `expects a number, got "${text}"` };
    case 'duration':
      if (/^[-+]?\d+$/.test(text) || GO_DURATION.test(text)) return { ok: true, value: text };
      return { ok: false, message: `expects a duration such as "10s", "1m30s" or a number of seconds, got "${text}"` };
  }
}
