/**
 * What appproxy reads from the Docker API, and nothing else: the rules of `appproxy docker-proxy`.
 * Paths may carry an API version prefix (`/v1.41/containers/json`).
 */
const READ_PATHS: readonly RegExp[] = [
  /^\/_ping$/,
  /^\/version$/,
  /^\/info$/,
  /^\/events$/,
  /^\/containers\/json$/,
  /^\/containers\/[A-Za-z0-9_.-]+\/json$/,
  /^\/services$/,
  /^\/services\/[A-Za-z0-9_.-]+$/,
  /^\/tasks$/,
  /^\/networks$/,
  /^\/networks\/[A-Za-z0-9_.-]+$/,
  /^\/nodes$/,
  /^\/nodes\/[A-Za-z0-9_.-]+$/,
];

/** Whether a request may pass: GET or HEAD on one of the read paths. */
export function allowedRequest(method: string | undefined, url: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = (url ?? '').split('?', 1)[0] ?? '';
  const unversioned = path.replace(/^\/v\d+\.\d+(?=\/)/, '');
  return READ_PATHS.some((pattern) => pattern.test(unversioned));
}
