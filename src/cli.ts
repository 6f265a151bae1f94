#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { renderCommand } from './commands/render-command.ts';
import { runCommand } from './commands/run-command.ts';
import { dockerProxyCommand } from './commands/docker-proxy-command.ts';
import { explainCommand } from './commands/explain-command.ts';
import { etcdSetupCommand } from './commands/etcd-setup-command.ts';
import { traefikEntrypointsCommand } from './commands/traefik-entrypoints-command.ts';
import { appsCommand } from './commands/apps-command.ts';
import { traefiksCommand } from './commands/traefiks-command.ts';
import { APPPROXY_VERSION } from './version.ts';

const program = new Command('appproxy')
  .description(
    'Makes Docker (Compose hosts and Swarm clusters) a routing source for Traefik through etcd (or Redis):\n' +
      'appproxy.* labels become the Traefik configuration the same traefik.* labels would give.',
  )
  .version(APPPROXY_VERSION)
  .showHelpAfterError()
  .addCommand(renderCommand())
  .addCommand(explainCommand())
  .addCommand(runCommand())
  .addCommand(dockerProxyCommand())
  .addCommand(etcdSetupCommand())
  .addCommand(traefikEntrypointsCommand())
  .addCommand(appsCommand())
  .addCommand(traefiksCommand());

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
