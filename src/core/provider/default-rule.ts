import { SPRIG_FUNCTION_NAMES, SPRIG_FUNCTIONS } from '../../golang/sprig.ts';
import { argText, type FuncMap } from '../../golang/text-template/funcs.ts';
import { parseGoTemplate } from '../../golang/text-template/template.ts';
import { goMap, goString } from '../../golang/value.ts';
import { normalizeName } from './normalize-name.ts';

// The default rule of routers that have none: a Go text/template that Traefik executes with the
// container's Name, ContainerName and Labels (pkg/provider/configuration.go, MakeDefaultRuleTemplate:
// template.New("defaultRule") with sprig's TxtFuncMap plus `normalize`).

/** The data a default rule sees: the struct Traefik's Docker provider passes to the template. */
export interface DefaultRuleModel {
  readonly Name: string;
  readonly ContainerName: string;
  readonly Labels: Readonly<Record<string, string>>;
}

export type RenderResult =
  { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string };

export type CompiledRule =
  | { readonly ok: true; readonly render: (model: DefaultRuleModel) => RenderResult }
  | { readonly ok: false; readonly error: string };

/** The functions a default rule can call, in the order the refusals list them. */
export const DEFAULT_RULE_FUNCTIONS: readonly string[] = [
  ...[
    'normalize',
    'index',
    'lower',
    'upper',
    'title',
    'trim',
    'trimAll',
    'trimPrefix',
    'trimSuffix',
    'replace',
    'default',
    'printf',
  ],
  ...['contains', 'hasPrefix', 'hasSuffix', 'splitList', 'quote'],
];

const SUBSET =
  'a default rule supports text, comments and {{ }} actions made of .Name, .ContainerName, .Labels (and .Labels.key), ' +
  `string, integer and boolean constants, parentheses and pipes, with the functions ${DEFAULT_RULE_FUNCTIONS.join(', ')}`;

const FUNCS: FuncMap = {
  ...SPRIG_FUNCTIONS,
  normalize: { params: ['string'], call: (args) => goString(normalizeName(argText(args, 0))) },
};

// Go prints the type of the anonymous struct Traefik passes in "can't evaluate field" errors.
const MODEL_TYPE = 'struct { Name string; ContainerName string; Labels map[string]string }';

/**
 * Compiles a default rule template as Traefik's MakeDefaultRuleTemplate does, for the subset of
 * text/template the Go library supports; rendering never throws.
 */
export function compileDefaultRule(template: string): CompiledRule {
  const parsed = parseGoTemplate(template, {
    name: 'defaultRule',
    funcs: FUNCS,
    knownFuncs: SPRIG_FUNCTION_NAMES,
    subset: SUBSET,
  });
  if (!parsed.ok) return parsed;
  const render = (model: DefaultRuleModel): RenderResult =>
    parsed.template.execute({
      kind: 'struct',
      type: MODEL_TYPE,
      fields: [
        ['Name', goString(model.Name)],
        ['ContainerName', goString(model.ContainerName)],
        ['Labels', goMap(model.Labels)],
      ],
    });
  return { ok: true, render };
}
