import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.ts';
import { requireTestEnv, testEnv } from '../support/env.ts';
import { runCli } from '../support/run-cli.ts';
import { removeLabelled, testDocker } from '../support/test-docker.ts';
import { waitFor } from '../support/traefik-api.ts';
import { fetchWithin } from '../support/within.ts';

// `appproxy explain` against the real test engine, and a daemon's GET /explain/<name>.

const docker = testDocker();
const RUN = 'appproxy-explain-test';
const env = { ...process.env, DOCKER_HOST: `unix://${testEnv.dockerSocket}` };
let daemon: DaemonProcess | undefined;

async function web(name: string, labels: Record<string, string>): Promise<void> {
  const container = await docker.createContainer({
    name,
    Image: testEnv.busyboxImage,
    Cmd: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www'],
    Labels: { [RUN]: 'true', ...labels },
    ExposedPorts: { '80/tcp': {} },
    StopSignal: 'SIGKILL',
  });
  await container.start();
}

before(async () => {
  await requireTestEnv();
  await removeLabelled(docker, [RUN]);
  await web('ex-routed', {
    'appproxy.enable': 'true',
    'appproxy.http.routers.ex-routed.rule': 'Host(`ex-routed.test`)',
  });
  await web('ex-off', { 'appproxy.http.routers.ex-off.rule': 'Host(`ex-off.test`)' });
  await web('ex-bad', {
    'appproxy.enable': 'true',
    'appproxy.http.services.ex-bad.loadbalancer.sticky.cookie.samesite': 'io',
  });
});

after(async () => {
  await daemon?.kill('SIGTERM');
  await removeLabelled(docker, [RUN]);
});

test('explain: a routed container, one not enabled and one with a bad label, each said as it is', async () => {
  const routed = await runCli(['explain', 'ex-routed', '--root-key', 'apx-explain'], undefined, env);
  assert.equal(routed.code, 0, routed.stderr);
  assert.match(routed.stdout, /^container ex-routed \([0-9a-f]{12}\)\nrouted: yes\n/);
  assert.match(
    routed.stdout,
    /used {4}appproxy\.http\.routers\.ex-routed\.rule=Host\(`ex-routed\.test`\)\n {10}→ http\/routers\/ex-routed/,
  );
  // The container's own address on the default bridge, whatever subnet the test node gives it.
  const ip = (await docker.getContainer('ex-routed').inspect()).NetworkSettings.Networks['bridge']?.IPAddress ?? '';
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.match(
    routed.stdout,
    new RegExp(
      `apx-explain/http/services/ex-routed/loadBalancer/servers/\\d+/url=http://${ip.replaceAll('.', '\\.')}:80\n`,
    ),
  );

  const off = await runCli(['explain', 'ex-off'], undefined, env);
  assert.match(off.stdout, /routed: no\nwhy not:\n {2}1\. not enabled: no appproxy\.enable=true label/);
  assert.match(off.stdout, /ignored appproxy\.http\.routers\.ex-off\.rule/);

  const bad = await runCli(['explain', 'ex-bad', '--format', 'json'], undefined, env);
  const data = JSON.parse(bad.stdout) as { routed: boolean; labels: { label: string; fate: string; detail: string }[] };
  assert.equal(data.routed, false);
  assert.deepEqual(
    data.labels.find((label) => label.fate === 'refused'),
    {
      label: 'appproxy.http.services.ex-bad.loadbalancer.sticky.cookie.samesite',
      value: 'io',
      fate: 'refused',
      detail: '"io" is not one of none, lax, strict',
    },
  );

  const unknown = await runCli(['explain', 'ex-rooted'], undefined, env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no container or Swarm service named "ex-rooted".*closest: ex-routed/);
});

test('explain: a running daemon answers GET /explain/<name> with its owner, lease and the last transaction', async () => {
  daemon = await startDaemon({ owner: 'explain-test', port: 19193, args: ['--root-key', 'apx-explain'] });
  const reply = await waitFor('the daemon to explain ex-routed with a transaction', async () => {
    const response = await fetchWithin(`${daemon?.url}/explain/ex-routed`);
    const body = (await response.json()) as {
      daemon?: { owner: string; lease?: string; lastTransaction?: { revision: string } };
      text: string;
    };
    return body.daemon?.lastTransaction === undefined ? undefined : body;
  });
  assert.equal(reply.daemon?.owner, 'explain-test');
  assert.match(reply.daemon?.lease ?? '', /^\d+$/);
  assert.match(reply.text, /owner: explain-test, lease \d+\nlast transaction touching its keys: revision \d+/);
  const missing = await fetchWithin(`${daemon.url}/explain/nothing-like-it`);
  assert.equal(missing.status, 404);
});
