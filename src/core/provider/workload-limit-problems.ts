import { measureKeyValues } from '../kv/configuration-to-kv.ts';
import { formatCount, limitMessage, type LimitName, type WorkloadLimits } from '../limits.ts';
import { utf8Length } from '../../golang/utf8.ts';
import type { Workload } from '../workload.ts';
import type { WorkloadLabels } from '../labels/workload-labels.ts';
import type { BuildProblem } from './build-problem.ts';
import type { Contribution } from './contribution.ts';
import { mergeConfigurations } from './merge-configurations.ts';

/**
 * The longest label value under the prefix that is read. etcd refuses a request over 1.5 MiB by
 * default, Traefik has no use for a rule or a list that long, and a value of commas alone becomes
 * one key per comma: 64 KiB keeps every workload to a size one transaction can carry.
 */
export const MAX_LABEL_VALUE_BYTES = 64 * 1024;

const utf8 = new TextEncoder();

/**
 * The first limits a workload must pass, checked before anything is decoded and in one pass over
 * its labels under the prefix (those read and those in another case alone), so that a workload
 * past them costs no more than reading it. A value over MAX_LABEL_VALUE_BYTES is reported for each
 * such label (it names the label, where the totals name none); otherwise the first limit passed,
 * as the one problem: the number of labels, the length of their names, their bytes.
 */
export function labelLimitProblems(workload: string, labels: WorkloadLabels, limits: WorkloadLimits): BuildProblem[] {
  const { prefix } = labels;
  const oversized: BuildProblem[] = [];
  let count = 0;
  let bytes = 0;
  const longNames: { label: string; bytes: number }[] = [];
  for (const { label, value } of labels.underPrefix) {
    if (value.length * 3 > MAX_LABEL_VALUE_BYTES) {
      const valueBytes = utf8.encode(value).length;
      if (valueBytes > MAX_LABEL_VALUE_BYTES) {
        oversized.push({
          severity: 'error',
          workload,
          label,
          message: `the value is ${valueBytes} bytes, more than the ${MAX_LABEL_VALUE_BYTES} appproxy writes to the store for one label: the workload is left out; shorten it (split a long rule or list across routers or middlewares)`,
        });
      }
    }
    count += 1;
    const nameBytes = utf8Length(label);
    if (nameBytes > limits.labelNameBytes) longNames.push({ label, bytes: nameBytes });
    bytes += nameBytes + utf8Length(value);
  }
  if (oversized.length > 0) return oversized;
  const refusal = (limit: LimitName, label: string | undefined, message: string): BuildProblem[] => [
    { severity: 'error', workload, label, message, limit },
  ];
  if (count > limits.labels) {
    return refusal(
      'labels',
      undefined,
      limitMessage(
        'labels',
        `it has ${formatCount(count)} labels under "${prefix}."`,
        limits.labels,
        'remove labels (or split the workload)',
      ),
    );
  }
  const [longest, ...others] = longNames.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  if (longest !== undefined) {
    const also =
      others.length === 0
        ? ''
        : ` (and ${formatCount(others.length)} other label${others.length === 1 ? '' : 's'} of this workload)`;
    return refusal(
      'label-name',
      longest.label.length > 200 ? `${longest.label.slice(0, 200)}…` : longest.label,
      limitMessage(
        'label-name',
        `the label name is ${formatCount(longest.bytes)} bytes${also}`,
        limits.labelNameBytes,
        'shorten the name',
      ),
    );
  }
  if (bytes > limits.labelBytes) {
    return refusal(
      'label-bytes',
      undefined,
      limitMessage(
        'label-bytes',
        `its labels under "${prefix}." are ${formatCount(bytes)} bytes (names and values)`,
        limits.labelBytes,
        'shorten or remove labels',
      ),
    );
  }
  return [];
}

/**
 * The second limit: what its contributions would put in the store. A workload's tasks share its
 * routers and services, so they are measured merged, as the store would hold them.
 */
export function keyLimitProblem(
  workload: Workload,
  contributions: readonly Contribution[],
  limits: WorkloadLimits,
): BuildProblem | undefined {
  const first = contributions[0];
  if (first === undefined) return undefined;
  const configuration =
    contributions.length === 1 ? first.configuration : mergeConfigurations(contributions).configuration;
  const size = measureKeyValues(
    configuration,
    contributions.flatMap((contribution) => contribution.servers),
    '',
    limits.keys,
    limits.bytes,
  );
  if (!size.stopped) return undefined;
  // Counted only until past the limit: the workload is at least this large.
  const atLeast = (value: number): string => `at least ${formatCount(value)}`;
  if (size.keys > limits.keys) {
    return {
      severity: 'error',
      workload: workload.name,
      label: undefined,
      limit: 'workload-keys',
      message: limitMessage(
        'workload-keys',
        `it would put ${atLeast(size.keys)} keys in the store`,
        limits.keys,
        'define fewer routers, services, middlewares or list items',
      ),
    };
  }
  return {
    severity: 'error',
    workload: workload.name,
    label: undefined,
    limit: 'workload-bytes',
    message: limitMessage(
      'workload-bytes',
      `it would put ${atLeast(size.bytes)} bytes of keys and values in the store`,
      limits.bytes,
      'shorten its labels',
    ),
  };
}
