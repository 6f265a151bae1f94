import type { ConfigObject, ConfigValue } from '../config-tree.ts';
import { findField, type FieldType } from '../schema/schema-fields.ts';
import type { StructName } from '../schema/traefik-dynamic-schema.ts';

/**
 * Traefik's tree under a root key, read back from its keys into the dynamic configuration that
 * Traefik's etcd and Redis providers build from them, as plain data for Traefik's HTTP provider
 * (`appproxy run --serve-traefik-config`). The inverse of configuration-to-kv.ts, read as Traefik's KV
 * decoder reads:
 *
 * - field names match without regard to case and come out in the schema's spelling; names of
 *   routers, services, headers and plugin options are kept as written;
 * - a list's items are its children in the order of their names as text (Traefik sorts them so,
 *   hence the writer's zero-padded indices), whatever the names are: a service's servers are
 *   named by their owner and workload;
 * - a bare `true` on an object (`tls`, a named resource) is that object with Traefik's defaults;
 * - scalars come out typed where the text is the type's own spelling (`true`, `80`), as text
 *   otherwise, which Traefik's file decoder (the HTTP provider's) parses the way its KV decoder does.
 *
 * A key naming no field of Traefik's schema is kept under its own spelling, so that Traefik refuses
 * it as it would from the store (it refuses the whole tree on one field it does not know).
 */
export function keyValuesToConfiguration(entries: Iterable<readonly [string, string]>, rootKey: string): ConfigObject {
  const prefix = `${rootKey}/`;
  const tree = new Node();
  for (const [key, value] of entries) {
    if (!key.startsWith(prefix)) continue;
    let node = tree;
    for (const segment of key.slice(prefix.length).split('/')) node = node.child(segment);
    node.value = value;
  }
  const configuration = decodeStruct(tree, 'Configuration');
  return typeof configuration === 'object' && !Array.isArray(configuration) ? (configuration as ConfigObject) : {};
}

/** One segment of the key tree: a value, children, or (for a bare `true` on an object) both. */
class Node {
  value: string | undefined;
  readonly children = new Map<string, Node>();
  child(segment: string): Node {
    let node = this.children.get(segment);
    if (node === undefined) {
      node = new Node();
      this.children.set(segment, node);
    }
    return node;
  }
  /** Children in the order of their names as text, as Traefik reads a list's items. */
  sortedChildren(): Node[] {
    return [...this.children.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, node]) => node);
  }
}

/** An own property, whatever the name (`__proto__` is a valid router name). */
function put(object: ConfigObject, name: string, value: ConfigValue): void {
  Object.defineProperty(object, name, { value, enumerable: true, writable: true, configurable: true });
}

function decodeStruct(node: Node, struct: StructName): ConfigValue {
  if (node.children.size === 0) return node.value === undefined ? {} : node.value === 'true' ? {} : node.value;
  // `http/routers` and `HTTP/Routers` are one field to Traefik: their children are read together.
  const fields = new Map<string, { type: FieldType; node: Node }>();
  const unknown: [string, Node][] = [];
  for (const [segment, child] of node.children) {
    const field = findField(struct, segment, 'kv');
    if (field === undefined) {
      unknown.push([segment, child]);
      continue;
    }
    const seen = fields.get(field.key);
    if (seen === undefined) fields.set(field.key, { type: field.type, node: child });
    else seen.node = merged(seen.node, child);
  }
  const object: ConfigObject = {};
  for (const [key, { type, node: child }] of fields) put(object, key, decodeValue(child, type));
  for (const [segment, child] of unknown) put(object, segment, decodeRaw(child));
  return object;
}

/** Two spellings of one field as one node (the later value wins where both set one, as a later key would). */
function merged(a: Node, b: Node): Node {
  const node = new Node();
  node.value = b.value ?? a.value;
  for (const source of [a, b])
    for (const [segment, child] of source.children) {
      const existing = node.children.get(segment);
      node.children.set(segment, existing === undefined ? child : merged(existing, child));
    }
  return node;
}

function decodeValue(node: Node, type: FieldType): ConfigValue {
  switch (type.kind) {
    case 'scalar':
      return node.children.size > 0 ? decodeRaw(node) : scalar(node.value ?? '', type.scalar);
    case 'struct':
      return decodeStruct(node, type.name);
    case 'list':
      if (node.children.size === 0) return node.value ?? '';
      return node.sortedChildren().map((item) => decodeValue(item, type.item));
    case 'map': {
      if (node.children.size === 0) return node.value === 'true' ? {} : (node.value ?? '');
      const object: ConfigObject = {};
      for (const [name, child] of node.children)
        put(object, name, type.value === 'raw' ? decodeRaw(child) : decodeValue(child, type.value));
      return object;
    }
  }
}

/** Free-form options (a plugin's): objects, with lists where every child is an index as the writer spells them. */
function decodeRaw(node: Node): ConfigValue {
  if (node.children.size === 0) return node.value ?? '';
  const names = [...node.children.keys()];
  if (names.every((name) => /^\d+$/.test(name))) return node.sortedChildren().map((item) => decodeRaw(item));
  const object: ConfigObject = {};
  for (const [name, child] of node.children) put(object, name, decodeRaw(child));
  return object;
}

function scalar(text: string, kind: string): ConfigValue {
  switch (kind) {
    case 'bool':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'int':
    case 'uint':
    case 'float': {
      const number = Number(text);
      return text !== '' && Number.isFinite(number) && String(number) === text ? number : text;
    }
    default:
      return text;
  }
}
