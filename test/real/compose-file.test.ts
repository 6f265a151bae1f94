import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { firstNode, requireTestEnv, testEnv } from '../support/env.ts';
import { httpGet } from '../support/http-get.ts';
import { waitFor } from '../support/traefik-api.ts';

// stacks/compose.yml as it ships, with the Compose tool this machine's Debian provides
// (docker-compose 1.29), on the test engine: etcd, Traefik reading etcd, the read-only Docker proxy
// on an internal network with appproxy alone, appproxy, and the demo app, routed through
// Traefik's published port.

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const PROJECT = 'apx-compose';
const PORT = 18895;
// DOCKER_SOCKET: the socket the proxy mounts is the test engine's, not the machine's default. The
// port is published in the test node's own namespace, on its address (the host reaches it there).
const env = {
  ...process.env,
  ...testEnv.scriptEnv,
  DOCKER_SOCKET: testEnv.dockerSocket,
  HTTP_BIND: firstNode.address,
  HTTP_PORT: String(PORT),
  APPPROXY_OWNER: 'compose-test',
};

function compose(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  // execFile's timeout kills the tool; the error names the command line.
  return run('docker-compose', ['-p', PROJECT, '-f', `${root}stacks/compose.yml`, ...args], {
    env,
    timeout: 240_000,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function docker(...args: string[]): Promise<string> {
  return (await run('docker', args, { env, timeout: 60_000, killSignal: 'SIGKILL' })).stdout;
}

before(async () => {
  await requireTestEnv();
  // No registry here: the images come from local material, under the project's own names, and the
  // file's image variables point at them (what scripts/demo.sh does for the stack).
  const names = (await run('bash', [`${root}scripts/build-images.sh`, '--print-env'], { env, timeout: 30_000 })).stdout;
  for (const line of names.trim().split('\n')) {
    const [name = '', value = ''] = line.split('=', 2);
    (env as Record<string, string>)[name] = value;
  }
  await run('bash', [`${root}scripts/build-images.sh`], { env, timeout: 900_000, maxBuffer: 16 * 1024 * 1024 });
  await compose('down', '-v', '--remove-orphans').catch(() => undefined);
  await compose('up', '-d');
});

after(async () => {
  await compose('down', '-v', '--remove-orphans').catch((error: unknown) => console.error(error));
});

test('compose: the shipped file runs as is; the demo app is routed through Traefik', async () => {
  const reply = await waitFor(
    'hello.localhost through the Compose Traefik',
    async () => {
      const answer = await httpGet(`http://${firstNode.address}:${PORT}`, '/', { host: 'hello.localhost' }, 2000).catch(
        () => undefined,
      );
      return answer?.status === 200 ? answer : undefined;
    },
    120_000,
  );
  assert.match(reply.body, /^hello from [0-9a-f]{12}\n$/);
});

test('compose: the Docker proxy is on a network with appproxy alone, and refuses writes', async () => {
  const networks = JSON.parse(await docker('network', 'inspect', `${PROJECT}_docker-api`)) as {
    Internal: boolean;
    Containers: Record<string, { Name: string }>;
  }[];
  const network = networks[0];
  assert.ok(network !== undefined);
  assert.equal(network.Internal, true, 'no route out of the proxy network');
  const members = Object.values(network.Containers)
    .map((container) => container.Name.replace(`${PROJECT}_`, '').replace(/_\d+$/, ''))
    .sort();
  assert.deepEqual(members, ['appproxy', 'docker-proxy']);
  const id = (await docker('ps', '-q', '--filter', `name=${PROJECT}_appproxy_`)).trim().split('\n')[0] ?? '';
  const refused = await docker(
    'exec',
    id,
    'node',
    '-e',
    "fetch('http://docker-proxy:2375/containers/create', { method: 'POST', body: '{}' }).then((r) => console.log(r.status))",
  );
  assert.equal(refused.trim(), '403');
});
