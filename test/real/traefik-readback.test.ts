// The closed loop (issue 25) on real components: `appproxy run` on node 1's engine and the test
// environment's etcd, reading back three real Traefiks that read one root key:
//
// - A: the environment's Traefik 3.7, configured as the labels expect;
// - B: Traefik 3.7 whose web entry point has another name (an older static configuration), so that
//   every router of `web` is refused there, with Traefik's own error;
// - C: Traefik 3.0.4 while the operator declared 3.6 the oldest (--traefik-min-version 3.6): a 3.6
//   field in the tree makes it keep its last configuration for the whole tree.
//
// Ports: TRAEFIK_VERSIONS_PORT + 10 × the release's index, +2 web and +3 API (and +8, +9 for B);
// see scripts/lib/test-env.conf. Each wait has its own limit and names what it waited for.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { startTraefik, type TestTraefik } from '../support/etcd-cluster.ts';
import { httpGet } from '../support/http-get.ts';
import { runCli } from '../support/run-cli.ts';
import { removeLabelled, testDocker } from '../support/test-docker.ts';
import { testStore } from '../support/test-store.ts';
import { waitFor } from '../support/traefik-api.ts';
import { removeRoot, traefikReleases } from '../support/traefik-releases.ts';
import { fetchWithin } from '../support/within.ts';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const ROOT = 'apx-readback';
const RUN = 'appproxy-readback-test';
const DAEMON_PORT = 19194;
const WAIT_MS = 30_000;
const docker = testDocker();
const store = testStore('etcd');
const traefiks: TestTraefik[] = [];
let a: TestTraefik;
let b: TestTraefik;
let c: TestTraefik;
let appproxy: DaemonProcess;

interface Listing {
  traefik: string;
  version: string | null;
  reachable: boolean | null;
  current: boolean;
  olderThanDeclared: boolean;
  lagSeconds: number;
  pending: number;
  refused: { resource: string; error: string }[];
  stopped: { since: string; likelyCause: string } | null;
}

async function listing(): Promise<Listing[]> {
  const reply = await fetchWithin(`${appproxy.url}/traefiks`, {}, 5_000);
  assert.equal(reply.status, 200);
  return ((await reply.json()) as { traefiks: Listing[] }).traefiks;
}

async function of(traefik: TestTraefik): Promise<Listing | undefined> {
  return (await listing()).find((entry) => entry.traefik === traefik.api);
}

/** One series' value in the daemon's /metrics (undefined when the series is not there: never 0 by default). */
async function series(name: string): Promise<number | undefined> {
  const text = await (await fetchWithin(`${appproxy.url}/metrics`, {}, 5_000)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function web(name: string, labels: Record<string, string>): Promise<void> {
  const container = await docker.createContainer({
    name,
    Image: testEnv.busyboxImage,
    Cmd: ['sh', '-c', `mkdir -p /www && echo ${name} > /www/index.html && exec httpd -f -p 80 -h /www`],
    Labels: { [RUN]: 'true', 'appproxy.enable': 'true', ...labels },
    ExposedPorts: { '80/tcp': {} },
    StopSignal: 'SIGKILL',
  });
  await container.start();
}

const routed = (name: string, extra: Record<string, string> = {}): Record<string, string> => ({
  [`appproxy.http.routers.${name}.rule`]: `Host(\`${name}.readback.test\`)`,
  [`appproxy.http.routers.${name}.entrypoints`]: 'web',
  ...extra,
});

before(async () => {
  await requireTestEnv();
  await removeLabelled(docker, [RUN]);
  await removeRoot(store.kv, ROOT);
  const releases = traefikReleases();
  const newest = releases.find((release) => release.name === 'environment');
  const oldest = releases.find((release) => release.version.startsWith('3.0.'));
  assert.ok(newest !== undefined && oldest !== undefined);
  const port = (index: number, offset: number) => testEnv.traefikVersions.firstPort + 10 * index + offset;
  const options = (name: string) => ({ rootKey: ROOT, logLevel: 'INFO' as const, name });
  a = await startTraefik([testEnv.etcdEndpoint], port(newest.index, 2), port(newest.index, 3), 'etcd', {
    ...options('A (3.7)'),
    binary: newest.binary,
  });
  traefiks.push(a);
  b = await startTraefik([testEnv.etcdEndpoint], port(newest.index, 8), port(newest.index, 9), 'etcd', {
    ...options('B (3.7, its web entry point named public)'),
    binary: newest.binary,
    webEntryPoint: 'public',
  });
  traefiks.push(b);
  c = await startTraefik([testEnv.etcdEndpoint], port(oldest.index, 2), port(oldest.index, 3), 'etcd', {
    ...options(`C (${oldest.version})`),
    binary: oldest.binary,
  });
  traefiks.push(c);
  appproxy = await startDaemon({
    owner: 'readback',
    port: DAEMON_PORT,
    args: [
      '--root-key',
      ROOT,
      '--traefik-api-urls',
      [a.api, b.api, c.api].join(','),
      '--traefik-min-version',
      '3.6',
      '--traefik-lag-warn-seconds',
      '3',
    ],
  });
});

after(async () => {
  await appproxy?.kill('SIGTERM').catch(() => undefined);
  await Promise.all(traefiks.map((traefik) => traefik.stop()));
  await removeLabelled(docker, [RUN]);
  await removeRoot(store.kv, ROOT).catch(() => undefined);
  store.close();
});

test('read-back: every Traefik is listed with its version; the one older than declared is named', async () => {
  const entries = await waitFor(
    '/traefiks listing three Traefiks with their versions',
    async () => {
      const found = await listing();
      return found.length === 3 && found.every((entry) => entry.version !== null) ? found : undefined;
    },
    WAIT_MS,
  );
  const byApi = new Map(entries.map((entry) => [entry.traefik, entry]));
  assert.match(byApi.get(a.api)?.version ?? '', /^3\.7\./);
  assert.equal(byApi.get(a.api)?.olderThanDeclared, false);
  assert.match(byApi.get(c.api)?.version ?? '', /^3\.0\./);
  assert.equal(byApi.get(c.api)?.olderThanDeclared, true, 'Traefik 3.0 is older than the declared 3.6');
  await waitFor(
    'the log naming Traefik C as older than declared',
    async () => (appproxy.logs().includes('is older than the declared oldest Traefik, 3.6') ? true : undefined),
    WAIT_MS,
  );
});

test("read-back: a route live in the Traefiks that can serve it, refused by the one without its entry point, with Traefik's words", async (t) => {
  await web('rb-plain', routed('rb-plain'));
  await waitFor(
    "B's refusal of rb-plain's router in /traefiks",
    async () => ((await of(b))?.refused.some((entry) => entry.resource === 'http/routers/rb-plain') ? true : undefined),
    WAIT_MS,
  );
  const refusal = (await of(b))?.refused.find((entry) => entry.resource === 'http/routers/rb-plain');
  assert.match(refusal?.error ?? '', /entryPoint "web" doesn't exist/, "Traefik's own error text");
  const explained = await waitFor(
    'explain --daemon saying where rb-plain is live',
    async () => {
      const run = await runCli(['explain', '--daemon', appproxy.url, 'rb-plain']);
      return run.stdout.includes('http/routers/rb-plain: live in 2 of 3 Traefiks') ? run : undefined;
    },
    WAIT_MS,
  );
  assert.equal(explained.code, 0);
  t.diagnostic(
    `appproxy explain --daemon ... rb-plain (the Traefik part):\n${explained.stdout.slice(explained.stdout.indexOf('in Traefik:'))}`,
  );
  assert.match(explained.stdout, new RegExp(`${b.api} refused it: .*entryPoint "web" doesn't exist`));
  assert.match(explained.stdout, /http\/services\/rb-plain: live in 3 of 3 Traefiks/);
  // What the read-back calls live, A serves (B refused the router; C, 3.0, has no such refusal).
  const reply = await httpGet(a.web, '/', { host: 'rb-plain.readback.test' }, 3_000);
  assert.equal(reply.body.trim(), 'rb-plain', 'A serves it');
  await waitFor(
    'the refusal said once in the log',
    async () => (appproxy.logs().includes('Traefik refused http/routers/rb-plain') ? true : undefined),
    WAIT_MS,
  );
  assert.equal(
    appproxy.logs().split('Traefik refused http/routers/rb-plain').length - 1,
    1,
    'said once, not once a round',
  );
});

test('read-back: a field Traefik 3.0 cannot decode freezes it; it is named as stopped, since when, and why', async (t) => {
  await web(
    'rb-newer',
    routed('rb-newer', { 'appproxy.http.services.rb-newer.loadbalancer.passivehealthcheck.maxfailedattempts': '3' }),
  );
  const stopped = await waitFor(
    'Traefik C named as stopped in /traefiks',
    async () => {
      const entry = await of(c);
      return entry?.stopped === null ? undefined : entry;
    },
    WAIT_MS,
  );
  assert.match(stopped?.stopped?.likelyCause ?? '', /older than the declared oldest, 3\.6/);
  assert.equal(stopped?.current, false);
  assert.ok((stopped?.pending ?? 0) > 0);
  assert.equal((await of(a))?.current, true, 'A applies the change');
  assert.equal((await of(a))?.stopped, null);
  const table = await runCli(['traefiks', '--daemon', appproxy.url]);
  t.diagnostic(`appproxy traefiks:\n${table.stdout}`);
  assert.equal(table.code, 4, 'a Traefik needs a look');
  assert.match(
    table.stdout,
    new RegExp(`${c.api}: stopped applying since \\S+; likely cause: its version 3\\.0\\.\\d+`),
  );
  // The gauges follow each round of the read-back (at most 2 s apart while a change is awaited).
  await waitFor(
    'the stopped gauge of C at 1',
    async () => ((await series(`appproxy_traefik_stopped{traefik="${c.api}"}`)) === 1 ? true : undefined),
    WAIT_MS,
  );
});

test('read-back: a Traefik that stops is reported unreachable, never waited on; the others go on', async () => {
  await a.stop();
  await web('rb-third', routed('rb-third'));
  const entry = await waitFor(
    'A reported unreachable in /traefiks',
    async () => {
      const found = await of(a);
      return found?.reachable === false ? found : undefined;
    },
    WAIT_MS,
  );
  assert.ok(entry !== undefined);
  const explained = await runCli(['explain', '--daemon', appproxy.url, 'rb-third']);
  assert.match(explained.stdout, new RegExp(`${a.api} could not be read: .*ECONNREFUSED`));
  await waitFor(
    'the up gauge of A at 0',
    async () => ((await series(`appproxy_traefik_up{traefik="${a.api}"}`)) === 0 ? true : undefined),
    WAIT_MS,
  );
  assert.ok(
    ((await series(`appproxy_traefik_commit_to_live_seconds_count{traefik="${b.api}"}`)) ?? 0) > 0,
    "B's commit-to-live histogram has observations",
  );
  assert.match(appproxy.logs(), /Traefik's API does not answer/);
});

test("read-back: the status page in headless Chromium shows each Traefik's state, what is not live, what was refused", async () => {
  const artifacts = new URL('../artifacts/', import.meta.url).pathname;
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${appproxy.url}/status`, { timeout: 15_000 });
    const row = async (traefik: TestTraefik) =>
      ((await page.locator('#traefiks tr', { hasText: traefik.api }).textContent({ timeout: 5_000 })) ?? '').trim();
    assert.match(await row(a), /unreachable/, 'A was stopped');
    assert.match(await row(c), /3\.0\.\d+ \(older than declared\).*stopped/, 'C keeps its old configuration');
    assert.match(await row(b), /3\.7\.\d+.*current/);
    const notes = (await page.locator('#traefik-notes').textContent({ timeout: 5_000 })) ?? '';
    assert.match(notes, /stopped applying since .*older than the declared oldest, 3\.6/);
    const refused = (await page.locator('#refused-routes').textContent({ timeout: 5_000 })) ?? '';
    assert.match(refused, /refused http\/routers\/rb-plain: entryPoint "web" doesn't exist/);
    const pending = (await page.locator('#pending').textContent({ timeout: 5_000 })) ?? '';
    assert.match(pending, /lacks http\/(routers|services)\/rb-newer/);
    await page.screenshot({ path: `${artifacts}traefik-readback-status.png`, fullPage: true });
  } finally {
    await browser.close();
  }
});
