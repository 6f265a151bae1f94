/**
 * Compares the schema's `since` words (src/core/schema) with the releases that
 * scripts/traefik-field-versions.ts read from Traefik's tags, in both directions: a field or value
 * the fixture dates after 3.0.0 must carry that date, and a date in the schema must be the
 * fixture's. Fields are paired as schema-vs-listing pairs them (by the walk from the root), so a
 * struct the project renamed is still found.
 */
import { parseFieldSpec, type FieldType } from '../../src/core/schema/schema-fields.ts';
import {
  compareTraefikVersions,
  formatTraefikVersion,
  parseTraefikVersion,
  type TraefikVersion,
} from '../../src/core/schema/traefik-version.ts';
import type { ListingType, TraefikFieldListing } from '../../scripts/lib/traefik-field-listing.ts';
import type { TraefikFieldVersions } from '../../scripts/lib/traefik-field-versions.ts';
import type { ProjectSchema, StructPair } from './schema-vs-listing.ts';

export interface SinceDifference {
  /** `ProjectStruct.field`, or `ProjectStruct.field=value` for an enumeration value. */
  readonly at: string;
  readonly detail: string;
}

/** A value of an enumeration the listing cannot see (checked in Traefik's code), dated by reading that code. */
export interface HandDatedValue {
  readonly at: string;
  readonly value: string;
  readonly since: string;
  readonly reason: string;
}

function enumSinceOf(type: FieldType | 'raw'): ReadonlyMap<string, TraefikVersion> {
  if (type === 'raw') return new Map();
  if (type.kind === 'list') return enumSinceOf(type.item);
  return type.kind === 'scalar' ? (type.enumSince ?? new Map()) : new Map();
}

function listingKnowsValues(type: ListingType): boolean {
  if (type.kind === 'list') return listingKnowsValues(type.item);
  return type.kind === 'scalar' && type.enum !== undefined;
}

const text = (version: TraefikVersion | undefined) =>
  version === undefined ? 'none (3.0.0)' : formatTraefikVersion(version);

function sameDate(ours: TraefikVersion | undefined, theirs: TraefikVersion | undefined): boolean {
  if (ours === undefined || theirs === undefined) return ours === theirs;
  return compareTraefikVersions(ours, theirs) === 0;
}

/** Every place where the schema's dates and the fixture's disagree. */
export function compareSince(
  schema: ProjectSchema,
  pairs: readonly StructPair[],
  listing: TraefikFieldListing,
  versions: TraefikFieldVersions,
  handDated: readonly HandDatedValue[] = [],
): SinceDifference[] {
  const differences: SinceDifference[] = [];
  const baseline = parseTraefikVersion(versions.baseline);
  const dateOf = (release: string | null | undefined): TraefikVersion | undefined => {
    if (release === undefined) return undefined;
    const version = release === null ? undefined : parseTraefikVersion(release);
    if (version === undefined) throw new Error(`the fixture dates something ${JSON.stringify(release)}: not a release`);
    return baseline !== undefined && compareTraefikVersions(version, baseline) <= 0 ? undefined : version;
  };
  const datedStructs = new Set<string>();

  for (const pair of pairs) {
    datedStructs.add(pair.traefik);
    const specs = schema[pair.project];
    const struct = listing.structs[pair.traefik];
    if (specs === undefined || struct === undefined) throw new Error(`no struct ${pair.project} / ${pair.traefik}`);
    for (const [key, spec] of Object.entries(specs)) {
      const field = parseFieldSpec(key, spec);
      const at = `${pair.project}.${key}`;
      const theirs = struct.fields.find((candidate) => candidate.go.toLowerCase() === key.toLowerCase());
      if (theirs === undefined) {
        // A field Traefik lacks is the listing comparison's to report; a date on it is wrong here.
        if (field.since !== undefined)
          differences.push({ at, detail: `dated ${text(field.since)}, but ${pair.traefik} has no such field to date` });
        continue;
      }
      const dated = `${pair.traefik}.${theirs.go}`;
      const expected = dateOf(versions.fields[dated]);
      if (!sameDate(field.since, expected)) {
        differences.push({
          at,
          detail: `the schema says since ${text(field.since)}, Traefik's tags say ${text(expected)} (${dated}); write "since ${text(expected)}" in its spec${expected === undefined ? ' (none: leave it out)' : ''}`,
        });
      }
      const ours = enumSinceOf(field.type);
      const theirsValues = versions.enumValues[dated] ?? {};
      const byHand = handDated.filter((entry) => entry.at === at);
      const known = listingKnowsValues(theirs.type);
      const values = new Set([
        ...ours.keys(),
        ...Object.keys(theirsValues),
        ...byHand.map((entry) => entry.value.toLowerCase()),
      ]);
      for (const value of values) {
        const hand = byHand.find((entry) => entry.value.toLowerCase() === value);
        if (hand !== undefined && known)
          differences.push({
            at: `${at}=${value}`,
            detail: 'dated by hand, but the listing knows the values: let the fixture date it',
          });
        const wanted = hand === undefined ? dateOf(theirsValues[value]) : parseTraefikVersion(hand.since);
        if (!sameDate(ours.get(value), wanted)) {
          differences.push({
            at: `${at}=${value}`,
            detail: `the schema says ${value}@${text(ours.get(value))}, ${hand === undefined ? "Traefik's tags say" : 'dated by hand:'} ${text(wanted)}`,
          });
        }
      }
    }
  }
  for (const dated of [...Object.keys(versions.fields), ...Object.keys(versions.enumValues)]) {
    const struct = dated.slice(0, dated.lastIndexOf('.'));
    if (!datedStructs.has(struct) && listing.structs[struct] === undefined)
      differences.push({
        at: dated,
        detail: 'the fixture dates a struct the listing does not have: regenerate both from one Traefik ref',
      });
  }
  return differences;
}
