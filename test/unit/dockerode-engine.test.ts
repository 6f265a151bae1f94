import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerApiError } from '../../src/docker/docker-api-error.ts';
import { DockerCallTimeoutError } from '../../src/docker/docker-call-limit.ts';
import type { EngineEvent } from '../../src/docker/inspect-types.ts';
import { DockerodeEngine } from '../../src/docker/dockerode-engine.ts';
import { waitUntil } from '../support/wait-until.ts';

// The adapter against a small HTTP server on a Unix socket that answers as the engine does: what
// it asks (paths, filters, no pinned API version), how it reads the answers, and that a call the
// engine does not answer ends within its limit and takes its request down with it.

const dir = mkdtempSync(join(tmpdir(), 'appproxy-engine-'));
const socketPath = join(dir, 'docker.sock');
const requests: string[] = [];
/** Requests the server got no answer out for, whose connection the client closed. */
const abandoned: string[] = [];
let server: Server;

const INSPECT = { Id: 'abc123', Name: '/web', State: { Status: 'running' }, Config: { Labels: { a: 'b' } } };

function route(request: IncomingMessage, response: ServerResponse): void {
  const url = request.url ?? '';
  requests.push(url);
  const json = (status: number, body: unknown): void =>
    void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const path = url.split('?')[0];
  if (path === '/_ping') return void response.end('OK');
  if (path === '/containers/json')
    return json(200, [{ Id: 'abc123', Names: ['/web'], State: 'running', Status: 'Up 1 second' }]);
  if (path === '/containers/web/json') return json(200, INSPECT);
  if (path === '/containers/missing/json') return json(404, { message: 'No such container: missing' });
  if (path === '/containers/broken/json') return json(500, { message: 'something broke' });
  if (path === '/tasks') return json(200, [{ ID: 't1', DesiredState: 'running' }]);
  if (path === '/events') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.flushHeaders();
    const line = Buffer.from(
      `${JSON.stringify({ Type: 'container', Action: 'start', Actor: { ID: 'abc123', Attributes: { name: 'café' } } })}\n`,
    );
    const cut = line.indexOf(Buffer.from('é')) + 1;
    // A character cut in two by the transport, then a line that is not JSON, then the end.
    response.write(line.subarray(0, cut));
    setTimeout(() => {
      response.write(line.subarray(cut));
      response.write('not json\n');
      response.end();
    }, 20);
    return;
  }
  // /info and the rest: the engine is wedged, and answers nothing.
  request.socket.on('close', () => abandoned.push(url));
}

before(async () => {
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('DockerodeEngine', () => {
  const engine = DockerodeEngine.fromEnv({ DOCKER_HOST: `unix://${socketPath}` }, 1_000);

  it('lists every container, at unversioned paths', async () => {
    requests.length = 0;
    assert.deepStrictEqual(await engine.listContainers(), [
      { Id: 'abc123', Names: ['/web'], State: 'running', Status: 'Up 1 second' },
    ]);
    assert.deepStrictEqual(requests, ['/containers/json?all=true']);
  });

  it('inspects a container, and says undefined for one the engine does not have', async () => {
    assert.deepStrictEqual(await engine.inspectContainer('web'), INSPECT);
    assert.equal(await engine.inspectContainer('missing'), undefined);
  });

  it('raises a DockerApiError with the operation and the status for any other refusal', async () => {
    await assert.rejects(engine.inspectContainer('broken'), (error: unknown) => {
      assert.ok(error instanceof DockerApiError);
      assert.equal(error.operation, 'inspect container broken');
      assert.equal(error.statusCode, 500);
      return true;
    });
  });

  it('asks only for running tasks', async () => {
    requests.length = 0;
    assert.deepStrictEqual(await engine.listRunningTasks(), [{ ID: 't1', DesiredState: 'running' }]);
    assert.equal(decodeURIComponent(requests[0] ?? ''), '/tasks?filters={"desired-state":["running"]}');
  });

  it('gives up on an unanswered call within its limit, and closes its request', async () => {
    abandoned.length = 0;
    const started = Date.now();
    await assert.rejects(engine.info(), (error: unknown) => {
      assert.ok(error instanceof DockerApiError);
      assert.ok(error.cause instanceof DockerCallTimeoutError);
      assert.equal(
        error.message,
        'Docker API: get engine info failed: GET /info: no answer from the Docker engine within 1000 ms',
      );
      return true;
    });
    assert.ok(Date.now() - started < 3_000);
    await waitUntil('the request to be closed', () => abandoned.includes('/info'), 2_000);
  });

  it('takes a shorter limit for one call, never a longer one', async () => {
    await assert.rejects(
      engine.listNodes({ limitMs: 50 }),
      /GET \/nodes: no answer from the Docker engine within 50 ms/,
    );
    await assert.rejects(
      engine.listServices({ limitMs: 60_000 }),
      /GET \/services: no answer from the Docker engine within 1000 ms/,
    );
  });

  it('follows the event stream: whole characters, unreadable lines apart, then its end', async () => {
    const events: EngineEvent[] = [];
    const unreadable: string[] = [];
    let ended: Error | undefined | 'open' = 'open';
    requests.length = 0;
    await engine.followEvents({
      types: ['container', 'network'],
      onEvent: (event) => events.push(event),
      onUnreadable: (line) => unreadable.push(line),
      onEnd: (error) => (ended = error),
    });
    await waitUntil('the stream to end', () => ended !== 'open', 2_000);
    assert.equal(ended, undefined);
    assert.deepStrictEqual(events, [
      { Type: 'container', Action: 'start', Actor: { ID: 'abc123', Attributes: { name: 'café' } } },
    ]);
    assert.deepStrictEqual(unreadable, ['not json']);
    assert.equal(decodeURIComponent(requests[0] ?? ''), '/events?filters={"type":["container","network"]}');
  });

  it('answers a ping', async () => {
    await engine.ping();
  });
});
