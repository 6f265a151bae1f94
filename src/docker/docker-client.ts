import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { DEFAULT_DOCKER_TIMEOUT_MS, limitDockerCalls } from './docker-call-limit.ts';

const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * A dockerode client for the engine the environment names, read the way the docker CLI reads it:
 * `DOCKER_HOST` (`unix:///path`, `tcp://host[:port]`), `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`.
 *
 * No API version is ever given: dockerode then requests unversioned paths, which every engine serves
 * at its own current version. A pinned version breaks on engines that dropped it (Docker 29 refuses
 * anything below 1.44).
 *
 * Every connection option is set explicitly, even to `undefined`, because docker-modem merges our
 * options over its own reading of `process.env`, which must not leak in when `env` is another object.
 *
 * Every call made through the client is limited to `timeoutMs` (see limitDockerCalls).
 */
export function dockerFromEnv(env: NodeJS.ProcessEnv = process.env, timeoutMs: number = DEFAULT_DOCKER_TIMEOUT_MS): Dockerode {
  return limitDockerCalls(unlimitedDockerFromEnv(env), timeoutMs);
}

function unlimitedDockerFromEnv(env: NodeJS.ProcessEnv): Dockerode {
  const dockerHost = env['DOCKER_HOST'] ?? '';
  if (dockerHost === '' || dockerHost.startsWith('unix://')) {
    return new Dockerode({
      socketPath: dockerHost.slice('unix://'.length) || DEFAULT_SOCKET,
      host: undefined,
      port: undefined,
      protocol: undefined,
      ca: undefined,
      cert: undefined,
      key: undefined,
    });
  }

  const url = parseTcpHost(dockerHost);
  // Like the docker CLI: DOCKER_TLS_VERIFY turns TLS on with verification; DOCKER_CERT_PATH alone (as
  // Docker's Go client, which Traefik uses, reads it) turns TLS on without verifying the server.
  const verify = (env['DOCKER_TLS_VERIFY'] ?? '') !== '';
  const certPath = env['DOCKER_CERT_PATH'] ?? '';
  const tls = verify || certPath !== '';
  const port = url.port || (tls ? '2376' : '2375');
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!tls) {
    return new Dockerode({ host: hostname, port, protocol: 'http', socketPath: undefined, ca: undefined, cert: undefined, key: undefined });
  }

  const dir = certPath || join(homedir(), '.docker');
  const material = {
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
  };
  const options: Dockerode.DockerOptions & { agent?: Agent } = {
    host: hostname,
    port,
    protocol: 'https',
    socketPath: undefined,
    ...material,
  };
  if (!verify) {
    // docker-modem has no switch for this; an agent's TLS options apply to every connection it makes.
    options.agent = new Agent({ ...material, rejectUnauthorized: false });
  }
  return new Dockerode(options);
}

function parseTcpHost(dockerHost: string): URL {
  let url: URL;
  try {
    url = new URL(dockerHost.includes('://') ? dockerHost : `tcp://${dockerHost}`);
  } catch {
    throw new Error(`DOCKER_HOST=${dockerHost} is not a valid address: use unix:///path or tcp://host:port`);
  }
  if (url.protocol !== 'tcp:') {
    throw new Error(`DOCKER_HOST=${dockerHost}: unsupported scheme ${url.protocol} (use unix:// or tcp://)`);
  }
  return url;
}
