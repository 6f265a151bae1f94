/** The parse tree of text/template/parse (node.go), for the nodes this subset executes. */
import type { TemplateFunction } from './funcs.ts';

export interface PipeNode {
  readonly type: 'pipe';
  readonly pos: number;
  readonly cmds: CommandNode[];
}
export interface CommandNode {
  readonly type: 'command';
  readonly pos: number;
  readonly args: ArgNode[];
}
export interface FieldNode {
  readonly type: 'field';
  readonly pos: number;
  readonly ident: readonly string[];
}
export interface ChainNode {
  readonly type: 'chain';
  readonly pos: number;
  readonly node: PipeNode | IdentifierNode;
  readonly fields: readonly string[];
}
export interface IdentifierNode {
  readonly type: 'identifier';
  readonly pos: number;
  readonly name: string;
  /** The function the name resolved to when parsing, as Go's parser checks that it exists. */
  readonly func: TemplateFunction;
}
export interface NumberNode {
  readonly type: 'number';
  readonly pos: number;
  readonly text: string;
  /** The value as a Go int; undefined when it only fits an uint64 ("overflows int" when used). */
  readonly int: bigint | undefined;
}
export interface StringNode {
  readonly type: 'string';
  readonly pos: number;
  readonly quoted: string;
  readonly text: string;
}
export type LiteralNode =
  | { readonly type: 'dot'; readonly pos: number }
  | { readonly type: 'nil'; readonly pos: number }
  | { readonly type: 'bool'; readonly pos: number; readonly value: boolean }
  | NumberNode
  | StringNode;
export type ArgNode = PipeNode | FieldNode | ChainNode | IdentifierNode | LiteralNode;
export interface ActionNode {
  readonly type: 'action';
  readonly pos: number;
  readonly pipe: PipeNode;
}
export interface TextNode {
  readonly type: 'text';
  readonly pos: number;
  readonly text: string;
}
export type Node = ArgNode | CommandNode | ActionNode | TextNode;

/** Go's Node.String(), which execution errors quote as `at <...>`. */
export function nodeString(node: Node): string {
  switch (node.type) {
    case 'text':
      return node.text;
    case 'action':
      return `{{${nodeString(node.pipe)}}}`;
    case 'pipe':
      return node.cmds.map(nodeString).join(' | ');
    case 'command':
      return node.args.map((arg) => (arg.type === 'pipe' ? `(${nodeString(arg)})` : nodeString(arg))).join(' ');
    case 'field':
      return `.${node.ident.join('.')}`;
    case 'chain': {
      const base = node.node.type === 'pipe' ? `(${nodeString(node.node)})` : nodeString(node.node);
      return base + node.fields.map((field) => `.${field}`).join('');
    }
    case 'identifier':
      return node.name;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return node.value ? 'true' : 'false';
    case 'number':
      return node.text;
    case 'string':
      return node.quoted;
  }
}
