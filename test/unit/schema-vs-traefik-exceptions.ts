/**
 * Where src/core/schema differs from Traefik's Go structs on purpose, or where the listing cannot
 * see what Traefik checks: one entry per difference, each with its reason. The comparison
 * (schema-vs-traefik.test.ts) fails on any difference not listed here, and on an entry that no
 * longer matches a difference.
 */
import type { DifferenceKind } from '../support/schema-vs-listing.ts';
import type { HandDatedValue } from '../support/schema-since-vs-versions.ts';

export interface SchemaException {
  /** `ProjectStruct.field`, as the comparison names it. */
  readonly at: string;
  readonly kind: DifferenceKind;
  readonly reason: string;
}

const CODE_CHECKED =
  'a plain string in the struct: Traefik checks the value in code, not by a typed constant or a kubebuilder comment, so the listing cannot see';

export const schemaExceptions: readonly SchemaException[] = [
  // Enumerations that Traefik checks where it uses the value.
  {
    at: 'Router.ruleSyntax',
    kind: 'enum',
    reason: `${CODE_CHECKED} it; only v2 and v3 parse (pkg/muxer, the rule parsers)`,
  },
  { at: 'TCPRouter.ruleSyntax', kind: 'enum', reason: `${CODE_CHECKED} it; only v2 and v3 parse (pkg/muxer/tcp)` },
  {
    at: 'ServerHealthCheck.mode',
    kind: 'enum',
    reason: `${CODE_CHECKED} it; the health checker knows http and grpc (pkg/healthcheck)`,
  },
  {
    at: 'Compress.encodings',
    kind: 'enum',
    reason: `${CODE_CHECKED} them; the compress middleware knows gzip, br and zstd (pkg/middlewares/compress)`,
  },
  {
    at: 'Compress.defaultEncoding',
    kind: 'enum',
    reason: `${CODE_CHECKED} it; the compress middleware knows gzip, br and zstd (pkg/middlewares/compress)`,
  },

  // Label-only fields that the provider consumes: open to Traefik's KV decoder only because the
  // struct has no kv:"-" tag there, and meaningless in KV.
  {
    at: 'TCPServer.port',
    kind: 'kv',
    reason:
      'json:"-" with no kv:"-" tag: a label provider turns the port into the address; appproxy does too and writes only the address',
  },
  {
    at: 'UDPServer.port',
    kind: 'kv',
    reason:
      'json:"-" with no kv:"-" tag: a label provider turns the port into the address; appproxy does too and writes only the address',
  },
  {
    at: 'ForwardingTimeouts.readTimeout',
    kind: 'kv',
    reason:
      'json:"-" (for the NGINX provider): not in Traefik\'s JSON, so appproxy records no KV spelling; labels cannot set serversTransports, so appproxy never writes it',
  },
  {
    at: 'ForwardingTimeouts.writeTimeout',
    kind: 'kv',
    reason:
      'json:"-" (for the NGINX provider): not in Traefik\'s JSON, so appproxy records no KV spelling; labels cannot set serversTransports, so appproxy never writes it',
  },

  // Fields Traefik's providers set internally, left out of the schema.
  {
    at: 'WRRService.headers',
    kind: 'missing',
    reason:
      'set by the Knative provider (json:"-", label:"-", file:"-"; the kv tag was left out); labels never reach a weighted service, so appproxy has no use for it',
  },
  {
    at: 'WRRService.status',
    kind: 'missing',
    reason:
      'set by the Gateway API provider (json:"-", label:"-", file:"-"; the kv tag was left out); labels never reach a weighted service, so appproxy has no use for it',
  },
  {
    at: 'WRRService.gRPCStatus',
    kind: 'missing',
    reason:
      'set by the Gateway API provider (json:"-", label:"-", file:"-"; the kv tag was left out); its code is a gRPC type from outside Traefik\'s repository; labels never reach a weighted service',
  },
];

/**
 * Enumeration values the listing cannot date (the enumerations above that Traefik checks in code),
 * dated by reading that code at Traefik's tags. schema-vs-traefik.test.ts holds the schema's `@`
 * dates of these fields to this list.
 */
export const handDatedValues: readonly HandDatedValue[] = [
  {
    at: 'Compress.defaultEncoding',
    value: 'zstd',
    since: '3.1',
    reason:
      'defaultEncoding came in 3.0.2 knowing gzip and br; pkg/middlewares/compress names zstd from v3.1.0 on (git grep -i zstd v3.0.4 / v3.1.0)',
  },
];
