#!/usr/bin/env node
import { Command } from 'commander';
import { renderCommand } from './commands/render-command.ts';
import { runCommand } from './commands/run-command.ts';
import { dockerProxyCommand } from './commands/docker-proxy-command.ts';
import { explainCommand } from './commands/explain-command.ts';

const program = new Command('appproxy')
  .description(
    'Makes Docker (Compose hosts and Swarm clusters) a routing source for Traefik through etcd:\n' +
      'appproxy.* labels become the Traefik configuration the same traefik.* labels would give.',
  )
  .version('0.1.0')
  .showHelpAfterError()
  .addCommand(renderCommand())
  .addCommand(explainCommand())
  .addCommand(runCommand())
  .addCommand(dockerProxyCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`appproxy: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
