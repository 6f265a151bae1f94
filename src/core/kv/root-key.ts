/**
 * Checks a root key the way Traefik's etcd provider needs it: no leading or trailing `/` (Traefik
 * does not find `/traefik/...`), no empty segment. `traefik/worker_<authority>` (Backend.AI) is fine.
 */
export function checkRootKey(rootKey: string): string | undefined {
  if (rootKey === '') return 'the root key is empty; use for example "traefik"';
  if (rootKey.startsWith('/'))
    return `root key "${rootKey}" starts with "/", and Traefik's KV provider would not find its keys; drop the leading "/"`;
  if (rootKey.endsWith('/')) return `root key "${rootKey}" ends with "/"; drop the trailing "/"`;
  if (rootKey.split('/').some((segment) => segment === '' || segment === '.' || segment === '..'))
    return `root key "${rootKey}" has an empty or relative segment`;
  if (/[\s\p{Cc}]/u.test(rootKey)) return `root key "${rootKey}" contains white space or control characters`;
  return undefined;
}

/**
 * Checks that a root key leaves appproxy's own bookkeeping (`appproxy/claims/…`, `appproxy/owners/…`,
 * see KeyLayout) outside Traefik's tree: Traefik watches every key under its root, so a root that is
 * a prefix of `appproxy/` would make it read the claims and owners as configuration. Only an instance
 * that writes needs this; `render` and `explain` print keys and never write them.
 */
/** The prefixes of appproxy's bookkeeping (KeyLayout), each followed by a root key. */
const BOOKKEEPING = [
  'appproxy/claims/',
  'appproxy/owners/',
  'appproxy/elections/',
  'appproxy/ports/',
  'appproxy/apps/',
];

export function checkRootKeyLeavesBookkeeping(rootKey: string): string | undefined {
  if ('appproxy/'.startsWith(rootKey))
    return `"${rootKey}" is a prefix of "appproxy/", where appproxy keeps its own bookkeeping; Traefik would watch both. Choose another root key`;
  const inside = BOOKKEEPING.find((prefix) => prefix.startsWith(rootKey) || `${rootKey}/`.startsWith(prefix));
  if (inside !== undefined)
    return `"${rootKey}" overlaps "${inside}", where appproxy keeps its own bookkeeping; Traefik would read that as configuration. Choose another root key`;
  return undefined;
}
