import { stringify } from 'yaml';
import type { StaticEntryPoint } from '../core/apps/static-entry-points.ts';

export type EntryPointsFormat = 'yaml' | 'flags';

/** Text for `traefik-entrypoints`: a piece of Traefik's static file, or its command-line flags, one a line. */
export function formatEntryPoints(format: EntryPointsFormat, entryPoints: readonly StaticEntryPoint[]): string {
  if (format === 'flags')
    return entryPoints.map((entryPoint) => `--entryPoints.${entryPoint.name}.address=${entryPoint.address}\n`).join('');
  const map = Object.fromEntries(entryPoints.map((entryPoint) => [entryPoint.name, { address: entryPoint.address }]));
  // Quoted: an address such as `:10205` is a valid plain scalar, but not one every YAML reader takes as text.
  return stringify({ entryPoints: map }, { lineWidth: 0, defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' });
}
