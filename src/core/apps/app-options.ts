import type { PortRange } from './port-range.ts';

/** How users reach an app: one port of the range each, or one host name each under a wildcard domain. */
export type AppFrontendMode = 'port' | 'wildcard';

/** The instance's settings for `<prefix>.apps.*` labels (Backend.AI AppProxy's Traefik mode). */
export interface AppOptions {
  /** The frontend of apps that do not choose one with `apps.<name>.frontend`. */
  readonly frontend: AppFrontendMode;
  /** Ports handed out to port-mode apps, one Traefik entry point each. */
  readonly portRange: PortRange;
  /** Entry point name of one port of the range: `{port}` stands for the number. */
  readonly portEntryPoint: string;
  /** Entry point of every wildcard-mode app. */
  readonly wildcardEntryPoint: string;
  /** Port the wildcard entry point listens on (and users connect to). */
  readonly wildcardPort: number;
  /**
   * Domain under which wildcard-mode apps get their host names, with its leading dot (`.apps.example.com`); empty when
   * none.
   */
  readonly wildcardDomain: string;
  /** Host name users connect to in port mode, for the URLs of listings; empty when not set. */
  readonly publicHost: string;
}

export const defaultAppOptions: AppOptions = Object.freeze({
  frontend: 'port',
  portRange: Object.freeze({ first: 10205, last: 10300 }),
  portEntryPoint: 'portproxy_{port}',
  wildcardEntryPoint: 'domainproxy',
  wildcardPort: 8443,
  wildcardDomain: '',
  publicHost: '',
});
