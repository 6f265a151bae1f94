import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { translateOptionsOf } from '../config/setting-flags.ts';
import { daemonConfigSchema, type DaemonConfig } from '../config/settings.ts';
import { checkRootKey } from '../core/kv/root-key.ts';
import { compileTranslateOptions, type CompiledTranslateOptions } from '../core/translate/translate-options.ts';
import type { Workload } from '../core/workload.ts';
import { DockerApiError } from '../docker/docker-api-error.ts';
import { DockerEngineSource } from '../docker/docker-source.ts';
import { DockerodeEngine } from '../docker/dockerode-engine.ts';
import { workloadsFromInspect } from '../docker/workloads-from-inspect.ts';

/** What `render` and `explain` share: the translation settings, checked; and the workloads, from Docker or a file. */
export type Prepared =
  | { readonly ok: true; readonly config: DaemonConfig; readonly compiled: CompiledTranslateOptions }
  | { readonly ok: false; readonly exitCode: number };

/** Settings of the `translate` scope from flags, variables and the file; problems on standard error, exit status 2. */
export function prepareTranslation(command: string, flags: Record<string, unknown>): Prepared {
  let config: DaemonConfig;
  try {
    config = loadConfig(daemonConfigSchema, {
      flags,
      env: process.env,
      file: (flags['config'] as string | undefined) ?? process.env['APPPROXY_CONFIG'],
      scope: 'translate',
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`appproxy ${command}: ${error.message}\n`);
    return { ok: false, exitCode: 2 };
  }
  const rootKeyProblem = checkRootKey(config.rootKey);
  const compiled = compileTranslateOptions(translateOptionsOf(config));
  const errors = [...(rootKeyProblem === undefined ? [] : [rootKeyProblem]), ...(compiled.ok ? [] : compiled.errors)];
  if (!compiled.ok || errors.length > 0) {
    for (const error of errors) process.stderr.write(`appproxy ${command}: ${error}\n`);
    return { ok: false, exitCode: 2 };
  }
  return { ok: true, config, compiled: compiled.value };
}

/**
 * The workloads of the engine (`DOCKER_HOST`) or of a `docker inspect` JSON file (`-` for standard
 * input). Undefined after saying on standard error that Docker could not be read (exit status 3).
 */
export async function loadWorkloads(
  command: string,
  input: string | undefined,
  config: DaemonConfig,
): Promise<Workload[] | undefined> {
  if (input !== undefined) {
    const source = input === '-' ? 'standard input' : input;
    const content = input === '-' ? await text(process.stdin) : await readFile(input, 'utf8');
    return workloadsFromInspect(content, source);
  }
  try {
    return await new DockerEngineSource(
      DockerodeEngine.fromEnv(process.env, config.dockerTimeoutSeconds * 1000),
    ).listWorkloads();
  } catch (error) {
    // A bad DOCKER_HOST is reported the same way as an engine that does not answer.
    const badHost = error instanceof Error && error.message.startsWith('DOCKER_HOST=');
    if (!(error instanceof DockerApiError) && !badHost) throw error;
    process.stderr.write(
      `appproxy ${command}: ${(error as Error).message}. Check DOCKER_HOST (${process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock'}) and that the engine answers (docker info); --docker-timeout-seconds sets the limit\n`,
    );
    return undefined;
  }
}
