import { foldCase } from '../fold-case.ts';

/**
 * Labels as a tree of named nodes, built the way Traefik's label parser builds it: keys sorted,
 * split on `.`, `name[0]` split into `name` and `[0]`, and siblings whose names differ only in case
 * merged into the first one seen (so `routers.Web.rule` and `routers.web.service` are one router);
 * "differ only in case" is Go's strings.EqualFold, which Traefik uses (see foldCase).
 */
export interface LabelNode {
  readonly name: string;
  /** The full label that set this node's value (for error messages), if any did. */
  label: string | undefined;
  value: string | undefined;
  readonly children: LabelNode[];
  /** Children by folded name: the case-insensitive lookup stays linear in the number of labels. */
  readonly index: Map<string, LabelNode>;
}

export type LabelTreeResult =
  | { readonly ok: true; readonly root: LabelNode }
  | { readonly ok: false; readonly label: string; readonly message: string };

function newNode(name: string): LabelNode {
  return { name, label: undefined, value: undefined, children: [], index: new Map() };
}

/**
 * Builds the tree of `labels` (already filtered) whose keys are `<path>` relative to the root.
 * `keys` are full label names and `paths` the part after the prefix.
 */
export function buildLabelTree(entries: readonly { readonly label: string; readonly path: string; readonly value: string }[]): LabelTreeResult {
  const root = newNode('');
  const sorted = [...entries].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  for (const entry of sorted) {
    const parts: string[] = [];
    for (const segment of entry.path.split('.')) {
      if (segment === '') {
        return { ok: false, label: entry.label, message: 'has an empty segment (two dots in a row, or a trailing dot)' };
      }
      if (segment.startsWith('[')) {
        return { ok: false, label: entry.label, message: `segment "${segment}" starts with "[": brackets only follow a list name, as in "domains[0]"` };
      }
      const bracket = /^(.+)(\[[^\]]*\])$/.exec(segment);
      if (bracket?.[1] !== undefined && bracket[2] !== undefined) parts.push(bracket[1], bracket[2]);
      else parts.push(segment);
    }
    let node = root;
    for (const part of parts) {
      const folded = foldCase(part);
      let child = node.index.get(folded);
      if (child === undefined) {
        child = newNode(part);
        node.children.push(child);
        node.index.set(folded, child);
      }
      node = child;
    }
    node.value = entry.value;
    node.label = entry.label;
  }
  return { ok: true, root };
}

/** The first label at or below a node, to name the culprit when a node has no value of its own. */
export function firstLabel(node: LabelNode): string {
  if (node.label !== undefined) return node.label;
  for (const child of node.children) {
    const label = firstLabel(child);
    if (label !== '') return label;
  }
  return '';
}
