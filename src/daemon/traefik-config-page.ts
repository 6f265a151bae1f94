import { keyValuesToConfiguration } from '../core/kv/key-values-to-configuration.ts';

/** Traefik's tree as one engine's mirror holds it (SyncEngine.traefikTree). */
export interface TraefikTree {
  readonly revision: bigint;
  readonly entries: Iterable<readonly [string, string]>;
}

export interface TraefikConfigAnswer {
  readonly status: number;
  /** JSON text. */
  readonly body: string;
  /** The store revision the configuration reflects (also the answer's ETag), when there is one. */
  readonly revision?: bigint;
}

/**
 * GET /traefik/dynamic: the dynamic configuration that Traefik's KV providers read from the store,
 * served from this instance's mirror for Traefik's HTTP provider (`--providers.http.endpoint`), so
 * that a Traefik polls the instance beside it instead of re-reading the whole tree from the store
 * on every change. Every instance's mirror holds every owner's keys, so any instance serves the
 * whole tree. The text is made once per store revision: Traefik's pollers of one revision share it.
 *
 * While the mirror is not current (not loaded yet, or its watch lost), 503: Traefik's HTTP provider
 * keeps the configuration it has and asks again at its next poll, rather than taking an old one.
 */
export class TraefikConfigPage {
  readonly #rootKey: string;
  readonly #tree: () => TraefikTree | undefined;
  #cached: { revision: bigint; body: string } | undefined;

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
    if (this.#cached?.revision !== tree.revision) {
      this.#cached = {
        revision: tree.revision,
        body: JSON.stringify(keyValuesToConfiguration(tree.entries, this.#rootKey)),
      };
    }
    return { status: 200, body: this.#cached.body, revision: this.#cached.revision };
  }
}
