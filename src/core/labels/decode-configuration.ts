import type { ConfigObject, ConfigValue } from '../config-tree.ts';
import { findField, structFields, type FieldType, type SchemaField } from '../schema/schema-fields.ts';
import type { StructName } from '../schema/traefik-dynamic-schema.ts';
import { defaultWorkloadLimits, formatCount, limitMessage, type LimitName } from '../limits.ts';
import { DEFAULT_TRAEFIK_MIN_VERSION, type TraefikVersion } from '../schema/traefik-version.ts';
import { parseScalar } from './parse-scalar.ts';
import { traefikMinVersionProblem } from './traefik-min-version-problem.ts';
import { buildLabelTree, firstLabel, type LabelNode } from './label-tree.ts';
import type { WorkloadLabels } from './workload-labels.ts';

/** A label that was refused, with what would be accepted. */
export interface LabelProblem {
  readonly label: string;
  readonly message: string;
  /** Set when a limit (not a mistake in the label) left the workload out, for the refusal metric. */
  readonly limit?: LimitName | undefined;
}

export type DecodeResult =
  | { readonly ok: true; readonly configuration: ConfigObject }
  | { readonly ok: false; readonly problems: readonly LabelProblem[] };

/** The label sections that carry dynamic configuration, as Traefik filters them. */
const SECTIONS = ['http', 'tcp', 'udp'] as const;
/** Sections that decodeProviderLabels reads (and reports on) itself. */
const PROVIDER_SECTIONS = new Set(['docker', 'swarm', 'sidecar']);
const TLS_STORE_PATH = 'tls.stores.default';

const arrayIndex = /^\[(\d+)\]$/;

/** What the decoding of one workload's labels collects, and the oldest Traefik it must suit. */
interface DecodeContext {
  readonly problems: LabelProblem[];
  readonly minVersion: TraefikVersion;
  readonly maxListItems: number;
  /** Lists longer than maxListItems, each left undecoded: reported as one problem at the end. */
  readonly longLists: { readonly label: string; readonly items: number }[];
}

/**
 * Decodes the `<prefix>.http|tcp|udp.*` and `<prefix>.tls.stores.default.*` labels into Traefik's
 * dynamic configuration, with Traefik's label semantics (see the schema for the field rules).
 *
 * Stricter than Traefik on purpose: a field Traefik would silently drop (one it refuses from
 * labels, `<prefix>.tls.*` outside the default store, a list given as `name[0]=`) is reported
 * instead, since a label that does nothing is a bug the user wants to hear about. A field or
 * enumeration value newer than `minVersion` (the oldest Traefik that reads the root key) is
 * refused too: that Traefik would reject the whole tree, not just this workload's part.
 */
export function decodeConfigurationLabels(
  labels: WorkloadLabels,
  minVersion: TraefikVersion = DEFAULT_TRAEFIK_MIN_VERSION,
  maxListItems: number = defaultWorkloadLimits.listItems,
): DecodeResult {
  const { prefix } = labels;
  const problems: LabelProblem[] = [];
  const entries: { label: string; path: string; value: string }[] = [];
  // Every label read, not only its own sections: a typo that matches no section is reported here.
  for (const { label, value, path, section } of labels.read) {
    if ((SECTIONS as readonly string[]).includes(section)) {
      entries.push({ label, path, value });
    } else if (section === 'tls') {
      const lower = path.toLowerCase();
      if (lower === TLS_STORE_PATH || lower.startsWith(`${TLS_STORE_PATH}.`)) entries.push({ label, path, value });
      else
        problems.push({
          label,
          message: `labels can only configure the default TLS store ("${prefix}.tls.stores.default.*"); TLS options and certificates belong in Traefik's file provider`,
        });
    } else if (!PROVIDER_SECTIONS.has(section) && path.split('.').includes('')) {
      // `<prefix>..http.routers.x.rule` matches no section, so Traefik drops it without a word; the
      // same typo one segment further on is an error, and so is this one.
      problems.push({ label, message: 'has an empty segment (two dots in a row, or a trailing dot)' });
    }
  }
  const tree = buildLabelTree(entries);
  if (!tree.ok) return { ok: false, problems: [...problems, { label: tree.label, message: tree.message }] };

  const context: DecodeContext = { problems, minVersion, maxListItems, longLists: [] };
  const configuration = decodeStruct(tree.root, 'Configuration', context);
  const longList = longListProblem(context);
  if (longList !== undefined) problems.push(longList);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, configuration };
}

/**
 * One problem for all the lists over the limit, naming the first: each item is a key in the store,
 * and fifty such labels are one mistake (or one attack), not fifty.
 */
function longListProblem(context: DecodeContext): LabelProblem | undefined {
  const [first, ...others] = [...context.longLists].sort((a, b) =>
    a.label < b.label ? -1 : a.label > b.label ? 1 : 0,
  );
  if (first === undefined) return undefined;
  const also =
    others.length === 0
      ? ''
      : ` (and ${formatCount(others.length)} other list label${others.length === 1 ? '' : 's'} of this workload)`;
  return {
    label: first.label,
    limit: 'list-items',
    message: limitMessage(
      'list-items',
      `the list has ${formatCount(first.items)} items${also}`,
      context.maxListItems,
      'shorten the list (each item is a key in the store)',
    ),
  };
}

/** The items of a comma-separated list, counted without splitting it. */
function itemCount(text: string): number {
  let count = 1;
  for (let at = text.indexOf(','); at >= 0; at = text.indexOf(',', at + 1)) count += 1;
  return count;
}

function describeFields(struct: StructName): string {
  const names = structFields(struct)
    .filter((field) => field.label)
    .map((field) => field.labelName ?? field.key);
  return names.length > 0 ? `accepted here: ${names.join(', ')}` : 'nothing is accepted here';
}

function decodeStruct(node: LabelNode, struct: StructName, context: DecodeContext): ConfigObject {
  const result: ConfigObject = {};
  for (const child of node.children) {
    const field = findField(struct, child.name, 'label');
    if (field === undefined) {
      context.problems.push({
        label: firstLabel(child),
        message: `unknown field "${child.name}" (${describeFields(struct)})`,
      });
      continue;
    }
    if (!field.label) {
      const message = field.provider
        ? `"${field.key}" is set by the provider itself (on a router that gets the default rule), never by labels; remove the label`
        : `"${field.key}" cannot be set by labels in Traefik; use the file provider for it`;
      context.problems.push({ label: firstLabel(child), message });
      continue;
    }
    const tooNew = traefikMinVersionProblem(`"${field.key}"`, field.since, context.minVersion);
    if (tooNew !== undefined) {
      context.problems.push({ label: firstLabel(child), message: tooNew });
      continue;
    }
    const value = decodeField(child, field, context);
    if (value !== undefined) result[field.key] = value;
  }
  return result;
}

function decodeField(node: LabelNode, field: SchemaField, context: DecodeContext): ConfigValue | undefined {
  const type = field.type;
  if (type.kind === 'list' && type.item.kind === 'struct' && field.labelName !== undefined) {
    // Labels set a single server as `loadBalancer.server.*`; it becomes the list's only item.
    if (node.children.length === 0) {
      context.problems.push({
        label: firstLabel(node),
        message: `"${node.name}" needs sub-fields, for example "${node.name}.port"`,
      });
      return undefined;
    }
    return [decodeStruct(node, type.item.name, context)];
  }
  if (type.kind === 'struct') return decodeStructField(node, type.name, field.allowEmpty, context);
  return decodeValue(node, type, context);
}

function decodeStructField(
  node: LabelNode,
  struct: StructName,
  allowEmpty: boolean,
  context: DecodeContext,
): ConfigObject | undefined {
  const value = node.value ?? '';
  if (allowEmpty && value !== '' && value.toLowerCase() !== 'true') {
    // Traefik's rule: `tls=false` (any value but true) leaves the whole object unset.
    return undefined;
  }
  if (node.children.length === 0) {
    if (allowEmpty) return {};
    context.problems.push({
      label: firstLabel(node),
      message: `"${node.name}" cannot be set alone; set one of its fields (${describeFields(struct)})`,
    });
    return undefined;
  }
  return decodeStruct(node, struct, context);
}

function decodeValue(node: LabelNode, type: FieldType, context: DecodeContext): ConfigValue | undefined {
  const label = firstLabel(node);
  switch (type.kind) {
    case 'struct':
      return decodeStructField(node, type.name, false, context);
    case 'scalar': {
      if (node.children.length > 0) {
        context.problems.push({ label, message: `"${node.name}" takes a single value and has no sub-fields` });
        return undefined;
      }
      const parsed = parseScalar(node.value ?? '', type);
      if (!parsed.ok) {
        context.problems.push({ label, message: parsed.message });
        return undefined;
      }
      const tooNew = valueTooNew(node.name, parsed.value, type, context.minVersion);
      if (tooNew !== undefined) {
        context.problems.push({ label, message: tooNew });
        return undefined;
      }
      return parsed.value;
    }
    case 'list': {
      if (type.item.kind === 'struct') {
        if (node.children.length > context.maxListItems) {
          context.longLists.push({ label, items: node.children.length });
          return undefined;
        }
        const items: ConfigValue[] = [];
        for (const child of node.children) {
          if (!arrayIndex.test(child.name)) {
            context.problems.push({
              label: firstLabel(child),
              message: `"${node.name}" is a list: write its items as "${node.name}[0].<field>"`,
            });
            continue;
          }
          const item = decodeStructField(child, type.item.name, false, context);
          if (item !== undefined) items.push(item);
        }
        if (node.children.length === 0) {
          context.problems.push({
            label,
            message: `"${node.name}" is a list of objects: write its items as "${node.name}[0].<field>"`,
          });
        }
        return items;
      }
      if (node.children.length > 0) {
        context.problems.push({
          label,
          message: `"${node.name}" is a list: give its items in one label, separated by commas`,
        });
        return undefined;
      }
      const text = node.value ?? '';
      // Traefik leaves an empty list unset rather than setting an empty one.
      if (text === '') return undefined;
      const count = itemCount(text);
      if (count > context.maxListItems) {
        context.longLists.push({ label, items: count });
        return undefined;
      }
      const items: ConfigValue[] = [];
      for (const raw of text.split(',')) {
        const parsed = parseScalar(raw.trim(), type.item);
        const tooNew = parsed.ok ? valueTooNew(node.name, parsed.value, type.item, context.minVersion) : undefined;
        if (!parsed.ok) context.problems.push({ label, message: `item "${raw.trim()}": ${parsed.message}` });
        else if (tooNew !== undefined) context.problems.push({ label, message: tooNew });
        else items.push(parsed.value);
      }
      return items;
    }
    case 'map': {
      if (node.children.length === 0) {
        if (type.value !== 'raw' && type.value.kind === 'scalar') {
          context.problems.push({
            label,
            message: `"${node.name}" is a map: write its entries as "${node.name}.<name>=<value>"`,
          });
          return undefined;
        }
        return {};
      }
      const result: ConfigObject = {};
      for (const child of node.children) {
        const entry = type.value === 'raw' ? decodeRaw(child, context) : decodeMapEntry(child, type.value, context);
        if (entry !== undefined) setEntry(result, child.name, entry);
      }
      return result;
    }
  }
}

/** Why an enumeration value is newer than the oldest Traefik written for, if it is. */
function valueTooNew(
  name: string,
  value: ConfigValue,
  type: FieldType,
  minVersion: TraefikVersion,
): string | undefined {
  if (type.kind !== 'scalar' || type.enumSince === undefined || typeof value !== 'string') return undefined;
  return traefikMinVersionProblem(
    `the value "${value}" of "${name}"`,
    type.enumSince.get(value.toLowerCase()),
    minVersion,
  );
}

/**
 * Names come from labels: `__proto__` assigned plainly would replace the object's prototype and
 * vanish without a word, so every user-chosen name is defined as an own data property.
 */
function setEntry(target: ConfigObject, name: string, value: ConfigValue): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

function decodeMapEntry(node: LabelNode, type: FieldType, context: DecodeContext): ConfigValue | undefined {
  // A named resource given no fields (`routers.web=true`) still exists, empty, as in Traefik.
  if (type.kind === 'struct') return node.children.length === 0 ? {} : decodeStruct(node, type.name, context);
  return decodeValue(node, type, context);
}

/**
 * Plugin options are free-form: nested names, `[n]` items, string values.
 *
 * One shape cannot go through etcd unchanged: Traefik's KV provider reads the items of a list of
 * values (`opt/0`, `opt/1`) as one string, joined with commas, which the plugin's decoder splits
 * again at commas. A list item that holds a comma would so reach the plugin as several items,
 * where Traefik's Docker provider gives it as one: such an item is refused.
 */
function decodeRaw(node: LabelNode, context: DecodeContext): ConfigValue {
  if (node.children.length === 0) return node.value ?? '';
  if (node.children.every((child) => arrayIndex.test(child.name))) {
    for (const item of node.children) {
      if (item.children.length === 0 && (item.value ?? '').includes(',')) {
        context.problems.push({
          label: firstLabel(item),
          message: `item "${item.value}" of the plugin option list "${node.name}" contains a comma: Traefik's KV providers join the items of a list with commas, so the plugin would get it as several items; give the items without commas (or the whole list in one label, "${node.name}=a,b")`,
        });
      }
    }
    return node.children.map((child) => decodeRaw(child, context));
  }
  const result: ConfigObject = {};
  for (const child of node.children) setEntry(result, child.name, decodeRaw(child, context));
  return result;
}
