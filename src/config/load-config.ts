import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { settings, type Setting } from './settings.ts';

/** Thrown when the configuration is invalid: `problems` holds one readable line per bad value. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface ConfigSources {
  /** Flag values as commander gives them (camel-cased option names), undefined when not given. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: NodeJS.ProcessEnv;
  /** Optional YAML file path (`--config`, APPPROXY_CONFIG). */
  readonly file?: string | undefined;
  readonly scope: 'translate' | 'run';
}

/** commander's attribute name for a flag: `--etcd-ca <file>` → `etcdCa`. */
export function flagAttribute(setting: Setting): string {
  const long = setting.flag.split(' ')[0]?.replace(/^--/, '') ?? '';
  return long.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = (typeof next === 'object' && next !== null ? next : (node[part] = {})) as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

function fromText(setting: Setting, text: string, source: string, problems: string[]): unknown {
  switch (setting.kind) {
    case 'string':
      return text;
    case 'list':
      return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
    case 'integer':
      if (!/^\d+$/.test(text.trim())) {
        problems.push(`${setting.path}: expected a whole number, got "${text}" (from ${source})`);
        return undefined;
      }
      return Number(text.trim());
    case 'boolean':
      if (/^(true|1|yes)$/i.test(text)) return true;
      if (/^(false|0|no)$/i.test(text)) return false;
      problems.push(`${setting.path}: expected true or false, got "${text}" (from ${source})`);
      return undefined;
  }
}

function describeSource(path: string, scope: 'translate' | 'run'): string {
  const setting = settings.find((candidate) => candidate.path === path && (scope === 'run' || candidate.scope === 'translate'));
  return setting === undefined ? '' : ` (flag ${setting.flag.split(' ')[0]}, variable ${setting.env})`;
}

/**
 * Assembles the configuration from, in rising precedence, the YAML file, APPPROXY_* variables and
 * flags, and validates it once with `schema`. Every bad value is reported, each on its own line
 * naming where it can be set, before anything connects anywhere.
 */
export function loadConfig<S extends z.ZodType>(schema: S, sources: ConfigSources): z.infer<S> {
  const problems: string[] = [];
  const raw: Record<string, unknown> = { owner: hostname() };
  if (sources.file !== undefined) {
    try {
      const parsed: unknown = parseYaml(readFileSync(sources.file, 'utf8'));
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${sources.file}: expected a YAML mapping of settings`);
        else Object.assign(raw, parsed);
      }
    } catch (error) {
      problems.push(`${sources.file}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  for (const setting of settings) {
    if (sources.scope === 'translate' && setting.scope !== 'translate') continue;
    const fromEnv = sources.env[setting.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      const value = fromText(setting, fromEnv, setting.env, problems);
      if (value !== undefined) setPath(raw, setting.path, value);
    }
    const fromFlag = sources.flags[flagAttribute(setting)];
    if (fromFlag !== undefined) {
      const value = typeof fromFlag === 'string' ? fromText(setting, fromFlag, setting.flag.split(' ')[0] ?? '', problems) : fromFlag;
      if (value !== undefined) setPath(raw, setting.path, value);
    }
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.join('.');
      const received = issue.code === 'unrecognized_keys' ? `unknown setting ${issue.keys.map((key) => `"${key}"`).join(', ')}` : issue.message;
      problems.push(`${path === '' ? 'configuration' : path}: ${received}${describeSource(path, sources.scope)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return (result as { data: z.infer<S> }).data;
}

/** The configuration as one log line may show it: secrets replaced. */
export function redactConfig(config: object): Record<string, unknown> {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const setting of settings.filter((candidate) => candidate.secret === true)) {
    const parts = setting.path.split('.');
    let node: Record<string, unknown> | undefined = copy;
    for (const part of parts.slice(0, -1)) node = node?.[part] as Record<string, unknown> | undefined;
    const last = parts[parts.length - 1] as string;
    if (node !== undefined && node[last] !== undefined) node[last] = '***';
  }
  return copy;
}
