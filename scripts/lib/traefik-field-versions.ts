/**
 * The shape of test/fixtures/traefik-field-versions.json, which scripts/traefik-field-versions.ts
 * generates from Traefik's release tags: for each field and enumeration value of a Traefik listing
 * (scripts/lib/traefik-field-listing.ts), the release from which on every 3.x release reads it. It
 * records what Traefik's source says, for the test that checks the schema's `since` words.
 */

export interface TraefikFieldVersions {
  readonly source: {
    readonly repository: string;
    /** The listing whose fields are dated (the one the schema follows) and its commit. */
    readonly listing: { readonly ref: string; readonly commit: string };
    readonly generator: string;
    /** Every release read, oldest first (`3.0.0`, ...): tags `v3.X.Y` without a suffix. */
    readonly releases: readonly string[];
  };
  /** The first release: everything the listing has and `fields` / `enumValues` do not name is in every release. */
  readonly baseline: string;
  /**
   * `<listing struct>.<Go field>` → the release from which on every release reads the field (at
   * every place of the tree the struct is used, where its parent is read already). Only fields
   * newer than the baseline; `null`: in no release yet.
   */
  readonly fields: Readonly<Record<string, string | null>>;
  /**
   * `<listing struct>.<Go field>` → enumeration value (lower case) → release, as for fields; only values newer than
   * their field.
   */
  readonly enumValues: Readonly<Record<string, Readonly<Record<string, string | null>>>>;
  /**
   * Fields and values that some release older than the one named already had and a later one lacked
   * (a backport to an older minor): their date is where the gap ends, and this says so.
   */
  readonly notes: readonly string[];
}
