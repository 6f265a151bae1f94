/**
 * The parts of the Docker Engine API's JSON that the Docker edge reads, as structural types. They are
 * deliberately minimal and lenient (optional, nullable) because the engine omits or nulls fields
 * depending on its version and the object's state, and because the same shapes must accept both the
 * API's responses and what `docker inspect` prints (they are the same JSON). Fields are named as the
 * engine names them.
 */

/** One host binding of a published port: `{"HostIp": "0.0.0.0", "HostPort": "8080"}`. */
export interface PortBindingJson {
  readonly HostIp?: string | null;
  readonly HostPort?: string | null;
}

/** One entry of `NetworkSettings.Networks`, keyed by network name. */
export interface EndpointSettingsJson {
  readonly NetworkID?: string | null;
  /** Empty string, not absent, when the container is stopped or shares another's network stack. */
  readonly IPAddress?: string | null;
  readonly GlobalIPv6Address?: string | null;
}

/** `GET /containers/{id}/json`, one element of the array `docker inspect <ids>` prints. */
export interface ContainerInspect {
  readonly Id: string;
  /** With a leading `/`: `/web-1`. */
  readonly Name?: string | null;
  readonly State?: {
    readonly Status?: string | null;
    /** Present only when the container has a health check. */
    readonly Health?: { readonly Status?: string | null } | null;
  } | null;
  readonly Config?: { readonly Labels?: Readonly<Record<string, string>> | null } | null;
  readonly HostConfig?: { readonly NetworkMode?: string | null } | null;
  readonly NetworkSettings?: {
    /** `{"80/tcp": null}` when exposed but not published, an array of bindings when published. */
    readonly Ports?: Readonly<Record<string, readonly PortBindingJson[] | null>> | null;
    readonly Networks?: Readonly<Record<string, EndpointSettingsJson | null>> | null;
  } | null;
}

/** `GET /services` element, or `docker service inspect` output element. */
export interface SwarmService {
  readonly ID: string;
  readonly Spec: {
    readonly Name: string;
    readonly Labels?: Readonly<Record<string, string>> | null;
    /** Exactly one of its keys is set; `Global` marks a global service. */
    readonly Mode?: {
      readonly Replicated?: { readonly Replicas?: number } | null;
      readonly Global?: object | null;
      readonly ReplicatedJob?: object | null;
      readonly GlobalJob?: object | null;
    } | null;
    /** `vip` or `dnsrr`; absent when the service was created through the API without one. */
    readonly EndpointSpec?: { readonly Mode?: string | null } | null;
    /** The labels its containers get (`--container-label`, `labels:` outside `deploy:` in a stack file). */
    readonly TaskTemplate?: {
      readonly ContainerSpec?: { readonly Labels?: Readonly<Record<string, string>> | null } | null;
    } | null;
  };
  readonly Endpoint?: {
    /** `Addr` carries a prefix length: `10.0.1.2/24`. */
    readonly VirtualIPs?: readonly { readonly NetworkID?: string | null; readonly Addr?: string | null }[] | null;
  } | null;
}

/** `GET /tasks` element, or `docker inspect <task id>` output element. */
export interface SwarmTask {
  readonly ID: string;
  /** Raised by Swarm on every change of the task: the cheap way to see tasks change on other nodes. */
  readonly Version?: { readonly Index?: number | null } | null;
  readonly ServiceID?: string | null;
  /** Replica number of a replicated service; absent (zero) for global services. */
  readonly Slot?: number | null;
  readonly NodeID?: string | null;
  readonly DesiredState?: string | null;
  readonly Status?: { readonly State?: string | null } | null;
  readonly NetworksAttachments?:
    | readonly {
        readonly Network?: { readonly ID?: string | null } | null;
        /** With a prefix length: `10.0.1.5/24`. */
        readonly Addresses?: readonly string[] | null;
      }[]
    | null;
}

/** `GET /networks` element. Note the engine spells the id `Id` here, unlike `ID` for Swarm objects. */
export interface NetworkSummary {
  readonly Id: string;
  readonly Name: string;
  readonly Scope?: string | null;
}

/** `GET /nodes` element. */
export interface SwarmNode {
  readonly ID: string;
  /** `State`: `ready`, `down` (its manager heartbeat expired), `disconnected`, `unknown`. */
  readonly Status?: { readonly Addr?: string | null; readonly State?: string | null } | null;
}

/**
 * `GET /containers/json?all=1` element. Only what says whether a container's last inspect still
 * holds is read; the rest of the entry is opaque (it is compared, never interpreted).
 */
export interface ContainerSummary {
  readonly Id: string;
  /** `created`, `running`, `exited`, ... */
  readonly State?: string | null;
  /** Human text: `Up 5 minutes (healthy)`; the health in parentheses is what matters here. */
  readonly Status?: string | null;
  /** With a leading `/`. */
  readonly Names?: readonly string[] | null;
  readonly Ports?: unknown;
  readonly NetworkSettings?: unknown;
  readonly HostConfig?: unknown;
}

/** `GET /info`, the part that says whether this engine manages a Swarm. */
export interface EngineInfo {
  readonly Swarm?: {
    /** True on a Swarm manager: only managers can list services and tasks. */
    readonly ControlAvailable?: boolean | null;
    readonly Cluster?: { readonly ID?: string | null } | null;
  } | null;
}

/** One line of `GET /events`. */
export interface EngineEvent {
  /** `container`, `network`, `service`, `node`, ... */
  readonly Type?: string | null;
  /** `start`, `die`, ...; some carry a detail after a colon: `health_status: healthy`. */
  readonly Action?: string | null;
  readonly Actor?: {
    readonly ID?: string | null;
    /** A container's labels; for a network event, `container` names the container it is about. */
    readonly Attributes?: Readonly<Record<string, string>> | null;
  } | null;
}
