import { ENTRY_POINT_NAME, entryPointNameProblem } from '../entry-point-name.ts';
import type { AppOptions } from './app-options.ts';

const PORT_PLACEHOLDER = '{port}';

/** The entry point of one port of the range: the template with `{port}` replaced. */
export function portEntryPointName(template: string, port: number): string {
  return template.replace(PORT_PLACEHOLDER, String(port));
}

/**
 * Why a template of port entry point names cannot be used, or undefined: each name it gives must
 * be a valid entry point name (see ENTRY_POINT_NAME).
 */
export function entryPointTemplateProblem(template: string): string | undefined {
  if (template.split(PORT_PLACEHOLDER).length !== 2)
    return `must hold "${PORT_PLACEHOLDER}" exactly once (e.g. portproxy_{port}), got ${JSON.stringify(template)}`;
  if (!ENTRY_POINT_NAME.test(template.replace(PORT_PLACEHOLDER, '1')))
    return `use letters, digits, "_" and "-" around {port}, got ${JSON.stringify(template)}`;
  return undefined;
}

/** Problems of the app options that a caller outside the settings (a test, a library user) may have got wrong. */
export function appOptionsProblems(options: AppOptions): string[] {
  const problems: string[] = [];
  const template = entryPointTemplateProblem(options.portEntryPoint);
  if (template !== undefined) problems.push(`app port entry point template: ${template}`);
  const wildcard = entryPointNameProblem(options.wildcardEntryPoint);
  if (wildcard !== undefined) problems.push(`app wildcard entry point: ${wildcard}`);
  const { first, last } = options.portRange;
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 1 || last > 65_535 || first > last)
    problems.push(`app port range ${first}-${last}: expected ordered ports of 1 to 65535`);
  // Two entry points cannot listen on one port: Traefik would fail to start.
  if (options.wildcardDomain !== '' && options.wildcardPort >= first && options.wildcardPort <= last) {
    problems.push(
      `app wildcard port ${options.wildcardPort} is inside the app port range ${first}-${last}: choose a port outside it`,
    );
  }
  return problems;
}
