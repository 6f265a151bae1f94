import { readFileSync } from 'node:fs';

/**
 * appproxy's version, from its package.json (one directory above this file, in a checkout as in
 * the built package): one place to change it.
 */
export const APPPROXY_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
