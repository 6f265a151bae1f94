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
// written by test/support/multi-node-deploy.ts: each appproxy advertises its node by host name
// ({{.Node.Hostname}}), and Traefik resolves the node names (extra_hosts; real hosts have DNS for
// that). DOCKER_SOCKET points each node's docker-proxy at its own engine (the nodes share one file
// system; see nodeSocketTemplate).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { enginePoll, handshakeSession } from '../support/engine-io-polling.ts';
import { MultiNodeDeploy } from '../support/multi-node-deploy.ts';
import { nodeSocketTemplate, testEnv, type TestNode } from '../support/env.ts';
import { httpGet } from '../support/http-get.ts';

// Traefik's host-mode port on each node's address (stack-e2e uses 18880 on node 1).
const cluster = new MultiNodeDeploy({ name: 'apx-multi', port: 18890 });
const NODES = cluster.nodes;
const [node1, node2] = NODES as [TestNode, TestNode, TestNode];
const STACK = cluster.options.name;
// The standalone container's published port on node 2.
const STANDALONE_PORT = 18891;
const STANDALONE = `${STACK}-standalone`;
const STANDALONE_HOST = 'standalone.multi.test';
const STANDALONE_BODY = `standalone on ${node2.name}`;
// KEEP_TEST_CLUSTER=1 leaves the cluster and the stack up after the file (to look around).
const KEEP = process.env['KEEP_TEST_CLUSTER'] === '1';

const base = (node: TestNode): string => cluster.base(node);
const stack = cluster.stack;
const docker = (node: TestNode, ...args: string[]): Promise<string> => stack.docker(node, ...args);
const etcdctl = (credentials: string[], ...args: string[]) => cluster.etcdctl(credentials, args);
const ROOT = (): string[] => cluster.rootCredentials().slice(0, 2);
/** A node's appproxy owner id as the stack makes it: its host name and its Swarm node id. */
async function ownerOf(node: TestNode): Promise<string> {
  return `${node.name}-${(await docker(stack.manager, 'node', 'inspect', '--format', '{{.ID}}', node.name)).trim()}`;
}
const rootUser = (): string => cluster.rootCredentials()[2] as string;
const run = promisify(execFile);

/** Seconds in one of `ss -o`'s timer figures (`7.3sec`, `850ms`, `118min`). */
function timerSeconds(amount: string, unit: string): number {
  const value = Number(amount);
  return unit === 'ms' ? value / 1000 : unit === 'min' ? value * 60 : value;
}

// Its own limit: a cold machine builds the images first (test.sh's per-test limit is for tests).
before(() => cluster.up((line) => process.stdout.write(`# ${line}\n`)), { timeout: 840_000 });

after(async () => (KEEP ? undefined : cluster.down()), { timeout: 420_000 });

test('multi-node: one etcd member a node (by its label), Traefik, docker-proxy and appproxy on each node, the demo spread over the nodes', async () => {
  const names = NODES.map((node) => node.name).sort();
  // Waited for, not read once: a task that is still starting (or was restarted) on a slow machine
  // shows as not running for a moment. The failure shows every task of the stack.
  const placed = async (): Promise<string[]> => {
    const wrong: string[] = [];
    const expect = async (service: string, want: string[], what: string) => {
      const have =
        service === 'chat' ? [...new Set(await stack.taskNodes(service))].sort() : await stack.taskNodes(service);
      if (JSON.stringify(have) !== JSON.stringify(want)) wrong.push(`${what}: running on ${JSON.stringify(have)}`);
    };
    await expect('etcd', [node1.name], 'etcd on node 1');
    await expect('etcd-2', [NODES[1]?.name as string], 'etcd-2 on node 2');
    await expect('etcd-3', [NODES[2]?.name as string], 'etcd-3 on node 3');
    for (const service of ['traefik', 'docker-proxy', 'appproxy'])
      await expect(service, names, `${service} once on each node`);
    await expect('chat', names, 'the 3 chat replicas on the 3 nodes');
    return wrong;
  };
  await stack.waitFor(
    'placement: every service of the stack running where it belongs',
    async () => {
      const wrong = await placed();
      if (wrong.length === 0) return true;
      throw new Error(wrong.join('; '));
    },
    60_000,
  );
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
  // A member shows as started once it has published its name to the others: waited for.
  await stack.waitFor(
    'etcd: three started members',
    async () => {
      const members = await etcdctl(ROOT(), rootUser(), 'member', 'list');
      const started = members.output.split('\n').filter((line) => line.includes(', started, '));
      if (members.ok && started.length === 3) return true;
      throw new Error(`etcdctl member list: ${members.output}`);
    },
    60_000,
  );
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
  await stack.runStandalone(node2, {
    name: STANDALONE,
    image: testEnv.busyboxImage,
    port: STANDALONE_PORT,
    host: STANDALONE_HOST,
    router: 'standalone',
    body: STANDALONE_BODY,
  });
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
  // Read again while etcdctl's 5 s dial fails (once: "context deadline exceeded" in a clean-clone run).
  const claims = await stack.waitFor(
    'etcd: the claims under appproxy/claims/traefik/http/ (etcdctl answering)',
    async () => {
      const read = await etcdctl(ROOT(), rootUser(), 'get', '--prefix', '--keys-only', 'appproxy/claims/traefik/http/');
      if (read.ok) return read;
      throw new Error(read.output);
    },
    30_000,
  );
  const standalone = claims.output.split('\n').filter((key) => key.includes('/standalone/'));
  const owner2 = await ownerOf(node2);
  assert.deepEqual(standalone.sort(), [
    `appproxy/claims/traefik/http/routers/standalone/${owner2}`,
    `appproxy/claims/traefik/http/services/standalone/${owner2}`,
  ]);
});

// Traefik's etcd client sends no gRPC pings and leaves TCP keep-alive at the system's timings (2 h
// idle): a watch on a member whose node vanished would be silent for hours. The stack's sysctls give
// Traefik's network namespace 10 s; read here on the live connections, as the kernel keeps them.
test("multi-node: each node's Traefik probes its etcd connections after 10 s idle and gives up a request unanswered after 6 retransmissions (the stack's sysctls), not the system's 2 h and 15", async () => {
  for (const node of NODES) {
    const traefik = await stack.taskContainer(node, 'traefik');
    const pid = (await docker(node, 'inspect', '--format', '{{.State.Pid}}', traefik)).trim();
    const { stdout } = await run(
      'nsenter',
      [`--net=/proc/${pid}/ns/net`, 'ss', '-tnoH', 'state', 'established', '( dport = :2379 )'],
      { timeout: 10_000 },
    );
    const timers = [...stdout.matchAll(/timer:\(keepalive,([\d.]+)(ms|sec|min)/g)].map((match) =>
      timerSeconds(match[1] as string, match[2] as string),
    );
    assert.ok(timers.length > 0, `${node.name}'s Traefik: no etcd connection with a keep-alive timer in:\n${stdout}`);
    for (const seconds of timers)
      assert.ok(seconds <= 10, `${node.name}'s Traefik: an etcd connection probed only after ${seconds} s:\n${stdout}`);
    // A connection with a request in flight retransmits instead of probing: given up after 6 (about 25 s).
    const { stdout: retries } = await run(
      'nsenter',
      [`--net=/proc/${pid}/ns/net`, 'cat', '/proc/sys/net/ipv4/tcp_retries2'],
      {
        timeout: 10_000,
      },
    );
    assert.equal(retries.trim(), '6', `${node.name}'s Traefik: tcp_retries2 in its network namespace`);
  }
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
  // One owner record a node (its host name and node id, unique even between nodes of one host name), and the
  // elected Swarm writer's.
  const owners = await etcdctl(ROOT(), rootUser(), 'get', '--prefix', '--keys-only', 'appproxy/owners/traefik/');
  const records = owners.output
    .split('\n')
    .filter((key) => /^appproxy\/owners\/traefik\/[^/]+$/.test(key))
    .map((key) => key.split('/')[3])
    .sort();
  assert.deepEqual(
    records.filter((owner) => !owner?.startsWith('swarm-')),
    (await Promise.all(NODES.map(ownerOf))).sort(),
    `one owner a node, named by its host name and node id: ${owners.output}`,
  );
  assert.equal(records.filter((owner) => owner?.startsWith('swarm-')).length, 1, `one Swarm writer: ${owners.output}`);
});
