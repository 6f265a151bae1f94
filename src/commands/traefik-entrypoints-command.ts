import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { addSettingFlags, translateOptionsOf } from '../config/setting-flags.ts';
import { daemonConfigSchema } from '../config/settings.ts';
import { appOptionsProblems } from '../core/apps/entry-point-names.ts';
import { staticEntryPoints } from '../core/apps/static-entry-points.ts';
import { formatEntryPoints, type EntryPointsFormat } from '../render/entry-points-output.ts';

interface EntryPointsFlags {
  readonly format: EntryPointsFormat;
  readonly listenAddress?: string;
  readonly config?: string;
  readonly [setting: string]: unknown;
}

/** What the command needs of the settings: the app settings that name and number entry points. */
const ENTRY_POINT_SETTINGS = new Set([
  'appFrontend',
  'appPortRange',
  'appPortEntrypointTemplate',
  'appWildcardEntrypoint',
  'appWildcardDomain',
  'appWildcardPort',
]);

/** An IPv4 address or host name, or an IPv6 address (bracketed or not) as URLs read it: no port. */
function listenAddressOk(text: string): boolean {
  if (/^[A-Za-z0-9.-]+$/.test(text)) return true;
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  return /^[0-9a-fA-F:.]+$/.test(bare) && bare.includes(':') && URL.canParse(`http://[${bare}]/`);
}

function entryPoints(flags: EntryPointsFlags): number {
  let config;
  try {
    config = loadConfig(daemonConfigSchema, {
      flags,
      env: process.env,
      file: flags.config ?? process.env['APPPROXY_CONFIG'],
      scope: 'translate',
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`appproxy traefik-entrypoints: ${error.message}\n`);
    return 2;
  }
  const listen = flags.listenAddress ?? '';
  if (listen !== '' && !listenAddressOk(listen)) {
    process.stderr.write(
      `appproxy traefik-entrypoints: --listen-address: expected an IP address or a host name without a port (e.g. 0.0.0.0), got ${JSON.stringify(listen)}\n`,
    );
    return 2;
  }
  const options = translateOptionsOf(config).apps;
  const problems = appOptionsProblems(options);
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`appproxy traefik-entrypoints: ${problem}\n`);
    return 2;
  }
  if (options.wildcardDomain === '')
    process.stderr.write(
      'appproxy traefik-entrypoints: no wildcard entry point: --app-wildcard-domain is not set, so no app can use the wildcard frontend\n',
    );
  process.stdout.write(formatEntryPoints(flags.format, staticEntryPoints(options, listen)));
  return 0;
}

export function traefikEntrypointsCommand(): Command {
  const command = new Command('traefik-entrypoints')
    .summary("print the entry points Traefik's static configuration needs for the apps")
    .description(
      'Traefik reads entry points only from its static configuration (a file or flags), never from etcd: ' +
        'every port of --app-port-range needs one (named by --app-port-entrypoint-template), and wildcard-mode apps ' +
        'need --app-wildcard-entrypoint on --app-wildcard-port. This prints them, from the same settings (flags, ' +
        'APPPROXY_* variables, --config) that render and run read, so that they always agree. Writes nothing and ' +
        'connects to nothing.',
    )
    .addOption(
      new Option(
        '-f, --format <format>',
        'yaml: the entryPoints section of a static file; flags: one --entryPoints.<name>.address=<address> a line',
      )
        .choices(['yaml', 'flags'])
        .default('yaml'),
    )
    .option(
      '--listen-address <address>',
      'address the entry points listen on, e.g. 0.0.0.0 (default: every address, ":<port>")',
    );
  addSettingFlags(command, 'translate', (setting) => ENTRY_POINT_SETTINGS.has(setting.path));
  command.addHelpText(
    'after',
    [
      '',
      'Examples:',
      '  appproxy traefik-entrypoints --app-port-range 10205-10300 > entrypoints.yml   # merge into traefik.yml',
      '  traefik $(appproxy traefik-entrypoints --format flags) --providers.etcd.endpoints=etcd:2379',
      '',
      'Exit status: 0; 2 for bad options or settings.',
    ].join('\n'),
  );
  command.action((flags: EntryPointsFlags) => {
    process.exitCode = entryPoints(flags);
  });
  return command;
}
