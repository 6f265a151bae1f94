/** A label as Docker gives it. */
export interface LabelEntry {
  readonly label: string;
  readonly value: string;
}

/** A label whose first segment is the prefix exactly, split once for every stage after. */
export interface PrefixedLabel extends LabelEntry {
  /** What follows `<prefix>.`. */
  readonly path: string;
  /** The first segment of the path in lower case: the stage that reads it (`http`, `docker`, `apps`…). */
  readonly section: string;
  /** Its place among the workload's labels, for stages that read several sections in the labels' order. */
  readonly order: number;
}

/**
 * A workload's labels as every stage after the Docker edge reads them: the prefix matched and the
 * section found once per label, so that the limits, the three decoders (provider settings, dynamic
 * configuration, apps) and explain each take their part instead of scanning every label again.
 */
export interface WorkloadLabels {
  readonly prefix: string;
  /**
   * Every label, for what reads labels by their full name: constraints, the default rule's `.Labels`, the policy's
   * messages.
   */
  readonly all: Readonly<Record<string, string>>;
  /** The labels under the prefix in either case, in Docker's order: what the limits count and explain lists. */
  readonly underPrefix: readonly LabelEntry[];
  /** The labels that are read (the prefix in its exact case), in Docker's order. */
  readonly read: readonly PrefixedLabel[];
  /** The labels that are read, by section. */
  readonly sections: ReadonlyMap<string, readonly PrefixedLabel[]>;
}

/**
 * How a label stands to the prefix: read (`exact`), under it but never read (`other-case`), or
 * outside it (undefined). This is Traefik's rule, in its two steps: its label filter compares the
 * start of a label with `strings.EqualFold` over as many bytes as `<prefix>.` has, which for an
 * ASCII prefix folds ASCII letters alone (`TRAEFIK.http…` passes, `traefiK` with the Kelvin sign
 * does not); its decoder then refuses a root that is not the prefix exactly. Traefik refuses the
 * container for such a label; appproxy leaves the label unread, counts it against the workload's
 * label limits (it still costs reading) and explain says why it does nothing.
 */
export function prefixMatch(label: string, prefix: string): 'exact' | 'other-case' | undefined {
  const length = prefix.length;
  if (label.length <= length || label.charCodeAt(length) !== 0x2e) return undefined;
  if (label.startsWith(prefix)) return 'exact';
  for (let i = 0; i < length; i++) {
    if (asciiLower(label.charCodeAt(i)) !== asciiLower(prefix.charCodeAt(i))) return undefined;
  }
  return 'other-case';
}

function asciiLower(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}

/** Reads a workload's labels once: see WorkloadLabels. */
export function readLabels(labels: Readonly<Record<string, string>>, prefix: string): WorkloadLabels {
  const underPrefix: LabelEntry[] = [];
  const read: PrefixedLabel[] = [];
  const sections = new Map<string, PrefixedLabel[]>();
  for (const [label, value] of Object.entries(labels)) {
    const match = prefixMatch(label, prefix);
    if (match === undefined) continue;
    if (match === 'other-case') {
      underPrefix.push({ label, value });
      continue;
    }
    const path = label.slice(prefix.length + 1);
    const dot = path.indexOf('.');
    const section = (dot < 0 ? path : path.slice(0, dot)).toLowerCase();
    const entry: PrefixedLabel = { label, value, path, section, order: read.length };
    underPrefix.push(entry);
    read.push(entry);
    const list = sections.get(section);
    if (list === undefined) sections.set(section, [entry]);
    else list.push(entry);
  }
  return { prefix, all: labels, underPrefix, read, sections };
}

/** The labels of some sections, in Docker's order. */
export function labelsOf(labels: WorkloadLabels, sections: readonly string[]): PrefixedLabel[] {
  const chosen = sections.flatMap((section) => labels.sections.get(section) ?? []);
  return sections.length > 1 ? chosen.sort((a, b) => a.order - b.order) : chosen;
}
