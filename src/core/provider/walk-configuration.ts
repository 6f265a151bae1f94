import { isConfigObject, type ConfigObject, type ConfigValue } from '../config-tree.ts';
import { fieldByKey, type FieldType, type SchemaField } from '../schema/schema-fields.ts';
import type { StructName } from '../schema/traefik-dynamic-schema.ts';

/**
 * What a visitor sees: the value, its field, and the path of canonical names leading to it. One
 * walk allocates one of these for a value only when its visitor has `scalar`, and the path is the
 * walk's own stack: valid during the call alone (copy it to keep it). A walk over every workload's
 * configuration made a path array and a closure for every value, and was the largest source of
 * garbage in a first sync.
 */
export interface VisitedValue {
  readonly path: readonly string[];
  readonly field: SchemaField;
  readonly type: FieldType;
  readonly value: ConfigValue;
  /** Replaces the value in its parent (a method: call it on the visit, `visit.replace(...)`). */
  replace(value: ConfigValue): void;
}

export interface ConfigurationVisitor {
  /** A scalar or a list of scalars (`type` says which). */
  scalar?(visit: VisitedValue): void;
  /**
   * A user-chosen map key: a resource name, a header name, a plugin option (nested ones too), with
   * the map holding it (`path` is valid during the call alone). `'drop'` removes the entry (its
   * value is not visited); the visitor may add entries to the map, which are not visited either.
   */
  mapKey?(path: readonly string[], key: string, field: SchemaField, map: ConfigObject): 'keep' | 'drop';
}

class Visit implements VisitedValue {
  readonly path: readonly string[];
  readonly field: SchemaField;
  readonly type: FieldType;
  readonly value: ConfigValue;
  readonly #parent: ConfigObject | ConfigValue[];
  readonly #key: string | number;

  constructor(
    path: readonly string[],
    field: SchemaField,
    type: FieldType,
    value: ConfigValue,
    parent: ConfigObject | ConfigValue[],
    key: string | number,
  ) {
    this.path = path;
    this.field = field;
    this.type = type;
    this.value = value;
    this.#parent = parent;
    this.#key = key;
  }

  replace(value: ConfigValue): void {
    (this.#parent as Record<string | number, ConfigValue>)[this.#key] = value;
  }
}

function visitScalar(
  visitor: ConfigurationVisitor,
  path: string[],
  field: SchemaField,
  type: FieldType,
  value: ConfigValue,
  parent: ConfigObject | ConfigValue[],
  key: string | number,
): void {
  visitor.scalar?.(new Visit(path, field, type, value, parent, key));
}

function walkValue(
  value: ConfigValue,
  type: FieldType,
  field: SchemaField,
  path: string[],
  parent: ConfigObject | ConfigValue[],
  key: string | number,
  visitor: ConfigurationVisitor,
): void {
  switch (type.kind) {
    case 'struct':
      if (isConfigObject(value)) walkStruct(value, type.name, path, visitor);
      return;
    case 'scalar':
      if (visitor.scalar !== undefined) visitScalar(visitor, path, field, type, value, parent, key);
      return;
    case 'list':
      if (!Array.isArray(value)) return;
      if (type.item.kind === 'struct') {
        const items = value as ConfigValue[];
        for (let index = 0; index < items.length; index += 1) {
          path.push(String(index));
          walkValue(items[index] as ConfigValue, type.item, field, path, items, index, visitor);
          path.pop();
        }
      } else if (visitor.scalar !== undefined) {
        visitScalar(visitor, path, field, type, value, parent, key);
      }
      return;
    case 'map':
      if (!isConfigObject(value)) return;
      for (const [entryKey, entry] of Object.entries(value)) {
        if (visitor.mapKey?.(path, entryKey, field, value) === 'drop') {
          delete value[entryKey];
          continue;
        }
        path.push(entryKey);
        if (type.value !== 'raw') walkValue(entry, type.value, field, path, value, entryKey, visitor);
        else walkRaw(entry, field, path, visitor);
        path.pop();
      }
      return;
  }
}

/** Plugin options are free-form, but their nested names become etcd key segments all the same. */
function walkRaw(value: ConfigValue, field: SchemaField, path: string[], visitor: ConfigurationVisitor): void {
  if (Array.isArray(value)) {
    const items = value as ConfigValue[];
    for (let index = 0; index < items.length; index += 1) {
      path.push(String(index));
      walkRaw(items[index] as ConfigValue, field, path, visitor);
      path.pop();
    }
  } else if (isConfigObject(value)) {
    for (const [key, entry] of Object.entries(value)) {
      if (visitor.mapKey?.(path, key, field, value) === 'drop') {
        delete value[key];
        continue;
      }
      path.push(key);
      walkRaw(entry, field, path, visitor);
      path.pop();
    }
  }
}

/**
 * Visits every value of a configuration object of the given struct, guided by the schema. `path`
 * is the walk's stack (pushed and popped as it goes); give a fresh array.
 */
export function walkStruct(
  object: ConfigObject,
  struct: StructName,
  path: string[],
  visitor: ConfigurationVisitor,
): void {
  for (const [key, value] of Object.entries(object)) {
    const field = fieldByKey(struct, key);
    if (field === undefined) continue;
    path.push(key);
    walkValue(value, field.type, field, path, object, key, visitor);
    path.pop();
  }
}
