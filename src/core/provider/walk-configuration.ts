import { isConfigObject, type ConfigObject, type ConfigValue } from '../config-tree.ts';
import { fieldByKey, type FieldType, type SchemaField } from '../schema/schema-fields.ts';
import type { StructName } from '../schema/traefik-dynamic-schema.ts';

/** What a visitor sees: the value, its field, and the path of canonical names leading to it. */
export interface VisitedValue {
  readonly path: readonly string[];
  readonly field: SchemaField;
  readonly type: FieldType;
  readonly value: ConfigValue;
  /** Replaces the value in its parent. */
  readonly replace: (value: ConfigValue) => void;
}

export interface ConfigurationVisitor {
  /** A scalar or a list of scalars (`type` says which). */
  scalar?(visit: VisitedValue): void;
  /**
   * A user-chosen map key: a resource name, a header name, a plugin option (nested ones too), with
   * the map holding it. `'drop'` removes the entry (its value is not visited); the visitor may add
   * entries to the map, which are not visited either.
   */
  mapKey?(path: readonly string[], key: string, field: SchemaField, map: ConfigObject): 'keep' | 'drop';
}

function walkValue(
  value: ConfigValue,
  type: FieldType,
  field: SchemaField,
  path: string[],
  replace: (value: ConfigValue) => void,
  visitor: ConfigurationVisitor,
): void {
  switch (type.kind) {
    case 'struct':
      if (isConfigObject(value)) walkStruct(value, type.name, path, visitor);
      return;
    case 'scalar':
      visitor.scalar?.({ path, field, type, value, replace });
      return;
    case 'list':
      if (!Array.isArray(value)) return;
      if (type.item.kind === 'struct') {
        const items = value as ConfigValue[];
        items.forEach((item, index) =>
          walkValue(item, type.item, field, [...path, String(index)], (next) => (items[index] = next), visitor),
        );
      } else {
        visitor.scalar?.({ path, field, type, value, replace });
      }
      return;
    case 'map':
      if (!isConfigObject(value)) return;
      for (const [key, entry] of Object.entries(value)) {
        if (visitor.mapKey?.(path, key, field, value) === 'drop') {
          delete value[key];
          continue;
        }
        if (type.value !== 'raw')
          walkValue(entry, type.value, field, [...path, key], (next) => (value[key] = next), visitor);
        else walkRaw(entry, field, [...path, key], visitor);
      }
      return;
  }
}

/** Plugin options are free-form, but their nested names become etcd key segments all the same. */
function walkRaw(value: ConfigValue, field: SchemaField, path: string[], visitor: ConfigurationVisitor): void {
  if (Array.isArray(value)) {
    (value as ConfigValue[]).forEach((item, index) => walkRaw(item, field, [...path, String(index)], visitor));
  } else if (isConfigObject(value)) {
    for (const [key, entry] of Object.entries(value)) {
      if (visitor.mapKey?.(path, key, field, value) === 'drop') {
        delete value[key];
        continue;
      }
      walkRaw(entry, field, [...path, key], visitor);
    }
  }
}

/** Visits every value of a configuration object of the given struct, guided by the schema. */
export function walkStruct(
  object: ConfigObject,
  struct: StructName,
  path: string[],
  visitor: ConfigurationVisitor,
): void {
  for (const [key, value] of Object.entries(object)) {
    const field = fieldByKey(struct, key);
    if (field === undefined) continue;
    walkValue(value, field.type, field, [...path, key], (next) => (object[key] = next), visitor);
  }
}
