import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { createDockerProxy } from '../../src/docker-proxy/docker-proxy-server.ts';
import { readRoute } from '../../src/docker-proxy/read-only-rules.ts';

// The Docker proxy (issue 26, point 2) in front of a hand-written engine on a Unix socket: what it
// lets through, what it forwards (never a body, never the client's headers, a connection per
// request), and what it removes from answers.

test('docker proxy rules: the reads appproxy makes pass, with the query parameters it sends; nothing else', () => {
  const cases: [string, string, boolean][] = [
    ['GET', '/_ping', true],
    ['HEAD', '/_ping', true],
    ['GET', '/v1.41/containers/json?all=true', true],
    ['GET', '/containers/json?all=1&filters=%7B%7D', true],
    ['GET', '/containers/0123abcd/json', true],
    ['GET', '/containers/0123abcd/json?size=1', false],
    ['GET', '/containers/0123abcd%2Fjson%3Fsize%3D1%23/json', false],
    ['GET', '/containers/0123abcd/json#/json', false],
    ['GET', '/containers/../images/json', false],
    ['GET', '/services?filters=%7B%7D', true],
    ['GET', '/services/web?insertDefaults=true', true],
    ['GET', '/tasks?filters=%7B%22desired-state%22%3A%5B%22running%22%5D%7D', true],
    ['GET', '/networks?filters=%7B%7D', true],
    ['GET', '/nodes', true],
    ['GET', '/events?since=1&filters=%7B%7D', true],
    ['GET', '/events?until=2&since=1&x=1', false],
    ['GET', '/images/json', false],
    ['GET', '/containers/abc/logs', false],
    ['GET', '/secrets', false],
    ['POST', '/containers/create', false],
    ['DELETE', '/containers/abc', false],
    ['GET', `/containers/json?filters=${'x'.repeat(5000)}`, false],
  ];
  for (const [method, url, allowed] of cases)
    assert.equal(!('refused' in readRoute(method, url)), allowed, `${method} ${url}`);
});

let engine: Server;
let proxy: Server;
let dir: string;
let proxyPort = 0;
const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'appproxy-proxy-'));
  const socket = join(dir, 'docker.sock');
  engine = createServer((incoming, outgoing) => {
    let body = '';
    incoming.on('data', (chunk: Buffer) => (body += chunk.toString()));
    incoming.on('end', () => {
      seen.push({ url: incoming.url ?? '', headers: incoming.headers, body });
      const path = ((incoming.url ?? '').split('?')[0] ?? '').replace(/^\/v\d+\.\d+(?=\/)/, '');
      const json = (value: unknown) =>
        outgoing.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (path === '/_ping') return void outgoing.writeHead(200).end('OK');
      if (path === '/containers/c1/json')
        return void json({
          Id: 'c1',
          Name: '/web',
          Path: '/bin/server',
          Args: ['--password', 'hunter2'],
          Config: { Labels: { 'appproxy.enable': 'true' }, Env: ['DB_PASSWORD=hunter2'], Cmd: ['--token', 's3cret'] },
          NetworkSettings: { Networks: { bridge: { IPAddress: '10.0.0.2' } } },
        });
      if (path === '/tasks')
        return void json([
          { ID: 't1', Spec: { ContainerSpec: { Env: ['API_KEY=abc'], Args: ['x'], Labels: { a: 'b' } } } },
        ]);
      if (path === '/services')
        return void json([
          {
            ID: 's1',
            Spec: {
              Name: 'web',
              Labels: { 'appproxy.enable': 'true' },
              TaskTemplate: { ContainerSpec: { Env: ['K=V'], Command: ['c'] } },
            },
            PreviousSpec: { TaskTemplate: { ContainerSpec: { Env: ['OLD=1'] } } },
          },
        ]);
      return void outgoing.writeHead(404).end('{}');
    });
  });
  await new Promise<void>((resolve) => engine.listen(socket, resolve));
  proxy = createDockerProxy(socket, pino({ level: 'silent' }), 5_000);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as AddressInfo).port;
});

after(async () => {
  await new Promise((resolve) => proxy.close(resolve));
  await new Promise((resolve) => engine.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function get(
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port: proxyPort, path, method: 'GET', headers, timeout: 5_000 },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer to ${path} within 5 s`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

test("docker proxy: a container's environment, command and arguments never leave it; its labels and networks do", async () => {
  const reply = await get('/v1.41/containers/c1/json');
  assert.equal(reply.status, 200);
  const body = JSON.parse(reply.body) as Record<string, Record<string, unknown>>;
  assert.deepEqual(body['Config'], { Labels: { 'appproxy.enable': 'true' } });
  assert.equal(body['Args'], undefined);
  assert.equal(body['Path'], undefined);
  assert.deepEqual(body['NetworkSettings'], { Networks: { bridge: { IPAddress: '10.0.0.2' } } });
  assert.doesNotMatch(reply.body, /hunter2|s3cret/);
  const tasks = await get('/tasks');
  assert.deepEqual(JSON.parse(tasks.body), [{ ID: 't1', Spec: { ContainerSpec: { Labels: { a: 'b' } } } }]);
  const services = await get('/services');
  assert.doesNotMatch(services.body, /Env|Command|K=V|OLD=1/);
  assert.match(services.body, /appproxy\.enable/);
});

test("docker proxy: no body and none of the client's headers reach the engine; a request announcing a body is refused and the next one is served", async () => {
  seen.length = 0;
  const poisoned = await get('/_ping', { 'content-length': '10000', 'x-registry-auth': 'secret' }, 'x'.repeat(10));
  assert.equal(poisoned.status, 400);
  assert.equal(seen.length, 0, 'the engine never saw it');
  const next = await get('/_ping', { 'x-registry-auth': 'secret', cookie: 'a=b' });
  assert.equal(next.status, 200);
  assert.equal(next.body, 'OK');
  assert.deepEqual(
    seen.map((entry) => entry.headers),
    [{ host: 'docker', 'user-agent': 'appproxy-docker-proxy', connection: 'close' }],
  );
});

test('docker proxy: a query parameter appproxy does not send, or an encoded path, is refused before the engine', async () => {
  seen.length = 0;
  for (const path of [
    '/containers/c1/json?size=1',
    '/containers/c1%2Fjson%3Fsize%3D1%23/json',
    '/containers/c1/json#x',
  ])
    assert.equal((await get(path)).status, 403, path);
  assert.equal(seen.length, 0);
});
