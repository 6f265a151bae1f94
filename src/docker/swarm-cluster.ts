import type { EngineInfo } from './inspect-types.ts';

/**
 * The Swarm cluster this engine manages, from `GET /info`; undefined when it manages none. A
 * manager cut off from its Swarm's quorum still says `ControlAvailable`, without the cluster: it
 * cannot read the services then, and must not act as a manager (the Swarm writer's default owner id
 * comes from the cluster's: a cut manager once stood as `swarm-cluster`, was elected alone, and
 * wrote every service a second time after the heal).
 */
export function managedSwarmCluster(info: EngineInfo): string | undefined {
  const cluster = info.Swarm?.Cluster?.ID;
  return info.Swarm?.ControlAvailable === true && cluster ? cluster : undefined;
}
