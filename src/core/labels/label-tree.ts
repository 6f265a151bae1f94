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
}

export type LabelTreeResult =
  | { readonly ok: true; readonly root: LabelNode }
  | { readonly ok: false; readonly label: string; readonly message: string };

/**
 * The most segments a label name may have below the prefix. Traefik's deepest field is eight
 * segments down and plugin options rarely nest more than a few levels; a name nested thousands deep
 * would make every recursive step after decoding (copy, merge, key writing, rendering) exhaust the
 * stack and take every other workload down with it.
 */
const MAX_LABEL_SEGMENTS = 100;
// Not a setting, unlike the limits of core/limits.ts: it guards the stack, not the store. Raised
// far enough it would crash the process instead of refusing one workload, and no Traefik field
// has a use for more than a tenth of it, so there is nothing for an operator to trade.

function newNode(name: string): LabelNode {
  return { name, label: undefined, value: undefined, children: [] };
}

/**
 * Builds the tree of `labels` (already filtered) whose keys are `<path>` relative to the root.
 * `keys` are full label names and `paths` the part after the prefix.
 */
export function buildLabelTree(
  entries: readonly { readonly label: string; readonly path: string; readonly value: string }[],
): LabelTreeResult {
  const root = newNode('');
  // Children by folded name, while the tree is built: the case-insensitive lookup stays linear in
  // the number of labels. Kept beside the tree, not in every node (most nodes are leaves, and a
  // map in each was a large share of a first sync's garbage).
  const index = new Map<LabelNode, Map<string, LabelNode>>();
  const sorted = [...entries].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  for (const entry of sorted) {
    const parts: string[] = [];
    const segments = entry.path.split('.');
    if (segments.length > MAX_LABEL_SEGMENTS) {
      return {
        ok: false,
        label: entry.label,
        message: `has ${segments.length} segments; at most ${MAX_LABEL_SEGMENTS} are read (no Traefik field, plugin options included, is nested that deep)`,
      };
    }
    for (const segment of segments) {
      if (segment === '') {
        return {
          ok: false,
          label: entry.label,
          message: 'has an empty segment (two dots in a row, or a trailing dot)',
        };
      }
      if (segment.startsWith('[')) {
        return {
          ok: false,
          label: entry.label,
          message: `segment "${segment}" starts with "[": brackets only follow a list name, as in "domains[0]"`,
        };
      }
      const at = listIndexAt(segment);
      if (at === undefined) parts.push(segment);
      else parts.push(segment.slice(0, at), segment.slice(at));
    }
    let node = root;
    for (const part of parts) {
      const folded = foldCase(part);
      let children = index.get(node);
      if (children === undefined) {
        children = new Map();
        index.set(node, children);
      }
      let child = children.get(folded);
      if (child === undefined) {
        child = newNode(part);
        node.children.push(child);
        children.set(folded, child);
      }
      node = child;
    }
    node.value = entry.value;
    node.label = entry.label;
  }
  return { ok: true, root };
}

/**
 * Where `name[0]` splits into `name` and `[0]`: what `/^(.+)(\[[^\]]*\])$/` matches, found in one
 * pass. That expression backtracks over every `[` of a segment such as `x[[[[…`, which made a
 * 40,000-bracket label name take seconds; this scan gives the same split (the last `[` after the
 * last inner `]`, with a name before it that holds no line terminator, which `.` does not match).
 */
export function listIndexAt(segment: string): number | undefined {
  const last = segment.length - 1;
  if (last < 2 || segment[last] !== ']') return undefined;
  let lowest = 1;
  for (let i = last - 1; i >= 1; i--) {
    if (segment[i] === ']') {
      lowest = i + 1;
      break;
    }
  }
  let highest = last - 1;
  for (let i = 0; i < highest; i++) {
    const c = segment[i];
    if (c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029') {
      highest = i;
      break;
    }
  }
  for (let i = highest; i >= lowest; i--) if (segment[i] === '[') return i;
  return undefined;
}

/** The first label at or below a node, to name the culprit when a node has no value of its own. */
export function firstLabel(node: LabelNode): string {
  // Depth first without recursion (a node may sit as deep as a label has segments), and without
  // listing a node's children before they are needed (a router may have thousands).
  const path: { node: LabelNode; next: number }[] = [{ node, next: 0 }];
  while (path.length > 0) {
    const top = path[path.length - 1] as { node: LabelNode; next: number };
    if (top.next === 0 && top.node.label !== undefined) return top.node.label;
    const child = top.node.children[top.next];
    top.next++;
    if (child === undefined) path.pop();
    else path.push({ node: child, next: 0 });
  }
  return '';
}
