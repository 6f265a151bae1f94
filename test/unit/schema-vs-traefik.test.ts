import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { traefikDynamicSchema, type FieldSpec } from '../../src/core/schema/traefik-dynamic-schema.ts';
import type { ListingField, TraefikFieldListing } from '../../scripts/lib/traefik-field-listing.ts';
import {
  compareSchema,
  type Difference,
  type DifferenceKind,
  type ProjectSchema,
} from '../support/schema-vs-listing.ts';
import type { TraefikFieldVersions } from '../../scripts/lib/traefik-field-versions.ts';
import { compareSince, type SinceDifference } from '../support/schema-since-vs-versions.ts';
import { handDatedValues, schemaExceptions } from './schema-vs-traefik-exceptions.ts';

// The hand-written schema against a listing that did not come from this project: the one that
// scripts/traefik-dynamic-fields.ts generates from Traefik's own Go structs. Any field,
// enumeration or type that one side has and the other lacks fails here, unless
// schema-vs-traefik-exceptions.ts explains it. To follow a new Traefik release: regenerate the
// listing, read the failures, edit the schema (or explain the difference). Traefik's source is no
// part of the suite (no network here), so whether the fixture is still what the generator makes of
// it is checked by hand, with a Traefik Git directory at hand:
//   node scripts/traefik-dynamic-fields.ts --git-dir DIR --ref v3.7 | diff - test/fixtures/traefik-dynamic-3.7.json

const FIXTURE = fileURLToPath(new URL('../fixtures/traefik-dynamic-3.7.json', import.meta.url));
const listing = JSON.parse(readFileSync(FIXTURE, 'utf8')) as TraefikFieldListing;
// The release that introduced each field, from Traefik's tags (scripts/traefik-field-versions.ts):
//   node scripts/traefik-field-versions.ts --git-dir DIR | diff - test/fixtures/traefik-field-versions.json
const VERSIONS_FIXTURE = fileURLToPath(new URL('../fixtures/traefik-field-versions.json', import.meta.url));
const versions = JSON.parse(readFileSync(VERSIONS_FIXTURE, 'utf8')) as TraefikFieldVersions;
const schema: ProjectSchema = traefikDynamicSchema;
const comparison = compareSchema(schema, listing);

const explained = (difference: Difference) =>
  schemaExceptions.some((entry) => entry.at === difference.at && entry.kind === difference.kind);
const describe = (difference: Difference) =>
  `${difference.at} [${difference.kind}] at ${difference.path || 'the root'}: ${difference.detail}`;

function assertNoUnexplained(differences: readonly Difference[], what: string): void {
  const unexplained = differences.filter((difference) => !explained(difference));
  assert.deepEqual(
    unexplained.map(describe),
    [],
    `${what} differs from Traefik's structs (fix src/core/schema, or explain it in schema-vs-traefik-exceptions.ts):\n${unexplained.map(describe).join('\n')}`,
  );
}

test('the listing is of Traefik v3.7, the release the schema follows', () => {
  assert.equal(listing.source.ref, 'v3.7');
  assert.match(listing.source.commit, /^[0-9a-f]{40}$/);
  assert.equal(listing.source.generator, 'scripts/traefik-dynamic-fields.ts');
  assert.equal(listing.root, 'dynamic.Configuration');
});

// One case per struct of the schema, as the walk from Configuration pairs it with Traefik's.
for (const pair of comparison.pairs) {
  test(`schema ${pair.project} matches Traefik's ${pair.traefik} (${pair.path || 'the root'})`, () => {
    assertNoUnexplained(
      comparison.differences.filter((difference) => difference.struct === pair.project),
      pair.project,
    );
  });
}

test('every struct of the schema is reached from Configuration, each as one Traefik struct', () => {
  assertNoUnexplained(
    comparison.differences.filter((difference) => difference.kind === 'pairing'),
    'the schema',
  );
  assert.equal(comparison.pairs.length, Object.keys(schema).length);
});

test('every exception explains a difference that is still there, once, with a reason', () => {
  const keys = schemaExceptions.map((entry) => `${entry.at} [${entry.kind}]`);
  assert.deepEqual(
    keys.filter((key, index) => keys.indexOf(key) !== index),
    [],
    'listed twice',
  );
  for (const entry of schemaExceptions) {
    assert.ok(entry.reason.length > 20, `${entry.at} [${entry.kind}] needs a reason`);
    assert.ok(
      comparison.differences.some((difference) => difference.at === entry.at && difference.kind === entry.kind),
      `${entry.at} [${entry.kind}] explains nothing any more: remove it from schema-vs-traefik-exceptions.ts`,
    );
  }
});

// The comparison must be able to fail: each mutation below, of the schema or of the listing,
// must produce the difference named, which no exception explains.

type MutableSchema = Record<string, Record<string, FieldSpec>>;

function mutatedSchema(change: (copy: MutableSchema) => void): ProjectSchema {
  const copy = structuredClone(schema) as MutableSchema;
  change(copy);
  return copy;
}

function field(copy: MutableSchema, struct: string): Record<string, FieldSpec> {
  const fields = copy[struct];
  if (fields === undefined) throw new Error(`no ${struct}`);
  return fields;
}

function mutatedListing(struct: string, change: (fields: ListingField[]) => ListingField[]): TraefikFieldListing {
  const original = listing.structs[struct];
  if (original === undefined) throw new Error(`no ${struct}`);
  return {
    ...listing,
    structs: { ...listing.structs, [struct]: { ...original, fields: change([...original.fields]) } },
  };
}

const replaceField = (name: string, change: (field: ListingField) => ListingField) => (fields: ListingField[]) =>
  fields.map((entry) => (entry.go === name ? change(entry) : entry));

interface Mutation {
  readonly name: string;
  readonly schema?: ProjectSchema;
  readonly listing?: TraefikFieldListing;
  readonly expect: { readonly at: string; readonly kind: DifferenceKind };
}

const mutations: readonly Mutation[] = [
  {
    name: 'a field added to the schema',
    schema: mutatedSchema((copy) => void (field(copy, 'Router')['rulez'] = 'string')),
    expect: { at: 'Router.rulez', kind: 'extra' },
  },
  {
    name: 'a field removed from the schema',
    schema: mutatedSchema((copy) => void delete field(copy, 'Cookie')['maxAge']),
    expect: { at: 'Cookie.maxAge', kind: 'missing' },
  },
  {
    name: 'a type changed: int to string',
    schema: mutatedSchema((copy) => void (field(copy, 'Router')['priority'] = 'string')),
    expect: { at: 'Router.priority', kind: 'type' },
  },
  {
    name: 'a type changed: int to uint',
    schema: mutatedSchema((copy) => void (field(copy, 'Cookie')['maxAge'] = 'uint')),
    expect: { at: 'Cookie.maxAge', kind: 'type' },
  },
  {
    name: 'a type changed: duration to int',
    schema: mutatedSchema((copy) => void (field(copy, 'RateLimit')['period'] = 'int')),
    expect: { at: 'RateLimit.period', kind: 'type' },
  },
  {
    name: 'a scalar made a list',
    schema: mutatedSchema((copy) => void (field(copy, 'AddPrefix')['prefix'] = 'string[]')),
    expect: { at: 'AddPrefix.prefix', kind: 'type' },
  },
  {
    name: 'an enumeration value dropped',
    schema: mutatedSchema((copy) => void (field(copy, 'ServersLoadBalancer')['strategy'] = 'enum(wrr|p2c|hrw)')),
    expect: { at: 'ServersLoadBalancer.strategy', kind: 'enum' },
  },
  {
    name: 'a field labels cannot set, opened to them',
    schema: mutatedSchema((copy) => void (field(copy, 'Router')['parentRefs'] = 'string[]')),
    expect: { at: 'Router.parentRefs', kind: 'label' },
  },
  {
    name: 'a KV field closed to KV',
    schema: mutatedSchema((copy) => void (field(copy, 'Server')['url'] = { t: 'string', kv: false })),
    expect: { at: 'Server.url', kind: 'kv' },
  },
  {
    name: 'allowEmpty dropped',
    schema: mutatedSchema((copy) => void (field(copy, 'Router')['tls'] = 'RouterTLSConfig')),
    expect: { at: 'Router.tls', kind: 'allowEmpty' },
  },
  {
    name: 'a label name dropped',
    schema: mutatedSchema((copy) => void (field(copy, 'ServersLoadBalancer')['servers'] = 'Server[]')),
    expect: { at: 'ServersLoadBalancer.servers', kind: 'labelName' },
  },
  {
    name: 'a spelling changed',
    schema: mutatedSchema((copy) => {
      const fields = field(copy, 'ServersLoadBalancer');
      fields['passhostheader'] = 'bool';
      delete fields['passHostHeader'];
    }),
    expect: { at: 'ServersLoadBalancer.passhostheader', kind: 'spelling' },
  },
  {
    name: 'a field Traefik gained',
    listing: mutatedListing('dynamic.Router', (fields) => [
      ...fields,
      { go: 'Weight', json: 'weight', goType: 'int', type: { kind: 'scalar', scalar: 'int' } },
    ]),
    expect: { at: 'Router.weight', kind: 'missing' },
  },
  {
    name: 'a field Traefik dropped',
    listing: mutatedListing('dynamic.Router', (fields) => fields.filter((entry) => entry.go !== 'Priority')),
    expect: { at: 'Router.priority', kind: 'extra' },
  },
  {
    name: 'a type Traefik changed: bool to string',
    listing: mutatedListing(
      'dynamic.Cookie',
      replaceField('Secure', (entry) => ({ ...entry, type: { kind: 'scalar', scalar: 'string' } })),
    ),
    expect: { at: 'Cookie.secure', kind: 'type' },
  },
  {
    name: 'an enumeration value Traefik added',
    listing: mutatedListing(
      'dynamic.ServersLoadBalancer',
      replaceField('Strategy', (entry) => ({
        ...entry,
        type: { kind: 'scalar', scalar: 'string', enum: ['wrr', 'p2c', 'hrw', 'leasttime', 'random'] },
      })),
    ),
    expect: { at: 'ServersLoadBalancer.strategy', kind: 'enum' },
  },
];

for (const mutation of mutations) {
  test(`self-check: the comparison catches ${mutation.name} (${mutation.expect.at} [${mutation.expect.kind}])`, () => {
    const matches = (difference: Difference) =>
      difference.at === mutation.expect.at && difference.kind === mutation.expect.kind;
    assert.ok(!comparison.differences.some(matches), 'the unmutated schema and listing must not differ there already');
    const mutated = compareSchema(mutation.schema ?? schema, mutation.listing ?? listing);
    const found = mutated.differences.filter(matches);
    assert.equal(
      found.length,
      1,
      `expected one ${mutation.expect.kind} difference at ${mutation.expect.at}; got:\n${mutated.differences.map(describe).join('\n')}`,
    );
    assert.ok(!found.some(explained), 'an exception would hide it');
  });
}

// The schema's dates (`since 3.6`, `hrw@3.6`) against the releases that introduced each field.

const describeSince = (difference: SinceDifference) => `${difference.at}: ${difference.detail}`;

test('the dates are of the same v3.7 listing, over every 3.x release from 3.0.0', () => {
  assert.equal(versions.source.listing.commit, listing.source.commit);
  assert.equal(versions.source.generator, 'scripts/traefik-field-versions.ts');
  assert.equal(versions.baseline, '3.0.0');
  assert.equal(versions.source.releases[0], '3.0.0');
  assert.ok(versions.source.releases.includes('3.7.0'));
  assert.deepEqual(versions.notes, [], 'a field that was backported and dropped again needs a look');
});

test('every field and value newer than 3.0 carries its release in the schema, and no date is wrong', () => {
  const differences = compareSince(schema, comparison.pairs, listing, versions, handDatedValues);
  assert.deepEqual(
    differences.map(describeSince),
    [],
    `the schema's since words differ from Traefik's tags:\n${differences.map(describeSince).join('\n')}`,
  );
});

test('every hand-dated value gives a reason', () => {
  for (const entry of handDatedValues) assert.ok(entry.reason.length > 20, `${entry.at}=${entry.value} needs a reason`);
});

interface SinceMutation {
  readonly name: string;
  readonly schema?: ProjectSchema;
  readonly versions?: TraefikFieldVersions;
  readonly expect: string;
}

const sinceMutations: readonly SinceMutation[] = [
  {
    name: 'a date dropped',
    schema: mutatedSchema(
      (copy) => void (field(copy, 'ServersLoadBalancer')['passiveHealthCheck'] = 'PassiveServerHealthCheck'),
    ),
    expect: 'ServersLoadBalancer.passiveHealthCheck',
  },
  {
    name: 'a date wrong',
    schema: mutatedSchema((copy) => void (field(copy, 'Cookie')['path'] = 'string since 3.4')),
    expect: 'Cookie.path',
  },
  {
    name: 'a patch release dropped from a date',
    schema: mutatedSchema((copy) => void (field(copy, 'ErrorPage')['errorRequestHeaders'] = 'string[] since 3.6')),
    expect: 'ErrorPage.errorRequestHeaders',
  },
  {
    name: 'a date on a field as old as 3.0',
    schema: mutatedSchema((copy) => void (field(copy, 'Router')['rule'] = 'string since 3.3')),
    expect: 'Router.rule',
  },
  {
    name: 'a value date dropped',
    schema: mutatedSchema(
      (copy) => void (field(copy, 'ServersLoadBalancer')['strategy'] = 'enum(wrr|p2c|hrw|leasttime@3.6) since 3.4'),
    ),
    expect: 'ServersLoadBalancer.strategy=hrw',
  },
  {
    name: 'a value dated that is as old as its field',
    schema: mutatedSchema((copy) => void (field(copy, 'Cookie')['sameSite'] = 'enum(none|lax@3.4|strict)')),
    expect: 'Cookie.sameSite=lax',
  },
  {
    name: 'a hand-dated value undated',
    schema: mutatedSchema(
      (copy) => void (field(copy, 'Compress')['defaultEncoding'] = 'enum(gzip|br|zstd) since 3.0.2'),
    ),
    expect: 'Compress.defaultEncoding=zstd',
  },
  {
    name: 'a field Traefik dated later',
    versions: { ...versions, fields: { ...versions.fields, 'dynamic.Cookie.Domain': '3.5.0' } },
    expect: 'Cookie.domain',
  },
  {
    name: 'a value Traefik dated later',
    versions: {
      ...versions,
      enumValues: {
        ...versions.enumValues,
        'dynamic.ServersLoadBalancer.Strategy': { hrw: '3.7.0', leasttime: '3.6.0' },
      },
    },
    expect: 'ServersLoadBalancer.strategy=hrw',
  },
];

for (const mutation of sinceMutations) {
  test(`self-check: the dates comparison catches ${mutation.name} (${mutation.expect})`, () => {
    const mutatedSchemaValue = mutation.schema ?? schema;
    const differences = compareSince(
      mutatedSchemaValue,
      compareSchema(mutatedSchemaValue, listing).pairs,
      listing,
      mutation.versions ?? versions,
      handDatedValues,
    );
    assert.deepEqual(
      differences.map((difference) => difference.at),
      [mutation.expect],
      differences.map(describeSince).join('\n'),
    );
  });
}
