/**
 * The shape of the listing that scripts/traefik-dynamic-fields.ts generates from Traefik's Go
 * structs (test/fixtures/traefik-dynamic-*.json), shared with the test that compares it with the
 * project's schema. It records what the Go source says, not what the project thinks of it.
 */

export type ListingScalar = 'string' | 'bool' | 'int' | 'uint' | 'float' | 'duration';

/** A Go field type reduced to what the label and KV decoders see (pointers dropped). */
export type ListingType =
  | { readonly kind: 'scalar'; readonly scalar: ListingScalar; readonly enum?: readonly string[] }
  | { readonly kind: 'list'; readonly item: ListingType }
  | { readonly kind: 'map'; readonly value: ListingType }
  | { readonly kind: 'struct'; readonly name: string }
  /** `any` / `interface{}`: free-form values (plugin options). */
  | { readonly kind: 'any' }
  /** A type from a module outside Traefik's repository that the generator has no rule for. */
  | { readonly kind: 'unresolved'; readonly goType: string };

export interface ListingField {
  /** The Go field name: what Traefik's label and KV decoders match, without regard to case. */
  readonly go: string;
  /** The `json` tag's name; null for `json:"-"` (a field the decoders still read, see `label`/`kv`). */
  readonly json: string | null;
  /** The Go type as written (`*Sticky`, `[]types.Domain`, `map[string]*Router`). */
  readonly goType: string;
  readonly type: ListingType;
  /** The `label` tag: `-` (labels never set it), `allowEmpty`, or absent. */
  readonly label?: string;
  /** The `kv` tag: `-` (KV never sets it), `allowEmpty`, or absent. */
  readonly kv?: string;
  /** The `label-slice-as-struct` tag: labels set this list as one object of that name. */
  readonly labelSliceAsStruct?: string;
  readonly export?: string;
  /**
   * Where `type`'s enumeration came from: `const <type>` (typed string constants) or `kubebuilder` (a validation
   * comment).
   */
  readonly enumFrom?: readonly string[];
  /** The embedded struct this field was promoted from (Go's encoders flatten embedded structs). */
  readonly embeddedFrom?: string;
}

export interface ListingStruct {
  /** The Go file that declares it. */
  readonly file: string;
  readonly fields: readonly ListingField[];
  /** Fields neither decoder reads (`label:"-"` and `kv:"-"`): set by other providers or internally. */
  readonly notDecoded: readonly string[];
}

export interface TraefikFieldListing {
  readonly source: {
    readonly repository: string;
    readonly ref: string;
    readonly commit: string;
    readonly generator: string;
  };
  /** The struct the label and KV decoders fill: `dynamic.Configuration`. */
  readonly root: string;
  readonly structs: Readonly<Record<string, ListingStruct>>;
}
