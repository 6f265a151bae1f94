/**
 * The parser of Go's text/template (text/template/parse/parse.go): the same tree and error texts
 * for what this subset executes, and a refusal that says so for what it does not (control actions,
 * variables, functions it lacks, floating-point and complex constants).
 */
import { isFailure, type Failure } from '../failure.ts';
import { hasFloatSyntax, parseUint, quote, unquote, unquoteChar } from '../strconv.ts';
import { utf8Length } from '../utf8.ts';
import { BUILTIN_NAMES, type TemplateFunction } from './funcs.ts';
import { lex, type Item } from './lex.ts';
import {
  nodeString,
  type ActionNode,
  type ArgNode,
  type CommandNode,
  type Node,
  type NumberNode,
  type PipeNode,
} from './node.ts';

// Go allows 10000 nested parentheses; recursion that deep would exhaust the JavaScript stack.
const MAX_PAREN_DEPTH = 500;

/** What a template is parsed with: Go's template name and functions, and what this subset is. */
export interface ParseOptions {
  /** The template's name, which Go puts in every error. */
  readonly name: string;
  /** The functions the template may call: these first, then Go's builtins. */
  readonly funcs: (name: string) => TemplateFunction | undefined;
  /**
   * Functions that exist where the template comes from but are not implemented: refused as unsupported rather than
   * undefined.
   */
  readonly knownFuncs: ReadonlySet<string>;
  /** Ends the message of what the subset refuses: what it supports. */
  readonly subset: string;
}

/** Go's item String(), as used in "unexpected ... in ..." errors. */
function itemString(item: Item): string {
  if (item.type === 'eof') return 'EOF';
  if (item.type === 'error') return item.val;
  if (item.type === 'keyword' || item.type === 'dot' || item.type === 'nil') return `<${item.val}>`;
  if (utf8Length(item.val) > 10) return `${quote([...item.val].slice(0, 10).join(''))}...`;
  return quote(item.val);
}

/** The line of a position, found by binary search in the newlines, counted once per template. */
function lineFinder(text: string): (pos: number) => number {
  const newlines: number[] = [];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) newlines.push(i);
  return (pos) => {
    let low = 0;
    let high = newlines.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((newlines[middle] as number) < pos) low = middle + 1;
      else high = middle;
    }
    return low + 1;
  };
}

/** Parses a template into its top-level nodes, or says why not with Go's words. */
export function parseTemplate(text: string, options: ParseOptions): Node[] | Failure {
  const { name, funcs, knownFuncs, subset } = options;
  const items = lex(text);
  // Counting lines from the start for every action made a template of many lines quadratic.
  const lineOf = lineFinder(text);
  let index = 0;
  let furthest = 0;
  let actionLine = 0;
  let depth = 0;

  const at = (i: number): Item => items[Math.min(i, items.length - 1)] ?? { type: 'eof', pos: text.length, val: '' };
  const next = (): Item => {
    const item = at(index);
    index++;
    furthest = Math.max(furthest, index);
    return item;
  };
  const backup = (): void => {
    index--;
  };
  const peek = (): Item => at(index);
  const nextNonSpace = (): Item => {
    let item = next();
    while (item.type === 'space') item = next();
    return item;
  };
  const peekNonSpace = (): Item => {
    const item = nextNonSpace();
    backup();
    return item;
  };
  // Go reports the line of the last token it read from the lexer.
  const errorf = (message: string): Failure => ({
    failure: `template: ${name}:${lineOf(at(Math.max(furthest - 1, 0)).pos)}: ${message}`,
  });
  const unsupported = (construct: string): Failure => errorf(`${construct} is not supported: ${subset}`);
  const unexpected = (item: Item, context: string): Failure => {
    if (item.type === 'error') {
      const line = lineOf(item.pos);
      let extra = '';
      if (actionLine !== 0 && actionLine !== line) {
        extra = ` in action started at ${name}:${actionLine}`;
        if (item.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      return errorf(`${item.val}${extra}`);
    }
    return errorf(`unexpected ${itemString(item)} in ${context}`);
  };

  const numberNode = (item: Item): NumberNode | Failure => {
    if (item.type === 'charConstant') {
      const char = unquoteChar(item.val.slice(1), "'");
      if (char === undefined) return errorf('invalid syntax');
      if (char.rest !== "'") return errorf(`malformed character constant: ${item.val}`);
      return { type: 'number', pos: item.pos, text: item.val, int: BigInt(char.value) };
    }
    if (item.type === 'complex' || item.val.endsWith('i')) return unsupported(`the complex constant ${item.val}`);
    const text = item.val;
    const negative = text.startsWith('-');
    const unsigned = parseUint(text.replace(/^[+-]/, ''));
    if (unsigned !== undefined) {
      const value = negative ? -unsigned : unsigned;
      if (value >= -(2n ** 63n) && value < 2n ** 63n) return { type: 'number', pos: item.pos, text, int: value };
      // Go keeps an uint64-only constant and fails only when it is used as an int.
      if (!text.startsWith('+') && !negative) return { type: 'number', pos: item.pos, text, int: undefined };
    }
    if (hasFloatSyntax(text) && /[0-9]/.test(text)) {
      // Go: a float that looks like an integer is an integer too large to fit in an int.
      if (!/[.eEpP]/.test(text)) return errorf(`integer overflow: ${quote(text)}`);
      return unsupported(`the floating-point constant ${text}`);
    }
    return errorf(`illegal number syntax: ${quote(text)}`);
  };

  const term = (): ArgNode | null | Failure => {
    const item = nextNonSpace();
    switch (item.type) {
      case 'identifier': {
        const func = funcs(item.val);
        if (func === undefined) {
          if (knownFuncs.has(item.val) || BUILTIN_NAMES.has(item.val)) return unsupported(`the function ${item.val}`);
          return errorf(`function ${quote(item.val)} not defined; ${subset}`);
        }
        return { type: 'identifier', pos: item.pos, name: item.val, func };
      }
      case 'dot':
        return { type: 'dot', pos: item.pos };
      case 'nil':
        return { type: 'nil', pos: item.pos };
      case 'variable':
        return unsupported(`the variable ${item.val}`);
      case 'field':
        return { type: 'field', pos: item.pos, ident: [item.val.slice(1)] };
      case 'bool':
        return { type: 'bool', pos: item.pos, value: item.val === 'true' };
      case 'charConstant':
      case 'complex':
      case 'number':
        return numberNode(item);
      case 'leftParen': {
        if (depth >= MAX_PAREN_DEPTH) return errorf('max expression depth exceeded');
        depth++;
        const pipe = pipeline('parenthesized pipeline', 'rightParen');
        depth--;
        return pipe;
      }
      case 'string':
      case 'rawString': {
        const unquoted = unquote(item.val);
        if (!unquoted.ok)
          return unquoted.invalidUtf8
            ? unsupported(`the string constant ${item.val}, which is not UTF-8,`)
            : errorf('invalid syntax');
        return { type: 'string', pos: item.pos, quoted: item.val, text: unquoted.value };
      }
      default:
        backup();
        return null;
    }
  };

  const operand = (): ArgNode | null | Failure => {
    const node = term();
    if (node === null || isFailure(node)) return node;
    if (peek().type !== 'field') return node;
    const chainPos = peek().pos;
    const fields: string[] = [];
    while (peek().type === 'field') fields.push(next().val.slice(1));
    switch (node.type) {
      case 'field':
        return { type: 'field', pos: chainPos, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return errorf(`unexpected . after term ${quote(nodeString(node))}`);
      case 'pipe':
      case 'identifier':
        return { type: 'chain', pos: chainPos, node, fields };
      case 'chain':
        return { type: 'chain', pos: chainPos, node: node.node, fields: [...node.fields, ...fields] };
    }
  };

  const command = (): CommandNode | Failure => {
    const cmd: CommandNode = { type: 'command', pos: peekNonSpace().pos, args: [] };
    for (;;) {
      peekNonSpace();
      const node = operand();
      if (isFailure(node)) return node;
      if (node !== null) cmd.args.push(node);
      const item = next();
      if (item.type === 'space') continue;
      if (item.type === 'rightDelim' || item.type === 'rightParen') backup();
      else if (item.type !== 'pipe') return unexpected(item, 'operand');
      break;
    }
    if (cmd.args.length === 0) return errorf('empty command');
    return cmd;
  };

  const pipeline = (context: string, end: 'rightDelim' | 'rightParen'): PipeNode | Failure => {
    const pipe: PipeNode = { type: 'pipe', pos: peekNonSpace().pos, cmds: [] };
    const first = peekNonSpace();
    if (first.type === 'variable') return unsupported(`the variable ${first.val}`);
    for (;;) {
      const item = nextNonSpace();
      if (item.type === end) break;
      switch (item.type) {
        case 'bool':
        case 'charConstant':
        case 'complex':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen': {
          backup();
          const cmd = command();
          if (isFailure(cmd)) return cmd;
          pipe.cmds.push(cmd);
          break;
        }
        default:
          return unexpected(item, context);
      }
    }
    if (pipe.cmds.length === 0) return errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const type = pipe.cmds[i]?.args[0]?.type;
      if (type === 'bool' || type === 'dot' || type === 'nil' || type === 'number' || type === 'string') {
        return errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
    return pipe;
  };

  const action = (): ActionNode | Failure => {
    const item = nextNonSpace();
    if (item.type === 'keyword') {
      // These are errors in Go too, outside the control actions that are not supported.
      if (item.val === 'end' || item.val === 'else') {
        const after = nextNonSpace();
        if (
          after.type !== 'rightDelim' &&
          !(item.val === 'else' && after.type === 'keyword' && (after.val === 'if' || after.val === 'with'))
        ) {
          return unexpected(after, item.val);
        }
        return errorf(`unexpected {{${item.val}}}`);
      }
      if (item.val === 'break' || item.val === 'continue') {
        const after = nextNonSpace();
        if (after.type !== 'rightDelim') return unexpected(after, `{{${item.val}}}`);
        return errorf(`{{${item.val}}} outside {{range}}`);
      }
      return unsupported(`{{${item.val}}}`);
    }
    backup();
    const pos = peek().pos;
    const pipe = pipeline('command', 'rightDelim');
    if (isFailure(pipe)) return pipe;
    return { type: 'action', pos, pipe };
  };

  const nodes: Node[] = [];
  while (peek().type !== 'eof') {
    const item = nextNonSpace();
    if (item.type === 'text') {
      nodes.push({ type: 'text', pos: item.pos, text: item.val });
      continue;
    }
    if (item.type !== 'leftDelim') return unexpected(item, 'input');
    actionLine = lineOf(item.pos);
    const node = action();
    actionLine = 0;
    if (isFailure(node)) return node;
    nodes.push(node);
  }
  return nodes;
}
