import { Command, Option } from 'commander';
import { addSettingFlags } from '../config/setting-flags.ts';
import { explainWorkload } from '../core/explain/explain-workload.ts';
import { formatExplanation } from '../render/format-explanation.ts';
import { DockerodeEngine } from '../docker/dockerode-engine.ts';
import { explainTarget } from '../docker/task-container.ts';
import { daemonGet, daemonToken } from './daemon-get.ts';
import { loadWorkloads, prepareTranslation } from './translate-inputs.ts';

interface ExplainFlags {
  readonly input?: string;
  readonly daemon?: string;
  readonly tokenFile?: string;
  readonly format: 'text' | 'json';
  readonly [setting: string]: unknown;
}

/** The daemon's own explanation (GET /explain/<name>): its owner, lease, conflicts, where each route is live. */
async function explainByDaemon(
  daemon: string,
  name: string,
  format: 'text' | 'json',
  tokenFile: string | undefined,
): Promise<number> {
  let token;
  try {
    token = daemonToken(tokenFile);
  } catch (error) {
    process.stderr.write(`appproxy explain: cannot read the token: ${(error as Error).message}\n`);
    return 2;
  }
  const reply = await daemonGet(daemon, `/explain/${encodeURIComponent(name)}`, 20_000, token);
  if (!reply.ok) {
    process.stderr.write(`appproxy explain: ${reply.error}\n`);
    return 3;
  }
  const body = reply.body as { text?: string; error?: string; closest?: string[] };
  if (reply.status !== 200) {
    const closest = body.closest ?? [];
    process.stderr.write(
      `appproxy explain: the daemon answered HTTP ${reply.status}: ${body.error ?? ''}${closest.length > 0 ? `; closest: ${closest.join(', ')}` : ''}\n`,
    );
    return reply.status === 404 ? 1 : 3;
  }
  process.stdout.write(format === 'json' ? `${JSON.stringify(body, null, 2)}\n` : (body.text ?? ''));
  return 0;
}

async function explain(name: string, flags: ExplainFlags): Promise<number> {
  if (flags.daemon !== undefined) return explainByDaemon(flags.daemon, name, flags.format, flags.tokenFile);
  const prepared = prepareTranslation('explain', flags);
  if (!prepared.ok) return prepared.exitCode;
  const { config, compiled } = prepared;
  const workloads = await loadWorkloads('explain', flags.input, config);
  if (workloads === undefined) return 3;
  const found = await explainTarget(
    workloads,
    name,
    flags.input === undefined ? DockerodeEngine.fromEnv(process.env, config.dockerTimeoutSeconds * 1000) : undefined,
  );
  if (found.target === undefined) {
    const { closest } = found;
    process.stderr.write(
      `appproxy explain: no container or Swarm service named "${name}" (or with an id starting so)${closest.length > 0 ? `; closest: ${closest.join(', ')}` : ''}\n`,
    );
    return 1;
  }
  const explanation = explainWorkload(found.target, workloads, compiled, {
    rootKey: config.rootKey,
    ownerId: config.owner,
  });
  process.stdout.write(
    flags.format === 'json' ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation),
  );
  return 0;
}

export function explainCommand(): Command {
  const command = new Command('explain')
    .summary('say why a container or Swarm service is, or is not, routed')
    .description(
      'Finds the workload by name or id prefix in the Docker engine (DOCKER_HOST, else /var/run/docker.sock) or in ' +
        '--input, and prints every decision appproxy made about it: whether it is routed and, if not, every reason ' +
        '(enable and exposed-by-default, constraints, state and health, errors); how its addresses and ports were ' +
        'chosen; what became of each of its labels (used, with the resource it went into; refused, with the error; ' +
        'ignored, and why); the resources it contributes and the other workloads that share them; and its keys, as ' +
        'render --format kv prints them. A running daemon answers the same on GET /explain/<name>, with what only it ' +
        'knows (owner, lease, conflicts with other owners, the last transaction, and where each route is live in ' +
        'each Traefik): --daemon asks it (from loopback, or with its --http-token through --token-file).',
    )
    .argument('<name>', 'container name, Swarm service name, or id prefix')
    .addOption(
      new Option(
        '-i, --input <file>',
        'read a JSON array as printed by "docker inspect <containers>" ("-" for standard input) instead of asking Docker',
      ),
    )
    .addOption(
      new Option(
        '--daemon <url>',
        'ask a running daemon (its --listen address, e.g. http://127.0.0.1:9180) instead: adds its owner, lease, conflicts, last transaction and, with its --traefik-api-urls, where each route is live ("live in 2 of 3 Traefiks", Traefik\'s error when one refused it)',
      ),
    )
    .addOption(
      new Option(
        '--token-file <file>',
        "with --daemon: the daemon's --http-token, for a daemon not on loopback (else APPPROXY_HTTP_TOKEN_FILE or APPPROXY_HTTP_TOKEN)",
      ),
    )
    .addOption(
      new Option('-f, --format <format>', 'text, or json (the same as data)').choices(['text', 'json']).default('text'),
    );
  addSettingFlags(command, 'translate');
  command.addHelpText(
    'after',
    [
      '',
      'Exit status: 0; 1 when no workload has that name (the closest are named); 2 for bad options; 3 when the Docker engine (or, with --daemon, the daemon) could not be read.',
    ].join('\n'),
  );
  command.action(async (name: string, flags: ExplainFlags) => {
    process.exitCode = await explain(name, flags);
  });
  return command;
}
