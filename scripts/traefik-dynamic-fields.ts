/**
 * Lists the fields of Traefik's dynamic configuration, read from its own Go structs, for
 * test/unit/schema-vs-traefik.test.ts to compare with src/core/schema (which was written by hand).
 *
 *   node scripts/traefik-dynamic-fields.ts --git-dir /path/to/traefik.git --ref v3.7 >
 * test/fixtures/traefik-dynamic-3.7.json
 *
 * It reads the source straight from a Git repository (no checkout, no Go toolchain) and parses
 * just enough Go for gofmt-formatted struct, type and const declarations; anything it does not
 * understand inside a struct is an error, so that a field is never dropped in silence.
 *
 * From `dynamic.Configuration` it follows every struct a decoded field refers to, across Traefik's
 * packages (`tls`, `types`, ...). Types from other modules are named by a small table
 * (`EXTERNAL_TYPES`) or left `unresolved`.
 *
 * Which fields count: Traefik's label and KV decoders (paerser) match Go field names without
 * regard to case and skip a field by its `label:"-"` / `kv:"-"` tag; the `json` tag plays no part
 * in decoding. So a `json:"-"` field that either tag leaves open is still listed (`json: null`:
 * a server's `port` is one), and only a field both tags close goes to `notDecoded`. Embedded
 * structs are flattened, as Go's encoders and paerser do.
 *
 * Enumerations: Go has none in struct fields. Two can be read mechanically: typed string
 * constants of a field's named type (`BalancerStrategy`), and `+kubebuilder:validation:Enum`
 * comments. Values Traefik checks only in code are left to the test's list of exceptions.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { ListingField, ListingStruct, ListingType, TraefikFieldListing } from './lib/traefik-field-listing.ts';

const GENERATOR = 'scripts/traefik-dynamic-fields.ts';
/** The struct the label and KV decoders fill, by its directory in the repository. */
const ROOT = { directory: 'pkg/config/dynamic', name: 'Configuration' };

/** Types from modules outside Traefik's repository, by import path and name. */
const EXTERNAL_TYPES: Record<string, ListingType> = {
  // paerser's Duration: a Go duration (`10s`) or a whole number of seconds.
  'github.com/traefik/paerser/types.Duration': { kind: 'scalar', scalar: 'duration' },
};

const BUILTIN_SCALARS: Record<string, ListingType> = Object.fromEntries(
  [
    ['string', 'string'],
    ['bool', 'bool'],
    ...['int', 'int8', 'int16', 'int32', 'int64'].map((name) => [name, 'int']),
    ...['uint', 'uint8', 'uint16', 'uint32', 'uint64', 'byte'].map((name) => [name, 'uint']),
    ['float32', 'float'],
    ['float64', 'float'],
  ].map(([name, scalar]) => [name, { kind: 'scalar', scalar } as ListingType]),
);

// ---------------------------------------------------------------------------------------------
// Reading Go source

interface GoField {
  /** Empty for an embedded field. */
  readonly name: string;
  readonly goType: string;
  readonly tag: string;
  /** The comment lines just above the field. */
  readonly doc: readonly string[];
}

interface GoStruct {
  readonly name: string;
  readonly file: string;
  readonly imports: ReadonlyMap<string, string>;
  /** The lines between the braces, read (by `structFields`) only for the structs the listing reaches. */
  readonly body: readonly string[];
}

interface GoNamedType {
  readonly underlying: string;
  readonly imports: ReadonlyMap<string, string>;
}

interface GoPackage {
  readonly name: string;
  readonly structs: Map<string, GoStruct>;
  readonly namedTypes: Map<string, GoNamedType>;
  /** Typed string constants by their type's name: `BalancerStrategy` → `wrr`, `p2c`, ... */
  readonly constants: Map<string, string[]>;
}

const FIELD = /^([A-Za-z_]\w*)\s+([^\s`]+)\s*(`[^`]*`)?\s*(\/\/.*)?$/;
const EMBEDDED = /^(\*?[A-Za-z_][\w.]*)\s*(`[^`]*`)?\s*(\/\/.*)?$/;
const TYPED_STRING_CONST = /^\s*(\w+)\s+([A-Za-z_]\w*)\s*=\s*"([^"\\]*)"/;

/** The name an import is known by in a file: its alias, or the path's last element (a `/vN` suffix skipped). */
function importName(path: string): string {
  const parts = path.split('/');
  const last = parts.at(-1) ?? path;
  return /^v\d+$/.test(last) && parts.length > 1 ? (parts.at(-2) ?? last) : last;
}

function parseImportLine(line: string, imports: Map<string, string>): void {
  const match = /^\s*(?:([\w.]+)\s+)?"([^"]+)"/.exec(line);
  if (match?.[2] !== undefined) imports.set(match[1] ?? importName(match[2]), match[2]);
}

function parseGoFile(file: string, text: string, pkg: GoPackage): void {
  const lines = text.replace(/\r/g, '').split('\n');
  const imports = new Map<string, string>();
  let block: 'import' | 'const' | undefined;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (block !== undefined) {
      if (line === ')') block = undefined;
      else if (block === 'import') parseImportLine(line, imports);
      else addConstant(pkg, line);
      continue;
    }
    if (line === 'import (') block = 'import';
    else if (line === 'const (') block = 'const';
    else if (line.startsWith('import ')) parseImportLine(line.slice('import '.length), imports);
    else if (line.startsWith('const ')) addConstant(pkg, line.slice('const '.length));
    else if (line.startsWith('type ')) {
      const struct = /^type (\w+) struct ?\{(\})?$/.exec(line);
      if (struct?.[1] !== undefined) {
        const body: string[] = [];
        if (struct[2] === undefined) {
          for (index += 1; lines[index] !== '}'; index += 1) {
            if (index >= lines.length) throw new Error(`${file}: struct ${struct[1]} has no end`);
            body.push(lines[index] ?? '');
          }
        }
        pkg.structs.set(struct[1], { name: struct[1], file, imports, body });
        continue;
      }
      // Any other type: kept as written, and read only if a listed field uses it.
      const named = /^type (\w+) (?:= )?(.+?)\s*(\/\/.*)?$/.exec(line);
      if (named?.[1] !== undefined && named[2] !== undefined)
        pkg.namedTypes.set(named[1], { underlying: named[2], imports });
    }
  }
}

function addConstant(pkg: GoPackage, line: string): void {
  const match = TYPED_STRING_CONST.exec(line);
  if (match?.[2] === undefined || match[3] === undefined) return;
  const values = pkg.constants.get(match[2]) ?? [];
  values.push(match[3]);
  pkg.constants.set(match[2], values);
}

function structFields(struct: GoStruct): GoField[] {
  const fields: GoField[] = [];
  let doc: string[] = [];
  for (const raw of struct.body) {
    const line = raw.trim();
    if (line === '') {
      doc = [];
      continue;
    }
    if (line.startsWith('//')) {
      doc.push(line);
      continue;
    }
    const field = FIELD.exec(line);
    const embedded = field === null ? EMBEDDED.exec(line) : null;
    if (field?.[1] !== undefined && field[2] !== undefined)
      fields.push({ name: field[1], goType: field[2], tag: field[3] ?? '', doc });
    else if (embedded?.[1] !== undefined) fields.push({ name: '', goType: embedded[1], tag: embedded[2] ?? '', doc });
    else throw new Error(`${struct.file}: ${struct.name}: cannot read the field "${line}"`);
    doc = [];
  }
  return fields;
}

/** A struct tag's value for one key, as Go's reflect.StructTag.Lookup reads it. */
function tagValue(tag: string, key: string): string | undefined {
  const pattern = /\s*([^\s:"]+):("(?:[^"\\]|\\.)*")/gy;
  const inner = tag.replace(/^`|`$/g, '');
  for (let match = pattern.exec(inner); match !== null; match = pattern.exec(inner)) {
    if (match[1] === key && match[2] !== undefined) return JSON.parse(match[2]) as string;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Loading packages from the repository

class Repository {
  readonly #gitDir: string;
  readonly #ref: string;
  readonly #module: string;
  /** Module paths replaced by a directory of this repository (go.mod `replace x => ./dir`). */
  readonly #replaced = new Map<string, string>();
  readonly #packages = new Map<string, GoPackage | undefined>();

  constructor(gitDir: string, ref: string) {
    this.#gitDir = gitDir;
    this.#ref = ref;
    const goMod = this.show('go.mod');
    const module = /^module (\S+)$/m.exec(goMod)?.[1];
    if (module === undefined) throw new Error('go.mod names no module');
    this.#module = module;
    for (const match of goMod.matchAll(/^\s*(?:replace\s+)?(\S+)(?:\s+v\S+)?\s+=>\s+\.\/(\S+)\s*$/gm)) {
      if (match[1] !== undefined && match[2] !== undefined) this.#replaced.set(match[1], match[2]);
    }
  }

  get module(): string {
    return this.#module;
  }

  git(...args: string[]): string {
    return execFileSync('git', ['--git-dir', this.#gitDir, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  }

  show(path: string): string {
    return this.git('show', `${this.#ref}:${path}`);
  }

  /** The repository directory of an import path; undefined for another module's package. */
  directoryOf(importPath: string): string | undefined {
    if (importPath.startsWith(`${this.#module}/`)) return importPath.slice(this.#module.length + 1);
    for (const [module, directory] of this.#replaced) {
      if (importPath === module) return directory;
      if (importPath.startsWith(`${module}/`)) return `${directory}/${importPath.slice(module.length + 1)}`;
    }
    return undefined;
  }

  /** The package's declarations (tests and generated deep-copy code left out); undefined outside the repository. */
  load(importPath: string): GoPackage | undefined {
    const directory = this.directoryOf(importPath);
    if (directory === undefined) return undefined;
    if (this.#packages.has(directory)) return this.#packages.get(directory);
    const files = this.git('ls-tree', '--name-only', this.#ref, `${directory}/`)
      .split('\n')
      .filter((file) => file.endsWith('.go') && !file.endsWith('_test.go') && !file.includes('zz_generated'));
    let pkg: GoPackage | undefined;
    for (const file of files) {
      const text = this.show(file);
      const name = /^package (\w+)$/m.exec(text)?.[1];
      if (name === undefined) throw new Error(`${file}: no package clause`);
      pkg ??= { name, structs: new Map(), namedTypes: new Map(), constants: new Map() };
      parseGoFile(file, text, pkg);
    }
    this.#packages.set(directory, pkg);
    return pkg;
  }
}

// ---------------------------------------------------------------------------------------------
// From Go types to the listing

class Lister {
  readonly #repo: Repository;
  readonly #structs = new Map<string, ListingStruct>();
  readonly #queue: { key: string; pkg: GoPackage; struct: GoStruct }[] = [];
  /** Qualified name → package, to catch two directories with one package name. */
  readonly #names = new Map<string, GoPackage>();

  constructor(repo: Repository) {
    this.#repo = repo;
  }

  list(): Record<string, ListingStruct> {
    const pkg = this.#repo.load(`${this.#repo.module}/${ROOT.directory}`);
    const root = pkg?.structs.get(ROOT.name);
    if (pkg === undefined || root === undefined) throw new Error(`no ${ROOT.name} in ${ROOT.directory}`);
    this.#enqueue(pkg, root);
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
      this.#structs.set(next.key, this.#listStruct(next.pkg, next.struct));
    }
    return Object.fromEntries(this.#structs);
  }

  #enqueue(pkg: GoPackage, struct: GoStruct): string {
    const key = `${pkg.name}.${struct.name}`;
    const known = this.#names.get(key);
    if (known !== undefined && known !== pkg) throw new Error(`two packages named ${pkg.name} declare ${struct.name}`);
    if (known === undefined) {
      this.#names.set(key, pkg);
      this.#queue.push({ key, pkg, struct });
    }
    return key;
  }

  #listStruct(pkg: GoPackage, struct: GoStruct): ListingStruct {
    const fields: ListingField[] = [];
    const notDecoded: string[] = [];
    this.#addFields(pkg, struct, undefined, fields, notDecoded);
    const seen = new Set<string>();
    for (const field of fields) {
      if (seen.has(field.go.toLowerCase())) throw new Error(`${struct.name}: two fields named ${field.go}`);
      seen.add(field.go.toLowerCase());
    }
    return { file: struct.file, fields, notDecoded };
  }

  #addFields(
    pkg: GoPackage,
    struct: GoStruct,
    embeddedFrom: string | undefined,
    fields: ListingField[],
    notDecoded: string[],
  ): void {
    for (const field of structFields(struct)) {
      const json = tagValue(field.tag, 'json');
      const jsonName = json?.split(',')[0];
      if (field.name === '' && (jsonName === undefined || jsonName === '')) {
        // Embedded without a JSON name: its fields are promoted into this struct.
        const inner = this.#namedStruct(pkg, struct.imports, field.goType.replace(/^\*/, ''));
        if (inner === undefined)
          throw new Error(`${struct.name}: embedded ${field.goType} is not a struct of this repository`);
        this.#addFields(inner.pkg, inner.struct, `${inner.pkg.name}.${inner.struct.name}`, fields, notDecoded);
        continue;
      }
      const name = field.name === '' ? (field.goType.split('.').at(-1) ?? field.goType).replace(/^\*/, '') : field.name;
      if (!/^[A-Z]/.test(name)) continue; // unexported: no decoder sees it
      const label = tagValue(field.tag, 'label');
      const kv = tagValue(field.tag, 'kv');
      if (label === '-' && kv === '-') {
        notDecoded.push(name);
        continue;
      }
      const kubebuilder = field.doc
        .map((line) => /\+kubebuilder:validation:Enum=(\S+)/.exec(line)?.[1])
        .find((values) => values !== undefined);
      const enumFrom: string[] = [];
      let type = this.#resolve(pkg, struct.imports, field.goType, enumFrom);
      if (kubebuilder !== undefined) {
        type = withEnum(type, kubebuilder.split(';'));
        enumFrom.push('kubebuilder');
      }
      const labelSliceAsStruct = tagValue(field.tag, 'label-slice-as-struct');
      const exported = tagValue(field.tag, 'export');
      fields.push({
        go: name,
        json: jsonName === '-' && json === '-' ? null : jsonName === undefined || jsonName === '' ? name : jsonName,
        goType: field.goType,
        type,
        ...(label === undefined ? {} : { label }),
        ...(kv === undefined ? {} : { kv }),
        ...(labelSliceAsStruct === undefined ? {} : { labelSliceAsStruct }),
        ...(exported === undefined ? {} : { export: exported }),
        ...(enumFrom.length === 0 ? {} : { enumFrom }),
        ...(embeddedFrom === undefined ? {} : { embeddedFrom }),
      });
    }
  }

  /** A named type written `Name` or `alias.Name`, when it is a struct of this repository. */
  #namedStruct(
    pkg: GoPackage,
    imports: ReadonlyMap<string, string>,
    expression: string,
  ): { pkg: GoPackage; struct: GoStruct } | undefined {
    const [qualifier, name] = expression.includes('.') ? expression.split('.', 2) : [undefined, expression];
    const owner =
      qualifier === undefined ? pkg : this.#repo.load(imports.get(qualifier) ?? `unknown import ${qualifier}`);
    const struct = name === undefined ? undefined : owner?.structs.get(name);
    return owner === undefined || struct === undefined ? undefined : { pkg: owner, struct };
  }

  #resolve(pkg: GoPackage, imports: ReadonlyMap<string, string>, expression: string, enumFrom: string[]): ListingType {
    if (expression.startsWith('*')) return this.#resolve(pkg, imports, expression.slice(1), enumFrom);
    if (expression.startsWith('[]'))
      return { kind: 'list', item: this.#resolve(pkg, imports, expression.slice(2), enumFrom) };
    const map = /^map\[(\w+)\](.+)$/.exec(expression);
    if (map?.[1] !== undefined && map[2] !== undefined) {
      if (map[1] !== 'string') throw new Error(`map with ${map[1]} keys: ${expression}`);
      return { kind: 'map', value: this.#resolve(pkg, imports, map[2], enumFrom) };
    }
    if (expression === 'any' || expression === 'interface{}') return { kind: 'any' };
    const builtin = BUILTIN_SCALARS[expression];
    if (builtin !== undefined) return builtin;

    const [qualifier, name] = expression.includes('.') ? expression.split('.', 2) : [undefined, expression];
    if (name === undefined || !/^\w+$/.test(name)) throw new Error(`cannot read the type ${expression}`);
    const importPath = qualifier === undefined ? undefined : imports.get(qualifier);
    if (qualifier !== undefined && importPath === undefined)
      throw new Error(`${expression}: no import named ${qualifier}`);
    const owner = importPath === undefined ? pkg : this.#repo.load(importPath);
    if (owner === undefined)
      return EXTERNAL_TYPES[`${importPath}.${name}`] ?? { kind: 'unresolved', goType: `${importPath}.${name}` };

    const struct = owner.structs.get(name);
    if (struct !== undefined) return { kind: 'struct', name: this.#enqueue(owner, struct) };
    const named = owner.namedTypes.get(name);
    if (named === undefined) throw new Error(`${owner.name}.${name} is not declared`);
    const underlying = this.#resolve(owner, named.imports, named.underlying, enumFrom);
    const constants = owner.constants.get(name);
    if (constants === undefined || underlying.kind !== 'scalar' || underlying.scalar !== 'string') return underlying;
    enumFrom.push(`const ${owner.name}.${name}`);
    return { ...underlying, enum: constants };
  }
}

/** The type with an enumeration on its string scalar (through lists). */
function withEnum(type: ListingType, values: readonly string[]): ListingType {
  if (type.kind === 'list') return { kind: 'list', item: withEnum(type.item, values) };
  if (type.kind === 'scalar' && type.scalar === 'string')
    return { ...type, enum: [...new Set([...(type.enum ?? []), ...values])] };
  throw new Error(`an enumeration on a ${type.kind}`);
}

/** The listing of Traefik's dynamic configuration at one ref of a Traefik Git repository. */
export function listTraefikFields(gitDir: string, ref: string): TraefikFieldListing {
  const repo = new Repository(gitDir, ref);
  const structs = new Lister(repo).list();
  return {
    source: {
      repository: repo.module,
      ref,
      commit: repo.git('rev-parse', `${ref}^{commit}`).trim(),
      generator: GENERATOR,
    },
    root: Object.keys(structs)[0] ?? '', // the walk starts at the root
    structs,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: { 'git-dir': { type: 'string' }, ref: { type: 'string', default: 'v3.7' } },
  });
  const gitDir = values['git-dir'];
  if (gitDir === undefined)
    throw new Error('usage: node scripts/traefik-dynamic-fields.ts --git-dir <traefik .git> [--ref v3.7]');
  process.stdout.write(`${JSON.stringify(listTraefikFields(gitDir, values.ref), null, 2)}\n`);
}

// Run as a script; imported (by scripts/traefik-field-versions.ts), it only lends listTraefikFields.
if (import.meta.main) main();
