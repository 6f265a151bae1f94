import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * Where the engine is and how to reach it, as docker-modem's options name it. Every field is
 * present, even as `undefined`, because docker-modem merges these over its own reading of
 * `process.env`, which must not leak in when `env` is another object.
 */
export interface DockerConnection {
  readonly socketPath: string | undefined;
  readonly host: string | undefined;
  readonly port: string | undefined;
  readonly protocol: 'http' | 'https' | undefined;
  readonly ca: Buffer | undefined;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
}

/**
 * The engine the environment names, read the way the docker CLI reads it: `DOCKER_HOST`
 * (`unix:///path`, `tcp://host[:port]`), `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`. Throws, with a
 * message starting `DOCKER_HOST=`, when the address cannot be used.
 *
 * No API version is part of it: the client then requests unversioned paths, which every engine
 * serves at its own current version. A pinned version breaks on engines that dropped it (Docker 29
 * refuses anything below 1.44).
 */
export function dockerConnectionFromEnv(env: NodeJS.ProcessEnv = process.env): DockerConnection {
  const dockerHost = env['DOCKER_HOST'] ?? '';
  const none = {
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
  };
  if (dockerHost === '' || dockerHost.startsWith('unix://')) {
    return { ...none, socketPath: dockerHost.slice('unix://'.length) || DEFAULT_SOCKET };
  }

  const url = parseTcpHost(dockerHost);
  // DOCKER_TLS_VERIFY or DOCKER_CERT_PATH turns TLS on, and the engine's certificate is always
  // verified against the CA beside the client's (ca.pem). Docker's Go client, which Traefik uses,
  // skips that check when DOCKER_CERT_PATH comes without DOCKER_TLS_VERIFY: a forgotten variable would
  // then let anyone on the path answer as the engine, so appproxy does not follow it there.
  const verify = (env['DOCKER_TLS_VERIFY'] ?? '') !== '';
  const certPath = env['DOCKER_CERT_PATH'] ?? '';
  const tls = verify || certPath !== '';
  const port = url.port || (tls ? '2376' : '2375');
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!tls) {
    return { ...none, socketPath: undefined, host: hostname, port, protocol: 'http' };
  }

  const dir = certPath || join(homedir(), '.docker');
  const material = {
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
  };
  const connection: DockerConnection = { socketPath: undefined, host: hostname, port, protocol: 'https', ...material };
  return connection;
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
