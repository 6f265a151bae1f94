/**
 * Go's text/template for a subset: text, comments, trim markers and actions made of fields,
 * constants, parenthesised pipelines, pipes and function calls. What Go accepts and this does not
 * is refused when parsing, with a message that says so, instead of behaving differently.
 */
import { isFailure } from '../failure.ts';
import { unsupportedPrintfFeature } from '../fmt.ts';
import type { Value } from '../value.ts';
import { execute, type ExecuteResult } from './exec.ts';
import { BUILTINS, type FuncMap, type TemplateFunction } from './funcs.ts';
import type { Node } from './node.ts';
import { parseTemplate } from './parse.ts';

export type { ExecuteResult } from './exec.ts';

/** What template.New(name).Funcs(funcs).Parse(text) is given, and what the subset is. */
export interface TemplateOptions {
  /** The template's name, which Go puts in every error. */
  readonly name: string;
  /** Functions beyond Go's builtins; they take precedence over the builtins, as in Go. */
  readonly funcs: FuncMap;
  /**
   * Names of functions that exist where the template comes from but are not implemented, so that they are refused as
   * unsupported rather than undefined.
   */
  readonly knownFuncs?: ReadonlySet<string>;
  /** Ends the message of what the subset refuses: what it supports. */
  readonly subset: string;
}

export interface Template {
  /** Template.Execute with `data` as dot; never throws. */
  readonly execute: (data: Value) => ExecuteResult;
}

export type ParsedTemplate =
  { readonly ok: true; readonly template: Template } | { readonly ok: false; readonly error: string };

/**
 * Refuses printf formats given as constants that use what sprintf refuses, when parsing rather than at each execution.
 */
function checkConstantFormats(nodes: readonly Node[]): string | undefined {
  const visit = (node: Node): string | undefined => {
    switch (node.type) {
      case 'action':
        return visit(node.pipe);
      case 'pipe':
        for (const cmd of node.cmds) {
          const found = visit(cmd);
          if (found !== undefined) return found;
        }
        return undefined;
      case 'command': {
        const [first, format] = node.args;
        if (first?.type === 'identifier' && first.func === BUILTINS.printf && format?.type === 'string') {
          const refused = unsupportedPrintfFeature(format.text);
          if (refused !== undefined) return `printf ${format.quoted} uses ${refused}, which is not supported`;
        }
        for (const arg of node.args) {
          const found = visit(arg);
          if (found !== undefined) return found;
        }
        return undefined;
      }
      case 'chain':
        return visit(node.node);
      default:
        return undefined;
    }
  };
  for (const node of nodes) {
    const found = visit(node);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Parses `text` as template.New(name).Funcs(funcs).Parse(text) does, for the subset. */
export function parseGoTemplate(text: string, options: TemplateOptions): ParsedTemplate {
  const { name, funcs, subset } = options;
  const builtins: FuncMap = BUILTINS;
  const lookup = (fn: string): TemplateFunction | undefined =>
    Object.hasOwn(funcs, fn) ? funcs[fn] : Object.hasOwn(builtins, fn) ? builtins[fn] : undefined;
  const nodes = parseTemplate(text, { name, funcs: lookup, knownFuncs: options.knownFuncs ?? new Set(), subset });
  if (isFailure(nodes)) return { ok: false, error: nodes.failure };
  const refused = checkConstantFormats(nodes);
  if (refused !== undefined) return { ok: false, error: `template: ${name}: ${refused}` };
  return { ok: true, template: { execute: (data) => execute(name, text, nodes, data) } };
}
