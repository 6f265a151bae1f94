/**
 * The sizes one workload, and one instance, may reach before it is left out. Each is a setting:
 * declared here once, with its flag, variable and default, and read by the settings table, the
 * core's refusals and the daemon's metric, so that a message always names the setting to raise.
 *
 * The figures in the descriptions are what the project's own stacks and golden inputs need at
 * most (stacks/*.yml, test/golden*): 16 labels under the prefix, an 80-byte label name, 983 bytes
 * of labels, 2 items in a list, 11 keys and 651 bytes in the store for one workload. Every default
 * is far above that, and above the larger hand-written Traefik stacks (a few hundred labels);
 * what they stop is a careless or crafted label that would cost every other workload (50 routers
 * with a 42 KB `a,a,a,…` entry point list were 1,050,104 keys, 47 MB).
 */

/** A limit's name, as the refusal metric labels it (`appproxy_workloads_refused_total{limit}`). */
export type LimitName =
  | 'labels'
  | 'label-name'
  | 'label-bytes'
  | 'list-items'
  | 'workload-keys'
  | 'workload-bytes'
  | 'instance-keys'
  | 'instance-bytes';

export interface LimitSetting {
  readonly limit: LimitName;
  /** The setting's path in the configuration (and the YAML file). */
  readonly path: string;
  readonly flag: string;
  readonly env: string;
  readonly default: number;
  /** Which commands take it: per-workload limits shape `render` too; per-instance ones only `run`. */
  readonly scope: 'translate' | 'run';
  readonly description: string;
}

const KIB = 1024;
const MIB = 1024 * KIB;

/** Every limit, in the order they are checked. */
export const LIMIT_SETTINGS: readonly LimitSetting[] = [
  {
    limit: 'labels',
    path: 'maxWorkloadLabels',
    flag: '--max-workload-labels <n>',
    env: 'APPPROXY_MAX_WORKLOAD_LABELS',
    default: 1000,
    scope: 'translate',
    description:
      "labels under the prefix one workload may have; past it the workload is left out (this project's stacks need 16) (default 1000)",
  },
  {
    limit: 'label-name',
    path: 'maxLabelNameBytes',
    flag: '--max-label-name-bytes <n>',
    env: 'APPPROXY_MAX_LABEL_NAME_BYTES',
    default: 4 * KIB,
    scope: 'translate',
    description:
      "bytes of one label name under the prefix; past it the workload is left out (this project's longest is 80) (default 4096)",
  },
  {
    limit: 'label-bytes',
    path: 'maxWorkloadLabelBytes',
    flag: '--max-workload-label-bytes <n>',
    env: 'APPPROXY_MAX_WORKLOAD_LABEL_BYTES',
    default: MIB,
    scope: 'translate',
    description:
      "bytes of all the names and values of one workload's labels under the prefix; past it the workload is left out (this project's stacks need 983) (default 1048576)",
  },
  {
    limit: 'list-items',
    path: 'maxListItems',
    flag: '--max-list-items <n>',
    env: 'APPPROXY_MAX_LIST_ITEMS',
    default: 1000,
    scope: 'translate',
    description:
      "items of one list label (entrypoints, middlewares, ...), each a key in the store; past it the workload is left out (this project's stacks use 2) (default 1000)",
  },
  {
    limit: 'workload-keys',
    path: 'maxWorkloadKeys',
    flag: '--max-workload-keys <n>',
    env: 'APPPROXY_MAX_WORKLOAD_KEYS',
    default: 10_000,
    scope: 'translate',
    description:
      "keys one workload may put in the store; past it the workload is left out (this project's stacks need 11) (default 10000)",
  },
  {
    limit: 'workload-bytes',
    path: 'maxWorkloadBytes',
    flag: '--max-workload-bytes <n>',
    env: 'APPPROXY_MAX_WORKLOAD_BYTES',
    default: 4 * MIB,
    scope: 'translate',
    description:
      "bytes of keys (below the root key) and values one workload may put in the store; past it the workload is left out (this project's stacks need 651) (default 4194304)",
  },
  {
    limit: 'instance-keys',
    path: 'maxInstanceKeys',
    flag: '--max-instance-keys <n>',
    env: 'APPPROXY_MAX_INSTANCE_KEYS',
    default: 1_000_000,
    scope: 'run',
    description:
      'keys this instance may own in the store (resources, claims, servers); a workload that would pass it is left out, what is routed stays (a host of 1,000 workloads of 20 keys needs 20,000) (default 1000000)',
  },
  {
    limit: 'instance-bytes',
    path: 'maxInstanceBytes',
    flag: '--max-instance-bytes <n>',
    env: 'APPPROXY_MAX_INSTANCE_BYTES',
    default: 256 * MIB,
    scope: 'run',
    description:
      "bytes of keys and values this instance may own in the store, an eighth of etcd's default 2 GiB quota; a workload that would pass it is left out, what is routed stays (default 268435456)",
  },
];

/** What one workload may reach (see LIMIT_SETTINGS). */
export interface WorkloadLimits {
  readonly labels: number;
  readonly labelNameBytes: number;
  readonly labelBytes: number;
  readonly listItems: number;
  readonly keys: number;
  readonly bytes: number;
}

/** What everything one instance owns may reach. */
export interface InstanceLimits {
  readonly keys: number;
  readonly bytes: number;
}

export function limitSetting(limit: LimitName): LimitSetting {
  return LIMIT_SETTINGS.find((setting) => setting.limit === limit) as LimitSetting;
}

function defaultOf(limit: LimitName): number {
  return limitSetting(limit).default;
}

export const defaultWorkloadLimits: WorkloadLimits = Object.freeze({
  labels: defaultOf('labels'),
  labelNameBytes: defaultOf('label-name'),
  labelBytes: defaultOf('label-bytes'),
  listItems: defaultOf('list-items'),
  keys: defaultOf('workload-keys'),
  bytes: defaultOf('workload-bytes'),
});

export const defaultInstanceLimits: InstanceLimits = Object.freeze({
  keys: defaultOf('instance-keys'),
  bytes: defaultOf('instance-bytes'),
});

/** A number as the messages print it: 1,050,104. */
export function formatCount(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** How a refusal names the setting to raise, as every entry point spells it. */
function raiseHint(limit: LimitName): string {
  const setting = limitSetting(limit);
  return `raise ${setting.flag.split(' ')[0] ?? ''} (${setting.env}, ${setting.path} in the file)`;
}

/** The refusal's message: what was found, the limit, that the workload is left out, and the two ways out. */
export function limitMessage(limit: LimitName, found: string, max: number, fix: string): string {
  return `${found}, more than the limit of ${formatCount(max)}: the workload is left out; ${fix}, or ${raiseHint(limit)}`;
}
