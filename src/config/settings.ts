import { z } from 'zod';
import { defaultAppOptions } from '../core/apps/app-options.ts';
import { entryPointTemplateProblem } from '../core/apps/entry-point-names.ts';
import { entryPointNameProblem } from '../core/entry-point-name.ts';
import { formatPortRange, inPortRange, parsePortRange } from '../core/apps/port-range.ts';
import { LIMIT_SETTINGS, limitSetting, type LimitName, type LimitSetting } from '../core/limits.ts';
import { hostPatternProblem } from '../core/policy/host-patterns.ts';
import { providerNameProblem } from '../core/policy/label-policy.ts';
import { DEFAULT_RULE } from '../core/provider/provider-options.ts';
import {
  DEFAULT_TRAEFIK_MIN_VERSION,
  formatTraefikVersion,
  traefikMinVersionTextProblem,
} from '../core/schema/traefik-version.ts';
import { LOG_LEVELS } from '../logging/create-logger.ts';

/**
 * Every setting of appproxy, once: its place in the configuration, its flag, its APPPROXY_*
 * variable, its text form and its validation. Flags, the environment and the YAML file are all
 * read through this table, so the three can never disagree.
 */
export interface Setting {
  /** Dotted path in the configuration object and in the YAML file. */
  readonly path: string;
  /** Flag, with its value placeholder when it takes one. */
  readonly flag: string;
  readonly env: string;
  readonly description: string;
  /** How a text value (flag or variable) becomes a configuration value. */
  readonly kind: 'string' | 'boolean' | 'integer' | 'list';
  /** Shown in the start-up line as `***`. */
  readonly secret?: boolean;
  /** Which commands take it. */
  readonly scope: 'translate' | 'run';
  /** Where earlier releases read it in the YAML file: still read there, so that no deployed file breaks. */
  readonly formerPaths?: readonly string[];
}

function limitAsSetting(limit: LimitSetting): Setting {
  return {
    path: limit.path,
    flag: limit.flag,
    env: limit.env,
    kind: 'integer',
    scope: limit.scope,
    description: limit.description,
  };
}

/** A limit's schema: a whole number from 1 up, its default from the core's table. */
function limitShape(name: LimitName) {
  return z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(limitSetting(name).default);
}

export const settings: readonly Setting[] = [
  {
    path: 'prefix',
    flag: '--prefix <prefix>',
    env: 'APPPROXY_PREFIX',
    kind: 'string',
    scope: 'translate',
    description: 'label prefix; "traefik" reads existing Traefik labels unchanged (default appproxy)',
  },
  {
    path: 'exposedByDefault',
    flag: '--exposed-by-default',
    env: 'APPPROXY_EXPOSED_BY_DEFAULT',
    kind: 'boolean',
    scope: 'translate',
    description: "route workloads that lack <prefix>.enable=true (Traefik's default; off here)",
  },
  {
    path: 'constraints',
    flag: '--constraints <expression>',
    env: 'APPPROXY_CONSTRAINTS',
    kind: 'string',
    scope: 'translate',
    description: 'Traefik constraint expression over labels, e.g. Label("team","a")',
  },
  {
    path: 'defaultRule',
    flag: '--default-rule <template>',
    env: 'APPPROXY_DEFAULT_RULE',
    kind: 'string',
    scope: 'translate',
    description: 'rule of routers that have none, a Go template (default Host(`{{ normalize .Name }}`))',
  },
  {
    path: 'network',
    flag: '--network <name>',
    env: 'APPPROXY_NETWORK',
    kind: 'string',
    scope: 'translate',
    description: 'network whose address is used when a workload names none',
  },
  {
    path: 'allowEmptyServices',
    flag: '--allow-empty-services',
    env: 'APPPROXY_ALLOW_EMPTY_SERVICES',
    kind: 'boolean',
    scope: 'translate',
    description: 'keep services of unhealthy workloads, with no servers',
  },
  {
    path: 'useBindPortIP',
    flag: '--use-bind-port-ip',
    env: 'APPPROXY_USE_BIND_PORT_IP',
    kind: 'boolean',
    scope: 'translate',
    description: 'route to the host address and port a port is published on',
  },
  {
    path: 'hostNetworkAddress',
    flag: '--host-network-address <ip>',
    env: 'APPPROXY_HOST_NETWORK_ADDRESS',
    kind: 'string',
    scope: 'translate',
    description: 'address of workloads in host network mode (default 127.0.0.1)',
  },
  {
    path: 'advertiseAddress',
    flag: '--advertise-address <ip>',
    env: 'APPPROXY_ADVERTISE_ADDRESS',
    kind: 'string',
    scope: 'translate',
    description:
      "this host's address for Traefik on other hosts: route to it with each container's published port (a container's <prefix>.sidecar.address=container opts out)",
  },
  {
    path: 'traefikMinVersion',
    flag: '--traefik-min-version <version>',
    env: 'APPPROXY_TRAEFIK_MIN_VERSION',
    kind: 'string',
    scope: 'translate',
    description:
      'the oldest Traefik that reads the root key, e.g. 3.0, 3.4 or 3.6.2: a label that needs a newer field or value (one unknown key makes that Traefik reject the whole tree) leaves its workload out with an error (default 3.0)',
  },
  ...LIMIT_SETTINGS.filter((limit) => limit.scope === 'translate').map(limitAsSetting),
  {
    path: 'policy.refuseProviders',
    flag: '--policy-refuse-providers <list>',
    env: 'APPPROXY_POLICY_REFUSE_PROVIDERS',
    kind: 'list',
    scope: 'translate',
    description:
      'Traefik providers whose resources labels may not name, comma-separated, e.g. internal,file (refuses service=api@internal, middlewares=auth@file, ...) (default: none)',
  },
  {
    path: 'policy.refuseServerOverride',
    flag: '--policy-refuse-server-override',
    env: 'APPPROXY_POLICY_REFUSE_SERVER_OVERRIDE',
    kind: 'boolean',
    scope: 'translate',
    description:
      "refuse loadbalancer.server.url (HTTP) and loadbalancer.server.address (TCP, UDP) labels: servers are then the workload's own address and port",
  },
  {
    path: 'policy.entryPoints',
    flag: '--policy-entrypoints <list>',
    env: 'APPPROXY_POLICY_ENTRYPOINTS',
    kind: 'list',
    scope: 'translate',
    description:
      'the entry points routers from labels may use, comma-separated, e.g. web,websecure; a router must then name one (default: any)',
  },
  {
    path: 'policy.hosts',
    flag: '--policy-hosts <list>',
    env: 'APPPROXY_POLICY_HOSTS',
    kind: 'list',
    scope: 'translate',
    description:
      'host patterns the Host and HostSNI matchers of rules from labels must match, comma-separated, e.g. *.apps.example.com,example.org ("*." is exactly one label); HostRegexp and rules without a host are refused (default: any)',
  },
  {
    path: 'policy.requireMiddlewares',
    flag: '--policy-require-middlewares',
    env: 'APPPROXY_POLICY_REQUIRE_MIDDLEWARES',
    kind: 'boolean',
    scope: 'translate',
    description: 'refuse HTTP and TCP routers from labels without a middleware',
  },
  {
    path: 'rootKey',
    flag: '--root-key <key>',
    env: 'APPPROXY_ROOT_KEY',
    kind: 'string',
    scope: 'translate',
    description:
      "Traefik's providers.etcd.rootKey (or providers.redis.rootKey), e.g. traefik or traefik/worker_<authority> (default traefik)",
  },
  {
    path: 'owner',
    flag: '--owner <id>',
    env: 'APPPROXY_OWNER',
    kind: 'string',
    scope: 'translate',
    description: 'owner id of this instance, part of every key it owns (default: the host name)',
  },
  {
    path: 'dockerTimeoutSeconds',
    flag: '--docker-timeout-seconds <n>',
    env: 'APPPROXY_DOCKER_TIMEOUT_SECONDS',
    kind: 'integer',
    scope: 'translate',
    description:
      'limit of one Docker API call; a call without an answer by then is an error and Docker counts as unreachable (default 30)',
  },
  {
    path: 'appFrontend',
    flag: '--app-frontend <mode>',
    env: 'APPPROXY_APP_FRONTEND',
    kind: 'string',
    scope: 'translate',
    description:
      'frontend of apps (<prefix>.apps.*) that choose none: port (one port of --app-port-range each) or wildcard (a host name under --app-wildcard-domain) (default port)',
  },
  {
    path: 'appPortRange',
    flag: '--app-port-range <first-last>',
    env: 'APPPROXY_APP_PORT_RANGE',
    kind: 'string',
    scope: 'translate',
    description: 'ports handed to port-mode apps, one Traefik entry point each; at most 1024 (default 10205-10300)',
  },
  {
    path: 'appPortEntrypointTemplate',
    flag: '--app-port-entrypoint-template <template>',
    env: 'APPPROXY_APP_PORT_ENTRYPOINT_TEMPLATE',
    kind: 'string',
    scope: 'translate',
    description:
      'name of the entry point of each port of the range, {port} standing for the number (default portproxy_{port})',
  },
  {
    path: 'appWildcardEntrypoint',
    flag: '--app-wildcard-entrypoint <name>',
    env: 'APPPROXY_APP_WILDCARD_ENTRYPOINT',
    kind: 'string',
    scope: 'translate',
    description: 'entry point of wildcard-mode apps (default domainproxy)',
  },
  {
    path: 'appWildcardDomain',
    flag: '--app-wildcard-domain <domain>',
    env: 'APPPROXY_APP_WILDCARD_DOMAIN',
    kind: 'string',
    scope: 'translate',
    description:
      'domain under which wildcard-mode apps get host names, e.g. .apps.example.com (required for wildcard mode)',
  },
  {
    path: 'appWildcardPort',
    flag: '--app-wildcard-port <n>',
    env: 'APPPROXY_APP_WILDCARD_PORT',
    kind: 'integer',
    scope: 'translate',
    description: 'port of the wildcard entry point, outside the port range (default 8443)',
  },
  {
    path: 'appPublicHost',
    flag: '--app-public-host <host>',
    env: 'APPPROXY_APP_PUBLIC_HOST',
    kind: 'string',
    scope: 'translate',
    description: "host name (or address) users connect to for port-mode apps, shown in the apps' URLs",
  },
  {
    path: 'store',
    flag: '--store <name>',
    env: 'APPPROXY_STORE',
    kind: 'string',
    scope: 'run',
    description: 'the store Traefik reads: etcd (providers.etcd) or redis (providers.redis) (default etcd)',
  },
  {
    path: 'redis.url',
    flag: '--redis-url <url>',
    env: 'APPPROXY_REDIS_URL',
    kind: 'string',
    scope: 'run',
    description:
      'Redis address, redis://host:port[/db] or rediss://host:port[/db] for TLS (default redis://127.0.0.1:6379)',
  },
  {
    path: 'redis.username',
    flag: '--redis-username <name>',
    env: 'APPPROXY_REDIS_USERNAME',
    kind: 'string',
    scope: 'run',
    description: 'Redis ACL user',
  },
  {
    path: 'redis.password',
    flag: '--redis-password <password>',
    env: 'APPPROXY_REDIS_PASSWORD',
    kind: 'string',
    scope: 'run',
    secret: true,
    description:
      'Redis password (prefer the variable, or APPPROXY_REDIS_PASSWORD_FILE naming a file such as a Docker secret, to the flag)',
  },
  {
    path: 'redis.ca',
    flag: '--redis-ca <file>',
    env: 'APPPROXY_REDIS_CA',
    kind: 'string',
    scope: 'run',
    description: 'CA certificate file for Redis TLS (rediss://)',
  },
  {
    path: 'redis.cert',
    flag: '--redis-cert <file>',
    env: 'APPPROXY_REDIS_CERT',
    kind: 'string',
    scope: 'run',
    description: 'client certificate file for Redis TLS',
  },
  {
    path: 'redis.key',
    flag: '--redis-key <file>',
    env: 'APPPROXY_REDIS_KEY',
    kind: 'string',
    scope: 'run',
    description: 'client key file for Redis TLS',
  },
  {
    path: 'redis.timeoutSeconds',
    flag: '--redis-timeout-seconds <n>',
    env: 'APPPROXY_REDIS_TIMEOUT_SECONDS',
    kind: 'integer',
    scope: 'run',
    description: 'limit of one Redis call (default 10)',
  },
  {
    path: 'etcd.endpoints',
    flag: '--etcd-endpoints <list>',
    env: 'APPPROXY_ETCD_ENDPOINTS',
    kind: 'list',
    scope: 'run',
    description: 'etcd endpoints, comma-separated, e.g. http://etcd:2379 (default http://127.0.0.1:2379)',
  },
  {
    path: 'etcd.username',
    flag: '--etcd-username <name>',
    env: 'APPPROXY_ETCD_USERNAME',
    kind: 'string',
    scope: 'run',
    description: 'etcd user',
  },
  {
    path: 'etcd.password',
    flag: '--etcd-password <password>',
    env: 'APPPROXY_ETCD_PASSWORD',
    kind: 'string',
    scope: 'run',
    secret: true,
    description:
      'etcd password (prefer the variable, or APPPROXY_ETCD_PASSWORD_FILE naming a file such as a Docker secret, to the flag)',
  },
  {
    path: 'etcd.ca',
    flag: '--etcd-ca <file>',
    env: 'APPPROXY_ETCD_CA',
    kind: 'string',
    scope: 'run',
    description: 'CA certificate file for etcd TLS',
  },
  {
    path: 'etcd.cert',
    flag: '--etcd-cert <file>',
    env: 'APPPROXY_ETCD_CERT',
    kind: 'string',
    scope: 'run',
    description: 'client certificate file for etcd TLS',
  },
  {
    path: 'etcd.key',
    flag: '--etcd-key <file>',
    env: 'APPPROXY_ETCD_KEY',
    kind: 'string',
    scope: 'run',
    description: 'client key file for etcd TLS',
  },
  {
    path: 'leaseSeconds',
    formerPaths: ['etcd.leaseSeconds'],
    flag: '--lease-seconds <n>',
    env: 'APPPROXY_LEASE_SECONDS',
    kind: 'integer',
    scope: 'run',
    description:
      "lifetime of this instance's lease (etcd or Redis): its servers leave Traefik this long after it dies (default 15; the file's former etcd.leaseSeconds is still read)",
  },
  {
    path: 'etcd.timeoutSeconds',
    flag: '--etcd-timeout-seconds <n>',
    env: 'APPPROXY_ETCD_TIMEOUT_SECONDS',
    kind: 'integer',
    scope: 'run',
    description: 'limit of one etcd call (default 10)',
  },
  {
    path: 'etcd.maxTxnOps',
    flag: '--etcd-max-txn-ops <n>',
    env: 'APPPROXY_ETCD_MAX_TXN_OPS',
    kind: 'integer',
    scope: 'run',
    description:
      "operations in one etcd transaction: etcd's own --max-txn-ops (default 128). Each transaction is one watch event, on which Traefik's etcd provider reads the whole tree: give etcd and appproxy a higher limit (the stacks: 2048) so that a pass is one transaction. If etcd refuses more, appproxy says so and writes 128 a transaction",
  },
  {
    path: 'swarmOwner',
    flag: '--swarm-owner <id>',
    env: 'APPPROXY_SWARM_OWNER',
    kind: 'string',
    scope: 'run',
    description:
      "owner id of the Swarm services, written by the one instance elected among a Swarm's managers (default swarm-<first 12 characters of the cluster id>)",
  },
  ...LIMIT_SETTINGS.filter((limit) => limit.scope === 'run').map(limitAsSetting),
  {
    path: 'resyncSeconds',
    flag: '--resync-seconds <n>',
    env: 'APPPROXY_RESYNC_SECONDS',
    kind: 'integer',
    scope: 'run',
    description: 'full resync interval, a safety net beside Docker events (default 60)',
  },
  {
    path: 'traefikMetricsUrls',
    flag: '--traefik-metrics-urls <list>',
    env: 'APPPROXY_TRAEFIK_METRICS_URLS',
    kind: 'list',
    scope: 'run',
    description:
      "Traefik's Prometheus endpoints, comma-separated (http://traefik:8082/metrics), read for the apps' activity (last request, open connections, idle); none: activity is not tracked",
  },
  {
    path: 'traefikApiUrls',
    flag: '--traefik-api-urls <list>',
    env: 'APPPROXY_TRAEFIK_API_URLS',
    kind: 'list',
    scope: 'run',
    description:
      "the API of every Traefik that reads this root key, comma-separated (http://traefik:8080); a name stands for every address it resolves to, asked again as instances come and go (Swarm: http://tasks.traefik:8080). After each commit the changed routers, services and middlewares are read back there: live, refused (with Traefik's error) or behind; see /traefiks. None: no read-back",
  },
  {
    path: 'traefikLagWarnSeconds',
    flag: '--traefik-lag-warn-seconds <n>',
    env: 'APPPROXY_TRAEFIK_LAG_WARN_SECONDS',
    kind: 'integer',
    scope: 'run',
    description:
      'a Traefik whose oldest change not live is older than this is behind (logged once, and not current in /traefiks); one that stays so while the others apply is named as stopped (default 30)',
  },
  {
    path: 'writeHoldMaxSeconds',
    flag: '--write-hold-max-seconds <n>',
    env: 'APPPROXY_WRITE_HOLD_MAX_SECONDS',
    kind: 'integer',
    scope: 'run',
    description:
      "with read-back (--traefik-api-urls): a write that follows a commit not yet live in every Traefik waits until it is, or for as long as commits lately took to go live in the slowest, at most this long. Traefik's KV providers read the whole tree on every change, so changes faster than one per apply are sent together, once per apply (default 10; 0: never wait)",
  },
  {
    path: 'activityIntervalSeconds',
    flag: '--activity-interval-seconds <n>',
    env: 'APPPROXY_ACTIVITY_INTERVAL_SECONDS',
    kind: 'integer',
    scope: 'run',
    description: "how often Traefik's metrics are read and the apps' records updated at most (default 5)",
  },
  {
    path: 'listen',
    flag: '--listen <host:port>',
    env: 'APPPROXY_LISTEN',
    kind: 'string',
    scope: 'run',
    description:
      'address of /livez, /readyz and /metrics (for everyone), and of /explain/<name>, /apps, /traefiks, /status and /traefik/dynamic (loopback, or with --http-token) (default 0.0.0.0:9180)',
  },
  {
    path: 'httpToken',
    flag: '--http-token <token>',
    env: 'APPPROXY_HTTP_TOKEN',
    kind: 'string',
    scope: 'run',
    secret: true,
    description:
      'bearer token that opens /explain/<name>, /apps, /traefiks, /status and /traefik/dynamic to clients other than loopback (prefer APPPROXY_HTTP_TOKEN_FILE, a Docker secret, to the flag; 16 characters or more); without it those answer loopback alone (docker exec), while /livez, /readyz and /metrics answer everyone',
  },
  {
    path: 'logLevel',
    flag: '--log-level <level>',
    env: 'APPPROXY_LOG_LEVEL',
    kind: 'string',
    scope: 'run',
    description: 'trace, debug, info, warn, error (default info)',
  },
  {
    path: 'logPretty',
    flag: '--log-pretty',
    env: 'APPPROXY_LOG_PRETTY',
    kind: 'boolean',
    scope: 'run',
    description: 'human-readable logs instead of JSON lines',
  },
];

const hostPort = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/;

/** Five digits let 99999 through; a port out of range would only fail later, at connection time. */
function portInRange(text: string): boolean {
  const port = Number(/:(\d+)$/.exec(text)?.[1]);
  return port >= 1 && port <= 65_535;
}
const PORT_RANGE = 'the port must be 1 to 65535';

/** A text setting checked by one of the core's own checks (a message, or undefined when good). */
function checkedText(check: (text: string) => string | undefined) {
  return (text: string, context: z.RefinementCtx): void => {
    const problem = check(text);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  };
}

const HOST_NAME_OR_IP = /^$|^[0-9.]+$|^[0-9a-fA-F:]+$|^[A-Za-z0-9.-]+$/;
const WILDCARD_DOMAIN = /^\.?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

const translationShape = {
  prefix: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
      'use letters, digits, "-" and "_", with dots between words (e.g. appproxy)',
    )
    .default('appproxy'),
  exposedByDefault: z.boolean().default(false),
  constraints: z.string().default(''),
  defaultRule: z.string().min(1, 'must not be empty').default(DEFAULT_RULE),
  network: z.string().default(''),
  allowEmptyServices: z.boolean().default(false),
  useBindPortIP: z.boolean().default(false),
  hostNetworkAddress: z.string().min(1).default('127.0.0.1'),
  advertiseAddress: z
    .string()
    .regex(/^$|^[0-9.]+$|^[0-9a-fA-F:]+$|^[A-Za-z0-9.-]+$/, 'expected an IP address or a host name')
    .default(''),
  traefikMinVersion: z
    // YAML reads 3.10 unquoted as the number 3.1: a release is text.
    .string({
      error: (issue) =>
        issue.input === undefined
          ? undefined
          : `expected a Traefik release as text, such as "3.0" or "3.6.2" (quote it in YAML: 3.10 unquoted is the number 3.1), got ${JSON.stringify(issue.input)}`,
    })
    .superRefine(checkedText(traefikMinVersionTextProblem))
    .default(formatTraefikVersion(DEFAULT_TRAEFIK_MIN_VERSION)),
  // Paths as in LIMIT_SETTINGS (a test holds the two together).
  maxWorkloadLabels: limitShape('labels'),
  maxLabelNameBytes: limitShape('label-name'),
  maxWorkloadLabelBytes: limitShape('label-bytes'),
  maxListItems: limitShape('list-items'),
  maxWorkloadKeys: limitShape('workload-keys'),
  maxWorkloadBytes: limitShape('workload-bytes'),
  policy: z
    .object({
      // `@internal` is how Traefik writes it in a reference: accepted and read as `internal`.
      refuseProviders: z
        .array(
          z
            .string()
            .transform((name) => name.replace(/^@/, '').toLowerCase())
            .superRefine(checkedText(providerNameProblem)),
        )
        .default([]),
      refuseServerOverride: z.boolean().default(false),
      entryPoints: z.array(z.string().superRefine(checkedText(entryPointNameProblem))).default([]),
      hosts: z.array(z.string().superRefine(checkedText(hostPatternProblem))).default([]),
      requireMiddlewares: z.boolean().default(false),
    })
    .strict()
    .default({
      refuseProviders: [],
      refuseServerOverride: false,
      entryPoints: [],
      hosts: [],
      requireMiddlewares: false,
    }),
  rootKey: z.string().default('traefik'),
  owner: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'use 1 to 128 letters, digits, ".", "_" or "-"'),
  dockerTimeoutSeconds: z.number().int().min(1, 'at least 1').max(600, 'at most 600').default(30),
  appFrontend: z.enum(['port', 'wildcard']).default(defaultAppOptions.frontend),
  appPortRange: z
    .string()
    .superRefine(
      checkedText((text) => {
        const range = parsePortRange(text);
        return range.ok ? undefined : range.message;
      }),
    )
    .default(formatPortRange(defaultAppOptions.portRange)),
  appPortEntrypointTemplate: z
    .string()
    .superRefine(checkedText(entryPointTemplateProblem))
    .default(defaultAppOptions.portEntryPoint),
  appWildcardEntrypoint: z
    .string()
    .superRefine(checkedText(entryPointNameProblem))
    .default(defaultAppOptions.wildcardEntryPoint),
  appWildcardDomain: z
    .string()
    .transform((text) => text.toLowerCase())
    .superRefine(
      checkedText((text) =>
        text === '' || (WILDCARD_DOMAIN.test(text) && text.length <= 253)
          ? undefined
          : `expected a domain such as .apps.example.com (DNS labels of letters, digits and "-", between dots), got ${JSON.stringify(text)}`,
      ),
    )
    .transform((text) => (text === '' || text.startsWith('.') ? text : `.${text}`))
    .default(defaultAppOptions.wildcardDomain),
  appWildcardPort: z.number().int().min(1).max(65_535).default(defaultAppOptions.wildcardPort),
  appPublicHost: z
    .string()
    .regex(HOST_NAME_OR_IP, 'expected an IP address or a host name')
    .default(defaultAppOptions.publicHost),
};

/** Settings that only make sense together: checked once all are known. */
function checkAppSettings(
  config: { appFrontend: string; appPortRange: string; appWildcardDomain: string; appWildcardPort: number },
  context: z.RefinementCtx,
): void {
  if (config.appFrontend === 'wildcard' && config.appWildcardDomain === '') {
    context.addIssue({
      code: 'custom',
      path: ['appWildcardDomain'],
      message: 'the wildcard app frontend (--app-frontend wildcard) needs a domain, e.g. .apps.example.com',
    });
  }
  const range = parsePortRange(config.appPortRange);
  if (config.appWildcardDomain !== '' && range.ok && inPortRange(config.appWildcardPort, range.value)) {
    context.addIssue({
      code: 'custom',
      path: ['appWildcardPort'],
      message: `port ${config.appWildcardPort} is inside the app port range ${config.appPortRange}: two entry points cannot listen on one port; choose one outside it`,
    });
  }
}

export const daemonConfigSchema = z
  .object({
    ...translationShape,
    etcd: z
      .object({
        endpoints: z
          .array(
            z
              .string()
              .regex(/^(https?:\/\/)?(\[[0-9a-fA-F:]+\]|[^:/\s]+):\d{1,5}$/, 'expected [http[s]://]host:port')
              .refine(portInRange, PORT_RANGE),
          )
          .min(1, 'give at least one endpoint')
          .default(['http://127.0.0.1:2379']),
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        ca: z.string().min(1).optional(),
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        timeoutSeconds: z.number().int().min(1, 'at least 1').max(600, 'at most 600').default(10),
        maxTxnOps: z
          .number()
          .int()
          .min(128, "at least 128 (etcd's default)")
          .max(100_000, 'at most 100000')
          .default(128),
      })
      .strict()
      .default({ endpoints: ['http://127.0.0.1:2379'], timeoutSeconds: 10, maxTxnOps: 128 })
      .refine(
        (etcd) => (etcd.username === undefined) === (etcd.password === undefined),
        'etcd username and password go together',
      )
      .refine(
        (etcd) => (etcd.cert === undefined) === (etcd.key === undefined),
        'etcd client certificate and key go together',
      ),
    store: z.enum(['etcd', 'redis']).default('etcd'),
    leaseSeconds: z.number().int().min(2, 'at least 2').max(3600, 'at most 3600').default(15),
    redis: z
      .object({
        url: z
          .string()
          .regex(
            /^rediss?:\/\/(\[[0-9a-fA-F:]+\]|[^:/@\s]+)(:\d{1,5})?(\/\d{1,2})?$/,
            'expected redis://host:port[/db] or rediss://host:port[/db], without a user or password in it (give those with --redis-username and APPPROXY_REDIS_PASSWORD)',
          )
          .default('redis://127.0.0.1:6379'),
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        ca: z.string().min(1).optional(),
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        timeoutSeconds: z.number().int().min(1, 'at least 1').max(600, 'at most 600').default(10),
      })
      .strict()
      .default({ url: 'redis://127.0.0.1:6379', timeoutSeconds: 10 })
      .refine(
        (redis) => redis.username === undefined || redis.password !== undefined,
        'a Redis username needs a password',
      )
      .refine(
        (redis) => (redis.cert === undefined) === (redis.key === undefined),
        'Redis client certificate and key go together',
      )
      .refine(
        (redis) => (redis.ca === undefined && redis.cert === undefined) || redis.url.startsWith('rediss://'),
        'Redis TLS files need a rediss:// URL',
      ),
    swarmOwner: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,128}$/, 'use 1 to 128 letters, digits, ".", "_" or "-"')
      .optional(),
    maxInstanceKeys: limitShape('instance-keys'),
    maxInstanceBytes: limitShape('instance-bytes'),
    resyncSeconds: z.number().int().min(1).max(86_400).default(60),
    traefikMetricsUrls: z
      .array(
        z
          .string()
          .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, "expected Traefik's metrics URL, e.g. http://traefik:8082/metrics"),
      )
      .default([]),
    traefikApiUrls: z
      .array(
        z
          .string()
          .regex(
            /^https?:\/\/[^\s/]+\/?$/,
            "expected the origin of Traefik's API, e.g. http://traefik:8080 (its /api is read)",
          ),
      )
      .default([]),
    traefikLagWarnSeconds: z.number().int().min(1, 'at least 1').max(3600, 'at most 3600').default(30),
    writeHoldMaxSeconds: z.number().int().min(0, 'at least 0').max(60, 'at most 60').default(10),
    activityIntervalSeconds: z.number().int().min(1, 'at least 1').max(300, 'at most 300').default(5),
    listen: z
      .string()
      .regex(hostPort, 'expected host:port, e.g. 0.0.0.0:9180')
      .refine(portInRange, PORT_RANGE)
      .default('0.0.0.0:9180'),
    httpToken: z.string().min(16, 'at least 16 characters (e.g. openssl rand -hex 24)').optional(),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    logPretty: z.boolean().default(false),
  })
  .strict()
  .superRefine(checkAppSettings);

export type DaemonConfig = z.infer<typeof daemonConfigSchema>;
/** The settings that shape the translation (what `render` uses). */
export type TranslationConfig = Pick<DaemonConfig, keyof typeof translationShape>;
