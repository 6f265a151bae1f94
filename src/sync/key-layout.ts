import { claimIdOf, parseTreeKey } from '../core/resource-kinds.ts';

/**
 * Where everything lives in the store, in one place:
 *
 * - `<rootKey>`: the root marker (Traefik's etcd provider cannot start its watch on an empty root);
 * - `<rootKey>/<section>/<kind>/<name>/...`: Traefik's tree, shared resources and each owner's servers;
 * - `appproxy/claims/<rootKey>/<claim id>/<owner>`: which owner wants which resource, with the
 *   digest of its definition (outside the root, which Traefik watches as a bare prefix);
 * - `appproxy/owners/<rootKey>/<owner>`: each owner's record (its lease id and which instance runs it),
 *   so that a restart takes over; `.../<owner>/probe` and `.../<owner>/alive`: the question a starting
 *   instance asks and the answer a live one gives (see owner-guard.ts);
 * - `appproxy/elections/<rootKey>/`: the election of the one instance that writes Swarm services;
 * - `appproxy/ports/<rootKey>/<port>`: which app holds which port of the app port range, and which
 *   owner serves it (created only if absent, so that two instances never hand out one port);
 * - `appproxy/apps/<rootKey>/<app identity>`: where users find each app and its activity (JSON),
 *   for `appproxy apps` and any platform that wants to read it.
 */
export class KeyLayout {
  readonly rootKey: string;
  readonly owner: string;
  /** `appproxy/claims/<rootKey>/` */
  readonly claimsPrefix: string;
  /** `appproxy/owners/<rootKey>/` */
  readonly ownersPrefix: string;
  /** This owner's record. */
  readonly ownerKey: string;
  /** Where a starting instance asks whether a live one holds this owner id, and where that one answers. */
  readonly probeKey: string;
  readonly aliveKey: string;
  /** `appproxy/elections/<rootKey>/` */
  readonly electionsPrefix: string;
  /** `appproxy/ports/<rootKey>/` */
  readonly portsPrefix: string;
  /** `appproxy/apps/<rootKey>/` */
  readonly appsPrefix: string;
  /** `<rootKey>/` */
  readonly treePrefix: string;
  /** The one stand-in resource written when nothing else is (see planChange). */
  readonly placeholderKey: string;

  constructor(rootKey: string, owner: string) {
    this.rootKey = rootKey;
    this.owner = owner;
    this.claimsPrefix = `appproxy/claims/${rootKey}/`;
    this.ownersPrefix = `appproxy/owners/${rootKey}/`;
    this.ownerKey = `${this.ownersPrefix}${owner}`;
    this.probeKey = `${this.ownerKey}/probe`;
    this.aliveKey = `${this.ownerKey}/alive`;
    this.electionsPrefix = `appproxy/elections/${rootKey}/`;
    this.portsPrefix = `appproxy/ports/${rootKey}/`;
    this.appsPrefix = `appproxy/apps/${rootKey}/`;
    this.treePrefix = `${rootKey}/`;
    this.placeholderKey = `${this.treePrefix}${PLACEHOLDER_RESOURCE}/${PLACEHOLDER_FIELD}`;
  }

  /** The key of `owner`'s claim of a resource. */
  claimKey(claimId: string, owner: string = this.owner): string {
    return `${this.claimsPrefix}${claimId}/${owner}`;
  }

  /** The prefix of every owner's claim of a resource (what a guard compares). */
  claimPrefix(claimId: string): string {
    return `${this.claimsPrefix}${claimId}/`;
  }

  /** Where the holder of one port of the app port range is recorded. */
  portKey(port: number): string {
    return `${this.portsPrefix}${port}`;
  }

  /** Where one app's record is kept (its identity has slashes: it is the key's last part, whole). */
  appRecordKey(identity: string): string {
    return `${this.appsPrefix}${identity}`;
  }

  /** What a key read from the store is, in this layout; undefined for keys that are none of ours. */
  classify(key: string): ClassifiedKey | undefined {
    if (key === this.rootKey) return { kind: 'root' };
    if (key.startsWith(this.treePrefix)) {
      const parsed = parseTreeKey(key.slice(this.treePrefix.length));
      if (parsed === undefined) return undefined;
      const claimId = claimIdOf(parsed.resource);
      return parsed.server === undefined
        ? { kind: 'tree', resource: parsed.resource, claimId }
        : { kind: 'tree', resource: parsed.resource, claimId, server: parsed.server };
    }
    if (key.startsWith(this.claimsPrefix)) {
      const rest = key.slice(this.claimsPrefix.length);
      const slash = rest.lastIndexOf('/');
      if (slash <= 0) return undefined;
      return { kind: 'claim', claimId: rest.slice(0, slash), owner: rest.slice(slash + 1) };
    }
    if (key.startsWith(this.portsPrefix)) {
      const text = key.slice(this.portsPrefix.length);
      return /^\d{1,5}$/.test(text) ? { kind: 'port', port: Number(text) } : undefined;
    }
    if (key.startsWith(this.appsPrefix)) {
      const identity = key.slice(this.appsPrefix.length);
      return identity === '' ? undefined : { kind: 'app', identity };
    }
    return undefined;
  }

  /** The key ranges a mirror of this layout loads and watches. */
  ranges(): readonly KeyRange[] {
    return [
      { key: this.rootKey, prefix: false },
      { key: this.treePrefix, prefix: true },
      { key: this.claimsPrefix, prefix: true },
      { key: this.portsPrefix, prefix: true },
      { key: this.appsPrefix, prefix: true },
    ];
  }
}

export type ClassifiedKey =
  | { readonly kind: 'root' }
  | { readonly kind: 'tree'; readonly resource: string; readonly claimId: string; readonly server?: string }
  | { readonly kind: 'claim'; readonly claimId: string; readonly owner: string }
  | { readonly kind: 'port'; readonly port: number }
  | { readonly kind: 'app'; readonly identity: string };

/** One key, or every key that starts with it. */
export interface KeyRange {
  readonly key: string;
  readonly prefix: boolean;
}

/**
 * Traefik's etcd provider ignores a tree that decodes to nothing at all (it keeps the last
 * configuration), so removing the last route would leave every old route in place. When nothing
 * else remains, this one unused service stands in: Traefik then sees a configuration with no
 * routers and drops the old ones. It is removed as soon as anything else is written.
 */
export const PLACEHOLDER_RESOURCE = 'http/services/appproxy-placeholder';
const PLACEHOLDER_FIELD = 'loadBalancer/passHostHeader';
