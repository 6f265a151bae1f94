/**
 * What appproxy reads from the Docker API, and nothing else: the rules of `appproxy docker-proxy`.
 * Paths may carry an API version prefix (`/v1.41/containers/json`). Each route names the query
 * parameters appproxy sends there (anything else, such as `size=1`, which makes the engine measure
 * every layer, is refused) and what of the answer is removed before it leaves the proxy: what
 * appproxy never reads and others would want (environments, commands and arguments often carry
 * passwords and tokens). Pure: the server (docker-proxy-server.ts) applies it.
 */

type Json = Record<string, unknown>;

export interface ReadRoute {
  readonly path: RegExp;
  /** Query parameters appproxy sends on this route. */
  readonly query: readonly string[];
  /** Removes from a JSON answer what appproxy never reads; undefined: passed as it is. */
  readonly redact?: (body: unknown) => unknown;
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function drop(object: unknown, ...fields: string[]): void {
  if (!isObject(object)) return;
  for (const field of fields) delete object[field];
}

/** A container's inspect: appproxy reads its id, name, state, labels, network mode and network settings. */
function redactContainer(body: unknown): unknown {
  if (!isObject(body)) return body;
  drop(body, 'Args', 'Path');
  drop(body['Config'], 'Env', 'Cmd', 'Entrypoint');
  return body;
}

/** A task's or service's container spec: appproxy reads its labels. */
function redactContainerSpec(spec: unknown): void {
  drop(spec, 'Env', 'Args', 'Command');
}

function redactService(service: unknown): unknown {
  if (!isObject(service)) return service;
  for (const key of ['Spec', 'PreviousSpec']) {
    const spec = service[key];
    if (isObject(spec) && isObject(spec['TaskTemplate'])) redactContainerSpec(spec['TaskTemplate']['ContainerSpec']);
  }
  return service;
}

function redactTask(task: unknown): unknown {
  if (isObject(task) && isObject(task['Spec'])) redactContainerSpec(task['Spec']['ContainerSpec']);
  return task;
}

const each =
  (redact: (item: unknown) => unknown) =>
  (body: unknown): unknown =>
    Array.isArray(body) ? body.map(redact) : body;

const NAME = '[A-Za-z0-9][A-Za-z0-9_.-]{0,254}';

const READ_ROUTES: readonly ReadRoute[] = [
  { path: /^\/_ping$/, query: [] },
  { path: /^\/version$/, query: [] },
  { path: /^\/info$/, query: [] },
  { path: /^\/events$/, query: ['since', 'until', 'filters'] },
  { path: /^\/containers\/json$/, query: ['all', 'filters', 'limit'] },
  { path: new RegExp(`^/containers/${NAME}/json$`), query: [], redact: redactContainer },
  { path: /^\/services$/, query: ['filters', 'status'], redact: each(redactService) },
  { path: new RegExp(`^/services/${NAME}$`), query: ['insertDefaults'], redact: redactService },
  { path: /^\/tasks$/, query: ['filters'], redact: each(redactTask) },
  { path: /^\/networks$/, query: ['filters'] },
  { path: new RegExp(`^/networks/${NAME}$`), query: ['verbose', 'scope'] },
  { path: /^\/nodes$/, query: ['filters'] },
  { path: new RegExp(`^/nodes/${NAME}$`), query: [] },
];

/** Longest query value allowed (a filter of a few names; nothing needs more). */
const MAX_QUERY_VALUE = 4096;

/** The route of a request that may pass (GET or HEAD on a read path, its known query parameters only), or why not. */
export function readRoute(method: string | undefined, url: string | undefined): ReadRoute | { refused: string } {
  if (method !== 'GET' && method !== 'HEAD') return { refused: `${method ?? '?'}: read-only (GET and HEAD only)` };
  let parsed: URL;
  try {
    parsed = new URL(url ?? '', 'http://docker');
  } catch {
    return { refused: 'not a path' };
  }
  if (parsed.hash !== '' || (url ?? '').includes('#')) return { refused: 'a fragment' };
  const unversioned = parsed.pathname.replace(/^\/v\d+\.\d+(?=\/)/, '');
  const route = READ_ROUTES.find((candidate) => candidate.path.test(unversioned));
  if (route === undefined) return { refused: `${unversioned}: not a path appproxy reads` };
  for (const [name, value] of parsed.searchParams) {
    if (!route.query.includes(name))
      return { refused: `query parameter "${name}" is not one appproxy sends on ${unversioned}` };
    if (value.length > MAX_QUERY_VALUE)
      return { refused: `query parameter "${name}" is longer than ${MAX_QUERY_VALUE}` };
  }
  return route;
}
