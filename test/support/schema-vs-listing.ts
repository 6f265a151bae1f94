/**
 * Compares the project's hand-written schema (src/core/schema) with a listing generated from
 * Traefik's own Go structs (scripts/traefik-dynamic-fields.ts), and returns every difference.
 *
 * Both are walked from their root in step: a project struct is paired with the Traefik struct at
 * the same place in the tree, since the project's names are shortened (`ErrorPage` is
 * `dynamic.ErrorPage`, `Cookie` is `dynamic.Cookie`, but `RouterTLSConfig` and `tls.Options` keep
 * Traefik's). Fields are matched as Traefik's decoders match them: by Go name, without regard to
 * case. The schema is taken as an argument (not imported) so that a test can hand it a mutated
 * copy and see the comparison fail.
 */
import { parseFieldSpec, type FieldType, type SchemaField } from '../../src/core/schema/schema-fields.ts';
import type { FieldSpec } from '../../src/core/schema/traefik-dynamic-schema.ts';
import type { ListingField, ListingType, TraefikFieldListing } from '../../scripts/lib/traefik-field-listing.ts';

export type ProjectSchema = Readonly<Record<string, Readonly<Record<string, FieldSpec>>>>;

export type DifferenceKind =
  /** Traefik's decoders read a field the project lacks. */
  | 'missing'
  /** The project has a field Traefik's decoders do not read. */
  | 'extra'
  /** Same field, spelt otherwise than Traefik's JSON name (Traefik would still match it). */
  | 'spelling'
  | 'type'
  | 'enum'
  /** Settable from labels on one side only. */
  | 'label'
  /** Read from KV on one side only. */
  | 'kv'
  /** `field=true` alone creates the object on one side only (`label:"allowEmpty"`). */
  | 'allowEmpty'
  /** The label spelling of a list set as one object (`label-slice-as-struct`). */
  | 'labelName'
  /** A project struct stands for two Traefik structs, or is never reached. */
  | 'pairing';

export interface Difference {
  /** The project's struct the difference is in. */
  readonly struct: string;
  /**
   * `ProjectStruct.field` (the project's spelling, or Traefik's JSON name for a missing field); a struct alone for
   * `pairing`.
   */
  readonly at: string;
  readonly kind: DifferenceKind;
  /** Where in the configuration: `http.routers.<name>.tls`. */
  readonly path: string;
  readonly detail: string;
}

export interface StructPair {
  readonly project: string;
  readonly traefik: string;
  /** The first place the walk met them. */
  readonly path: string;
}

export interface SchemaComparison {
  readonly pairs: readonly StructPair[];
  readonly differences: readonly Difference[];
}

/** Whether each side lets labels (or KV) reach the current struct. */
interface Reach {
  readonly project: boolean;
  readonly traefik: boolean;
}

interface Visit {
  readonly project: string;
  readonly traefik: string;
  readonly path: string;
  readonly label: Reach;
  readonly kv: Reach;
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

export function describeProjectType(type: FieldType | 'raw'): string {
  if (type === 'raw') return 'raw';
  switch (type.kind) {
    case 'scalar':
      return type.enumValues === undefined ? type.scalar : `enum(${type.enumValues.join('|')})`;
    case 'list':
      return `${describeProjectType(type.item)}[]`;
    case 'map':
      return `map<${describeProjectType(type.value)}>`;
    case 'struct':
      return type.name;
  }
}

export function describeListingType(type: ListingType): string {
  switch (type.kind) {
    case 'scalar':
      return type.enum === undefined ? type.scalar : `${type.scalar}(${type.enum.join('|')})`;
    case 'list':
      return `${describeListingType(type.item)}[]`;
    case 'map':
      return `map<${describeListingType(type.value)}>`;
    case 'struct':
      return type.name;
    case 'any':
      return 'any';
    case 'unresolved':
      return `unresolved ${type.goType}`;
  }
}

const enumText = (values: readonly string[] | undefined) =>
  values === undefined ? 'any text' : [...new Set(values.map((value) => value.toLowerCase()))].sort().join('|');

interface TypeMatch {
  readonly mismatch?: string;
  readonly enumDifference?: string;
  /** Struct pairs under the field, with the path suffix that reaches them (`.<name>`, `[]`). */
  readonly structs: readonly { readonly project: string; readonly traefik: string; readonly suffix: string }[];
}

/** Compares a field's types: shape (list, map, struct), scalar kind, enumeration (case-insensitive, as both match). */
function compareTypes(project: FieldType | 'raw', traefik: ListingType, suffix = ''): TypeMatch {
  const mismatch = {
    mismatch: `appproxy ${describeProjectType(project)}, Traefik ${describeListingType(traefik)}`,
    structs: [],
  };
  // `map<raw>` is free-form options: Traefik's PluginConf (`map[string]any`).
  if (project === 'raw')
    return traefik.kind === 'any' || (traefik.kind === 'map' && traefik.value.kind === 'any')
      ? { structs: [] }
      : mismatch;
  if (project.kind === 'list' && traefik.kind === 'list')
    return compareTypes(project.item, traefik.item, `${suffix}[]`);
  if (project.kind === 'map' && traefik.kind === 'map')
    return compareTypes(project.value, traefik.value, `${suffix}.<name>`);
  if (project.kind === 'struct' && traefik.kind === 'struct')
    return { structs: [{ project: project.name, traefik: traefik.name, suffix }] };
  if (project.kind === 'scalar' && traefik.kind === 'scalar') {
    if (project.scalar !== traefik.scalar) return mismatch;
    const ours = enumText(project.enumValues);
    const theirs = enumText(traefik.enum);
    return ours === theirs
      ? { structs: [] }
      : { enumDifference: `appproxy accepts ${ours}, Traefik's listing ${theirs}`, structs: [] };
  }
  return mismatch;
}

function reachText(label: boolean, kv: boolean): string {
  return `labels ${label ? 'yes' : 'no'}, KV ${kv ? 'yes' : 'no'}`;
}

export function compareSchema(
  schema: ProjectSchema,
  listing: TraefikFieldListing,
  projectRoot = 'Configuration',
): SchemaComparison {
  const differences = new Map<string, Difference>();
  const add = (difference: Difference) => {
    // One difference per field and kind: the first place the walk found it (a struct used twice shows it twice).
    const key = `${difference.at}|${difference.kind}`;
    if (!differences.has(key)) differences.set(key, difference);
  };
  const pairs = new Map<string, StructPair>();
  const visited = new Set<string>();
  const queue: Visit[] = [
    {
      project: projectRoot,
      traefik: listing.root,
      path: '',
      label: { project: true, traefik: true },
      kv: { project: true, traefik: true },
    },
  ];

  for (let visit = queue.shift(); visit !== undefined; visit = queue.shift()) {
    const { project, traefik, path, label, kv } = visit;
    const visitKey = `${project}|${traefik}|${label.project}${label.traefik}${kv.project}${kv.traefik}`;
    if (visited.has(visitKey)) continue;
    visited.add(visitKey);

    const paired = pairs.get(project);
    if (paired === undefined) pairs.set(project, { project, traefik, path });
    else if (paired.traefik !== traefik) {
      add({
        struct: project,
        at: project,
        kind: 'pairing',
        path,
        detail: `stands for ${paired.traefik} (at ${paired.path || 'the root'}) and for ${traefik}`,
      });
      continue;
    }
    const specs = schema[project];
    const struct = listing.structs[traefik];
    if (specs === undefined || struct === undefined)
      throw new Error(`no struct ${specs === undefined ? project : traefik}`);
    const ours = Object.entries(specs).map(([key, spec]) => parseFieldSpec(key, spec));
    const here = (name: string) => (path === '' ? name : `${path}.${name}`);

    for (const theirs of struct.fields) {
      const field = ours.find((candidate) => candidate.key.toLowerCase() === theirs.go.toLowerCase());
      const name = field?.key ?? theirs.json ?? lowerFirst(theirs.go);
      const at = `${project}.${name}`;
      const labelOpen = label.traefik && theirs.label !== '-';
      const kvOpen = kv.traefik && theirs.kv !== '-';
      if (field === undefined) {
        add({
          struct: project,
          at,
          kind: 'missing',
          path: here(name),
          detail: `${traefik}.${theirs.go} (${theirs.goType}; ${reachText(labelOpen, kvOpen)}) is not in appproxy's ${project}`,
        });
        continue;
      }
      for (const difference of compareField(field, theirs, { at, path: here(name), label, kv }))
        add({ struct: project, ...difference });
      const types = compareTypes(field.type, theirs.type);
      if (types.mismatch !== undefined)
        add({ struct: project, at, kind: 'type', path: here(name), detail: types.mismatch });
      if (types.enumDifference !== undefined)
        add({ struct: project, at, kind: 'enum', path: here(name), detail: types.enumDifference });
      for (const inner of types.structs) {
        queue.push({
          project: inner.project,
          traefik: inner.traefik,
          path: `${here(field.key)}${inner.suffix}`,
          label: { project: label.project && field.label, traefik: labelOpen },
          kv: { project: kv.project && field.kv, traefik: kvOpen },
        });
      }
    }
    for (const field of ours) {
      if (struct.fields.some((theirs) => theirs.go.toLowerCase() === field.key.toLowerCase())) continue;
      const declared = struct.notDecoded.find((name) => name.toLowerCase() === field.key.toLowerCase());
      add({
        struct: project,
        at: `${project}.${field.key}`,
        kind: 'extra',
        path: here(field.key),
        detail:
          declared === undefined
            ? `${traefik} has no field ${field.key}`
            : `${traefik}.${declared} is closed to both decoders (label:"-" kv:"-")`,
      });
    }
  }

  for (const name of Object.keys(schema)) {
    if (!pairs.has(name))
      add({
        struct: name,
        at: name,
        kind: 'pairing',
        path: '',
        detail: `no field of the walk from ${projectRoot} reaches it`,
      });
  }
  return { pairs: [...pairs.values()], differences: [...differences.values()] };
}

/**
 * The differences of one matched field apart from its type: spelling, label and KV acceptance, allowEmpty, label name.
 */
function compareField(
  field: SchemaField,
  theirs: ListingField,
  where: { at: string; path: string; label: Reach; kv: Reach },
): Omit<Difference, 'struct'>[] {
  const { at, path, label, kv } = where;
  const found: Omit<Difference, 'struct'>[] = [];
  if (theirs.json !== null && field.key !== theirs.json)
    found.push({
      at,
      kind: 'spelling',
      path,
      detail: `appproxy spells it ${field.key}, Traefik's JSON name is ${theirs.json}`,
    });
  // Acceptance is compared where both sides reach the parent alike, so that one closed subtree is one difference.
  const labelOurs = label.project && field.label;
  const labelTheirs = label.traefik && theirs.label !== '-';
  if (label.project === label.traefik && labelOurs !== labelTheirs) {
    found.push({
      at,
      kind: 'label',
      path,
      detail: `labels can set it: appproxy ${labelOurs ? 'yes' : 'no'}, Traefik ${labelTheirs ? 'yes' : 'no'} (label tag ${JSON.stringify(theirs.label ?? '')})`,
    });
  }
  const kvOurs = kv.project && field.kv;
  const kvTheirs = kv.traefik && theirs.kv !== '-';
  if (kv.project === kv.traefik && kvOurs !== kvTheirs) {
    found.push({
      at,
      kind: 'kv',
      path,
      detail: `read from KV: appproxy ${kvOurs ? 'yes' : 'no'}, Traefik ${kvTheirs ? 'yes' : 'no'} (kv tag ${JSON.stringify(theirs.kv ?? '')})`,
    });
  }
  if (field.allowEmpty !== (theirs.label === 'allowEmpty')) {
    found.push({
      at,
      kind: 'allowEmpty',
      path,
      detail: `field=true alone: appproxy ${field.allowEmpty ? 'creates it' : 'refuses'}, Traefik's label tag ${JSON.stringify(theirs.label ?? '')}`,
    });
  }
  if (field.labelName !== theirs.labelSliceAsStruct) {
    found.push({
      at,
      kind: 'labelName',
      path,
      detail: `labels set the list as one object named: appproxy ${field.labelName ?? 'none'}, Traefik ${theirs.labelSliceAsStruct ?? 'none'}`,
    });
  }
  return found;
}
