import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { ReadbackBook } from '../../src/core/readback/readback-book.ts';
import { parseTraefikVersion } from '../../src/core/schema/traefik-version.ts';
import { TraefikReadback } from '../../src/readback/traefik-readback.ts';
import { startEchoBackends, type EchoBackend, type EchoReply } from '../support/echo-backends.ts';
import { parseKv } from '../support/etcd-kv.ts';
import { testStore, type TestStore } from '../support/test-store.ts';
import { requireTestEnv, testEnv, type HostPort } from '../support/env.ts';
import { startTraefik, type TestTraefik } from '../support/etcd-cluster.ts';
import { httpGet } from '../support/http-get.ts';
import { runCli } from '../support/run-cli.ts';
import { rawData, waitFor, waitForTree } from '../support/traefik-api.ts';
import {
  compareReleases,
  fieldSince,
  holdRoot,
  removeRoot,
  shortRelease,
  traefikReleaseNames,
  traefikReleases,
  type TraefikRelease,
} from '../support/traefik-releases.ts';

// The kv output of `appproxy render` for label cases, written to a real store (etcd; Redis with
// APPPROXY_TEST_STORE=redis: test-stores: etcd redis), read by real Traefiks (their etcd or Redis
// provider), with requests through each Traefik's entry points reaching real backends.
// Each Traefik loads the project's local plugin (test/fixtures/traefik-plugins), configured by labels.
//
// The same cases run against every Traefik release of the tests (test/support/traefik-releases.ts),
// one describe each: the environment's Traefik 3.7 (root key `traefik`) and the older releases of
// TRAEFIK_VERSIONS (3.0.4, 3.4.3), which this file starts itself, side by side, on ports of their own,
// each reading a root key of its own on the same store. appproxy renders once per release, with
// --traefik-min-version set to that release. A case whose labels use a field newer than the release
// (test/fixtures/traefik-field-versions.json) is not skipped there: it checks what appproxy promises
// instead (the workload is left out, with one error naming the label, the field, the release that
// introduced it and the setting; Traefik has none of its routes; the other workloads stay routed).

/** How long a Traefik may take to show a tree (a Traefik just started, on 2 busy cores, takes seconds). */
const WAIT_MS = 30_000;

const store: TestStore = testStore();
const stamp = `appproxy.http.middlewares.acc-stamp.plugin.${testEnv.pluginKey}`;
let backends: EchoBackend[];
let tcpServer: Server;
let tcpPort = 0;

/** One Traefik release the cases run against, and what appproxy rendered for it. */
interface Target {
  readonly release: TraefikRelease;
  readonly rootKey: string;
  readonly api: string;
  readonly web: string;
  readonly tcp: HostPort;
  /** The Traefik this file started (the older releases); the environment's runs on. */
  readonly own: TestTraefik | undefined;
  readonly rendered: {
    readonly code: number | null;
    readonly stderr: string;
    readonly tree: ReadonlyMap<string, string>;
  };
}

const targets = new Map<string, Target>();
/** The Traefiks this file started, for `after` to stop. */
const startedTraefiks: TestTraefik[] = [];

function target(name: string): Target {
  const found = targets.get(name);
  assert.ok(found !== undefined, `Traefik ${name} did not start (see the before hook's failure)`);
  return found;
}

/**
 * The cases' fields that Traefik 3.0 does not know, each with the workloads that use it and the
 * resources those workloads would have made. On a release older than the field, those workloads are
 * left out (the fixture says which release introduced it).
 */
interface NewerField {
  /** The field in the fixture's terms. */
  readonly field: string;
  /** How appproxy's error names it. */
  readonly name: string;
  readonly label: string;
  readonly workloads: readonly string[];
  readonly routers: readonly string[];
  readonly services: readonly string[];
  readonly middlewares: readonly string[];
}

const COOKIE_PATH: NewerField = {
  field: 'dynamic.Cookie.Path',
  name: 'path',
  label: 'appproxy.http.services.acc-chat.loadbalancer.sticky.cookie.path',
  workloads: ['acc-chat-1', 'acc-chat-2'],
  routers: ['acc-chat'],
  services: ['acc-chat'],
  middlewares: ['acc-strip'],
};

const STATUS_REWRITES: NewerField = {
  field: 'dynamic.ErrorPage.StatusRewrites',
  name: 'statusRewrites',
  label: 'appproxy.http.middlewares.acc-errors.errors.statusrewrites.418',
  workloads: ['acc-errors'],
  routers: ['acc-errors'],
  services: ['acc-errors'],
  middlewares: ['acc-errors'],
};

const NEWER_FIELDS: readonly NewerField[] = [COOKIE_PATH, STATUS_REWRITES];

/** Whether this release is older than the one that introduced the field (its workloads are left out). */
function tooOld(release: TraefikRelease, newer: NewerField): boolean {
  return compareReleases(release.version, fieldSince(newer.field)) < 0;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** appproxy's error for one workload left out for a newer field. */
function leftOutError(workload: string, newer: NewerField): RegExp {
  const since = escape(shortRelease(fieldSince(newer.field)));
  return new RegExp(
    `^error: workload "${escape(workload)}": label "${escape(newer.label)}": "${escape(newer.name)}" needs Traefik ${since} or newer \\(introduced in ${since}\\).*` +
      `raise --traefik-min-version \\(APPPROXY_TRAEFIK_MIN_VERSION, traefikMinVersion in the file\\) to ${since}$`,
  );
}

function inspect(name: string, port: number, labels: Record<string, string>): object {
  return {
    Id: `${name}-acceptance`,
    Name: `/${name}`,
    State: { Status: 'running' },
    Config: { Labels: { 'appproxy.enable': 'true', ...labels } },
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Ports: { [`${port}/tcp`]: null }, Networks: { lo: { IPAddress: '127.0.0.1' } } },
  };
}

function containers(): object[] {
  const [one, two] = backends as [EchoBackend, EchoBackend];
  const chat = {
    'com.docker.compose.project': 'acc',
    'com.docker.compose.service': 'chat',
    'appproxy.http.routers.acc-chat.rule': 'PathPrefix(`/wsk`)',
    'appproxy.http.routers.acc-chat.entrypoints': 'web',
    'appproxy.http.routers.acc-chat.middlewares': 'acc-strip@docker',
    'appproxy.http.middlewares.acc-strip.stripprefix.prefixes': '/wsk',
    'appproxy.http.services.acc-chat.loadbalancer.sticky.cookie.name': 'wsk_sticky',
    'appproxy.http.services.acc-chat.loadbalancer.sticky.cookie.samesite': 'lax',
    'appproxy.http.services.acc-chat.loadbalancer.sticky.cookie.httponly': 'true',
    [COOKIE_PATH.label]: '/wsk',
  };
  return [
    inspect('acc-chat-1', one.port, chat),
    inspect('acc-chat-2', two.port, chat),
    inspect('acc-replace', one.port, {
      'appproxy.http.routers.acc-replace.rule': 'PathPrefix(`/rp`)',
      'appproxy.http.routers.acc-replace.entrypoints': 'web',
      'appproxy.http.routers.acc-replace.middlewares': 'acc-replace',
      'appproxy.http.middlewares.acc-replace.replacepath.path': '/replaced',
    }),
    inspect('acc-default-rule', two.port, { 'appproxy.http.routers.acc-default-rule.entrypoints': 'web' }),
    // The plugin stamps its options into headers: a string, a list in one label, a nested object.
    inspect('acc-plugin', one.port, {
      'appproxy.http.routers.acc-plugin.rule': 'PathPrefix(`/plg`)',
      'appproxy.http.routers.acc-plugin.entrypoints': 'web',
      'appproxy.http.routers.acc-plugin.middlewares': 'acc-stamp',
      [`${stamp}.prefix`]: 'X-Acc',
      [`${stamp}.tags`]: 'red,green,blue',
      [`${stamp}.stamp.name`]: 'X-Acc-Deep',
      [`${stamp}.stamp.value`]: 'from-labels',
    }),
    // A single status key (`418`), which etcd cannot carry as it is: appproxy writes `418-418`.
    inspect('acc-errors', one.port, {
      'appproxy.http.routers.acc-errors.rule': 'PathPrefix(`/status`)',
      'appproxy.http.routers.acc-errors.entrypoints': 'web',
      'appproxy.http.routers.acc-errors.middlewares': 'acc-errors',
      'appproxy.http.middlewares.acc-errors.errors.status': '418',
      'appproxy.http.middlewares.acc-errors.errors.service': 'acc-errors',
      'appproxy.http.middlewares.acc-errors.errors.query': '/page/{status}',
      [STATUS_REWRITES.label]: '404',
    }),
    inspect('acc-tcp', tcpPort, {
      'appproxy.tcp.routers.acc-tcp.rule': 'HostSNI(`*`)',
      'appproxy.tcp.routers.acc-tcp.entrypoints': 'tcpep',
    }),
  ];
}

/**
 * A GET through a Traefik's `web` entry point, with the backend's reply decoded (undefined for Traefik's own answers).
 */
async function get(
  web: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; reply: EchoReply | undefined; setCookie: string[]; body: string }> {
  const response = await httpGet(web, path, headers);
  let reply: EchoReply | undefined;
  try {
    reply = JSON.parse(response.body) as EchoReply;
  } catch {
    reply = undefined;
  }
  return { status: response.status, reply, setCookie: response.setCookie, body: response.body };
}

/** The store's address as Traefik's provider takes it (host:port). */
function storeEndpoint(): string {
  return store.name === 'etcd' ? testEnv.etcdEndpoint : new URL(testEnv.redisUrl).host;
}

/** The root key this file gives an older release's Traefik: its own, on the shared store. */
function rootKeyOf(name: string): string {
  return `apx-acceptance-${name.replaceAll('.', '-')}`;
}

/**
 * The environment's Traefik for this store (3.7, root key `traefik`), or one this file starts on its own ports and root
 * key.
 */
async function prepare(release: TraefikRelease): Promise<Omit<Target, 'rendered'>> {
  if (release.name === 'environment') {
    const { api, web, tcp } = store.traefik;
    return { release, rootKey: 'traefik', api, web, tcp, own: undefined };
  }
  const rootKey = rootKeyOf(release.name);
  await removeRoot(store.kv, rootKey);
  await holdRoot(store.kv, store.name, rootKey);
  // Ports +5 to +7 of the release's ten: the versions test uses +0 and +1 (scripts/lib/test-env.conf).
  const webPort = testEnv.traefikVersions.firstPort + 10 * release.index + 5;
  const own = await startTraefik([storeEndpoint()], webPort, webPort + 1, store.name, {
    binary: release.binary,
    rootKey,
    logLevel: 'INFO',
    name: `Traefik ${release.version}`,
    tcpPort: webPort + 2,
    localPlugin: true,
  });
  return { release, rootKey, api: own.api, web: own.web, tcp: { host: '127.0.0.1', port: webPort + 2 }, own };
}

/**
 * Renders the cases for this release (--traefik-min-version set to it), writes them under its root key, and waits until
 * its Traefik shows them.
 */
async function load(prepared: Omit<Target, 'rendered'>): Promise<Target> {
  const { release, rootKey } = prepared;
  const rendered = await runCli(
    [
      'render',
      '--input',
      '-',
      '--format',
      'kv',
      '--strict',
      '--owner',
      'acceptance',
      '--root-key',
      rootKey,
      '--traefik-min-version',
      release.version,
    ],
    JSON.stringify(containers()),
  );
  // 0, or 1 with --strict when a workload was left out (the first case checks which); anything else
  // is a failure of its own, better named here than as a tree that never appears.
  assert.ok(
    rendered.code === 0 || rendered.code === 1,
    `appproxy render for Traefik ${release.version} exited ${rendered.code}:\n${rendered.stderr}`,
  );
  const tree = parseKv(rendered.stdout);
  const loaded: Target = { ...prepared, rendered: { code: rendered.code, stderr: rendered.stderr, tree } };
  await store.replaceTree(rootKey, tree);
  // Wait for this run's servers, not for routers an earlier run may have left in Traefik's memory.
  const urls = backends.map((backend) => `http://127.0.0.1:${backend.port}`).sort();
  const chatLeftOut = tooOld(release, COOKIE_PATH);
  await waitFor(
    `this run's configuration in Traefik ${release.version} (${prepared.api})`,
    async () => {
      const data = await waitForTree(prepared.api, store.suffix, rootKey, tree);
      const chat = data.services?.[`acc-chat${store.suffix}`] as
        { loadBalancer?: { servers?: { url: string }[] } } | undefined;
      const tcp = data.tcpServices?.[`acc-tcp${store.suffix}`] as
        { loadBalancer?: { servers?: { address: string }[] } } | undefined;
      const seen = (chat?.loadBalancer?.servers ?? []).map((server) => server.url).sort();
      const chatReady = chatLeftOut ? chat === undefined : JSON.stringify(seen) === JSON.stringify(urls);
      return chatReady && tcp?.loadBalancer?.servers?.[0]?.address === `127.0.0.1:${tcpPort}` ? true : undefined;
    },
    WAIT_MS,
  ).catch((error: unknown) => {
    throw new Error(
      `${String(error)}${prepared.own === undefined ? '' : `\nTraefik ${release.version}'s log ends:\n${prepared.own.log()}`}`,
    );
  });
  return loaded;
}

before(async () => {
  await requireTestEnv();
  backends = await startEchoBackends(2);
  tcpServer = createServer((socket) => socket.end('tcp-backend\n'));
  await new Promise<void>((resolve) => tcpServer.listen(0, '127.0.0.1', resolve));
  tcpPort = (tcpServer.address() as AddressInfo).port;

  // The Traefiks start, and get their trees, side by side (each older one loads the plugin with
  // Yaegi: seconds on a busy machine). Every one started is kept for `after`, even when another failed.
  const prepared = await Promise.allSettled(traefikReleases().map(prepare));
  for (const result of prepared)
    if (result.status === 'fulfilled' && result.value.own !== undefined) startedTraefiks.push(result.value.own);
  const failed = prepared.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  const loaded = await Promise.all(
    prepared.map((result) => load((result as PromiseFulfilledResult<Omit<Target, 'rendered'>>).value)),
  );
  for (const one of loaded) targets.set(one.release.name, one);
});

after(async () => {
  for (const release of traefikReleaseNames().filter((name) => name !== 'environment')) {
    await removeRoot(store.kv, rootKeyOf(release)).catch(() => undefined);
  }
  await store.clearTree('traefik');
  store.close();
  for (const traefik of startedTraefiks) await traefik.stop().catch(() => undefined);
  await Promise.all((backends ?? []).map((backend) => backend.close()));
  tcpServer?.close();
});

/** The cases, against one release. */
function cases(name: string): void {
  const t = () => target(name);
  const at = (resource: string) => `${resource}${store.suffix}`;

  test('acceptance: appproxy renders for this release: every workload, or, for a field the release lacks, that workload left out with its error', () => {
    const { release, rendered } = t();
    const expected = NEWER_FIELDS.filter((newer) => tooOld(release, newer)).flatMap((newer) =>
      newer.workloads.map((workload) => leftOutError(workload, newer)),
    );
    const lines = rendered.stderr.split('\n').filter((line) => line !== '');
    if (expected.length === 0) {
      assert.equal(rendered.code, 0, rendered.stderr);
      assert.equal(rendered.stderr, '');
      return;
    }
    assert.equal(rendered.code, 1, '--strict: something was left out');
    assert.equal(lines.length, expected.length, `one error per workload left out, no other:\n${rendered.stderr}`);
    for (const pattern of expected)
      assert.ok(
        lines.some((line) => pattern.test(line)),
        `an error matching ${pattern}:\n${rendered.stderr}`,
      );
    for (const newer of NEWER_FIELDS.filter((field) => tooOld(release, field))) {
      const written = [...rendered.tree.keys()].filter((key) =>
        [...newer.routers, ...newer.services, ...newer.middlewares].some((resource) => key.includes(`/${resource}/`)),
      );
      assert.deepEqual(
        written,
        [],
        `nothing of ${newer.workloads.join(', ')} is written for Traefik ${release.version}`,
      );
    }
  });

  test('acceptance: Traefik shows every router, service and middleware enabled, with no error', async () => {
    const { release, api, rootKey, rendered } = t();
    const data = await rawData(api);
    const ours = (map: Record<string, Record<string, unknown>> | undefined) =>
      Object.entries(map ?? {}).filter(([resource]) => resource.endsWith(store.suffix));
    const all = [
      ...ours(data.routers),
      ...ours(data.services),
      ...ours(data.middlewares),
      ...ours(data.tcpRouters),
      ...ours(data.tcpServices),
    ];
    const leftOut = NEWER_FIELDS.filter((newer) => tooOld(release, newer));
    // Nine on 3.7; on a release left without the chat and errors workloads, the three resources of each fewer.
    assert.ok(
      all.length >= 9 - 3 * leftOut.length,
      `expected our resources, got ${all.map(([resource]) => resource).join(', ')}`,
    );
    for (const [resource, info] of all) {
      assert.equal(info['status'], 'enabled', `${resource}: ${JSON.stringify(info)}`);
      assert.equal(info['error'], undefined, `${resource}: ${JSON.stringify(info['error'])}`);
    }
    // Every resource written is there (the plugin middleware too: a plugin that failed to load would
    // leave it in error above, or missing).
    const names = new Set(all.map(([resource]) => resource));
    for (const key of rendered.tree.keys()) {
      const resource = key.slice(rootKey.length + 1).split('/')[2];
      if (resource !== undefined)
        assert.ok(names.has(at(resource)), `${at(resource)} (from ${key}) in Traefik ${release.version}`);
    }
    for (const newer of leftOut) {
      for (const router of newer.routers)
        assert.equal(data.routers?.[at(router)], undefined, `no router ${router} in Traefik ${release.version}`);
      for (const service of newer.services)
        assert.equal(data.services?.[at(service)], undefined, `no service ${service} in Traefik ${release.version}`);
      for (const middleware of newer.middlewares)
        assert.equal(
          data.middlewares?.[at(middleware)],
          undefined,
          `no middleware ${middleware} in Traefik ${release.version}`,
        );
    }
    if (tooOld(release, COOKIE_PATH)) return;
    const chat = data.services?.[at('acc-chat')] as { loadBalancer: { servers: { url: string }[] } };
    assert.deepEqual(
      chat.loadBalancer.servers.map((server) => server.url).sort(),
      backends.map((backend) => `http://127.0.0.1:${backend.port}`).sort(),
      'one service with both containers as servers',
    );
  });

  // The closed loop on every release (issue 25): appproxy's own read-back, given what was written,
  // finds each router, service and middleware live in this Traefik, refuses none, reads its version.
  test("acceptance: appproxy's read-back finds every router, service and middleware written live here, and this release's version", async () => {
    const { release, api, rootKey, rendered } = t();
    const stored = new Map<string, { present: true; servers?: string[] }>();
    for (const [key, value] of rendered.tree) {
      const [section = '', kind = '', name = '', ...rest] = key.slice(rootKey.length + 1).split('/');
      const resource = `${section}/${kind}/${name}`;
      const entry = stored.get(resource) ?? { present: true as const };
      stored.set(resource, entry);
      if (kind !== 'services' || rest[0]?.toLowerCase() !== 'loadbalancer') continue;
      entry.servers ??= [];
      if (rest[1] === 'servers' && (rest[3] === 'url' || rest[3] === 'address')) entry.servers.push(value);
    }
    for (const entry of stored.values()) entry.servers?.sort();
    const readback = new TraefikReadback({
      urls: [api],
      provider: store.name,
      book: new ReadbackBook({
        lagWarnMs: 30_000,
        minVersion: parseTraefikVersion(release.version) ?? { major: 3, minor: 0, patch: 0 },
      }),
      stored: (resource) => stored.get(resource) ?? { present: false },
      logger: pino({ level: 'silent' }),
    });
    await readback.round();
    readback.committed(stored.keys(), 1n);
    const report = await waitFor(
      `the read-back of ${stored.size} resources in Traefik ${release.version}`,
      async () => {
        await readback.round();
        const [found] = readback.reports();
        return found !== undefined && found.pending.length === 0 ? found : undefined;
      },
      WAIT_MS,
    );
    assert.ok(
      stored.size >= 9 - 3 * NEWER_FIELDS.filter((newer) => tooOld(release, newer)).length,
      `resources: ${[...stored.keys()].join(', ')}`,
    );
    assert.deepEqual(report.refused, [], 'nothing refused');
    assert.equal(report.version, release.version, 'the version Traefik reports');
    assert.equal(report.olderThanDeclared, false);
  });

  /** On a release older than the field: its workload's route is absent from Traefik, and the others' still answer. */
  async function assertLeftOut(newer: NewerField, path: string): Promise<void> {
    const { release, api, web } = t();
    const data = await rawData(api);
    assert.equal(
      data.routers?.[at(newer.routers[0] as string)],
      undefined,
      `Traefik ${release.version} has no router of ${newer.workloads.join(', ')}`,
    );
    const refused = await get(web, path);
    assert.equal(refused.status, 404, `no route for ${path} on Traefik ${release.version}: ${refused.body}`);
    assert.equal(refused.reply, undefined, `Traefik's own 404, not a backend's: ${refused.body}`);
    // The other workloads stay routed: one with a middleware of its own, and the automatic router.
    const replaced = await get(web, '/rp/anything?q=1');
    assert.equal(replaced.status, 200, replaced.body);
    assert.equal(replaced.reply?.path, '/replaced?q=1');
    const automatic = await get(web, '/', { host: 'acc-default-rule' });
    assert.equal(automatic.status, 200, automatic.body);
    assert.equal(automatic.reply?.backend, backends[1]?.id);
  }

  const chatTitle = 'acceptance: stripPrefix reaches the backend with the prefix removed, and the sticky cookie holds';
  test(
    tooOldByName(name, COOKIE_PATH)
      ? `${chatTitle}: not on this release (the cookie's path is ${shortRelease(fieldSince(COOKIE_PATH.field))}): the chat workload is left out, and the others stay routed`
      : chatTitle,
    async () => {
      const { web, release: running } = t();
      if (tooOld(running, COOKIE_PATH)) {
        await assertLeftOut(COOKIE_PATH, '/wsk/socket.io/?EIO=4');
        return;
      }
      const first = await get(web, '/wsk/socket.io/?EIO=4');
      assert.equal(first.status, 200);
      assert.equal(first.reply?.path, '/socket.io/?EIO=4');
      const cookie = first.setCookie.find((value) => value.startsWith('wsk_sticky='));
      assert.ok(cookie, `sticky cookie under its configured name; got ${JSON.stringify(first.setCookie)}`);
      assert.match(cookie, /; Path=\/wsk/);
      assert.match(cookie, /; HttpOnly/);
      assert.match(cookie, /; SameSite=Lax/);
      const value = cookie.split(';')[0] as string;
      const seen = new Set<string>();
      for (let index = 0; index < 20; index += 1) {
        const next = await get(web, '/wsk/poll', { cookie: value });
        assert.equal(next.status, 200);
        seen.add(next.reply?.backend ?? '?');
      }
      assert.deepEqual([...seen], [first.reply?.backend], 'every request with the cookie reaches the same backend');
      const without = new Set<string>();
      for (let index = 0; index < 20; index += 1) without.add((await get(web, '/wsk/poll')).reply?.backend ?? '?');
      assert.equal(without.size, 2, 'without the cookie, requests spread over both backends (the control)');
    },
  );

  test('acceptance: replacePath changes the path the backend sees', async () => {
    const reply = await get(t().web, '/rp/anything?q=1');
    assert.equal(reply.status, 200);
    assert.equal(reply.reply?.path, '/replaced?q=1');
    assert.equal(reply.reply?.headers['x-replaced-path'], '/rp/anything');
  });

  test('acceptance: a plugin middleware gets its string, list and nested options from labels and changes the request and the response', async () => {
    const { api, web } = t();
    const data = await rawData(api);
    assert.deepEqual(
      (data.middlewares?.[at('acc-stamp')] as { plugin?: unknown } | undefined)?.plugin,
      {
        [testEnv.pluginKey]: {
          prefix: 'X-Acc',
          tags: 'red,green,blue',
          stamp: { name: 'X-Acc-Deep', value: 'from-labels' },
        },
      },
      "the options as Traefik read them from the store (a list given in one label stays the text, as from Traefik's Docker provider)",
    );
    const response = await httpGet(web, '/plg/x?q=1');
    assert.equal(response.status, 200, response.body);
    // The plugin's headers on the response: the list arrived as three items.
    assert.equal(response.headers['x-acc-prefix'], 'X-Acc');
    assert.equal(response.headers['x-acc-tags'], 'red|green|blue');
    assert.equal(response.headers['x-acc-tag-count'], '3');
    assert.equal(response.headers['x-acc-deep'], 'from-labels');
    // And on the request the backend received.
    const reply = JSON.parse(response.body) as EchoReply;
    assert.equal(reply.path, '/plg/x?q=1');
    assert.equal(reply.headers['x-acc-prefix'], 'X-Acc');
    assert.equal(reply.headers['x-acc-tags'], 'red|green|blue');
    assert.equal(reply.headers['x-acc-tag-count'], '3');
    assert.equal(reply.headers['x-acc-deep'], 'from-labels');
    // The control: a router without the plugin leaves both untouched.
    const control = await httpGet(web, '/rp/x');
    assert.equal(control.status, 200);
    assert.equal(control.headers['x-acc-prefix'], undefined);
    assert.equal((JSON.parse(control.body) as EchoReply).headers['x-acc-prefix'], undefined);
  });

  const defaultRuleTitle =
    "acceptance: the automatic router takes the default rule Host(`<name>`), with Traefik's loop guard";
  test(
    guardlessByName(name)
      ? `${defaultRuleTitle}: not on this release without tracing (Traefik before ${LOOP_GUARD_SINCE} installs the guard only with tracing on): routed, and a stamped request passes`
      : defaultRuleTitle,
    async () => {
      const { web, release: running } = t();
      const reply = await get(web, '/', { host: 'acc-default-rule' });
      assert.equal(reply.status, 200);
      assert.equal(reply.reply?.backend, backends[1]?.id);
      const hash = routerHash(at('acc-default-rule'));
      if (compareReleases(running.version, LOOP_GUARD_SINCE) < 0) {
        assert.equal(
          reply.reply?.headers['x-traefik-router'],
          undefined,
          `Traefik ${running.version} without tracing stamps nothing`,
        );
        const stamped = await get(web, '/', { host: 'acc-default-rule', 'x-traefik-router': hash });
        assert.equal(
          stamped.status,
          200,
          `Traefik ${running.version} has no guard to refuse the stamp 3.7 would refuse`,
        );
        return;
      }
      // The router carries Traefik's defaultRule flag, as its label providers set it: Traefik stamps the
      // request with the router's hash and refuses one that comes back with it (a loop into itself).
      const stamp = reply.reply?.headers['x-traefik-router'];
      assert.equal(
        typeof stamp,
        'string',
        `the denyRouterRecursion stamp; headers: ${JSON.stringify(reply.reply?.headers)}`,
      );
      assert.equal(stamp, hash, "the stamp is the hash of the router's name (what the older releases are sent above)");
      const looped = await get(web, '/', { host: 'acc-default-rule', 'x-traefik-router': stamp as string });
      assert.equal(looped.status, 400, 'a request that already passed this router is refused');
      assert.equal(
        (await get(web, '/rp/x')).reply?.headers['x-traefik-router'],
        undefined,
        'a router with its own rule has no such stamp (the control)',
      );
    },
  );

  const errorsTitle =
    'acceptance: an errors middleware with a single status in statusRewrites (418=404) rewrites that status';
  test(
    tooOldByName(name, STATUS_REWRITES)
      ? `${errorsTitle}: not on this release (statusRewrites is ${shortRelease(fieldSince(STATUS_REWRITES.field))}): the errors workload is left out, and the others stay routed`
      : errorsTitle,
    async () => {
      const { web, release: running } = t();
      if (tooOld(running, STATUS_REWRITES)) {
        await assertLeftOut(STATUS_REWRITES, '/status/418');
        return;
      }
      const rewritten = await get(web, '/status/418');
      assert.equal(rewritten.status, 404, "the backend's 418 comes back as 404");
      // Traefik fills {status} with the rewritten status.
      assert.equal(
        rewritten.reply?.path,
        '/page/404',
        'with the error page the middleware asked for, for the new status',
      );
      const untouched = await get(web, '/status/503');
      assert.equal(untouched.status, 503, "a status outside the middleware's range passes as it is (the control)");
      assert.equal(untouched.reply?.path, '/status/503');
    },
  );

  test('acceptance: a TCP router forwards to its backend', async () => {
    const { tcp } = t();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(tcp.port, tcp.host);
      let data = '';
      socket.setTimeout(5000, () => socket.destroy(new Error('TCP timeout')));
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.equal(answer, 'tcp-backend\n');
  });
}

/**
 * The first release whose default-rule loop guard works without tracing. Traefik 3.0.0 to 3.4.5 append
 * it after `if !m.observabilityMgr.ShouldAddTracing(...) { return chain.Extend(*mHandler).Then(sHandler) }`
 * (pkg/server/router/router.go, buildHTTPHandler, v3.0.4 line 229, v3.4.3 line 228), and
 * ShouldAddTracing is false while the static configuration has no `tracing`: those releases never
 * install the guard unless tracing is on, whatever the provider (their Docker provider alike). From
 * 3.5.0 on (commit 8c23eb6833, "Introduce trace verbosity config") the guard comes first. The test
 * Traefiks run without tracing, as Traefik does by default.
 */
const LOOP_GUARD_SINCE = '3.5.0';

/** What Traefik's guard stamps a request with: FNV-1 64 of the router's name, in hex (denyrouterrecursion.makeHash). */
function routerHash(routerName: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(routerName, 'utf8'))
    hash = ((hash * 0x100000001b3n) & 0xffffffffffffffffn) ^ BigInt(byte);
  return hash.toString(16);
}

/**
 * Whether a release, by its TRAEFIK_VERSIONS name, lacks the loop guard without tracing (for the test's name; see
 * tooOldByName).
 */
function guardlessByName(name: string): boolean {
  return name !== 'environment' && compareReleases(name, LOOP_GUARD_SINCE) < 0;
}

/**
 * Whether a release, by the name TRAEFIK_VERSIONS gives it, lacks the field: for naming the test when
 * the file loads, before any binary has run (the test itself decides on the version the binary reports).
 * The environment's release is 3.7, which has every field of the cases.
 */
function tooOldByName(name: string, newer: NewerField): boolean {
  return name !== 'environment' && compareReleases(name, fieldSince(newer.field)) < 0;
}

for (const name of traefikReleaseNames()) {
  describe(name === 'environment' ? "Traefik 3.7 (the environment's)" : `Traefik ${name}`, () => cases(name));
}
