import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { dockerConnectionFromEnv } from '../../src/docker/docker-connection.ts';

// DOCKER_HOST and friends, read as the docker CLI reads them, into docker-modem's options.

const certs = mkdtempSync(join(tmpdir(), 'appproxy-certs-'));
for (const file of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs, file), `${file} material`);
after(() => rmSync(certs, { recursive: true, force: true }));

const FIELDS = ['socketPath', 'host', 'port', 'protocol', 'ca', 'cert', 'key'];

describe('dockerConnectionFromEnv', () => {
  const cases: { desc: string; env: NodeJS.ProcessEnv; expected: Record<string, unknown> }[] = [
    { desc: 'no DOCKER_HOST: the default socket', env: {}, expected: { socketPath: '/var/run/docker.sock' } },
    {
      desc: 'a unix:// address',
      env: { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' },
      expected: { socketPath: '/run/user/1000/docker.sock' },
    },
    {
      desc: 'tcp:// without a port: 2375, plain HTTP',
      env: { DOCKER_HOST: 'tcp://10.1.2.3' },
      expected: { host: '10.1.2.3', port: '2375', protocol: 'http' },
    },
    {
      desc: 'an address without a scheme is tcp://',
      env: { DOCKER_HOST: 'docker.internal:1234' },
      expected: { host: 'docker.internal', port: '1234', protocol: 'http' },
    },
    {
      desc: 'an IPv6 address loses its brackets',
      env: { DOCKER_HOST: 'tcp://[::1]:2375' },
      expected: { host: '::1', port: '2375', protocol: 'http' },
    },
  ];
  for (const { desc, env, expected } of cases) {
    it(desc, () => {
      const connection = dockerConnectionFromEnv(env);
      // Every field is there, even undefined: docker-modem would otherwise fill it from process.env.
      for (const field of FIELDS) assert.ok(Object.hasOwn(connection, field), `${field} is set`);
      const set = Object.fromEntries(Object.entries(connection).filter(([, value]) => value !== undefined));
      assert.deepStrictEqual(set, expected);
    });
  }

  it('DOCKER_TLS_VERIFY: HTTPS on 2376 with the certificates, the server verified', () => {
    const connection = dockerConnectionFromEnv({
      DOCKER_HOST: 'tcp://10.1.2.3',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certs,
    });
    assert.equal(connection.protocol, 'https');
    assert.equal(connection.port, '2376');
    assert.equal(connection.ca?.toString(), 'ca.pem material');
    assert.equal(connection.key?.toString(), 'key.pem material');
    assert.equal('agent' in connection, false);
  });

  it('DOCKER_CERT_PATH alone: HTTPS with the certificates, and the server verified all the same (Docker’s Go client would not)', () => {
    const connection = dockerConnectionFromEnv({ DOCKER_HOST: 'tcp://10.1.2.3:3000', DOCKER_CERT_PATH: certs });
    assert.equal(connection.protocol, 'https');
    assert.equal(connection.port, '3000');
    assert.equal('agent' in connection, false, 'no agent that skips verification');
    assert.ok(connection.ca !== undefined, 'the CA it verifies the engine against');
  });

  it('refuses an address it cannot use, saying what to write instead', () => {
    assert.throws(
      () => dockerConnectionFromEnv({ DOCKER_HOST: 'ssh://me@host' }),
      /^Error: DOCKER_HOST=ssh:\/\/me@host: unsupported scheme ssh: \(use unix:\/\/ or tcp:\/\/\)$/,
    );
    assert.throws(
      () => dockerConnectionFromEnv({ DOCKER_HOST: 'tcp://bad host' }),
      /^Error: DOCKER_HOST=tcp:\/\/bad host is not a valid address: use unix:\/\/\/path or tcp:\/\/host:port$/,
    );
  });
});
