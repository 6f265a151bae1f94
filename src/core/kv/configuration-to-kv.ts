import { isConfigObject, type ConfigObject, type ConfigValue } from '../config-tree.ts';
import type { ServerOrigin } from '../provider/workload-configuration.ts';
import { fieldByKey, type FieldType, type SchemaField } from '../schema/schema-fields.ts';
import type { StructName } from '../schema/traefik-dynamic-schema.ts';
import { utf8Length } from '../../golang/utf8.ts';
import { SmallMap } from '../small-map.ts';
import { serverKey } from './server-key.ts';

export interface KvOptions {
  /** Traefik's `providers.etcd.rootKey`, checked by checkRootKey. */
  readonly rootKey: string;
  /** This writer's owner id: part of every server key it writes. */
  readonly ownerId: string;
}

/** Keys and values exactly as written to etcd, sorted by key. */
export type KeyValues = ReadonlyMap<string, string>;

function scalarText(value: ConfigValue): string {
  return typeof value === 'string' ? value : String(value);
}

/**
 * List indices are read as text by Traefik, which sorts them as strings and joins string lists
 * with commas in that order; zero-padding keeps `10` after `9`, so the middleware order holds.
 */
function indexNames(count: number): string[] {
  const width = String(Math.max(count - 1, 0)).length;
  return Array.from({ length: count }, (_, index) => String(index).padStart(width, '0'));
}

interface Writer {
  readonly out: Map<string, string>;
  readonly options: KvOptions;
  readonly origins: ReadonlyMap<string, string>;
  /** When set, each server's keys are also kept here, under its path relative to the root key. */
  readonly servers?: SmallMap<string, ReadonlyMap<string, string>>;
}

/** The key of a server's origin in an origins map: protocol, service name and target. */
export function originKey(protocol: string, service: string, target: string): string {
  return `${protocol}\u0000${service}\u0000${target}`;
}

function writeValue(
  writer: Writer,
  key: string,
  value: ConfigValue,
  type: FieldType,
  field: SchemaField,
  path: readonly string[],
): void {
  switch (type.kind) {
    case 'scalar':
      writer.out.set(key, scalarText(value));
      return;
    case 'struct':
      if (isConfigObject(value)) writeStruct(writer, key, value, type.name, path, emptyForm(field, type.name, path));
      return;
    case 'list': {
      if (!Array.isArray(value)) return;
      const items = value as ConfigValue[];
      if (type.item.kind === 'struct' && field.key === 'servers') {
        writeServers(writer, key, items, type.item.name, path);
        return;
      }
      const names = indexNames(items.length);
      items.forEach((item, index) =>
        writeValue(writer, `${key}/${names[index]}`, item, type.item, field, [...path, String(index)]),
      );
      return;
    }
    case 'map':
      if (!isConfigObject(value)) return;
      for (const [name, entry] of Object.entries(value)) {
        if (type.value === 'raw') writeRaw(writer, `${key}/${name}`, entry);
        else if (type.value.kind === 'struct' && isConfigObject(entry))
          writeStruct(writer, `${key}/${name}`, entry, type.value.name, [...path, name], 'true');
        else writeValue(writer, `${key}/${name}`, entry, type.value, field, [...path, name]);
      }
      return;
  }
}

function writeServers(
  writer: Writer,
  key: string,
  servers: ConfigValue[],
  struct: StructName,
  path: readonly string[],
): void {
  // path is [protocol, 'services', <name>, 'loadBalancer', 'servers']
  const protocol = path[0] ?? '';
  const service = path[2] ?? '';
  for (const server of servers) {
    if (!isConfigObject(server)) continue;
    const target = scalarText(server['url'] ?? server['address'] ?? '');
    const workloadId = writer.origins.get(originKey(protocol, service, target)) ?? target;
    const serverPrefix = `${key}/${serverKey(writer.options.ownerId, workloadId)}`;
    if (writer.servers === undefined) {
      writeStruct(writer, serverPrefix, server, struct, path, 'nothing');
      continue;
    }
    const own: Writer = { ...writer, out: new Map() };
    writeStruct(own, serverPrefix, server, struct, path, 'nothing');
    for (const [entryKey, value] of own.out) writer.out.set(entryKey, value);
    if (own.out.size > 0) writer.servers.set(serverPrefix.slice(writer.options.rootKey.length + 1), small(own.out));
  }
}

/** A map of one entry as a SmallMap (a fifth of the memory); a larger one as it is. */
function small(map: Map<string, string>): ReadonlyMap<string, string> {
  if (map.size !== 1) return map;
  const one = new SmallMap<string, string>();
  for (const [key, value] of map) one.set(key, value);
  return one;
}

function writeRaw(writer: Writer, key: string, value: ConfigValue): void {
  if (Array.isArray(value)) {
    const names = indexNames(value.length);
    (value as ConfigValue[]).forEach((item, index) => writeRaw(writer, `${key}/${names[index]}`, item));
  } else if (isConfigObject(value)) {
    for (const [name, entry] of Object.entries(value)) writeRaw(writer, `${key}/${name}`, entry);
  } else {
    writer.out.set(key, scalarText(value));
  }
}

/**
 * How an object with nothing set is written. Traefik's KV decoder accepts the bare key with `true`
 * only for fields it marks allowEmpty (`tls`, `sticky.cookie`) and for named resources; anywhere
 * else the bare key fails the decoding of the whole tree, so nothing may be written. A load
 * balancer with no servers (a service whose only workload is unhealthy) is the one empty object
 * that matters: it is written as its default `passHostHeader=true`, which keeps the service.
 */
type EmptyForm = 'true' | 'nothing' | 'loadBalancerDefault';

function emptyForm(field: SchemaField, struct: StructName, path: readonly string[]): EmptyForm {
  if (field.allowEmpty) return 'true';
  if (struct === 'ServersLoadBalancer' && path[0] === 'http') return 'loadBalancerDefault';
  return 'nothing';
}

function writeStruct(
  writer: Writer,
  key: string,
  object: ConfigObject,
  struct: StructName,
  path: readonly string[],
  empty: EmptyForm,
): void {
  let wrote = false;
  for (const [name, value] of Object.entries(object)) {
    const field = fieldByKey(struct, name);
    if (field === undefined || !field.kv) continue;
    const before = writer.out.size;
    writeValue(writer, `${key}/${field.key}`, value, field.type, field, [...path, field.key]);
    wrote ||= writer.out.size > before;
  }
  if (wrote) return;
  if (empty === 'true') writer.out.set(key, 'true');
  else if (empty === 'loadBalancerDefault') writer.out.set(`${key}/passHostHeader`, 'true');
}

/**
 * The etcd keys and values that make Traefik's etcd provider read `configuration`: one key per
 * leaf under the root key, lists of strings as numbered items, each server under its own key.
 */
export function configurationToKeyValues(
  configuration: ConfigObject,
  servers: readonly ServerOrigin[],
  options: KvOptions,
): KeyValues {
  const origins = new Map<string, string>();
  for (const origin of servers) {
    const key = originKey(origin.protocol, origin.service, origin.target);
    if (!origins.has(key)) origins.set(key, origin.workloadId);
  }
  const writer: Writer = { out: new Map(), options, origins };
  writeStruct(writer, options.rootKey, configuration, 'Configuration', [], 'nothing');
  return new Map([...writer.out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** How many keys, and bytes of keys and values, a configuration is in the store. */
export interface KeyValueSize {
  readonly keys: number;
  readonly bytes: number;
  /** The count stopped once past a limit: the configuration is at least this large. */
  readonly stopped: boolean;
}

/** Stops a count once it is past a limit, so that a million-key workload costs no more than the limit to measure. */
class PastLimit extends Error {}

/** A map that only counts: keys (each once) and their bytes, with the key's root key and its `/` left out. */
class SizeCount extends Map<string, string> {
  bytes = 0;
  readonly #skip: number;
  readonly #maxKeys: number;
  readonly #maxBytes: number;
  constructor(skip: number, maxKeys: number, maxBytes: number) {
    super();
    this.#skip = skip;
    this.#maxKeys = maxKeys;
    this.#maxBytes = maxBytes;
  }
  override set(key: string, value: string): this {
    const previous = super.get(key);
    if (previous !== undefined) this.bytes -= utf8Length(previous);
    else this.bytes += utf8Length(key) - this.#skip;
    this.bytes += utf8Length(value);
    super.set(key, value);
    if (this.size > this.#maxKeys || this.bytes > this.#maxBytes) throw new PastLimit();
    return this;
  }
}

/**
 * The size configurationToKeyValues would give `configuration`, keys counted below the root key
 * (whose length is the deployment's, not the workload's). The count stops once past `maxKeys` or
 * `maxBytes`: then `stopped` is set and the figures are where it stopped.
 */
export function measureKeyValues(
  configuration: ConfigObject,
  servers: readonly ServerOrigin[],
  ownerId: string,
  maxKeys: number,
  maxBytes: number,
): KeyValueSize {
  const origins = new Map<string, string>();
  for (const origin of servers) {
    const key = originKey(origin.protocol, origin.service, origin.target);
    if (!origins.has(key)) origins.set(key, origin.workloadId);
  }
  const out = new SizeCount(1, maxKeys, maxBytes);
  const writer: Writer = { out, options: { rootKey: '', ownerId }, origins };
  try {
    writeStruct(writer, '', configuration, 'Configuration', [], 'nothing');
  } catch (error) {
    if (!(error instanceof PastLimit)) throw error;
    return { keys: out.size, bytes: out.bytes, stopped: true };
  }
  return { keys: out.size, bytes: out.bytes, stopped: false };
}

/** One resource's keys as the store holds them: its own fields, and each of its servers apart. */
export interface ResourceEntries {
  /** Keys and values of the resource itself (servers excluded), full keys. */
  readonly fields: ReadonlyMap<string, string>;
  /**
   * Each server's keys and values, by the server's path relative to the root key
   * (`http/services/x/loadBalancer/servers/<id>`).
   */
  readonly servers: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/**
 * The keys of one merged resource (`http`, `services`, `chat`, its definition), written exactly as
 * configurationToKeyValues writes them within a whole configuration, but handed over structured:
 * a planner never has to find resources and servers in keys again. `origins` maps originKey()
 * to the workload each server came from.
 */
export function resourceEntries(
  section: string,
  kind: string,
  name: string,
  definition: ConfigValue,
  origins: ReadonlyMap<string, string>,
  options: KvOptions,
): ResourceEntries {
  // Kept for as long as the resource is desired, most with one server of one key (or none): SmallMaps.
  const servers = new SmallMap<string, ReadonlyMap<string, string>>();
  const writer: Writer = { out: new Map(), options, origins, servers };
  const resources: ConfigObject = {};
  Object.defineProperty(resources, name, { value: definition, enumerable: true, writable: true, configurable: true });
  writeStruct(writer, options.rootKey, { [section]: { [kind]: resources } }, 'Configuration', [], 'nothing');
  const serverKeys = new Set([...servers.values()].flatMap((entries) => [...entries.keys()]));
  const fields = new Map([...writer.out].filter(([key]) => !serverKeys.has(key)));
  return { fields: small(fields), servers };
}
