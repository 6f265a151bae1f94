import type { Command } from 'commander';
import type { ProviderOptions } from '../core/provider/provider-options.ts';
import { settings } from './settings.ts';
import type { TranslationConfig } from './settings.ts';

/**
 * Adds the flags of every setting in `scope` (and, for `run`, the translation ones too), plus
 * `--config <file>`. No defaults here: the schema holds them, so that the environment and the
 * file are not overridden by a flag nobody gave.
 */
export function addSettingFlags(command: Command, scope: 'translate' | 'run'): Command {
  for (const setting of settings) {
    if (scope === 'translate' && setting.scope !== 'translate') continue;
    command.option(setting.flag, `${setting.description} [${setting.env}]`);
  }
  command.option('-c, --config <file>', 'YAML file of settings, keyed as in the configuration (flags and variables win) [APPPROXY_CONFIG]');
  return command;
}

export function providerOptionsOf(config: TranslationConfig): ProviderOptions {
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
  };
}
