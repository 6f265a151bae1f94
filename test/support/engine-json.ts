// The engine's JSON for the objects unit tests script, shaped as the engine sends it (see
// test/fixtures/docker for captured examples), with only what a test names filled in.
import { createHash } from 'node:crypto';
import type { ContainerInspect, ContainerSummary } from '../../src/docker/inspect-types.ts';

/** A container as a test describes it. */
export interface ContainerSpec {
  readonly name: string;
  readonly labels?: Record<string, string>;
  /** `default` unless given; `container:<ref>` shares another container's network stack. */
  readonly networkMode?: string;
  /** Network name → address; none for a container that shares another's stack. */
  readonly networks?: Record<string, string>;
  readonly status?: string;
  readonly health?: string;
  /** `80/tcp` → host ports (empty: exposed, not published). */
  readonly ports?: Record<string, readonly string[]>;
}

/** A 64-hex id derived from the name, so that tests can refer to it and to its prefixes. */
export function idOf(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

/** What `GET /containers/{id}/json` answers for `spec`. */
export function containerJson(spec: ContainerSpec): ContainerInspect {
  const networkMode = spec.networkMode ?? 'default';
  const shared = networkMode.startsWith('container:');
  const networks = spec.networks ?? (shared ? {} : { bridge: '10.0.0.2' });
  return {
    Id: idOf(spec.name),
    Name: `/${spec.name}`,
    State: {
      Status: spec.status ?? 'running',
      ...(spec.health === undefined ? {} : { Health: { Status: spec.health } }),
    },
    Config: { Labels: spec.labels ?? {} },
    HostConfig: { NetworkMode: networkMode },
    NetworkSettings: {
      Ports: Object.fromEntries(
        Object.entries(spec.ports ?? {}).map(([port, hostPorts]) => [
          port,
          hostPorts.length === 0 ? null : hostPorts.map((hostPort) => ({ HostIp: '0.0.0.0', HostPort: hostPort })),
        ]),
      ),
      Networks: Object.fromEntries(
        Object.entries(networks).map(([name, ip]) => [name, { NetworkID: idOf(`network ${name}`), IPAddress: ip }]),
      ),
    },
  };
}

/** What `GET /containers/json?all=1` lists for a container the engine inspects as `inspect`. */
export function summaryOf(inspect: ContainerInspect): ContainerSummary {
  const state = inspect.State?.Status ?? '';
  const health = inspect.State?.Health?.Status;
  const healthText =
    health === undefined || health === null ? '' : health === 'starting' ? ' (health: starting)' : ` (${health})`;
  return {
    Id: inspect.Id,
    Names: [inspect.Name ?? ''],
    State: state,
    Status: `${state === 'running' ? 'Up 5 seconds' : 'Created'}${healthText}`,
    Ports: inspect.NetworkSettings?.Ports ?? {},
    NetworkSettings: { Networks: inspect.NetworkSettings?.Networks ?? {} },
    HostConfig: { NetworkMode: inspect.HostConfig?.NetworkMode ?? 'default' },
  };
}
