import { keyValuesToConfiguration } from '../core/kv/key-values-to-configuration.ts';

/** Traefik's tree as one engine's mirror holds it (SyncEngine.traefikTree). */
export interface TraefikTree {
  readonly revision: bigint;
  /** Moves whenever an entry of the mirror changes (StoreMirror.changes). */
  readonly changes: number;
  readonly entries: Iterable<readonly [string, string]>;
}

export interface TraefikConfigAnswer {
  readonly status: number;
  /** JSON text. */
  readonly body: string;
  /** Names this body (`"<store revision>-<mirror changes>"`), when there is one. */
  readonly etag?: string;
}

/**
 * GET /traefik/dynamic: the dynamic configuration that Traefik's KV providers read from the store,
 * served from this instance's mirror for Traefik's HTTP provider (`--providers.http.endpoint`), so
 * that a Traefik polls the instance beside it instead of re-reading the whole tree from the store
 * on every change. Every instance's mirror holds every owner's keys, so any instance serves the
 * whole tree. The text is made once per state of the mirror: Traefik's pollers of one state share it.
 *
 * While the mirror is not current (not loaded yet, or its watch lost), 503: Traefik's HTTP provider
 * keeps the configuration it has and asks again at its next poll, rather than taking an old one.
 */
export class TraefikConfigPage {
  readonly #rootKey: string;
  readonly #tree: () => TraefikTree | undefined;
  #cached: { etag: string; body: string } | undefined;

  constructor(rootKey: string, tree: () => TraefikTree | undefined) {
    this.#rootKey = rootKey;
    this.#tree = tree;
  }

  answer(): TraefikConfigAnswer {
    const tree = this.#tree();
    if (tree === undefined)
      return {
        status: 503,
        body: JSON.stringify({
          error:
            "this instance's copy of the store is not current (not loaded yet, or its watch was lost): ask again in a moment; /readyz says why",
        }),
      };
    const etag = `"${tree.revision}-${tree.changes}"`;
    if (this.#cached?.etag !== etag)
      this.#cached = { etag, body: JSON.stringify(keyValuesToConfiguration(tree.entries, this.#rootKey)) };
    return { status: 200, body: this.#cached.body, etag };
  }
}
