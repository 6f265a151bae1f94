// file-limit-seconds: 900
// The shipped stack on a three-node Swarm, deployed as a user would (issue 24, points 1 and 2):
// `docker stack deploy` of stacks/appproxy.yml with stacks/etcd-cluster.yml (three etcd members
// pinned by node labels, TLS, auth set up by etcd-setup), Traefik and appproxy on every node, the
// socket.io demo spread over the nodes. The nodes are three engines of the test environment, each
// in a network namespace of its own (`TEST_NODES=3 bash scripts/test-env.sh swarm`, which this file
// runs in its set-up and undoes with `swarm-down` at the end, so that node 1 is left as the rest
// of the suite expects it: up, in no Swarm).
//
// Time: 87 to 130 s on 2 shared cores with node 1's images up to date (five runs, 2026-12-06); a cold
// machine adds the image builds, hence the file limit above. Each wait below has its own limit and
// names the scenario, the node and what it awaited.
//
// What a user of several hosts sets and the shipped files leave to them comes from an override file
// written here: each appproxy advertises its node by host name ({{.Node.Hostname}}), and Traefik
// resolves the node names (extra_hosts; real hosts have DNS for that). DOCKER_SOCKET points each
// node's docker-proxy at its own engine (the nodes share one file system; see nodeSocketTemplate).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { ClusterStack } from '../support/cluster-stack.ts';
import { enginePoll, handshakeSession } from '../support/engine-io-polling.ts';
import { clusterNodes, nodeSocketTemplate, requireTestEnv, testEnv, type TestNode } from '../support/env.ts';
import { httpGet } from '../support/http-get.ts';
import { stackEtcdctl } from '../support/stack-etcdctl.ts';
import { fetchWithin } from '../support/within.ts';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const NODES = clusterNodes(3);
const [node1, node2] = NODES as [TestNode, TestNode, TestNode];
const STACK = 'apx-multi';
// Traefik's host-mode port on each node's address (stack-e2e uses 18880 on node 1).
const PORT = 18890;
// The standalone container's published port on node 2.
const STANDALONE_PORT = 18891;
const STANDALONE = `${STACK}-standalone`;
const STANDALONE_HOST = 'standalone.multi.test';
const STANDALONE_BODY = `standalone on ${node2.name}`;
const WORK_DIR = `${testEnv.stateDir}/multi-node-stack`;
const SECRETS_DIR = `${WORK_DIR}/secrets`;
const OVERRIDE = `${WORK_DIR}/multi-node.yml`;
// KEEP_TEST_CLUSTER=1 leaves the cluster and the stack up after the file (to look around).
const KEEP = process.env['KEEP_TEST_CLUSTER'] === '1';

const base = (node: TestNode): string => `http://${node.address}:${PORT}`;
const scriptEnv = { ...process.env, ...testEnv.scriptEnv, TEST_NODES: String(NODES.length) };
const stack = new ClusterStack(STACK, NODES, scriptEnv);
const docker = (node: TestNode, ...args: string[]): Promise<string> => stack.docker(node, ...args);

async function script(
  what: string,
  args: string[],
  limitMs: number,
  env: NodeJS.ProcessEnv = scriptEnv,
): Promise<string> {
  try {
    return (
      await run('bash', args, { cwd: root, env, timeout: limitMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 })
    ).stdout;
  } catch (error) {
    const { stdout = '', stderr = '', message } = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${what} failed (limit ${limitMs / 1000} s): ${message}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`,
      { cause: error },
    );
  }
}

/** etcdctl in a throwaway container on the stack's control network, with the secrets' files. */
function etcdctl(credentials: string[], ...args: string[]): Promise<{ ok: boolean; output: string }> {
  const etcd = {
    stack: STACK,
    secretsDir: SECRETS_DIR,
    image: stack.env['ETCD_IMAGE'] ?? '',
    members: ['etcd', 'etcd-2', 'etcd-3'],
  };
  return stackEtcdctl((run) => docker(node1, ...run), etcd, credentials, args);
}
const ROOT = (): string[] => ['--cert=/s/root.crt', '--key=/s/root.key'];
const rootUser = (): string => `--user=root:${readFileSync(`${SECRETS_DIR}/root.password`, 'utf8').trim()}`;

/** Removes what an earlier run of this file may have left: the standalone container, then the stack. */
async function removeStack(): Promise<void> {
  for (const node of NODES) await docker(node, 'rm', '-f', STANDALONE).catch(() => undefined);
  await stack.remove();
}

/** What an operator of several hosts adds over the shipped files (see the file's header). */
function writeOverride(): void {
  const hosts = NODES.map((node) => `      - "${node.name}:${node.address}"`).join('\n');
  writeFileSync(
    OVERRIDE,
    `version: "3.8"
services:
  appproxy:
    environment:
      APPPROXY_ADVERTISE_ADDRESS: "{{.Node.Hostname}}"
  traefik:
    extra_hosts:
${hosts}
`,
  );
}

before(
  async () => {
    await requireTestEnv();
    mkdirSync(WORK_DIR, { recursive: true });
    let started = performance.now();
    await script(
      'cluster: TEST_NODES=3 bash scripts/test-env.sh swarm --managers 3',
      ['scripts/test-env.sh', 'swarm', '--managers', '3'],
      1_200_000,
    );
    process.stdout.write(
      `# cluster ready (3 managers, images on every node) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    const images = await script(
      'images: scripts/build-images.sh --print-env',
      ['scripts/build-images.sh', '--print-env'],
      60_000,
    );
    stack.env = {
      ...scriptEnv,
      ...Object.fromEntries(
        images
          .split('\n')
          .filter((line) => line.includes('='))
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      ),
      DOCKER_HOST: `unix://${node1.dockerSocket}`,
      APPPROXY_SECRETS_DIR: SECRETS_DIR,
      ETCD_ENDPOINTS: 'etcd:2379,etcd-2:2379,etcd-3:2379',
      HTTP_PORT: String(PORT),
      DEMO_REPLICAS: '3',
      DOCKER_SOCKET: nodeSocketTemplate,
    };
    await removeStack();
    rmSync(SECRETS_DIR, { recursive: true, force: true });
    await script('deploy: scripts/stack-secrets.sh', ['scripts/stack-secrets.sh'], 120_000, stack.env);
    writeOverride();
    started = performance.now();
    await docker(
      node1,
      'stack',
      'deploy',
      '--resolve-image',
      'never',
      '-c',
      'stacks/appproxy.yml',
      '-c',
      'stacks/etcd-cluster.yml',
      '-c',
      OVERRIDE,
      STACK,
    );
    for (const node of NODES) {
      await stack.waitFor(
        `deploy: ${node.name}'s Traefik (${base(node)}) serving the demo's /wsk/health`,
        async () => {
          const reply = await fetchWithin(`${base(node)}/wsk/health`, { signal: AbortSignal.timeout(3000) }).catch(
            () => undefined,
          );
          return reply?.status === 200 ? true : undefined;
        },
        300_000,
      );
    }
    process.stdout.write(
      `# stack answering through every node's Traefik ${((performance.now() - started) / 1000).toFixed(1)} s after docker stack deploy\n`,
    );
    for (const node of NODES) {
      await stack.waitFor(
        `deploy: ${node.name}'s Traefik with 3 chat servers`,
        async () => ((await stack.serverUrls(node, 'chat@etcd')).length === 3 ? true : undefined),
        120_000,
      );
    }
    // Its own limit: a cold machine builds the images first (test.sh's per-test limit is for tests).
  },
  { timeout: 840_000 },
);

after(
  async () => {
    if (KEEP) return;
    await removeStack().catch((error: unknown) => console.error(error));
    await script(
      'teardown: TEST_NODES=3 bash scripts/test-env.sh swarm-down',
      ['scripts/test-env.sh', 'swarm-down'],
      300_000,
    ).catch((error: unknown) => console.error(error));
    rmSync(WORK_DIR, { recursive: true, force: true });
  },
  { timeout: 420_000 },
);

test('multi-node: one etcd member a node (by its label), Traefik, docker-proxy and appproxy on each node, the demo spread over the nodes', async () => {
  const names = NODES.map((node) => node.name).sort();
  assert.deepEqual(await stack.taskNodes('etcd'), [node1.name]);
  assert.deepEqual(await stack.taskNodes('etcd-2'), [NODES[1]?.name]);
  assert.deepEqual(await stack.taskNodes('etcd-3'), [NODES[2]?.name]);
  for (const service of ['traefik', 'docker-proxy', 'appproxy'])
    assert.deepEqual(await stack.taskNodes(service), names, `${service} runs once on each node`);
  assert.deepEqual([...new Set(await stack.taskNodes('chat'))].sort(), names, 'the 3 chat replicas run on the 3 nodes');
  // Each Traefik has the same three servers: the tasks' addresses on the demo overlay, across nodes.
  const servers = await stack.serverUrls(node1, 'chat@etcd');
  for (const node of NODES.slice(1))
    assert.deepEqual(
      await stack.serverUrls(node, 'chat@etcd'),
      servers,
      `${node.name}'s Traefik has node 1's chat servers`,
    );
});

test('multi-node: etcd is one cluster of three started members, secured: no client without a certificate of the CA, auth on', async () => {
  const members = await etcdctl(ROOT(), rootUser(), 'member', 'list');
  assert.ok(members.ok, members.output);
  const started = members.output.split('\n').filter((line) => line.includes(', started, '));
  assert.equal(started.length, 3, `three started members: ${members.output}`);
  const anonymous = await etcdctl([], 'get', 'traefik');
  assert.equal(anonymous.ok, false, `a client without a certificate was served: ${anonymous.output}`);
  const traefik = await etcdctl(
    ['--cert=/s/traefik.crt', '--key=/s/traefik.key'],
    'put',
    'traefik/http/routers/evil/rule',
    'Host(`evil`)',
  );
  assert.equal(traefik.ok, false, `Traefik's user wrote a route: ${traefik.output}`);
  assert.match(traefik.output, /permission denied/);
});

test("multi-node: every node's Traefik serves the demo with sticky sessions, and a session's cookie holds through any node", async () => {
  for (const node of NODES) {
    const scenario = `sticky sessions through ${node.name}'s Traefik (${base(node)})`;
    const { sid, cookie } = handshakeSession(
      await enginePoll(base(node), 'GET', '', undefined, undefined),
      'wsk_sticky',
    );
    assert.ok(cookie, `${scenario}: the handshake set the cookie wsk_sticky`);
    assert.equal(
      (await enginePoll(base(node), 'POST', `&sid=${sid}`, '40', cookie)).text,
      'ok',
      `${scenario}: connect`,
    );
    // Every node's Traefik has the same server URLs, hence the same cookie values: a client whose
    // requests land on another node (DNS round robin, a node lost) stays on its replica.
    for (let index = 0; index < 30; index += 1) {
      const via = NODES[index % NODES.length] as TestNode;
      const reply = await enginePoll(base(via), 'POST', `&sid=${sid}`, `42["chat",{"text":"poll ${index}"}]`, cookie);
      assert.equal(
        reply.status,
        200,
        `${scenario}: poll ${index} with the cookie, sent through ${via.name}: ${reply.text}`,
      );
    }
    // The control: without the cookie, polls reach the other replicas too.
    let unknown = 0;
    for (let index = 0; index < 20; index += 1) {
      const reply = await enginePoll(base(node), 'POST', `&sid=${sid}`, '40', undefined);
      if (reply.status === 400 && reply.text.includes('Session ID unknown')) unknown += 1;
    }
    assert.ok(
      unknown >= 5,
      `${scenario}: with 3 replicas most cookie-less polls miss the session; ${unknown} of 20 did`,
    );
  }
});

test("multi-node: a standalone container on node 2 is routed by node 2's appproxy to node 2's address and published port, and every node's Traefik reaches it", async () => {
  await docker(
    node2,
    'run',
    '-d',
    '--name',
    STANDALONE,
    '-p',
    `${STANDALONE_PORT}:8080`,
    '--label',
    'appproxy.enable=true',
    '--label',
    `appproxy.http.routers.standalone.rule=Host(\`${STANDALONE_HOST}\`)`,
    '--label',
    'appproxy.http.routers.standalone.entrypoints=web',
    '--label',
    'appproxy.http.services.standalone.loadbalancer.server.port=8080',
    testEnv.busyboxImage,
    'sh',
    '-c',
    `echo '${STANDALONE_BODY}' > /var/www/index.html && exec httpd -f -p 8080 -h /var/www`,
  );
  for (const node of NODES) {
    await stack.waitFor(
      `standalone: ${node.name}'s Traefik serving Host(${STANDALONE_HOST}) from ${node2.name}`,
      async () => {
        // node:http, not fetch: fetch does not send a Host header of ours.
        const reply = await httpGet(base(node), '/', { host: STANDALONE_HOST }, 3000);
        const body = reply.body.trim();
        if (reply.status === 200 && body === STANDALONE_BODY) return true;
        // What the last check saw, for the failure message: the answer and the servers Traefik has.
        throw new Error(
          `HTTP ${reply.status} ${body.slice(0, 200)}; servers of standalone@etcd: ${JSON.stringify(await stack.serverUrls(node, 'standalone@etcd'))}`,
        );
      },
      60_000,
    );
    assert.deepEqual(
      await stack.serverUrls(node, 'standalone@etcd'),
      [`http://${node2.name}:${STANDALONE_PORT}`],
      `${node.name}'s Traefik routes to node 2's advertised address and published port`,
    );
  }
  // Written by node 2's instance alone: its owner id is the only claim of the router and service.
  const claims = await etcdctl(ROOT(), rootUser(), 'get', '--prefix', '--keys-only', 'appproxy/claims/traefik/http/');
  assert.ok(claims.ok, claims.output);
  const standalone = claims.output.split('\n').filter((key) => key.includes('/standalone/'));
  assert.deepEqual(standalone.sort(), [
    `appproxy/claims/traefik/http/routers/standalone/${node2.name}`,
    `appproxy/claims/traefik/http/services/standalone/${node2.name}`,
  ]);
});

test("multi-node: each node's appproxy reads its own node's engine, through its own node's docker-proxy", async () => {
  for (const node of NODES) {
    const appproxy = await stack.taskContainer(node, 'appproxy');
    const env = JSON.parse(await docker(node, 'inspect', '--format', '{{json .Config.Env}}', appproxy)) as string[];
    assert.ok(
      env.includes('DOCKER_HOST=unix:///run/docker-api/docker.sock'),
      `${node.name}: appproxy talks to the proxy's socket: ${env.filter((line) => line.startsWith('DOCKER_HOST=')).join()}`,
    );
    // Through the proxy socket it sees (inside the container) the engine that runs it.
    const name = (
      await docker(
        node,
        'exec',
        appproxy,
        'node',
        '-e',
        "require('node:http').get({ socketPath: '/run/docker-api/docker.sock', path: '/info', timeout: 5000 }, (r) => { let b = ''; r.on('data', (c) => { b += c; }); r.on('end', () => console.log(JSON.parse(b).Name)); }).on('error', (e) => { console.error(e.message); process.exit(1); })",
      )
    ).trim();
    assert.equal(
      name,
      node.name,
      `${node.name}: appproxy's Docker API (its node's docker-proxy) is the engine of ${name}`,
    );
    // The proxy beside it mounts this node's socket and shares the node-local volume with it alone.
    const proxy = await stack.taskContainer(node, 'docker-proxy');
    const mounts = JSON.parse(await docker(node, 'inspect', '--format', '{{json .Mounts}}', proxy)) as {
      Source: string;
      Destination: string;
      Name?: string;
    }[];
    const socket = mounts.find((mount) => mount.Destination === '/var/run/docker.sock');
    assert.equal(
      socket?.Source,
      nodeSocketTemplate.replace('{{.Node.Hostname}}', node.name),
      `${node.name}: docker-proxy mounts this node's engine socket`,
    );
    const shared = mounts.find((mount) => mount.Destination === '/run/docker-api')?.Name;
    const appproxyMounts = JSON.parse(await docker(node, 'inspect', '--format', '{{json .Mounts}}', appproxy)) as {
      Destination: string;
      Name?: string;
    }[];
    assert.equal(
      appproxyMounts.find((mount) => mount.Destination === '/run/docker-api')?.Name,
      shared,
      `${node.name}: appproxy and docker-proxy share the node's ${shared} volume`,
    );
  }
  // One owner record a node, and the elected Swarm writer's.
  const owners = await etcdctl(ROOT(), rootUser(), 'get', '--prefix', '--keys-only', 'appproxy/owners/traefik/');
  const records = owners.output
    .split('\n')
    .filter((key) => /^appproxy\/owners\/traefik\/[^/]+$/.test(key))
    .map((key) => key.split('/')[3])
    .sort();
  assert.deepEqual(
    records.filter((owner) => !owner?.startsWith('swarm-')),
    NODES.map((node) => node.name).sort(),
    `one owner a node: ${owners.output}`,
  );
  assert.equal(records.filter((owner) => owner?.startsWith('swarm-')).length, 1, `one Swarm writer: ${owners.output}`);
});
