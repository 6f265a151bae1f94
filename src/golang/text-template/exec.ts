/**
 * The executor of Go's text/template (text/template/exec.go) for the nodes of node.ts: Go's
 * reflection rules for the values of value.ts (a missing map key is no value and prints
 * "<no value>", a missing field is "can't evaluate field", a piped value is the last argument,
 * arguments are type-checked as Go does) and Go's error texts.
 */
import { isFailure, type Failure } from '../failure.ts';
import { sprint } from '../fmt.ts';
import { utf8Length } from '../utf8.ts';
import { goBool, goString, NIL, NONE, typeName, type Value } from '../value.ts';
import type { Param, TemplateFunction } from './funcs.ts';
import {
  nodeString,
  type ArgNode,
  type ChainNode,
  type CommandNode,
  type IdentifierNode,
  type Node,
  type NumberNode,
  type PipeNode,
} from './node.ts';

export type ExecuteResult =
  { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string };

function lineAt(text: string, pos: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

interface State {
  readonly name: string;
  readonly source: string;
  /** The node being executed, which Go names in its errors (`s.at(node)`). */
  node: Node | undefined;
}

function execError(state: State, message: string): Failure {
  const node = state.node;
  if (node === undefined) return { failure: `template: ${state.name}: ${message}` };
  const before = state.source.slice(0, node.pos);
  const lineStart = before.lastIndexOf('\n') + 1;
  const location = `${state.name}:${lineAt(state.source, node.pos)}:${utf8Length(before.slice(lineStart))}`;
  return { failure: `template: ${location}: executing "${state.name}" at <${nodeString(node)}>: ${message}` };
}

type Out = Value | Failure;

function validateType(state: State, value: Value, param: Param | null): Out {
  if (value.kind === 'none') {
    if (param === null || param === 'value') return NONE;
    if (param === 'any') return NIL;
    return execError(state, `invalid value; expected ${param}`);
  }
  if (param === 'string' && value.kind !== 'string')
    return execError(state, `wrong type for value; expected string; got ${typeName(value)}`);
  return value;
}

function idealConstant(state: State, node: NumberNode): Out {
  state.node = node;
  if (node.int === undefined) return execError(state, `${node.text} overflows int`);
  return { kind: 'int', value: node.int };
}

function evalArg(state: State, dot: Value, param: Param | null, node: ArgNode): Out {
  state.node = node;
  let value: Out;
  switch (node.type) {
    case 'dot':
      return validateType(state, dot, param);
    case 'nil':
      if (param === 'any') return NIL;
      if (param === 'value' || param === null) return NONE;
      return execError(state, `cannot assign nil to ${param}`);
    case 'field':
      value = evalFieldChain(state, dot, node.ident, [node], undefined);
      break;
    case 'pipe':
      value = evalPipeline(state, dot, node);
      break;
    case 'identifier':
      value = evalFunction(state, dot, node, node, undefined, undefined);
      break;
    case 'chain':
      value = evalChain(state, dot, node, undefined, undefined);
      break;
    case 'bool':
      if (param === 'string') return execError(state, `expected string; found ${nodeString(node)}`);
      return goBool(node.value);
    case 'string':
      return goString(node.text);
    case 'number':
      if (param === 'string') return execError(state, `expected string; found ${nodeString(node)}`);
      return idealConstant(state, node);
  }
  return isFailure(value) ? value : validateType(state, value, param);
}

function evalField(
  state: State,
  name: string,
  args: readonly ArgNode[] | undefined,
  final: Value | undefined,
  receiver: Value,
): Out {
  if (receiver.kind === 'none') return NONE;
  const hasArgs = (args !== undefined && args.length > 1) || final !== undefined;
  if (receiver.kind === 'struct') {
    const field = receiver.fields.find(([candidate]) => candidate === name);
    if (field !== undefined) {
      if (hasArgs) return execError(state, `${name} has arguments but cannot be invoked as function`);
      return field[1];
    }
  } else if (receiver.kind === 'map') {
    if (hasArgs) return execError(state, `${name} is not a method but has arguments`);
    const value = receiver.value.get(name);
    // Go's default missingkey option: a missing key is no value, which prints "<no value>".
    return value === undefined ? NONE : goString(value);
  }
  return execError(state, `can't evaluate field ${name} in type ${typeName(receiver)}`);
}

/** Go's evalFieldChain: .X.Y.Z, the last field given the arguments; errors name the node last visited. */
function evalFieldChain(
  state: State,
  receiver: Value,
  ident: readonly string[],
  args: readonly ArgNode[] | undefined,
  final: Value | undefined,
): Out {
  let current = receiver;
  for (let i = 0; i < ident.length; i++) {
    const last = i === ident.length - 1;
    const next = evalField(state, ident[i] ?? '', last ? args : undefined, last ? final : undefined, current);
    if (isFailure(next)) return next;
    current = next;
  }
  return current;
}

function evalChain(
  state: State,
  dot: Value,
  chain: ChainNode,
  args: readonly ArgNode[] | undefined,
  final: Value | undefined,
): Out {
  state.node = chain;
  const base = evalArg(state, dot, null, chain.node);
  if (isFailure(base)) return base;
  return evalFieldChain(state, base, chain.fields, args, final);
}

function evalFunction(
  state: State,
  dot: Value,
  ident: IdentifierNode,
  cmd: CommandNode | IdentifierNode,
  args: readonly ArgNode[] | undefined,
  final: Value | undefined,
): Out {
  state.node = ident;
  const spec: TemplateFunction = ident.func;
  const name = ident.name;
  const rest = args === undefined ? [] : args.slice(1);
  const numIn = rest.length + (final === undefined ? 0 : 1);
  const numFixed = spec.variadic === undefined ? rest.length : spec.params.length;
  if (spec.variadic !== undefined) {
    if (numIn < numFixed)
      return execError(state, `wrong number of args for ${name}: want at least ${numFixed} got ${rest.length}`);
  } else if (numIn !== spec.params.length) {
    return execError(state, `wrong number of args for ${name}: want ${spec.params.length} got ${numIn}`);
  }
  const argv: Value[] = [];
  for (let i = 0; i < rest.length; i++) {
    const node = rest[i];
    const param = i < numFixed ? spec.params[i] : spec.variadic;
    if (node === undefined || param === undefined) continue;
    const value = evalArg(state, dot, param, node);
    if (isFailure(value)) return value;
    argv.push(value);
  }
  if (final !== undefined) {
    const param = spec.variadic === undefined || numIn - 1 < numFixed ? spec.params[numIn - 1] : spec.variadic;
    const value = validateType(state, final, param ?? 'any');
    if (isFailure(value)) return value;
    argv.push(value);
  }
  const result = spec.call(argv);
  if ('callError' in result) {
    state.node = cmd;
    return execError(state, `error calling ${name}: ${result.callError}`);
  }
  return result;
}

function notAFunction(state: State, args: readonly ArgNode[], final: Value | undefined): Failure | undefined {
  if (args.length > 1 || final !== undefined)
    return execError(state, `can't give argument to non-function ${nodeString(args[0] ?? { type: 'dot', pos: 0 })}`);
  return undefined;
}

function evalCommand(state: State, dot: Value, cmd: CommandNode, final: Value | undefined): Out {
  const first = cmd.args[0];
  if (first === undefined) return execError(state, 'empty command');
  switch (first.type) {
    case 'field':
      state.node = first;
      return evalFieldChain(state, dot, first.ident, cmd.args, final);
    case 'chain':
      return evalChain(state, dot, first, cmd.args, final);
    case 'identifier':
      return evalFunction(state, dot, first, cmd, cmd.args, final);
    case 'pipe':
      return notAFunction(state, cmd.args, final) ?? evalPipeline(state, dot, first);
  }
  state.node = first;
  const refused = notAFunction(state, cmd.args, final);
  if (refused !== undefined) return refused;
  switch (first.type) {
    case 'bool':
      return goBool(first.value);
    case 'dot':
      return dot;
    case 'nil':
      return execError(state, 'nil is not a command');
    case 'number':
      return idealConstant(state, first);
    case 'string':
      return goString(first.text);
  }
}

function evalPipeline(state: State, dot: Value, pipe: PipeNode): Out {
  state.node = pipe;
  let value: Value | undefined;
  for (const cmd of pipe.cmds) {
    const result = evalCommand(state, dot, cmd, value);
    if (isFailure(result)) return result;
    // A pipeline unwraps interface{} results; a nil one is no value.
    value = result.kind === 'nil' ? NONE : result;
  }
  return value ?? NONE;
}

/** Executes a parsed template with `dot` as its data; never throws. */
export function execute(name: string, source: string, nodes: readonly Node[], dot: Value): ExecuteResult {
  const state: State = { name, source, node: undefined };
  let out = '';
  for (const node of nodes) {
    state.node = node;
    if (node.type === 'text') {
      out += node.text;
    } else if (node.type === 'action') {
      const value = evalPipeline(state, dot, node.pipe);
      if (isFailure(value)) return { ok: false, error: value.failure };
      out += value.kind === 'none' ? '<no value>' : sprint(value);
    }
  }
  return { ok: true, value: out };
}
