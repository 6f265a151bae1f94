import { Command } from 'commander';
import { accessSync, constants } from 'node:fs';
import { ConfigError, loadConfig, redactConfig } from '../config/load-config.ts';
import { addSettingFlags, translateOptionsOf } from '../config/setting-flags.ts';
import { daemonConfigSchema, type DaemonConfig } from '../config/settings.ts';
import { checkRootKey, checkRootKeyLeavesBookkeeping } from '../core/kv/root-key.ts';
import { compileTranslateOptions, type CompiledTranslateOptions } from '../core/translate/translate-options.ts';
import { Daemon } from '../daemon/daemon.ts';
import { DockerEngineSource } from '../docker/docker-source.ts';
import { DockerodeEngine } from '../docker/dockerode-engine.ts';
import { createLogger } from '../logging/create-logger.ts';
import { openStore } from './open-store.ts';

/** Validates everything once, before any connection: every problem in one message. */
function prepare(flags: Record<string, unknown>): { config: DaemonConfig; compiled: CompiledTranslateOptions } {
  const config = loadConfig(daemonConfigSchema, {
    flags,
    env: process.env,
    file: (flags['config'] as string | undefined) ?? process.env['APPPROXY_CONFIG'],
    scope: 'run',
  });
  const problems: string[] = [];
  const rootKeyProblem = checkRootKey(config.rootKey);
  if (rootKeyProblem !== undefined) problems.push(`rootKey: ${rootKeyProblem}`);
  const bookkeepingProblem = checkRootKeyLeavesBookkeeping(config.rootKey);
  if (bookkeepingProblem !== undefined) problems.push(`rootKey: ${bookkeepingProblem}`);
  const compiled = compileTranslateOptions(translateOptionsOf(config));
  if (!compiled.ok) problems.push(...compiled.errors);
  // TLS material is read when the client is made: a missing or unreadable file is a start-up error.
  const files =
    config.store === 'redis'
      ? ([
          ['redis.ca', config.redis.ca],
          ['redis.cert', config.redis.cert],
          ['redis.key', config.redis.key],
        ] as const)
      : ([
          ['etcd.ca', config.etcd.ca],
          ['etcd.cert', config.etcd.cert],
          ['etcd.key', config.etcd.key],
        ] as const);
  for (const [name, path] of files) {
    if (path === undefined) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (error) {
      problems.push(
        `${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
  if (problems.length > 0 || !compiled.ok) throw new ConfigError(problems);
  return { config, compiled: compiled.value };
}

export function runCommand(): Command {
  const command = new Command('run')
    .summary("keep Traefik's configuration in etcd (or Redis) equal to what Docker runs")
    .description(
      'Watches the Docker engine (DOCKER_HOST, else /var/run/docker.sock; read-only access is enough), ' +
        'translates labels as `render` does, and keeps the store (etcd, or Redis with --store redis) equal to the result: one guarded transaction per change, ' +
        "each server under this instance's lease, shared routers and services claimed so that several instances " +
        '(one per Docker host) merge safely. On a Swarm manager the instances elect, through the store, the one that writes ' +
        'the Swarm services (under --swarm-owner); another takes over within the lease time when it goes. A change costs what it is: an event reads that container only, and the ' +
        'plan is made against an in-memory mirror of the store kept by its watch. Serves /livez, /readyz, /metrics and ' +
        '/explain/<name> and /apps. Apps (<prefix>.apps.*) are written too: each port-mode app gets a port of --app-port-range through the store ' +
        '(created only if absent, so that instances sharing the root key never hand out one port twice), keeps it across restarts, and ' +
        "frees it when it goes; each app's record (where it is reached, its activity read from --traefik-metrics-urls) is kept at " +
        'appproxy/apps/<root>/<identity> and listed by `appproxy apps`.\n\n' +
        "With --store redis the same tree goes to Redis for Traefik's Redis provider (each change one Lua script; " +
        'leases kept by the instances themselves; keyspace notifications checked at every connection).\n\n' +
        'Settings come from flags, APPPROXY_* variables and an optional YAML file (--config), in that order of ' +
        'precedence, and are all checked before anything connects (exit status 2 on a bad setting). When the store ' +
        'refuses the credentials or the rights, or a live instance already runs with the same owner id (or takes it over while this one runs), it stops with exit status 3; when the store or Docker is unreachable, it ' +
        'keeps retrying and reports not-ready; every Docker and store call has a limit (--docker-timeout-seconds, --etcd-timeout-seconds, --redis-timeout-seconds).',
    );
  addSettingFlags(command, 'run');
  command.action(async (flags: Record<string, unknown>) => {
    let prepared;
    try {
      prepared = prepare(flags);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(`appproxy run: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    const { config, compiled } = prepared;
    const logger = createLogger({ level: config.logLevel, pretty: config.logPretty });
    logger.info({ config: redactConfig(config) }, 'appproxy starting');
    const docker = DockerodeEngine.fromEnv(process.env, config.dockerTimeoutSeconds * 1000);
    let stopping = false;
    const fatal = (message: string) => {
      // Also on stderr in plain words: the log may be JSON lines read by nobody.
      process.stderr.write(`appproxy run: ${message}\n`);
      stopping = true;
      void daemon.stop().finally(() => process.exit(3));
    };
    const { store, closeStore } = await openStore(config, logger, fatal);
    const daemon = new Daemon({
      config,
      compiled,
      docker,
      source: new DockerEngineSource(docker),
      store,
      closeStore,
      logger,
      onFatal: fatal,
    });
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      // A stop that hangs must not outlive the orchestrator's patience.
      setTimeout(() => process.exit(1), 9000).unref();
      void daemon.stop().then(() => process.exit(0));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    await daemon.start();
  });
  return command;
}
