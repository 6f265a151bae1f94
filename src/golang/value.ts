/**
 * The Go values the emulated packages pass around, with the names Go's reflection gives their
 * types: what fmt prints and what text/template evaluates. Only the kinds the callers need exist:
 * strings, integers, booleans, map[string]string, []string and structs of them.
 */
export type Value =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'uint8'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'map'; readonly value: ReadonlyMap<string, string> }
  | { readonly kind: 'slice'; readonly value: readonly string[] }
  | GoStruct
  /** A nil interface{}. */
  | { readonly kind: 'nil' }
  /** Go's invalid reflect.Value: a missing map key; text/template prints it as "<no value>". */
  | { readonly kind: 'none' };

/** A struct: its type as Go prints it (`struct { Name string }`), and its fields in order. */
export interface GoStruct {
  readonly kind: 'struct';
  readonly type: string;
  readonly fields: readonly (readonly [name: string, value: Value])[];
}

export const NONE: Value = { kind: 'none' };
export const NIL: Value = { kind: 'nil' };

export const goString = (value: string): Value => ({ kind: 'string', value });
export const goBool = (value: boolean): Value => ({ kind: 'bool', value });
export const goInt = (value: bigint): Value => ({ kind: 'int', value });
export const goMap = (entries: Readonly<Record<string, string>>): Value => ({
  kind: 'map',
  value: new Map(Object.entries(entries)),
});

/** reflect.Type.String() of a value. */
export function typeName(value: Value): string {
  switch (value.kind) {
    case 'string':
    case 'int':
    case 'uint8':
    case 'bool':
      return value.kind;
    case 'map':
      return 'map[string]string';
    case 'slice':
      return '[]string';
    case 'struct':
      return value.type;
    case 'nil':
      return 'interface {}';
    case 'none':
      return 'invalid';
  }
}
