import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import type { Etcd3, Watcher } from 'etcd3';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { etcdClient } from '../support/etcd-kv.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { serviceServerUrls, waitFor } from '../support/traefik-api.ts';
import { ensureSwarmManager, runningTaskUrls } from '../support/swarm-tasks.ts';
import { httpGet } from '../support/http-get.ts';
import { removeLabelled, testDocker } from '../support/test-docker.ts';
import { fetchWithin, within } from '../support/within.ts';

// HA on a one-node Swarm: two `appproxy run` instances with different owner ids on the test
// engine (as two managers' global tasks would be). One is elected the Swarm writer; the writer is
// SIGKILLed, later SIGTERMed, while a client polls a Swarm service's route through a Traefik that
// runs inside the overlay (a Traefik on the host cannot reach overlay task addresses here). At
// every moment the service's servers are counted in etcd (every watch revision) and in Traefik's
// API (every 100 ms): never fewer, never more than the tasks. Each instance also routes a
// container of its own (by a constraint), whose keys must leave with its lease.

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const docker = testDocker();
const RUN = 'appproxy-ha-test';
const ROOT_KEY = 'hatest';
const LEASE_SECONDS = 4;
const NETWORK = 'ha-overlay';
const SERVICE = 'ha-web';
const env: NodeJS.ProcessEnv = { ...process.env, ...testEnv.scriptEnv };
const daemons: DaemonProcess[] = [];
let initialisedHere = false;
let etcd: Etcd3 | undefined;
let etcdEndpoint = '';
let traefikWeb = '';
let traefikApi = '';
let networkId = '';
let service: Dockerode.Service | undefined;

async function cli(...args: string[]): Promise<string> {
  return (
    await run('docker', args, { env, timeout: 120_000, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024 })
  ).stdout.trim();
}

async function bridgeAddress(name: string): Promise<string> {
  return cli('inspect', '--format', '{{.NetworkSettings.Networks.bridge.IPAddress}}', name);
}

function startInstance(owner: string, port: number, other: string, waitReady = true): Promise<DaemonProcess> {
  return startDaemon({
    owner,
    port,
    waitReady,
    args: [
      '--etcd-endpoints',
      etcdEndpoint,
      '--root-key',
      ROOT_KEY,
      '--lease-seconds',
      String(LEASE_SECONDS),
      '--constraints',
      `!Label("ha.owner","${other}")`,
      '--resync-seconds',
      '30',
    ],
  }).then((daemon) => {
    daemons.push(daemon);
    return daemon;
  });
}

const taskUrls = () => runningTaskUrls(docker, SERVICE, networkId);
const traefikServers = () => serviceServerUrls(traefikApi, `${SERVICE}@etcd`);

async function get(host: string): Promise<number> {
  return (await httpGet(traefikWeb, '/', { host }, 3000)).status;
}

async function writerOf(candidates: readonly DaemonProcess[]): Promise<DaemonProcess | undefined> {
  const flags = await Promise.all(candidates.map((daemon) => daemon.metric('appproxy_swarm_writer').catch(() => 0)));
  const writers = candidates.filter((_, index) => flags[index] === 1);
  assert.ok(
    writers.length <= 1,
    `two instances say they write the Swarm services at once: ${writers.map((d) => d.url).join(', ')}`,
  );
  return writers[0];
}

/**
 * Watches, while a failover runs: a bounded request loop through Traefik, Traefik's view of the
 * service's servers every 100 ms, and etcd's server keys of the service at every revision.
 */
class FailoverWatch {
  requests = 0;
  failures: string[] = [];
  traefikSamples = 0;
  traefikWrong: string[] = [];
  etcdRevisions = 0;
  etcdWrong: string[] = [];
  #stop = false;
  #loops: Promise<void>[] = [];
  #watcher: Watcher | undefined;
  readonly #servers = new Set<string>();
  readonly expected: readonly string[];

  constructor(expected: readonly string[]) {
    this.expected = expected;
  }

  async start(client: Etcd3): Promise<void> {
    const prefix = `${ROOT_KEY}/http/services/${SERVICE}/loadBalancer/servers/`;
    const current = await client.getAll().prefix(prefix).keys();
    for (const key of current) this.#servers.add(key.split('/').slice(0, -1).join('/'));
    this.#watcher = await within(`the etcd watch of ${prefix}`, 10_000, client.watch().prefix(prefix).create());
    this.#watcher.on('data', (response) => {
      for (const event of response.events) {
        const server = event.kv.key.toString().split('/').slice(0, -1).join('/');
        if (event.type === 'Delete') this.#servers.delete(server);
        else this.#servers.add(server);
      }
      this.etcdRevisions += 1;
      if (this.#servers.size !== this.expected.length)
        this.etcdWrong.push(`revision ${response.header.revision}: ${this.#servers.size} servers`);
    });
    const deadline = Date.now() + 120_000;
    this.#loops.push(
      (async () => {
        while (!this.#stop && Date.now() < deadline) {
          this.requests += 1;
          const status = await get('web.ha.test').catch((error: unknown) => String(error));
          if (status !== 200) this.failures.push(`${new Date().toISOString()} ${status}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })(),
      (async () => {
        while (!this.#stop && Date.now() < deadline) {
          this.traefikSamples += 1;
          const servers = await traefikServers().catch((error: unknown) => [`error: ${String(error)}`]);
          if (JSON.stringify(servers) !== JSON.stringify(this.expected))
            this.traefikWrong.push(`${new Date().toISOString()} ${servers.join(' ')}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })(),
    );
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await Promise.all(this.#loops);
    if (this.#watcher !== undefined) await within('the etcd watch to end', 10_000, this.#watcher.cancel());
  }

  assertClean(what: string): void {
    assert.deepEqual(this.failures, [], `${what}: requests through Traefik failed`);
    assert.deepEqual(
      this.etcdWrong,
      [],
      `${what}: etcd held another number of servers than the ${this.expected.length} tasks`,
    );
    assert.deepEqual(this.traefikWrong, [], `${what}: Traefik's servers differed from the tasks`);
    assert.ok(
      this.requests > 50 && this.traefikSamples > 10,
      `${what}: the watch ran (${this.requests} requests, ${this.traefikSamples} samples)`,
    );
  }
}

before(async () => {
  await requireTestEnv();
  initialisedHere = await ensureSwarmManager(docker);
  // No registry here: Traefik and etcd images from local material, under the project's own names.
  const names = (await run('bash', [`${root}scripts/build-images.sh`, '--print-env'], { env, timeout: 30_000 })).stdout;
  const images = Object.fromEntries(
    names
      .trim()
      .split('\n')
      .map((line) => line.split('=', 2) as [string, string]),
  );
  await run('bash', [`${root}scripts/build-images.sh`, '--only', 'traefik', '--only', 'etcd'], {
    env,
    timeout: 900_000,
    maxBuffer: 16 * 1024 * 1024,
  });

  // What a killed run left behind (fixed names).
  await docker
    .getService(SERVICE)
    .remove()
    .catch(() => undefined);
  await removeLabelled(docker, [RUN]);
  await waitFor(
    'leftover ha-web tasks gone',
    async () =>
      (await docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.service.name=${SERVICE}`] } }))
        .length === 0
        ? true
        : undefined,
    30_000,
  );
  for (const leftover of await docker.listNetworks({ filters: { name: [NETWORK] } }))
    await docker
      .getNetwork(leftover.Id)
      .remove()
      .catch(() => undefined);

  networkId = (
    await docker.createNetwork({ Name: NETWORK, Driver: 'overlay', Attachable: true, Labels: { [RUN]: 'true' } })
  ).id;
  await cli(
    'run',
    '-d',
    '--name',
    'ha-etcd',
    '--label',
    RUN,
    images['ETCD_IMAGE'] ?? '',
    'etcd',
    '--name',
    'ha',
    '--data-dir',
    '/tmp/etcd',
    '--listen-client-urls',
    'http://0.0.0.0:2379',
    '--advertise-client-urls',
    'http://127.0.0.1:2379',
  );
  etcdEndpoint = `http://${await bridgeAddress('ha-etcd')}:2379`;
  etcd = etcdClient(etcdEndpoint);
  await waitFor(
    'the test etcd to answer',
    async () =>
      (await etcd!
        .get('probe')
        .string()
        .then(() => true)
        .catch(() => undefined))
        ? true
        : undefined,
    30_000,
  );
  // Traefik on the default bridge (the host reaches it) and on the overlay (it reaches the tasks).
  await cli(
    'create',
    '--name',
    'ha-traefik',
    '--label',
    RUN,
    images['TRAEFIK_IMAGE'] ?? '',
    '--entrypoints.web.address=:80',
    '--entrypoints.traefik.address=:8080',
    '--api.insecure=true',
    `--providers.etcd.endpoints=${etcdEndpoint.replace('http://', '')}`,
    `--providers.etcd.rootKey=${ROOT_KEY}`,
    '--providers.providersThrottleDuration=200ms',
    '--log.level=INFO',
  );
  await cli('network', 'connect', NETWORK, 'ha-traefik');
  await cli('start', 'ha-traefik');
  const traefikAddress = await bridgeAddress('ha-traefik');
  traefikWeb = `http://${traefikAddress}:80`;
  traefikApi = `http://${traefikAddress}:8080`;
  await waitFor(
    "the test Traefik's API",
    async () => ((await fetchWithin(`${traefikApi}/api/overview`).catch(() => undefined))?.ok ? true : undefined),
    30_000,
  );

  // Each instance's own container, which the other's constraint leaves out.
  for (const owner of ['a', 'b']) {
    await cli(
      'run',
      '-d',
      '--name',
      `ha-own-${owner}`,
      '--label',
      RUN,
      '--label',
      `ha.owner=${owner}`,
      '--label',
      'appproxy.enable=true',
      '--label',
      `appproxy.http.routers.own-${owner}.rule=Host(\`own-${owner}.ha.test\`)`,
      '--label',
      `appproxy.http.services.own-${owner}.loadbalancer.server.port=80`,
      'appproxy-test/busybox:latest',
      'sh',
      '-c',
      `mkdir -p /www && echo ${owner} > /www/index.html && exec httpd -f -p 80 -h /www`,
    );
  }
  service = await docker.createService({
    Name: SERVICE,
    Labels: {
      [RUN]: 'true',
      'appproxy.enable': 'true',
      'appproxy.swarm.network': NETWORK,
      'appproxy.http.routers.ha-web.rule': 'Host(`web.ha.test`)',
      'appproxy.http.services.ha-web.loadbalancer.server.port': '80',
    },
    TaskTemplate: {
      ContainerSpec: {
        Image: 'appproxy-test/busybox:latest',
        Command: ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www'],
      },
      Networks: [{ Target: networkId }],
      RestartPolicy: { Condition: 'any', Delay: 1_000_000_000 },
    },
    Mode: { Replicated: { Replicas: 2 } },
    EndpointSpec: { Mode: 'dnsrr' },
  });
  await waitFor('2 running ha-web tasks', async () => ((await taskUrls()).length === 2 ? true : undefined), 60_000);
});

after(async () => {
  await Promise.all(daemons.map((daemon) => daemon.kill('SIGTERM').catch(() => undefined)));
  await service?.remove().catch(() => undefined);
  await waitFor(
    'ha-web tasks gone',
    async () =>
      (await docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.service.name=${SERVICE}`] } }))
        .length === 0
        ? true
        : undefined,
    30_000,
  ).catch(() => undefined);
  await removeLabelled(docker, [RUN]).catch(() => undefined);
  if (networkId !== '')
    await docker
      .getNetwork(networkId)
      .remove()
      .catch(() => undefined);
  if (initialisedHere && (await docker.listServices()).length === 0) {
    await docker.swarmLeave({ force: true }).catch(() => undefined);
    await docker
      .getNetwork('docker_gwbridge')
      .remove()
      .catch(() => undefined);
  }
  etcd?.close();
});

test(
  "HA: one Swarm writer is elected; when it is SIGKILLed, then SIGTERMed, the other takes over with no failed request and never a missing or doubled server; the dead one's own keys leave with its lease; a second instance with a live owner id is refused",
  { timeout: 280_000 },
  async () => {
    const a = await startInstance('ha-a', 19191, 'b');
    await waitFor(
      'ha-a elected Swarm writer',
      async () => ((await a.metric('appproxy_swarm_writer')) === 1 ? true : undefined),
      20_000,
    );
    const b = await startInstance('ha-b', 19192, 'a');
    const expected = await taskUrls();
    await waitFor(
      'the service and both own containers routed through Traefik',
      async () => {
        const statuses = await Promise.all(
          ['web.ha.test', 'own-a.ha.test', 'own-b.ha.test'].map((host) =>
            get(host).catch((error: unknown) => String(error)),
          ),
        );
        const servers = await traefikServers();
        if (statuses.every((status) => status === 200) && JSON.stringify(servers) === JSON.stringify(expected))
          return true;
        throw new Error(
          `web, own-a, own-b answered ${statuses.join(', ')}; Traefik's servers ${servers.join(' ')}, the tasks ${expected.join(' ')}`,
        );
      },
      30_000,
    );
    assert.equal(await writerOf([a, b]), a, 'the first instance writes the Swarm services');
    const swarmOwners = (await etcd!.getAll().prefix(`appproxy/owners/${ROOT_KEY}/swarm-`).keys()).filter(
      (key) => !key.includes('/', `appproxy/owners/${ROOT_KEY}/`.length),
    );
    assert.equal(swarmOwners.length, 1, `one Swarm owner record: ${swarmOwners.join(', ')}`);

    // 1. SIGKILL of the writer.
    const kill = new FailoverWatch(expected);
    await kill.start(etcd!);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await within('ha-a to exit after SIGKILL', 10_000, a.exited);
    await waitFor(
      'ha-b elected after the SIGKILL',
      async () => ((await b.metric('appproxy_swarm_writer')) === 1 ? true : undefined),
      (LEASE_SECONDS + 6) * 1000,
    );
    const takeoverMs = Date.now() - killedAt;
    await waitFor(
      "ha-a's own keys gone",
      async () =>
        (await etcd!.get(`appproxy/owners/${ROOT_KEY}/ha-a`).string()) === null &&
        (await get('own-a.ha.test').catch(() => 0)) === 404
          ? true
          : undefined,
      (LEASE_SECONDS + 4) * 1000,
    );
    const ownGoneMs = Date.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await kill.stop();
    console.log(
      `SIGKILL: takeover ${takeoverMs} ms, ha-a's own route gone after ${ownGoneMs} ms (lease ${LEASE_SECONDS} s); ${kill.requests} requests, ${kill.failures.length} failed; ${kill.traefikSamples} Traefik samples, ${kill.etcdRevisions} etcd revisions of the servers`,
    );
    kill.assertClean('SIGKILL of the writer');
    assert.ok(
      ownGoneMs <= (LEASE_SECONDS + 3) * 1000,
      `the dead writer's keys left within its lease (${ownGoneMs} ms)`,
    );
    assert.equal(await get('own-b.ha.test'), 200, "the other instance's own route stayed");

    // 2. A second live instance with ha-b's owner id is refused, naming the holder.
    const twin = await startInstance('ha-b', 19193, 'a', false);
    const status = await within('the twin with a live owner id to exit', 30_000, twin.exited);
    assert.equal(status, 3, `the twin exits with status 3:\n${twin.logs().slice(-2000)}`);
    assert.match(twin.logs(), new RegExp(`owner id "ha-b" is in use by a live instance \\([^)]*/${b.child.pid}`));
    assert.equal(await get('own-b.ha.test'), 200, "the holder's route is untouched");

    // 3. A clean SIGTERM moves the leadership too.
    const a2 = await startInstance('ha-a', 19194, 'b');
    await waitFor(
      'ha-a routed again',
      async () => ((await get('own-a.ha.test').catch(() => 0)) === 200 ? true : undefined),
      15_000,
    );
    assert.equal(await writerOf([a2, b]), b, 'the restarted instance stands in line');
    const term = new FailoverWatch(expected);
    await term.start(etcd!);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stoppedAt = Date.now();
    const exit = await b.kill('SIGTERM');
    assert.equal(exit, 0);
    await waitFor(
      'ha-a elected after the SIGTERM',
      async () => ((await a2.metric('appproxy_swarm_writer')) === 1 ? true : undefined),
      (LEASE_SECONDS + 6) * 1000,
    );
    const termTakeoverMs = Date.now() - stoppedAt;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await term.stop();
    console.log(
      `SIGTERM: takeover ${termTakeoverMs} ms; ${term.requests} requests, ${term.failures.length} failed; ${term.traefikSamples} Traefik samples, ${term.etcdRevisions} etcd revisions of the servers`,
    );
    term.assertClean('SIGTERM of the writer');
    assert.ok(
      termTakeoverMs < LEASE_SECONDS * 1000,
      `a clean stop hands over at once, not after the lease (${termTakeoverMs} ms)`,
    );
  },
);
