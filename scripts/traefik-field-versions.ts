/**
 * Dates each field and enumeration value of Traefik's dynamic configuration: the 3.x release from
 * which on every release reads it. test/unit/schema-vs-traefik.test.ts checks the schema's `since`
 * words against the result, and appproxy refuses labels that an older Traefik than
 * --traefik-min-version could not read (one unknown key makes Traefik reject the whole tree).
 *
 *   node scripts/traefik-field-versions.ts --git-dir /path/to/traefik.git > test/fixtures/traefik-field-versions.json
 *
 * It lists every release tag `v3.X.Y` with scripts/traefik-dynamic-fields.ts (no checkout) and
 * compares the places of the tree, not struct names (which Traefik may rename or move): a field is
 * `http.services.<name>.loadBalancer.passiveHealthCheck`, matched without regard to case as
 * Traefik's decoders match it. A field that arrives with its parent (every field of a new
 * middleware) is dated by the parent alone.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { listTraefikFields } from './traefik-dynamic-fields.ts';
import type { ListingType, TraefikFieldListing } from './lib/traefik-field-listing.ts';
import type { TraefikFieldVersions } from './lib/traefik-field-versions.ts';

const GENERATOR = 'scripts/traefik-field-versions.ts';
const RELEASE_TAG = /^v3\.(\d+)\.(\d+)$/;

/** One place of the tree: which listing field it is, where its parent is, and its enumeration. */
interface Place {
  /** `<listing struct>.<Go field>`. */
  readonly field: string;
  /** The place of the field whose value holds this one's struct; '' at the root. */
  readonly parent: string;
  /** Lower-case enumeration values, when the listing knows them. */
  readonly enumValues: ReadonlySet<string> | undefined;
}

function enumOf(type: ListingType): ReadonlySet<string> | undefined {
  if (type.kind === 'list') return enumOf(type.item);
  if (type.kind === 'scalar' && type.enum !== undefined) return new Set(type.enum.map((value) => value.toLowerCase()));
  return undefined;
}

/** Every place of the listing's tree, walked from the root (a struct inside itself is not entered again). */
export function placesOf(listing: TraefikFieldListing): Map<string, Place> {
  const places = new Map<string, Place>();
  const walk = (structName: string, prefix: string, parent: string, stack: readonly string[]): void => {
    const struct = listing.structs[structName];
    if (struct === undefined) throw new Error(`${listing.source.ref}: no struct ${structName}`);
    for (const field of struct.fields) {
      const place = prefix === '' ? field.go.toLowerCase() : `${prefix}.${field.go.toLowerCase()}`;
      places.set(place, { field: `${structName}.${field.go}`, parent, enumValues: enumOf(field.type) });
      let type = field.type;
      let inner = place;
      for (;;) {
        if (type.kind === 'list') {
          inner += '[]';
          type = type.item;
        } else if (type.kind === 'map') {
          inner += '.<name>';
          type = type.value;
        } else break;
      }
      if (type.kind === 'struct' && !stack.includes(type.name)) walk(type.name, inner, place, [...stack, type.name]);
    }
  };
  walk(listing.root, '', '', [listing.root]);
  return places;
}

/** `3.10.2` after `3.9.0`; null (in no release) after everything. */
export function compareReleases(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const [x, y] = [a, b].map((text) => text.split('.').map(Number));
  for (let index = 0; index < 3; index += 1) {
    const difference = (x?.[index] ?? 0) - (y?.[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

const later = (a: string | null, b: string | null) => (compareReleases(a, b) >= 0 ? a : b);

interface Dated {
  /** From this release on, every release has it; null: the newest lacks it. */
  readonly since: string | null;
  /** An older release had it too, and a release between lacked it. */
  readonly gap: boolean;
}

function dateOf(releases: readonly string[], has: (index: number) => boolean): Dated {
  let first = releases.length;
  while (first > 0 && has(first - 1)) first -= 1;
  const since = first === releases.length ? null : (releases[first] ?? null);
  let gap = false;
  for (let index = 0; index < first - 1 && !gap; index += 1) gap = has(index);
  return { since, gap };
}

/** Dates every field and value of `listing` over the releases' listings (oldest first). */
export function dateFields(
  listing: TraefikFieldListing,
  releases: readonly { readonly version: string; readonly listing: TraefikFieldListing }[],
): TraefikFieldVersions {
  const versions = releases.map((release) => release.version);
  const baseline = versions[0];
  if (baseline === undefined) throw new Error('no release to compare with');
  const releasePlaces = releases.map((release) => placesOf(release.listing));
  const places = placesOf(listing);
  const notes = new Set<string>();
  const placeDates = new Map<string, Dated>();
  const datePlace = (place: string): Dated => {
    let dated = placeDates.get(place);
    if (dated === undefined) {
      dated = dateOf(versions, (index) => releasePlaces[index]?.has(place) === true);
      placeDates.set(place, dated);
    }
    return dated;
  };

  const fieldSince = new Map<string, { since: string | null; at: string }>();
  const valueSince = new Map<string, Map<string, string | null>>();
  for (const [place, { field, parent, enumValues }] of places) {
    const own = datePlace(place);
    const parentSince: string | null = parent === '' ? baseline : datePlace(parent).since;
    // A field that came with its parent needs no date of its own: the parent's refuses it first.
    const since: string | null = compareReleases(own.since, parentSince) > 0 ? own.since : baseline;
    if (own.gap && since !== baseline)
      notes.add(
        `${field} (${place}): an older release had it, a later one lacked it; dated from ${own.since ?? 'no release'}`,
      );
    const known = fieldSince.get(field);
    if (known !== undefined && known.since !== since)
      notes.add(
        `${field} is dated ${known.since ?? 'never'} at ${known.at} and ${since ?? 'never'} at ${place}: the later date is kept`,
      );
    if (known === undefined || compareReleases(since, known.since) > 0) fieldSince.set(field, { since, at: place });

    for (const value of enumValues ?? []) {
      // A release whose listing knows no values for the field (a plain string then, checked in
      // code) is not taken to lack any: only a typed enumeration without the value dates it.
      const dated = dateOf(versions, (index) => {
        const then = releasePlaces[index]?.get(place);
        return then !== undefined && (then.enumValues === undefined || then.enumValues.has(value));
      });
      if (compareReleases(dated.since, own.since) <= 0) continue;
      if (dated.gap)
        notes.add(
          `${field} value ${value} (${place}): an older release had it, a later one lacked it; dated from ${dated.since ?? 'no release'}`,
        );
      const values = valueSince.get(field) ?? new Map<string, string | null>();
      values.set(value, later(values.get(value) ?? dated.since, dated.since));
      valueSince.set(field, values);
    }
  }

  const byName = <T>(entries: Iterable<[string, T]>): [string, T][] =>
    [...entries].sort(([a], [b]) => (a < b ? -1 : 1));
  const fields = Object.fromEntries(
    byName([...fieldSince].filter(([, { since }]) => since !== baseline).map(([field, { since }]) => [field, since])),
  );
  const enumValues = Object.fromEntries(
    byName(valueSince).map(([field, values]) => [field, Object.fromEntries(byName(values))]),
  );
  return {
    source: {
      repository: listing.source.repository,
      listing: { ref: listing.source.ref, commit: listing.source.commit },
      generator: GENERATOR,
      releases: versions,
    },
    baseline,
    fields,
    enumValues,
    notes: [...notes].sort(),
  };
}

function main(): void {
  const { values } = parseArgs({
    options: { 'git-dir': { type: 'string' }, ref: { type: 'string', default: 'v3.7' } },
  });
  const gitDir = values['git-dir'];
  if (gitDir === undefined)
    throw new Error('usage: node scripts/traefik-field-versions.ts --git-dir <traefik .git> [--ref v3.7]');
  const listing = listTraefikFields(gitDir, values.ref);
  const releases = releaseTags(gitDir).map((tag) => ({
    version: tag.slice(1),
    listing: listTraefikFields(gitDir, tag),
  }));
  process.stdout.write(`${JSON.stringify(dateFields(listing, releases), null, 2)}\n`);
}

/** The repository's `v3.X.Y` tags (no pre-releases), oldest first. */
function releaseTags(gitDir: string): string[] {
  const tags = execFileSync('git', ['--git-dir', gitDir, 'tag', '--list', 'v3.*'], { encoding: 'utf8' }).split('\n');
  return tags.filter((tag) => RELEASE_TAG.test(tag)).sort((a, b) => compareReleases(a.slice(1), b.slice(1)));
}

if (import.meta.main) main();
