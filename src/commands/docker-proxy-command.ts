import { Command } from 'commander';
import { chmodSync, chownSync, rmSync } from 'node:fs';
import { createLogger, LOG_LEVELS, type LogLevel } from '../logging/create-logger.ts';
import { createDockerProxy } from '../docker-proxy/docker-proxy-server.ts';

export function dockerProxyCommand(): Command {
  return new Command('docker-proxy')
    .summary('serve the Docker API read-only (the requests appproxy needs), for a sidecar without the socket')
    .description(
      'Listens on --listen and forwards GET requests for containers, services, tasks, networks, nodes, ' +
        'events, info and version to the Docker socket, with the query parameters appproxy sends there; every ' +
        'other request gets 403, and one with a body 400. It forwards no header of the client and uses a ' +
        "connection of its own for each request; it removes from the answers what appproxy never reads (containers' " +
        'environment, command and arguments; the same of service and task specs). By default it listens on a Unix ' +
        "socket that only the owner of --socket-owner (the appproxy image's user) may use: point `appproxy run` at " +
        'it with DOCKER_HOST=unix:///run/docker-api/docker.sock (what the stack does on every node), or give ' +
        '--listen host:port and DOCKER_HOST=tcp://<host>:<port> on a network only appproxy joins. A request the ' +
        'engine does not answer within 30 s gets 504 (the event stream: its headers).',
    )
    .option(
      '--listen <host:port|unix:///path>',
      'address to listen on: a Unix socket (mode 0660, owned by --socket-owner), or host:port [APPPROXY_PROXY_LISTEN]',
      process.env['APPPROXY_PROXY_LISTEN'] ?? 'unix:///run/docker-api/docker.sock',
    )
    .option(
      '--socket-owner <uid:gid>',
      "owner of the Unix socket it listens on: appproxy's user (the image's user node, 1000:1000) [APPPROXY_PROXY_SOCKET_OWNER]",
      process.env['APPPROXY_PROXY_SOCKET_OWNER'] ?? '1000:1000',
    )
    .option(
      '--socket <path>',
      'Docker socket [APPPROXY_PROXY_SOCKET]',
      process.env['APPPROXY_PROXY_SOCKET'] ?? '/var/run/docker.sock',
    )
    .option(
      '--log-level <level>',
      `${LOG_LEVELS.join(', ')} [APPPROXY_LOG_LEVEL]`,
      process.env['APPPROXY_LOG_LEVEL'] ?? 'info',
    )
    .option(
      '--log-pretty',
      'human-readable logs instead of JSON lines [APPPROXY_LOG_PRETTY]',
      ['1', 'true'].includes(process.env['APPPROXY_LOG_PRETTY'] ?? ''),
    )
    .action(
      async (flags: { listen: string; socket: string; socketOwner: string; logLevel: string; logPretty: boolean }) => {
        const owner = /^(\d{1,10}):(\d{1,10})$/.exec(flags.socketOwner);
        if (owner === null) {
          process.stderr.write(
            `appproxy docker-proxy: --socket-owner ${JSON.stringify(flags.socketOwner)}: expected uid:gid, e.g. 1000:1000\n`,
          );
          process.exitCode = 2;
          return;
        }
        if (!(LOG_LEVELS as readonly string[]).includes(flags.logLevel)) {
          process.stderr.write(
            `appproxy docker-proxy: --log-level ${JSON.stringify(flags.logLevel)}: expected one of ${LOG_LEVELS.join(', ')}\n`,
          );
          process.exitCode = 2;
          return;
        }
        const logger = createLogger({ level: flags.logLevel as LogLevel, pretty: flags.logPretty });
        const server = createDockerProxy(flags.socket, logger);
        const listening = () =>
          logger.info({ listen: flags.listen, socket: flags.socket }, 'read-only Docker proxy listening');
        if (flags.listen.startsWith('unix://')) {
          const path = flags.listen.slice('unix://'.length);
          if (!path.startsWith('/')) {
            process.stderr.write(
              `appproxy docker-proxy: --listen ${JSON.stringify(flags.listen)}: expected unix:///absolute/path\n`,
            );
            process.exitCode = 2;
            return;
          }
          // A socket file left by a previous run (a killed task) would make listen fail.
          rmSync(path, { force: true });
          server.listen(path, () => {
            // Not world-writable: appproxy's user alone (and root) may talk to the engine through it.
            try {
              chownSync(path, Number(owner[1]), Number(owner[2]));
              chmodSync(path, 0o660);
            } catch (error) {
              logger.error({ err: error, path }, 'cannot give the socket to --socket-owner (run the proxy as root)');
              process.exit(3);
            }
            listening();
          });
        } else {
          const colon = flags.listen.lastIndexOf(':');
          const port = Number(flags.listen.slice(colon + 1));
          if (colon < 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
            process.stderr.write(
              `appproxy docker-proxy: --listen ${JSON.stringify(flags.listen)}: expected host:port, e.g. 0.0.0.0:2375, or unix:///path\n`,
            );
            process.exitCode = 2;
            return;
          }
          server.listen(port, flags.listen.slice(0, colon), listening);
        }
        const stop = () => {
          server.closeAllConnections();
          server.close(() => process.exit(0));
          setTimeout(() => process.exit(0), 2000).unref();
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      },
    );
}
