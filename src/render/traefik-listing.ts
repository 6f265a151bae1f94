/**
 * One Traefik as GET /traefiks gives it (daemon/traefiks-listing.ts makes it from the read-back's
 * reports): what `appproxy traefiks` prints and the status page shows. JSON: times as ISO strings.
 */
export interface TraefikListing {
  readonly traefik: string;
  readonly source: string;
  readonly version: string | null;
  readonly olderThanDeclared: boolean;
  readonly reachable: boolean | null;
  readonly unreachableSince: string | null;
  readonly lastError: string | null;
  readonly current: boolean;
  readonly lagSeconds: number;
  readonly pending: number;
  readonly oldestPending: readonly {
    readonly resource: string;
    readonly committedAt: string;
    readonly revision: string;
    readonly shows?: string;
  }[];
  readonly refused: readonly { readonly resource: string; readonly error: string; readonly since: string }[];
  readonly stopped: { readonly since: string; readonly likelyCause: string } | null;
}
