import { Option, type Command } from 'commander';
import { hostname } from 'node:os';
import { DEFAULT_RULE, type ProviderOptions } from '../core/provider/provider-options.ts';

/** Flags shared by the commands that translate labels (`render`, and later `run`), each with an APPPROXY_* variable. */
export function addTranslationFlags(command: Command): Command {
  return command
    .addOption(new Option('--prefix <prefix>', 'label prefix; "traefik" reads existing Traefik labels unchanged').env('APPPROXY_PREFIX').default('appproxy'))
    .addOption(new Option('--exposed-by-default', 'route workloads that lack <prefix>.enable=true (Traefik\'s default; off here)').env('APPPROXY_EXPOSED_BY_DEFAULT').default(false))
    .addOption(new Option('--constraints <expression>', 'Traefik constraint expression over labels, e.g. Label("team","a")').env('APPPROXY_CONSTRAINTS').default(''))
    .addOption(new Option('--default-rule <template>', 'rule of routers that have none (Go template)').env('APPPROXY_DEFAULT_RULE').default(DEFAULT_RULE))
    .addOption(new Option('--network <name>', 'network whose address is used when a workload names none').env('APPPROXY_NETWORK').default(''))
    .addOption(new Option('--allow-empty-services', 'keep services of unhealthy workloads, with no servers').env('APPPROXY_ALLOW_EMPTY_SERVICES').default(false))
    .addOption(new Option('--use-bind-port-ip', 'route to the host address and port a port is published on').env('APPPROXY_USE_BIND_PORT_IP').default(false))
    .addOption(new Option('--host-network-address <ip>', 'address of workloads in host network mode').env('APPPROXY_HOST_NETWORK_ADDRESS').default('127.0.0.1'))
    .addOption(new Option('--root-key <key>', 'Traefik\'s providers.etcd.rootKey, e.g. traefik or traefik/worker_<authority>').env('APPPROXY_ROOT_KEY').default('traefik'))
    .addOption(new Option('--owner <id>', 'owner id of this writer, part of each server key').env('APPPROXY_OWNER').default(hostname()));
}

export interface TranslationFlags {
  readonly prefix: string;
  readonly exposedByDefault: boolean | string;
  readonly constraints: string;
  readonly defaultRule: string;
  readonly network: string;
  readonly allowEmptyServices: boolean | string;
  readonly useBindPortIp: boolean | string;
  readonly hostNetworkAddress: string;
  readonly rootKey: string;
  readonly owner: string;
}

/** Booleans may come from the environment as text. */
function flag(value: boolean | string): boolean {
  return value === true || value === 'true' || value === '1';
}

export function providerOptionsFromFlags(flags: TranslationFlags): ProviderOptions {
  return {
    prefix: flags.prefix,
    exposedByDefault: flag(flags.exposedByDefault),
    constraints: flags.constraints,
    defaultRule: flags.defaultRule,
    network: flags.network,
    allowEmptyServices: flag(flags.allowEmptyServices),
    useBindPortIP: flag(flags.useBindPortIp),
    hostNetworkAddress: flags.hostNetworkAddress,
  };
}
