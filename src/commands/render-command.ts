import { Command, Option } from 'commander';
import { addSettingFlags } from '../config/setting-flags.ts';
import { configurationToKeyValues } from '../core/kv/configuration-to-kv.ts';
import { buildConfiguration } from '../core/translate/build-configuration.ts';
import type { BuildProblem } from '../core/provider/build-problem.ts';
import { formatRender, type RenderFormat } from '../render/render-output.ts';
import { loadWorkloads, prepareTranslation } from './translate-inputs.ts';

interface RenderFlags {
  readonly input?: string;
  readonly format: RenderFormat;
  readonly strict: boolean;
  readonly config?: string;
  readonly [setting: string]: unknown;
}

export function describeProblem(problem: BuildProblem): string {
  const where = problem.label === undefined ? '' : ` label "${problem.label}":`;
  return `${problem.severity}: workload "${problem.workload}":${where} ${problem.message}`;
}

async function render(flags: RenderFlags): Promise<number> {
  const prepared = prepareTranslation('render', flags);
  if (!prepared.ok) return prepared.exitCode;
  const { config, compiled } = prepared;
  // Nothing is printed on standard output when Docker cannot be read: a partial rendering would look complete.
  const workloads = await loadWorkloads('render', flags.input, config);
  if (workloads === undefined) return 3;
  const result = buildConfiguration(workloads, compiled);
  for (const problem of result.problems) process.stderr.write(`${describeProblem(problem)}\n`);
  const keyValues = configurationToKeyValues(result.configuration, result.servers, {
    rootKey: config.rootKey,
    ownerId: config.owner,
  });
  process.stdout.write(formatRender(flags.format, result.configuration, keyValues));
  const leftOut = result.problems.some((problem) => problem.severity === 'error');
  return flags.strict && leftOut ? 1 : 0;
}

export function renderCommand(): Command {
  const command = new Command('render')
    .summary('print the Traefik configuration the labels give, without writing to the store')
    .description(
      'Reads containers (and, on a Swarm manager, services and their tasks) from the Docker engine ' +
        '(DOCKER_HOST, else /var/run/docker.sock), or containers from --input, and prints what appproxy ' +
        'would give Traefik. Problems (a bad label, a conflict between workloads) go to standard error, ' +
        'one a line, naming the workload, the label and the fix; the other workloads are still rendered. ' +
        'Port-mode apps (<prefix>.apps.*) are given ports as an empty cluster would give them: the lowest free ports ' +
        'of --app-port-range, apps in the order of their identity.',
    )
    .addOption(
      new Option(
        '-i, --input <file>',
        'read a JSON array as printed by "docker inspect <containers>" ("-" for standard input) instead of asking Docker',
      ),
    )
    .addOption(
      new Option(
        '-f, --format <format>',
        'yaml or json: Traefik dynamic configuration (usable by the file provider); kv: the exact etcd pairs, key=value, sorted',
      )
        .choices(['yaml', 'json', 'kv'])
        .default('yaml'),
    )
    .option('--strict', 'exit 1 when any workload or resource was left out because of an error', false);
  addSettingFlags(command, 'translate');
  command.addHelpText(
    'after',
    [
      '',
      'Examples:',
      '  docker inspect $(docker ps -q) | appproxy render --input - --format kv',
      '  appproxy render --prefix traefik --format yaml > dynamic.yml',
      '',
      'Exit status: 0; 1 with --strict when something was left out; 2 for bad options; 3 when the Docker engine',
      'could not be read (unreachable, or no answer within --docker-timeout-seconds).',
    ].join('\n'),
  );
  command.action(async (flags: RenderFlags) => {
    process.exitCode = await render(flags);
  });
  return command;
}
