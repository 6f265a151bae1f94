import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseKv } from '../support/etcd-kv.ts';
import { testStore, type TestStore } from '../support/test-store.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { runCli } from '../support/run-cli.ts';
import { rawData, waitFor, waitForRouters, waitForTree, type RawData } from '../support/traefik-api.ts';
import { parityCases, type ParityContainer } from './parity-cases.ts';
import { removeLabelled, testDocker } from '../support/test-docker.ts';
import { caseView } from '../support/parity-view.ts';
import { HttpProviderTraefik, serveJson } from '../support/http-provider-traefik.ts';
import { keyValuesToConfiguration } from '../../src/core/kv/key-values-to-configuration.ts';
import type { Server } from 'node:http';

// Parity with Traefik's own Docker provider: the same containers, on one real Docker engine,
// carry the same labels under `traefik.` and `appproxy.`. One Traefik reads them with its Docker
// provider; another reads what `appproxy render` writes to the store (etcd; Redis with
// APPPROXY_TEST_STORE=redis: test-stores: etcd redis). Their /api/rawdata must show the
// same routers, services and middlewares, with the same status and errors, provider suffixes aside.

const docker = testDocker();
const RUN = 'appproxy-parity';
const SENTINEL = 'p99-sentinel';
let store: TestStore;
let problems = '';
let fromDocker: RawData;
let fromEtcd: RawData;
// The same tree as appproxy serves it to Traefik's HTTP provider (GET /traefik/dynamic), read by a
// Traefik of the same release: it must show what the one reading the store shows.
let fromHttp: RawData;
let httpTraefik: HttpProviderTraefik | undefined;
let httpServer: Server | undefined;
/** The HTTP-provider Traefik's API port (and the next four for its entry points), and its endpoint's port. */
const HTTP_TRAEFIK_PORT = 18571;
const HTTP_ENDPOINT_PORT = 18579;

function labelsOf(container: ParityContainer): Record<string, string> {
  const labels: Record<string, string> = { [RUN]: 'true', ...container.raw };
  for (const [suffix, value] of Object.entries(container.labels ?? {})) {
    labels[`traefik.${suffix}`] = value;
    labels[`appproxy.${suffix}`] = value;
  }
  return labels;
}

async function removeOurs(): Promise<void> {
  await removeLabelled(docker, [RUN]);
  for (const name of ['parity-a', 'parity-b']) {
    await docker
      .getNetwork(name)
      .remove()
      .catch(() => undefined);
  }
}

async function startContainer(container: ParityContainer): Promise<void> {
  const ports = container.ports ?? ['80/tcp'];
  const [firstNetwork, ...otherNetworks] = container.networks ?? [];
  const created = await docker.createContainer({
    name: container.name,
    Image: testEnv.busyboxImage,
    Cmd: ['sleep', '600'],
    Labels: labelsOf(container),
    ExposedPorts: Object.fromEntries(ports.map((port) => [port, {}])),
    StopSignal: 'SIGKILL',
    Healthcheck:
      container.health === undefined
        ? undefined
        : {
            Test: ['CMD', container.health === 'healthy' ? 'true' : 'false'],
            Interval: 500_000_000,
            Retries: 1,
            StartPeriod: 0,
          },
    HostConfig: firstNetwork === undefined ? {} : { NetworkMode: firstNetwork },
  });
  for (const network of otherNetworks) await docker.getNetwork(network).connect({ Container: created.id });
  await created.start();
}

before(async () => {
  await requireTestEnv();
  store = testStore();
  await removeOurs();
  await docker.createNetwork({ Name: 'parity-a', Labels: { [RUN]: 'true' } });
  await docker.createNetwork({ Name: 'parity-b', Labels: { [RUN]: 'true' } });

  const all = parityCases.flatMap((entry) => entry.containers);
  for (let start = 0; start < all.length; start += 6)
    await Promise.all(all.slice(start, start + 6).map(startContainer));
  // Health checks settle before anyone reads them.
  await waitFor(
    'health checks to settle',
    async () => {
      const list = await docker.listContainers({ filters: { label: [RUN] } });
      return list.every(
        (info) => !/health: starting|\(health/.test(info.Status) || /\((un)?healthy\)/.test(info.Status),
      )
        ? true
        : undefined;
    },
    30_000,
  );
  // Started last: once Traefik's Docker provider shows it, it has seen every container before it.
  await startContainer({ name: SENTINEL, labels: { enable: 'true' } });

  // Compared with the environment's Traefik, 3.7, whose fields some cases use (p08, p26, p37, p70, p71).
  const rendered = await runCli(['render', '--format', 'kv', '--owner', 'parity', '--traefik-min-version', '3.7'], '', {
    ...process.env,
    DOCKER_HOST: `unix://${testEnv.dockerSocket}`,
  });
  assert.equal(rendered.code, 0, rendered.stderr);
  problems = rendered.stderr;
  const tree = parseKv(rendered.stdout);
  await store.replaceTree('traefik', tree);
  await waitForRouters(testEnv.traefikDocker.api, [`${SENTINEL}@docker`], 30_000);
  // The sentinel proves the event was seen; take fresh data in case health events trailed it.
  fromDocker = await rawData(testEnv.traefikDocker.api);
  // Every resource written, not one: the tree is written in several transactions.
  fromEtcd = await waitForTree(store.traefik.api, store.suffix, 'traefik', tree, 30_000);

  const served = JSON.stringify(keyValuesToConfiguration(tree, 'traefik'));
  const endpoint = await serveJson(HTTP_ENDPOINT_PORT, () => served);
  httpServer = endpoint.server;
  httpTraefik = await HttpProviderTraefik.start(endpoint.url, HTTP_TRAEFIK_PORT);
  fromHttp = await waitForTree(httpTraefik.api, '@http', 'traefik', tree, 30_000);
});

after(async () => {
  await httpTraefik?.stop();
  await new Promise((resolve) => (httpServer === undefined ? resolve(undefined) : httpServer.close(resolve)));
  if (store !== undefined) {
    await store.clearTree('traefik');
    store.close();
  }
  await removeOurs();
});

test(`parity cases: at least 30 cases, each with Traefik's result checked`, () => {
  assert.ok(parityCases.filter((entry) => entry.difference === undefined).length >= 30);
});

for (const entry of parityCases) {
  test(`parity ${entry.id}: ${entry.desc}`, () => {
    const belongs = (name: string) => name.startsWith(`${entry.id}-`);
    const expected = caseView(fromDocker, belongs);
    const actual = caseView(fromEtcd, belongs);
    if (entry.difference === undefined) {
      assert.equal(
        Object.keys(expected).length === 0,
        entry.routesNothing === true,
        `Traefik's Docker provider result for ${entry.id}: ${JSON.stringify(expected)}`,
      );
      assert.deepEqual(actual, expected);
      return;
    }
    // A deliberate difference: Traefik has these resources, appproxy leaves them out and says why.
    const { absent, why, problem } = entry.difference;
    for (const key of absent)
      assert.ok(key in expected, `Traefik's Docker provider was expected to have ${key}: ${JSON.stringify(expected)}`);
    // What used the absent resources (usedBy, and the server status of services no router uses) differs too.
    const withoutUse = (view: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(view)
          .filter(([key]) => !absent.includes(key))
          .map(([key, info]) => {
            const { usedBy: _usedBy, serverStatus: _serverStatus, ...rest } = info as Record<string, unknown>;
            return [key, rest];
          }),
      );
    assert.deepEqual(
      withoutUse(actual),
      withoutUse(expected),
      `appproxy was expected to leave out ${absent.join(', ')} (${why})`,
    );
    assert.ok(
      problems.split('\n').some((line) => line.includes(entry.id) && line.includes(problem)),
      `appproxy reports "${problem}" for ${entry.id}; stderr was:\n${problems}`,
    );
  });
}

// Every case, through Traefik's HTTP provider: what appproxy serves from its copy of the store
// (src/core/kv/key-values-to-configuration.ts) must give Traefik what the store gives it.
for (const entry of parityCases) {
  test(`parity ${entry.id} through Traefik's HTTP provider (/traefik/dynamic) as through the store: ${entry.desc}`, () => {
    const belongs = (name: string) => name.startsWith(`${entry.id}-`);
    assert.deepEqual(caseView(fromHttp, belongs), caseView(fromEtcd, belongs));
  });
}
