/**
 * Checks a root key the way Traefik's etcd provider needs it: no leading or trailing `/` (Traefik
 * does not find `/traefik/...`), no empty segment. `traefik/worker_<authority>` (Backend.AI) is fine.
 */
export function checkRootKey(rootKey: string): string | undefined {
  if (rootKey === '') return 'the root key is empty; use for example "traefik"';
  if (rootKey.startsWith('/')) return `root key "${rootKey}" starts with "/", and Traefik's etcd provider would not find its keys; drop the leading "/"`;
  if (rootKey.endsWith('/')) return `root key "${rootKey}" ends with "/"; drop the trailing "/"`;
  if (rootKey.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) return `root key "${rootKey}" has an empty or relative segment`;
  if (/[\s\p{Cc}]/u.test(rootKey)) return `root key "${rootKey}" contains white space or control characters`;
  return undefined;
}
