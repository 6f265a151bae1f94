/**
 * The one shape in which the core sees a Docker workload: a container, or one running task of a
 * Swarm service (or the service itself when it is load-balanced by Swarm). The Docker edge builds it;
 * the core never sees dockerode types.
 */
export interface Workload {
  /**
   * `container` for Compose/plain containers, `swarm-service` for a Swarm service (with its tasks), `task` for one of
   * its tasks.
   */
  readonly kind: 'container' | 'task' | 'swarm-service';
  /** Container id, task id or service id: unique, stable for the life of the workload. */
  readonly id: string;
  /**
   * Container name without the leading `/`, `<service>.<slot>` (or `<service>.<taskId>` for global services) for a
   * task, the service name for a service.
   */
  readonly name: string;
  /**
   * Name used for default service and router names before Compose labels and normalisation: container name or Swarm
   * service name.
   */
  readonly serviceName: string;
  /** Container labels, or the Swarm service's labels (`deploy.labels`). */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * For `swarm-service` only: the labels its containers get (`--container-label`, or `labels:`
   * outside `deploy:` in a stack file). Never routed, as Traefik's Swarm provider never reads them:
   * kept so that labels put there by mistake can be reported.
   */
  readonly containerLabels?: Readonly<Record<string, string>> | undefined;
  /** Docker state (`running`, `exited`, ...). Swarm tasks reach the core only when running. */
  readonly status: string;
  /** Health status when the container has a health check (`starting`, `healthy`, `unhealthy`), else undefined. */
  readonly health?: string | undefined;
  /** HostConfig.NetworkMode (`default`, `bridge`, `host`, `none`, `container:<id>`, or a network name). */
  readonly networkMode?: string | undefined;
  /** Exposed ports, as Docker names them (`80/tcp`, `53/udp`), with any host bindings. */
  readonly ports: readonly WorkloadPort[];
  /** Networks the workload is attached to, in a deterministic order (sorted by name), with its address on each. */
  readonly networks: readonly WorkloadNetwork[];
  /** Address of the Swarm node that runs the task (used for `host` network mode). */
  readonly nodeIp?: string | undefined;
  /**
   * For `container:<id>` network mode: the container whose network stack this one shares, already
   * resolved by the edge (its labels matter: its `<prefix>.docker.network` wins).
   */
  readonly networkContainer?: Workload | undefined;
  /**
   * For `swarm-service` only: its running tasks. The core routes to the tasks' addresses, or to the
   * service's virtual IPs (`networks` of the service itself) when the service asks for `lbswarm`.
   */
  readonly tasks?: readonly Workload[] | undefined;
}

export interface WorkloadPort {
  /** Port number and protocol as Docker writes it: `80/tcp`. */
  readonly name: string;
  readonly bindings: readonly { readonly hostIp: string; readonly hostPort: string }[];
}

export interface WorkloadNetwork {
  readonly name: string;
  /** IPv4 address, else global IPv6 address, without a prefix length; empty when none is known. */
  readonly ip: string;
}
