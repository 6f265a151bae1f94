import { traefikDynamicSchema, type FieldSpec, type StructName } from './traefik-dynamic-schema.ts';
import { parseTraefikVersion, type TraefikVersion } from './traefik-version.ts';

export type ScalarKind = 'string' | 'bool' | 'int' | 'uint' | 'float' | 'duration';

/** A schema type expression, parsed. */
export type FieldType =
  | {
      readonly kind: 'scalar';
      readonly scalar: ScalarKind;
      readonly enumValues?: readonly string[];
      /** The release that introduced a value, by its lower-case spelling, where it is newer than its field. */
      readonly enumSince?: ReadonlyMap<string, TraefikVersion>;
    }
  | { readonly kind: 'list'; readonly item: FieldType }
  | { readonly kind: 'map'; readonly value: FieldType | 'raw' }
  | { readonly kind: 'struct'; readonly name: StructName };

/** One field of a Traefik struct, with everything the decoders and encoders need to know. */
export interface SchemaField {
  /** Canonical (JSON) spelling, used for keys and rendering. */
  readonly key: string;
  readonly type: FieldType;
  /** `field=true` alone creates the object with Traefik's defaults. */
  readonly allowEmpty: boolean;
  /** Labels set this list as a single object under this name (`server`). */
  readonly labelName: string | undefined;
  /** The value names other resources (routers' services, middlewares, ...). */
  readonly ref: boolean;
  /** Set by the provider itself (appproxy, as Traefik's label providers do), never by users. */
  readonly provider: boolean;
  /** Traefik accepts the field from labels. */
  readonly label: boolean;
  /** Traefik reads the field from its KV providers (false: consumed by the provider, never written). */
  readonly kv: boolean;
  /** The Traefik release that introduced the field, where it is newer than 3.0. */
  readonly since: TraefikVersion | undefined;
}

const SCALARS = new Set<string>(['string', 'bool', 'int', 'uint', 'float', 'duration']);

function isStructName(name: string): name is StructName {
  return Object.hasOwn(traefikDynamicSchema, name);
}

/**
 * Parses a type expression such as `Server[]`, `map<string>`, `enum(a|b)[]`. Throws on a schema typo (a programming
 * error).
 */
function parseTypeExpression(expression: string): FieldType {
  if (expression.endsWith('[]')) {
    return { kind: 'list', item: parseTypeExpression(expression.slice(0, -2)) };
  }
  const map = /^map<(.+)>$/.exec(expression);
  if (map?.[1] !== undefined) {
    return { kind: 'map', value: map[1] === 'raw' ? 'raw' : parseTypeExpression(map[1]) };
  }
  const enumeration = /^enum\((.+)\)$/.exec(expression);
  if (enumeration?.[1] !== undefined) {
    const enumValues: string[] = [];
    const enumSince = new Map<string, TraefikVersion>();
    for (const entry of enumeration[1].split('|')) {
      // `hrw@3.6`: a value Traefik has read since 3.6.
      const [value = '', since] = entry.split('@');
      enumValues.push(value);
      if (since !== undefined) enumSince.set(value.toLowerCase(), schemaVersion(since, expression));
    }
    return enumSince.size === 0
      ? { kind: 'scalar', scalar: 'string', enumValues }
      : { kind: 'scalar', scalar: 'string', enumValues, enumSince };
  }
  if (SCALARS.has(expression)) return { kind: 'scalar', scalar: expression as ScalarKind };
  if (isStructName(expression)) return { kind: 'struct', name: expression };
  throw new Error(`schema: unknown type expression ${JSON.stringify(expression)}`);
}

function schemaVersion(text: string, where: string): TraefikVersion {
  const version = parseTraefikVersion(text);
  if (version === undefined) throw new Error(`schema: bad version ${JSON.stringify(text)} in ${JSON.stringify(where)}`);
  return version;
}

/** One field's entry of the table, parsed (exported for the test that checks the table against Traefik's structs). */
export function parseFieldSpec(key: string, spec: FieldSpec): SchemaField {
  const text = typeof spec === 'string' ? spec : spec.t;
  const words = text.split(' ');
  const typeWord = words[0] ?? '';
  const asIndex = words.indexOf('as');
  const sinceIndex = words.indexOf('since');
  return {
    key,
    type: parseTypeExpression(typeWord),
    allowEmpty: words.includes('allowEmpty'),
    labelName: asIndex >= 0 ? words[asIndex + 1] : undefined,
    ref: words.includes('ref'),
    provider: words.includes('provider'),
    label: typeof spec === 'string' || spec.label !== false,
    kv: typeof spec === 'string' || spec.kv !== false,
    since: sinceIndex >= 0 ? schemaVersion(words[sinceIndex + 1] ?? '', text) : undefined,
  };
}

const fieldCache = new Map<StructName, readonly SchemaField[]>();

/** The fields of a Traefik struct, in the schema's order. */
export function structFields(name: StructName): readonly SchemaField[] {
  let fields = fieldCache.get(name);
  if (fields === undefined) {
    const specs: Record<string, FieldSpec> = traefikDynamicSchema[name];
    fields = Object.entries(specs).map(([key, spec]) => parseFieldSpec(key, spec));
    fieldCache.set(name, fields);
  }
  return fields;
}

/**
 * Finds the field a label or key segment names. Traefik matches field names without regard to case;
 * labels spell a slice-as-struct field by its label name (`server`), KV by its own (`servers`).
 */
export function findField(struct: StructName, segment: string, mode: 'label' | 'kv'): SchemaField | undefined {
  const lower = segment.toLowerCase();
  return structFields(struct).find((field) => {
    const name = mode === 'label' && field.labelName !== undefined ? field.labelName : field.key;
    return name.toLowerCase() === lower;
  });
}

/** A field by its canonical key (for code that builds configuration). */
export function fieldByKey(struct: StructName, key: string): SchemaField | undefined {
  return structFields(struct).find((field) => field.key === key);
}
