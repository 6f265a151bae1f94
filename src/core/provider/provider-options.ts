import { allowEverything, type LabelPolicy } from '../policy/label-policy.ts';
import { DEFAULT_TRAEFIK_MIN_VERSION, type TraefikVersion } from '../schema/traefik-version.ts';
import { defaultWorkloadLimits, type WorkloadLimits } from '../limits.ts';

/** The options of Traefik's Docker provider that change how labels become configuration. */
export interface ProviderOptions {
  /** Label prefix: `appproxy` by default; `traefik` makes existing Traefik labels work unchanged. */
  readonly prefix: string;
  /** Route workloads without `<prefix>.enable=true`. Off by default (Traefik's default is on). */
  readonly exposedByDefault: boolean;
  /** Traefik constraint expression over labels (`Label("a","b") && !LabelRegex("c","d.*")`); empty keeps all. */
  readonly constraints: string;
  /** Go template of the rule of routers that have none. */
  readonly defaultRule: string;
  /** Network whose address is used when the workload has no `<prefix>.docker.network` label. */
  readonly network: string;
  /** Keep routes of unhealthy or starting workloads, with no servers (Traefik's allowEmptyServices). */
  readonly allowEmptyServices: boolean;
  /** Use the host address and port a port is published on, where there is one (Traefik's useBindPortIP). */
  readonly useBindPortIP: boolean;
  /** Address of workloads in `host` network mode when Docker gives no node address. */
  readonly hostNetworkAddress: string;
  /**
   * This host's address as a Traefik on another host reaches it. When set, containers are routed
   * to it with their published port (unless a container says `<prefix>.sidecar.address=container`);
   * when empty, to their own address (unless a container says `published`).
   */
  readonly advertiseAddress: string;
  /** The oldest Traefik that reads the root key: labels that need a newer one leave their workload out. */
  readonly traefikMinVersion: TraefikVersion;
  /** How large one workload's labels and keys may be before it is left out. */
  readonly limits: WorkloadLimits;
  /** What the operator lets labels do; by default everything, as Traefik does. */
  readonly policy: LabelPolicy;
}

export const DEFAULT_RULE = 'Host(`{{ normalize .Name }}`)';

export const defaultProviderOptions: ProviderOptions = Object.freeze({
  prefix: 'appproxy',
  exposedByDefault: false,
  constraints: '',
  defaultRule: DEFAULT_RULE,
  network: '',
  allowEmptyServices: false,
  useBindPortIP: false,
  hostNetworkAddress: '127.0.0.1',
  advertiseAddress: '',
  traefikMinVersion: DEFAULT_TRAEFIK_MIN_VERSION,
  limits: defaultWorkloadLimits,
  policy: allowEverything,
});
