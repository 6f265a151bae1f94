import { Command, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { configurationToKeyValues } from '../core/kv/configuration-to-kv.ts';
import { checkRootKey } from '../core/kv/root-key.ts';
import { buildConfiguration, compileProviderOptions, type BuildProblem } from '../core/provider/build-configuration.ts';
import type { Workload } from '../core/workload.ts';
import { dockerFromEnv } from '../docker/docker-client.ts';
import { DockerApiError } from '../docker/docker-api-error.ts';
import { DockerodeSource } from '../docker/docker-source.ts';
import { formatRender, type RenderFormat } from '../render/render-output.ts';
import { workloadsFromInspect } from '../render/workloads-from-inspect.ts';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { addSettingFlags, providerOptionsOf } from '../config/setting-flags.ts';
import { daemonConfigSchema } from '../config/settings.ts';

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

async function loadWorkloads(input: string | undefined, dockerTimeoutMs: number): Promise<Workload[]> {
  if (input === undefined) return new DockerodeSource(dockerFromEnv(process.env, dockerTimeoutMs)).listWorkloads();
  const source = input === '-' ? 'standard input' : input;
  const content = input === '-' ? await text(process.stdin) : await readFile(input, 'utf8');
  return workloadsFromInspect(content, source);
}

async function render(flags: RenderFlags): Promise<number> {
  let config;
  try {
    config = loadConfig(daemonConfigSchema, { flags, env: process.env, file: flags.config ?? process.env['APPPROXY_CONFIG'], scope: 'translate' });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`appproxy render: ${error.message}\n`);
    return 2;
  }
  const rootKeyProblem = checkRootKey(config.rootKey);
  const compiled = compileProviderOptions(providerOptionsOf(config));
  const errors = [...(rootKeyProblem === undefined ? [] : [rootKeyProblem]), ...(compiled.ok ? [] : compiled.errors)];
  if (!compiled.ok || errors.length > 0) {
    for (const error of errors) process.stderr.write(`appproxy render: ${error}\n`);
    return 2;
  }
  let workloads: Workload[];
  try {
    workloads = await loadWorkloads(flags.input, config.dockerTimeoutSeconds * 1000);
  } catch (error) {
    // A bad DOCKER_HOST is reported the same way as an engine that does not answer.
    if (!(error instanceof DockerApiError) && (flags.input !== undefined || !(error instanceof Error))) throw error;
    // Nothing is printed on standard output: a partial rendering would look like a complete one.
    process.stderr.write(`appproxy render: ${(error as Error).message}. Check DOCKER_HOST (${process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock'}) and that the engine answers (docker info); --docker-timeout-seconds sets the limit\n`);
    return 3;
  }
  const result = buildConfiguration(workloads, compiled.value);
  for (const problem of result.problems) process.stderr.write(`${describeProblem(problem)}\n`);
  const keyValues = configurationToKeyValues(result.configuration, result.servers, { rootKey: config.rootKey, ownerId: config.owner });
  process.stdout.write(formatRender(flags.format, result.configuration, keyValues));
  const leftOut = result.problems.some((problem) => problem.severity === 'error');
  return flags.strict && leftOut ? 1 : 0;
}

export function renderCommand(): Command {
  const command = new Command('render')
    .summary('print the Traefik configuration the labels give, without writing to etcd')
    .description(
      'Reads containers (and, on a Swarm manager, services and their tasks) from the Docker engine ' +
        '(DOCKER_HOST, else /var/run/docker.sock), or containers from --input, and prints what appproxy ' +
        'would give Traefik. Problems (a bad label, a conflict between workloads) go to standard error, ' +
        'one a line, naming the workload, the label and the fix; the other workloads are still rendered.',
    )
    .addOption(new Option('-i, --input <file>', 'read a JSON array as printed by "docker inspect <containers>" ("-" for standard input) instead of asking Docker'))
    .addOption(new Option('-f, --format <format>', 'yaml or json: Traefik dynamic configuration (usable by the file provider); kv: the exact etcd pairs, key=value, sorted').choices(['yaml', 'json', 'kv']).default('yaml'))
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
