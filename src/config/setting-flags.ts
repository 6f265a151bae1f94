import type { Command } from 'commander';
import { defaultAppOptions } from '../core/apps/app-options.ts';
import { parsePortRange } from '../core/apps/port-range.ts';
import type { TranslateOptions } from '../core/translate/translate-options.ts';
import { DEFAULT_TRAEFIK_MIN_VERSION, parseTraefikVersion } from '../core/schema/traefik-version.ts';
import { settings } from './settings.ts';
import type { Setting, TranslationConfig } from './settings.ts';

/**
 * Adds the flags of every setting in `scope` (and, for `run`, the translation ones too) that
 * `only` keeps, plus `--config <file>`. No defaults here: the schema holds them, so that the environment and the
 * file are not overridden by a flag nobody gave.
 */
export function addSettingFlags(
  command: Command,
  scope: 'translate' | 'run',
  only: (setting: Setting) => boolean = () => true,
): Command {
  for (const setting of settings) {
    if ((scope === 'translate' && setting.scope !== 'translate') || !only(setting)) continue;
    command.option(setting.flag, `${setting.description} [${setting.env}]`);
  }
  command.option(
    '-c, --config <file>',
    'YAML file of settings, keyed as in the configuration (flags and variables win) [APPPROXY_CONFIG]',
  );
  return command;
}

export function translateOptionsOf(config: TranslationConfig): TranslateOptions {
  // Checked by the schema already; the default only stands in for a caller that skipped it.
  const range = parsePortRange(config.appPortRange);
  return {
    prefix: config.prefix,
    exposedByDefault: config.exposedByDefault,
    constraints: config.constraints,
    defaultRule: config.defaultRule,
    network: config.network,
    allowEmptyServices: config.allowEmptyServices,
    useBindPortIP: config.useBindPortIP,
    hostNetworkAddress: config.hostNetworkAddress,
    advertiseAddress: config.advertiseAddress,
    apps: {
      frontend: config.appFrontend,
      portRange: range.ok ? range.value : defaultAppOptions.portRange,
      portEntryPoint: config.appPortEntrypointTemplate,
      wildcardEntryPoint: config.appWildcardEntrypoint,
      wildcardPort: config.appWildcardPort,
      wildcardDomain: config.appWildcardDomain,
      publicHost: config.appPublicHost,
    },
    traefikMinVersion: parseTraefikVersion(config.traefikMinVersion) ?? DEFAULT_TRAEFIK_MIN_VERSION,
    limits: {
      labels: config.maxWorkloadLabels,
      labelNameBytes: config.maxLabelNameBytes,
      labelBytes: config.maxWorkloadLabelBytes,
      listItems: config.maxListItems,
      keys: config.maxWorkloadKeys,
      bytes: config.maxWorkloadBytes,
    },
    policy: config.policy,
  };
}
