/**
 * Functions as text/template calls them: each with its Go parameter types, which the executor
 * checks as Go's reflection does, and Go's builtins (index and printf; the others are named so
 * that a template using one is told it is not supported rather than undefined).
 */
import { sprintf } from '../fmt.ts';
import { utf8Bytes } from '../utf8.ts';
import { goString, NONE, typeName, type Value } from '../value.ts';

/** A parameter's Go type: `string`, `interface{}` (`any`) or `reflect.Value` (`value`). */
export type Param = 'string' | 'any' | 'value';

/** What a function returns: a value, or the error Go's function would return. */
export type CallResult = Value | { readonly callError: string };

export interface TemplateFunction {
  readonly params: readonly Param[];
  /** The type of the final `...` parameter, for a variadic function. */
  readonly variadic?: Param;
  readonly call: (args: readonly Value[]) => CallResult;
}

/** template.FuncMap. */
export type FuncMap = Readonly<Record<string, TemplateFunction>>;

/** The text of a string argument (the executor has checked its type). */
export const argText = (args: readonly Value[], i: number): string => {
  const arg = args[i];
  return arg?.kind === 'string' ? arg.value : '';
};

/** Go's builtin index on the values there are: maps, []string and strings. */
function index(args: readonly Value[]): CallResult {
  let item = args[0] ?? NONE;
  if (item.kind === 'none' || item.kind === 'nil') return { callError: 'index of untyped nil' };
  for (const key of args.slice(1)) {
    if (item.kind === 'map') {
      if (key.kind === 'none' || key.kind === 'nil') return { callError: 'value is nil; should be of type string' };
      if (key.kind !== 'string') return { callError: `value has type ${typeName(key)}; should be string` };
      item = goString(item.value.get(key.value) ?? '');
    } else if (item.kind === 'slice' || item.kind === 'string') {
      if (key.kind === 'none' || key.kind === 'nil') return { callError: 'cannot index slice/array with nil' };
      if (key.kind !== 'int' && key.kind !== 'uint8')
        return { callError: `cannot index slice/array with type ${typeName(key)}` };
      const position = key.kind === 'int' ? key.value : BigInt(key.value);
      const elements: readonly (string | number)[] = item.kind === 'slice' ? item.value : utf8Bytes(item.value);
      if (position < 0n || position > BigInt(elements.length)) return { callError: `index out of range: ${position}` };
      const element = elements[Number(position)];
      // Go checks against the length inclusively, so the index equal to it reaches reflect, which panics.
      if (element === undefined)
        return { callError: `reflect: ${item.kind === 'slice' ? 'slice' : 'string'} index out of range` };
      item = typeof element === 'string' ? goString(element) : { kind: 'uint8', value: element };
    } else {
      return { callError: `can't index item of type ${typeName(item)}` };
    }
  }
  return item;
}

function printf(args: readonly Value[]): CallResult {
  const result = sprintf(argText(args, 0), args.slice(1));
  return result.ok ? goString(result.value) : { callError: result.error };
}

/** The builtins implemented here. */
export const BUILTINS = {
  index: { params: ['value'], variadic: 'value', call: index },
  printf: { params: ['string'], variadic: 'any', call: printf },
} as const satisfies FuncMap;

/** Every builtin Go's text/template has. */
export const BUILTIN_NAMES: ReadonlySet<string> = new Set(
  'and call html index slice js len not or print printf println urlquery eq ge gt le lt ne'.split(' '),
);
