import type { LabelProblem } from '../labels/decode-configuration.ts';
import type { ProviderLabels } from '../labels/decode-provider-labels.ts';
import type { ProviderOptions } from '../provider/provider-options.ts';
import { joinHostPort, serverAddress } from '../provider/server-address.ts';
import { servesTraffic } from '../provider/workload-configuration.ts';
import type { Workload } from '../workload.ts';
import { appKey, appOwner, appResourceName, defaultSubdomain } from './app-identity.ts';
import type { AppSpec } from './decode-app-labels.ts';

/**
 * One app of one workload, as far as the workload alone decides it: its checked labels, its
 * identity, its names and its servers. What it still lacks is its frontend (the port it is given,
 * or its host name's uniqueness), which depends on the other apps: see app-frontends.ts.
 */
export interface AppDeclaration {
  /** `<owner key>/<app>`: the stable identity its port is held under. */
  readonly key: string;
  /** The workload's name, for problems. */
  readonly workload: string;
  /** The container's or service's id, for the order of the merge. */
  readonly workloadId: string;
  /** `<prefix>.apps.<name>`, for problems that name a label. */
  readonly labelBase: string;
  /** Name of its router, service and (with `allow`) middleware. */
  readonly resourceName: string;
  /** Wildcard mode: the first label of its host name. */
  readonly subdomain: string;
  readonly spec: AppSpec;
  /** Each server: `url` (HTTP) or `address` (TCP), with the container or task it came from. */
  readonly servers: readonly { readonly target: string; readonly workloadId: string }[];
}

/**
 * The apps `source` declares, served by `serving` (the container itself, each running task of a
 * Swarm service, or its VIP with lbswarm): addresses are chosen as for ordinary labels (the
 * network from the labels or the settings, published ports with --advertise-address). An app
 * whose address cannot be found is left out with an error; the others are declared.
 */
export function declareApps(
  source: Workload,
  serving: readonly Workload[],
  specs: readonly AppSpec[],
  providerLabels: ProviderLabels,
  options: ProviderOptions,
): { apps: AppDeclaration[]; errors: LabelProblem[] } {
  const owner = appOwner(source);
  const network = providerLabels.network ?? options.network;
  const apps: AppDeclaration[] = [];
  const errors: LabelProblem[] = [];
  for (const spec of specs) {
    const labelBase = `${options.prefix}.apps.${spec.name}`;
    const servers: { target: string; workloadId: string }[] = [];
    let failed: string | undefined;
    for (const workload of serving) {
      if (!servesTraffic(workload)) continue;
      const address = serverAddress(workload, String(spec.port), network, options, providerLabels.address);
      if (!address.ok) {
        failed = address.message;
        break;
      }
      const hostPort = joinHostPort(address.ip, address.port);
      servers.push({ target: spec.protocol === 'http' ? `http://${hostPort}` : hostPort, workloadId: workload.id });
    }
    if (failed !== undefined) {
      errors.push({ label: `${labelBase}.port`, message: `app "${spec.name}" is left out: ${failed}` });
      continue;
    }
    apps.push({
      key: appKey(owner, spec.name),
      workload: source.name,
      workloadId: source.id,
      labelBase,
      resourceName: appResourceName(owner, spec.name),
      subdomain: spec.subdomain ?? defaultSubdomain(owner, spec.name),
      spec,
      servers,
    });
  }
  return { apps, errors };
}
