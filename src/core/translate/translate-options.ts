import { defaultAppOptions, type AppOptions } from '../apps/app-options.ts';
import { appOptionsProblems } from '../apps/entry-point-names.ts';
import { compileProviderOptions, type CompiledProviderOptions } from '../provider/compile-provider-options.ts';
import { defaultProviderOptions, type ProviderOptions } from '../provider/provider-options.ts';

/** Everything that changes how labels become configuration: Traefik's provider options, and appproxy's apps. */
export interface TranslateOptions extends ProviderOptions {
  /** appproxy's own `<prefix>.apps.*` labels: frontends, the port range, entry point names. */
  readonly apps: AppOptions;
}

export const defaultTranslateOptions: TranslateOptions = Object.freeze({
  ...defaultProviderOptions,
  apps: defaultAppOptions,
});

export interface CompiledTranslateOptions extends CompiledProviderOptions {
  readonly options: TranslateOptions;
}

/** Checks the options once, both the provider's and the apps', so that every mistake is reported before any work. */
export function compileTranslateOptions(
  options: TranslateOptions,
): { ok: true; value: CompiledTranslateOptions } | { ok: false; errors: string[] } {
  const provider = compileProviderOptions(options);
  const errors = [...(provider.ok ? [] : provider.errors), ...appOptionsProblems(options.apps)];
  if (!provider.ok || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { ...provider.value, options } };
}
