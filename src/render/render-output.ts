import { stringify } from 'yaml';
import type { ConfigObject } from '../core/config-tree.ts';
import type { KeyValues } from '../core/kv/configuration-to-kv.ts';

export type RenderFormat = 'yaml' | 'json' | 'kv';

/** Text for `render`: the dynamic configuration (usable by Traefik's file provider) or the exact key/value pairs. */
export function formatRender(format: RenderFormat, configuration: ConfigObject, keyValues: KeyValues): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(configuration, null, 2)}\n`;
    case 'yaml':
      return Object.keys(configuration).length === 0 ? '{}\n' : stringify(configuration, { lineWidth: 0 });
    case 'kv':
      // A value holding a newline would break the one-pair-a-line form: escape it as JSON would.
      return [...keyValues]
        .map(([key, value]) => `${key}=${/[\n\r]/.test(value) ? JSON.stringify(value) : value}\n`)
        .join('');
  }
}
