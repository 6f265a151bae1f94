import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startEchoBackends, type EchoBackend, type EchoReply } from '../support/echo-backends.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { startTraefik, type TestTraefik } from '../support/etcd-cluster.ts';
import { parseKv } from '../support/etcd-kv.ts';
import { httpGet } from '../support/http-get.ts';
import { runCli } from '../support/run-cli.ts';
import { testStore, type TestStore } from '../support/test-store.ts';
import { rawData, waitFor } from '../support/traefik-api.ts';
import { holdRoot, removeRoot, traefikReleases, type TraefikRelease } from '../support/traefik-releases.ts';

// appproxy against three Traefik releases at once: the oldest 3.0 on PyPI, a middle one (both
// installed by `bash scripts/test-env.sh install` into TRAEFIK_VERSIONS_DIR) and the environment's
// own 3.7. Each runs here, on loopback ports of its own (TRAEFIK_VERSIONS_PORT on), with the etcd
// provider on the environment's etcd, a root key nobody else reads, and throttle 0.
//
// One key a Traefik does not know makes it reject the whole tree under its root key, every
// workload's routes with it (Traefik 3.0.4: "field not found, node: passiveHealthCheck"). With the
// default --traefik-min-version (3.0), appproxy leaves out the workload that uses a 3.6 field, says
// so, and the plain workload beside it is routed by all three. The control writes the same labels
// for 3.7: then the older two freeze (a router added in that write never appears) and 3.7 routes both.

const ROOT = 'apx-versions';
const WAIT_MS = 30_000;
/** How long an older Traefik is watched for a router it must never apply. */
const FROZEN_MS = 5_000;

interface RunningTraefik extends TestTraefik {
  readonly version: string;
}

const store: TestStore = testStore('etcd');
const running: RunningTraefik[] = [];
let backend: EchoBackend;

async function startRelease(release: TraefikRelease): Promise<RunningTraefik> {
  const webPort = testEnv.traefikVersions.firstPort + 10 * release.index;
  const traefik = await startTraefik([testEnv.etcdEndpoint], webPort, webPort + 1, 'etcd', {
    binary: release.binary,
    rootKey: ROOT,
    logLevel: 'INFO',
    name: `Traefik ${release.version}`,
  });
  const started: RunningTraefik = { ...traefik, version: release.version };
  running.push(started);
  return started;
}

/** What `docker inspect` prints for a container on loopback, enabled, with these labels. */
function inspect(name: string, labels: Record<string, string>): object {
  return {
    Id: `${name}-versions`,
    Name: `/${name}`,
    State: { Status: 'running' },
    Config: { Labels: { 'appproxy.enable': 'true', ...labels } },
    HostConfig: { NetworkMode: 'bridge' },
    NetworkSettings: { Ports: { [`${backend.port}/tcp`]: null }, Networks: { lo: { IPAddress: '127.0.0.1' } } },
  };
}

/** A plain workload of what every 3.x reads: a router, a stripPrefix middleware, a named sticky cookie. */
function plain(name: string): object {
  return inspect(name, {
    [`appproxy.http.routers.${name}.rule`]: `PathPrefix(\`/${name}\`)`,
    [`appproxy.http.routers.${name}.entrypoints`]: 'web',
    [`appproxy.http.routers.${name}.middlewares`]: `${name}-strip`,
    [`appproxy.http.middlewares.${name}-strip.stripprefix.prefixes`]: `/${name}`,
    [`appproxy.http.services.${name}.loadbalancer.sticky.cookie.name`]: `${name}_sticky`,
  });
}

/** A workload with a field of Traefik 3.6 (passiveHealthCheck), which 3.0 and 3.4 do not know. */
function newer(name: string): object {
  return inspect(name, {
    [`appproxy.http.routers.${name}.rule`]: `PathPrefix(\`/${name}\`)`,
    [`appproxy.http.routers.${name}.entrypoints`]: 'web',
    [`appproxy.http.services.${name}.loadbalancer.passivehealthcheck.maxfailedattempts`]: '3',
  });
}

async function render(
  containers: readonly object[],
  args: readonly string[] = [],
): Promise<{ pairs: Map<string, string>; stderr: string }> {
  const rendered = await runCli(
    ['render', '--input', '-', '--format', 'kv', '--owner', 'versions', '--root-key', ROOT, ...args],
    JSON.stringify(containers),
  );
  assert.equal(rendered.code, 0, rendered.stderr);
  return { pairs: parseKv(rendered.stdout), stderr: rendered.stderr };
}

type Router = { status?: string; error?: unknown } | undefined;

async function router(traefik: RunningTraefik, name: string): Promise<Router> {
  return (await rawData(traefik.api)).routers?.[`${name}@etcd`] as Router;
}

async function waitEnabled(traefik: RunningTraefik, name: string): Promise<void> {
  await waitFor(
    `router ${name}@etcd enabled in Traefik ${traefik.version} (${traefik.api})`,
    async () => {
      const found = await router(traefik, name);
      return found?.status === 'enabled' ? true : undefined;
    },
    WAIT_MS,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\nTraefik ${traefik.version}'s log ends:\n${traefik.log()}`);
  });
}

before(async () => {
  await requireTestEnv();
  backend = (await startEchoBackends(1))[0] as EchoBackend;
  await removeRoot(store.kv, ROOT);
  await holdRoot(store.kv, 'etcd', ROOT);
  for (const release of traefikReleases()) await startRelease(release);
});

after(async () => {
  await removeRoot(store.kv, ROOT).catch(() => undefined);
  store.close();
  for (const traefik of running) await traefik.stop();
  await backend?.close();
});

test('traefik versions: for the default oldest Traefik (3.0), a workload with a 3.6 field is left out with an error, and the plain one beside it is routed by every release', async () => {
  const { pairs, stderr } = await render([plain('tv-plain'), newer('tv-newer')]);
  assert.match(
    stderr,
    /workload "tv-newer": label "appproxy\.http\.services\.tv-newer\.loadbalancer\.passivehealthcheck\.maxfailedattempts": "passiveHealthCheck" needs Traefik 3\.6 or newer \(introduced in 3\.6\)/,
  );
  assert.match(stderr, /--traefik-min-version/);
  assert.equal(stderr.trim().split('\n').length, 1, `one error, for tv-newer alone:\n${stderr}`);
  assert.deepEqual(
    [...pairs.keys()].filter((key) => /passivehealthcheck|tv-newer/i.test(key)),
    [],
    'nothing of tv-newer is written',
  );
  await store.replaceTree(ROOT, pairs);

  for (const traefik of running) {
    await waitEnabled(traefik, 'tv-plain');
    const data = await rawData(traefik.api);
    assert.equal(data.routers?.['tv-newer@etcd'], undefined, `Traefik ${traefik.version} has no tv-newer router`);
    const reply = await httpGet(traefik.web, '/tv-plain/hello?q=1');
    assert.equal(reply.status, 200, `Traefik ${traefik.version}: ${reply.body}`);
    const echo = JSON.parse(reply.body) as EchoReply;
    assert.equal(echo.backend, 'backend-1', `Traefik ${traefik.version} reached the backend`);
    assert.equal(echo.path, '/hello?q=1', `Traefik ${traefik.version} applied stripPrefix`);
    assert.ok(
      reply.setCookie.some((cookie) => cookie.startsWith('tv-plain_sticky=')),
      `Traefik ${traefik.version} set the sticky cookie by its name: ${JSON.stringify(reply.setCookie)}`,
    );
  }
});

test('traefik versions: the control: the same labels written for 3.7 freeze the older releases (a router added in that write never appears) and 3.7 routes both', async () => {
  const { pairs, stderr } = await render(
    [plain('tv-plain'), newer('tv-newer'), plain('tv-later')],
    ['--traefik-min-version', '3.7'],
  );
  assert.equal(stderr, '');
  assert.ok(
    [...pairs.keys()].some((key) => key.endsWith('/passiveHealthCheck/maxFailedAttempts')),
    'the 3.6 field is written for 3.7',
  );
  await store.replaceTree(ROOT, pairs);

  const newest: RunningTraefik | undefined = running.find((candidate) => candidate.version.startsWith('3.7.'));
  assert.ok(newest !== undefined);
  await waitEnabled(newest, 'tv-later');
  await waitEnabled(newest, 'tv-newer');
  // The older releases got the same write at the same moment; 3.7 has applied it, so they have read it.
  const older: readonly RunningTraefik[] = running.filter((candidate) => candidate !== newest);
  const deadline = Date.now() + FROZEN_MS;
  while (Date.now() < deadline) {
    for (const traefik of older) {
      assert.equal(
        await router(traefik, 'tv-later'),
        undefined,
        `Traefik ${traefik.version} applied a tree with a field it does not know?\n${traefik.log()}`,
      );
      assert.equal(
        (await router(traefik, 'tv-plain'))?.status,
        'enabled',
        `Traefik ${traefik.version} keeps its last good configuration`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  for (const traefik of older) {
    assert.match(traefik.log(), /passiveHealthCheck/i, `Traefik ${traefik.version} says which field it could not read`);
  }
});
