import { Command, Option } from 'commander';
import { formatTraefiksTable } from '../render/traefiks-table.ts';
import type { TraefikListing } from '../render/traefik-listing.ts';
import { daemonGet, daemonToken } from './daemon-get.ts';

interface TraefiksFlags {
  readonly daemon: string;
  readonly tokenFile?: string;
  readonly format: 'table' | 'json';
}

async function traefiks(flags: TraefiksFlags): Promise<number> {
  let token;
  try {
    token = daemonToken(flags.tokenFile);
  } catch (error) {
    process.stderr.write(`appproxy traefiks: cannot read the token: ${(error as Error).message}\n`);
    return 2;
  }
  const reply = await daemonGet(flags.daemon, '/traefiks', 10_000, token);
  if (!reply.ok) {
    process.stderr.write(`appproxy traefiks: ${reply.error}\n`);
    return 3;
  }
  if (reply.status === 401) {
    process.stderr.write(`appproxy traefiks: ${(reply.body as { error?: string }).error ?? 'refused'}\n`);
    return 3;
  }
  if (reply.status === 404) {
    process.stderr.write(
      'appproxy traefiks: this daemon reads back no Traefik: start it with --traefik-api-urls (APPPROXY_TRAEFIK_API_URLS)\n',
    );
    return 1;
  }
  const listing = (reply.body as { traefiks?: TraefikListing[] }).traefiks ?? [];
  process.stdout.write(
    flags.format === 'json' ? `${JSON.stringify(reply.body, null, 2)}\n` : formatTraefiksTable(listing),
  );
  // No Traefik found is no all-clear: the URLs resolve to nothing (yet), or to no Traefik.
  const healthy =
    listing.length > 0 &&
    listing.every(
      (entry) => entry.reachable === true && entry.current && entry.refused.length === 0 && !entry.olderThanDeclared,
    );
  return healthy ? 0 : 4;
}

export function traefiksCommand(): Command {
  const command = new Command('traefiks')
    .summary('list the Traefiks a running daemon reads back: version, current or not, lag, what they refused')
    .description(
      'Asks a running daemon (GET /traefiks on its --listen address) what its read-back knows of every Traefik ' +
        'named by its --traefik-api-urls: the version each reports and whether it is older than --traefik-min-version, ' +
        'whether its API answers, whether it is current (no committed change missing there for longer than ' +
        '--traefik-lag-warn-seconds), its lag, the changes it lacks, the routers, services and middlewares it refused ' +
        "with Traefik's own error, and, for one that keeps an old configuration while the others apply, since when " +
        'and the likely cause.',
    )
    .addOption(new Option('--daemon <url>', "the daemon's listener").default('http://127.0.0.1:9180'))
    .addOption(
      new Option(
        '--token-file <file>',
        "the daemon's --http-token, for a daemon not on loopback (else APPPROXY_HTTP_TOKEN_FILE or APPPROXY_HTTP_TOKEN)",
      ),
    )
    .addOption(new Option('-f, --format <format>', 'table, or json').choices(['table', 'json']).default('table'));
  command.addHelpText(
    'after',
    [
      '',
      'Exit status: 0 when every Traefik answers, is current and refused nothing; 4 when one does not, or none is found; 1 when the daemon',
      'reads back no Traefik; 2 for bad options; 3 when the daemon gave no answer or refused the token.',
    ].join('\n'),
  );
  command.action(async (flags: TraefiksFlags) => {
    process.exitCode = await traefiks(flags);
  });
  return command;
}
