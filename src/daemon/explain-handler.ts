import type { DaemonConfig } from '../config/settings.ts';
import { explainWorkload } from '../core/explain/explain-workload.ts';
import { formatExplanation, type DaemonFacts } from '../render/format-explanation.ts';
import type { CompiledTranslateOptions } from '../core/translate/translate-options.ts';
import type { DockerEngine } from '../docker/docker-engine.ts';
import { claimIdOf } from '../core/resource-kinds.ts';
import type { DockerSource } from '../docker/docker-source.ts';
import { explainTarget } from '../docker/task-container.ts';
import type { Explainer } from './health-server.ts';
import type { OwnerRole } from './owner-role.ts';
import type { SwarmWriter } from './swarm-writer.ts';
import { readableResource } from '../core/readback/traefik-view.ts';
import { summarizeLiveness } from '../core/readback/liveness-summary.ts';
import type { TraefikReadback } from '../readback/traefik-readback.ts';

export interface ExplainHandlerParts {
  readonly config: DaemonConfig;
  readonly compiled: CompiledTranslateOptions;
  readonly source: DockerSource;
  readonly docker: DockerEngine;
  /** This node's owner. */
  readonly node: OwnerRole;
  readonly swarm: SwarmWriter;
  /** Where its resources are live in each Traefik (none without --traefik-api-urls). */
  readonly readback?: TraefikReadback | undefined;
}

/**
 * GET /explain/<name>, `appproxy explain` as this daemon sees it: the workloads read from Docker
 * now, and what only the daemon knows (its owner id and lease, other owners' conflicting claims,
 * the last transaction that touched the workload's keys).
 */
export function explainHandler(parts: ExplainHandlerParts): Explainer {
  return async (name) => {
    const { config, compiled } = parts;
    let workloads;
    try {
      workloads = await parts.source.listWorkloads();
    } catch (error) {
      return { status: 503, body: { error: `Docker could not be read: ${(error as Error).message}` } };
    }
    const found = await explainTarget(workloads, name, parts.docker);
    if (found.target === undefined)
      return { status: 404, body: { error: `no container or Swarm service named "${name}"`, closest: found.closest } };
    const { target } = found;
    // A Swarm service is written under the Swarm writer's owner id, whichever instance that is now.
    const swarmRole = parts.swarm.role();
    const swarmOwner = parts.swarm.owner();
    const forSwarm = target.kind === 'swarm-service';
    const role = forSwarm ? swarmRole : parts.node;
    const owner = forSwarm ? (swarmOwner ?? config.owner) : config.owner;
    const translated = explainWorkload(target, workloads, compiled, { rootKey: config.rootKey, ownerId: owner });
    // Only the daemon knows what else its owner writes: a refusal for the instance's limits is its to tell.
    const refusal = role?.engine?.desired.refusalOf(target.id);
    const explanation =
      refusal === undefined
        ? translated
        : { ...translated, routed: false, reasons: [...translated.reasons, `error: ${refusal.message}`], keys: [] };
    const resourceIds = new Set(explanation.resources.map((resource) => claimIdOf(resource.resource)));
    const keys = new Set(explanation.keys.map((line) => line.slice(0, line.indexOf('='))));
    const daemon: DaemonFacts = {
      owner:
        forSwarm && swarmRole === undefined
          ? `${owner} (written by the elected Swarm writer, another instance)`
          : owner,
      lease: role?.leaseId(),
      ownerConflicts: (role?.engine?.writer.conflicts() ?? []).filter((conflict) =>
        resourceIds.has(claimIdOf(conflict.resource)),
      ),
      lastTransaction: role?.engine?.transactions.lastTouching(keys),
      traefiks: await liveIn(parts.readback, explanation.resources),
    };
    return { status: 200, body: { ...explanation, daemon, text: formatExplanation(explanation, daemon) } };
  };
}

/** Each routed resource of the workload that Traefik's API answers for, read now in every Traefik. */
async function liveIn(
  readback: TraefikReadback | undefined,
  resources: readonly { readonly resource: string; readonly status: string }[],
) {
  if (readback === undefined) return undefined;
  const readable = resources
    .filter((entry) => entry.status !== 'left out' && readableResource(entry.resource) !== undefined)
    .map((entry) => entry.resource);
  const readings = await readback.liveness(readable);
  const now = Date.now();
  return readable.map((resource) => summarizeLiveness(resource, readings.get(resource) ?? [], now));
}
