/**
 * What an entry point name may hold: letters, digits, `_` and `-`. Names become static flags
 * (`--entryPoints.<name>.address`) and keys, where anything else would need quoting or split a key.
 */
export const ENTRY_POINT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Why an entry point name cannot be used, or undefined. */
export function entryPointNameProblem(name: string): string | undefined {
  return ENTRY_POINT_NAME.test(name)
    ? undefined
    : `use 1 to 64 letters, digits, "_" or "-", got ${JSON.stringify(name)}`;
}
