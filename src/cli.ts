#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { APPPROXY_VERSION } from './version.ts';

/**
 * The commands, in the order help lists them, each loaded only when needed: `docker-proxy` runs on
 * every node beside `run`, and loading every command's modules (etcd's gRPC stack, dockerode,
 * ioredis, fastify) would more than double its memory for nothing.
 */
const COMMANDS: readonly (readonly [string, () => Promise<Command>])[] = [
  ['render', async () => (await import('./commands/render-command.ts')).renderCommand()],
  ['explain', async () => (await import('./commands/explain-command.ts')).explainCommand()],
  ['run', async () => (await import('./commands/run-command.ts')).runCommand()],
  ['docker-proxy', async () => (await import('./commands/docker-proxy-command.ts')).dockerProxyCommand()],
  ['etcd-setup', async () => (await import('./commands/etcd-setup-command.ts')).etcdSetupCommand()],
  [
    'traefik-entrypoints',
    async () => (await import('./commands/traefik-entrypoints-command.ts')).traefikEntrypointsCommand(),
  ],
  ['apps', async () => (await import('./commands/apps-command.ts')).appsCommand()],
  ['traefiks', async () => (await import('./commands/traefiks-command.ts')).traefiksCommand()],
];

// The command named on the line alone; every one for help, --version or a name that is none.
const named = COMMANDS.find(([name]) => name === process.argv[2]);
const commands = await Promise.all((named === undefined ? COMMANDS : [named]).map(([, load]) => load()));

const program = new Command('appproxy')
  .description(
    'Makes Docker (Compose hosts and Swarm clusters) a routing source for Traefik through etcd (or Redis):\n' +
      'appproxy.* labels become the Traefik configuration the same traefik.* labels would give.',
  )
  .version(APPPROXY_VERSION)
  .showHelpAfterError();
for (const command of commands) program.addCommand(command);

// A bad option or argument is exit status 2, as every command's help says; help and --version are 0.
program.exitOverride();
for (const command of program.commands) command.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`appproxy: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
