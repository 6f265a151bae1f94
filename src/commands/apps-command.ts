import { Command, Option } from 'commander';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { addSettingFlags } from '../config/setting-flags.ts';
import { daemonConfigSchema } from '../config/settings.ts';
import { decodeAppRecord, type AppRecord } from '../core/apps/app-record.ts';
import { checkRootKey } from '../core/kv/root-key.ts';
import { formatAppsTable } from '../render/apps-table.ts';
import { KeyLayout } from '../sync/key-layout.ts';
import { openStore } from './open-store.ts';

interface AppsFlags {
  readonly format: 'table' | 'json';
  readonly config?: string;
  readonly [setting: string]: unknown;
}

/** What the command reads: where the store is and which root key; nothing of the translation. */
function storeSetting(path: string): boolean {
  return path === 'rootKey' || path === 'store' || path.startsWith('redis.') || path.startsWith('etcd.');
}

async function listApps(flags: AppsFlags): Promise<number> {
  let config;
  try {
    config = loadConfig(daemonConfigSchema, {
      flags,
      env: process.env,
      file: flags.config ?? process.env['APPPROXY_CONFIG'],
      scope: 'run',
    });
    const problem = checkRootKey(config.rootKey);
    if (problem !== undefined) throw new ConfigError([`rootKey: ${problem}`]);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`appproxy apps: ${error.message}\n`);
    return 2;
  }
  const layout = new KeyLayout(config.rootKey, config.owner);
  const { store, closeStore } = await openStore(config, pino({ level: 'silent' }), () => undefined, false);
  let records: AppRecord[];
  try {
    const snapshot = await store.load([{ key: layout.appsPrefix, prefix: true }]);
    records = snapshot.entries
      .map((entry) => decodeAppRecord(entry.value))
      .filter((record): record is AppRecord => record !== undefined);
  } catch (error) {
    process.stderr.write(
      `appproxy apps: the ${config.store} store could not be read: ${(error as Error).message} (check --store and its address: --etcd-endpoints or --redis-url, and the credentials)\n`,
    );
    return 3;
  } finally {
    closeStore();
  }
  records.sort((a, b) =>
    a.workload < b.workload ? -1 : a.workload > b.workload ? 1 : a.app < b.app ? -1 : a.app > b.app ? 1 : 0,
  );
  process.stdout.write(
    flags.format === 'json' ? `${JSON.stringify(records, null, 2)}\n` : formatAppsTable(records, Date.now()),
  );
  return 0;
}

export function appsCommand(): Command {
  const command = new Command('apps')
    .summary(
      'list the apps (<prefix>.apps.*) every instance serves under a root key: where each is reached, its activity, its errors',
    )
    .description(
      "Reads the apps' records that every appproxy run sharing the root key keeps in the store (appproxy/apps/<root>/<identity>), " +
        'so it works from any host that reaches the store: the workload and app, protocol and frontend, where users reach it ' +
        '(URL, or port when no --app-public-host is set), the owner that serves it, its last activity, its open connections and ' +
        'whether it is idle (read from Traefik\'s metrics by the instance that serves it: "-" when that instance has no ' +
        '--traefik-metrics-urls), and why an app is not served (the port range exhausted, ...). A running instance answers the same ' +
        'on GET /apps. Reads only; takes the same store settings as run.',
    )
    .addOption(
      new Option('-f, --format <format>', 'table, or json (an array of the records as stored)')
        .choices(['table', 'json'])
        .default('table'),
    );
  addSettingFlags(command, 'run', (setting) => storeSetting(setting.path));
  command.addHelpText(
    'after',
    ['', 'Exit status: 0; 2 for bad options or settings; 3 when the store could not be read.'].join('\n'),
  );
  command.action(async (flags: AppsFlags) => {
    process.exitCode = await listApps(flags);
  });
  return command;
}
