import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml, YAMLError } from 'yaml';
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
function flagAttribute(setting: Setting): string {
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
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'integer': {
      // Signs are let through so that the schema reports the range ("at least 2"), as for a file.
      const number = /^[-+]?\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
      if (!Number.isSafeInteger(number)) {
        problems.push(`${setting.path}: expected a whole number, got "${text}" (from ${source})`);
        return undefined;
      }
      return number;
    }
    case 'boolean':
      if (/^(true|1|yes)$/i.test(text)) return true;
      if (/^(false|0|no)$/i.test(text)) return false;
      problems.push(`${setting.path}: expected true or false, got "${text}" (from ${source})`);
      return undefined;
  }
}

/** The setting a path names; a list item (`etcd.endpoints.0`) belongs to its list's setting. */
function settingAt(path: string): Setting | undefined {
  return settings.find((candidate) => candidate.path === path || path.startsWith(`${candidate.path}.`));
}

function describeSource(path: string, scope: 'translate' | 'run'): string {
  const setting = settingAt(path);
  if (setting === undefined || (scope === 'translate' && setting.scope !== 'translate')) return '';
  return ` (flag ${setting.flag.split(' ')[0]}, variable ${setting.env})`;
}

/** A value as a line may quote it: text quoted and cut short, other values by their kind; secrets never. */
function describeValue(value: unknown, secret: boolean): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (secret) return `a ${typeof value === 'string' ? 'text' : typeof value}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return String(value);
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of settings',
};

/**
 * zod's own messages ("Invalid input: expected int, received number") say what the schema is,
 * not what to write; this says it in the words of the settings. Messages the schema gives
 * itself ("at least 2") take precedence over these, as zod applies them.
 */
function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const secret = settingAt(issue.path?.join('.') ?? '')?.secret === true;
  switch (issue.code) {
    case 'invalid_type': {
      // The setting's kind says it better than zod's type: leaseSeconds wants a whole number, not any
      // number. Only for the setting itself: an item of a list is not a list.
      const path = issue.path?.join('.') ?? '';
      const kind = settings.find((setting) => setting.path === path)?.kind;
      const expected = kind === 'integer' ? 'int' : kind === 'list' ? 'array' : issue.expected;
      return `expected ${EXPECTED[expected] ?? expected}, got ${describeValue(issue.input, secret)}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}, got ${describeValue(issue.input, secret)}`;
    case 'too_small':
      if (issue.origin === 'array')
        return `give at least ${String(issue.minimum)} item${Number(issue.minimum) === 1 ? '' : 's'}`;
      if (issue.origin === 'string')
        return Number(issue.minimum) === 1 ? 'must not be empty' : `at least ${String(issue.minimum)} characters`;
      return `at least ${String(issue.minimum)}, got ${describeValue(issue.input, secret)}`;
    case 'too_big':
      if (issue.origin === 'int' && issue.maximum === Number.MAX_SAFE_INTEGER)
        return `expected a whole number of a sensible size, got ${describeValue(issue.input, secret)}`;
      return `at most ${String(issue.maximum)}, got ${describeValue(issue.input, secret)}`;
    default:
      return undefined;
  }
}

/** Known setting keys, with the spellings people try (the flag's, the last word alone), for suggestions. */
const SPELLINGS = settings.flatMap((setting) => {
  const flag = setting.flag.split(' ')[0]?.replace(/^--/, '') ?? '';
  return [setting.path, setting.path.split('.').at(-1) ?? '', flag].map((spelling) => ({
    spelling: spelling.toLowerCase(),
    path: setting.path,
  }));
});

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The known setting closest to an unknown key, when one is close enough to be what was meant. */
function closestSetting(key: string): string | undefined {
  const lower = key.toLowerCase();
  let best: { path: string; distance: number } | undefined;
  for (const { spelling, path } of SPELLINGS) {
    const distance = editDistance(lower, spelling);
    if (best === undefined || distance < best.distance) best = { path, distance };
  }
  return best !== undefined && best.path !== key && best.distance <= Math.max(2, Math.floor(key.length / 4))
    ? best.path
    : undefined;
}

function unknownSetting(file: string | undefined, key: string): string {
  const suggestion = closestSetting(key);
  const hint =
    suggestion === undefined
      ? `; the settings are ${settings.map((setting) => setting.path).join(', ')}`
      : ` (did you mean "${suggestion}"?)`;
  return `${file ?? 'configuration'}: unknown setting "${key}"${hint}`;
}

/** One line for a file that cannot be read or parsed, without the YAML parser's code excerpt. */
function fileProblem(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (error instanceof YAMLError) {
    if (code === 'MULTIPLE_DOCS')
      return `${file}: holds several YAML documents (separated by "---"); keep one mapping of settings`;
    const first = error.message.split('\n')[0]?.replace(/:\s*$/, '') ?? '';
    return `${file}: not valid YAML: ${first}`;
  }
  if (typeof code === 'string') {
    // Node's message ends with the system call and the path ("…, open '/x.yml'"): the path leads already.
    const reason = (error as Error).message.split('\n')[0]?.replace(/, \w+(?: '.*')?$/, '') ?? code;
    return `${file}: ${reason}; give a readable YAML file with --config or APPPROXY_CONFIG`;
  }
  return `${file}: cannot be read as YAML: ${(error as Error).message.split('\n')[0] ?? ''}`;
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
      // An empty file (or one of comments only) holds no settings, which is valid.
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) {
          problems.push(
            `${sources.file}: expected a YAML mapping of settings ("key: value" lines), found ${describeValue(parsed, false)}`,
          );
        } else {
          // Defined, not assigned: a `__proto__:` key would otherwise become the prototype, its
          // settings inherited without a word instead of reported as unknown.
          for (const [key, value] of Object.entries(parsed))
            Object.defineProperty(raw, key, { value, enumerable: true, writable: true, configurable: true });
        }
      }
    } catch (error) {
      problems.push(fileProblem(sources.file, error));
    }
  }
  const formerPathOf = movePastSpellings(raw, sources.file, problems);
  for (const setting of settings) {
    if (sources.scope === 'translate' && setting.scope !== 'translate') continue;
    // A secret may come from a file (`APPPROXY_ETCD_PASSWORD_FILE=/run/secrets/etcd-password`, as
    // Docker secrets and Kubernetes mount them); the variable itself wins when both are set.
    const secretFile = setting.secret === true ? sources.env[`${setting.env}_FILE`] : undefined;
    if (secretFile !== undefined && secretFile !== '' && (sources.env[setting.env] ?? '') === '') {
      try {
        setPath(raw, setting.path, readFileSync(secretFile, 'utf8').replace(/\r?\n$/, ''));
      } catch (error) {
        problems.push(
          `${setting.path}: cannot read ${setting.env}_FILE=${secretFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; give a readable file (a mounted secret) or set ${setting.env}`,
        );
      }
    }
    const fromEnv = sources.env[setting.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      const value = fromText(setting, fromEnv, setting.env, problems);
      if (value !== undefined) setPath(raw, setting.path, value);
    }
    const fromFlag = sources.flags[flagAttribute(setting)];
    if (fromFlag !== undefined) {
      const value =
        typeof fromFlag === 'string'
          ? fromText(setting, fromFlag, setting.flag.split(' ')[0] ?? '', problems)
          : fromFlag;
      if (value !== undefined) setPath(raw, setting.path, value);
    }
  }
  const result = schema.safeParse(raw, { error: issueMessage });
  if (!result.success) {
    // One line per bad value: a value can fail several checks (a whole number, then a maximum).
    const reported = new Set<string>();
    for (const issue of result.error.issues) {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) problems.push(unknownSetting(sources.file, path === '' ? key : `${path}.${key}`));
        continue;
      }
      // A refinement after a failed check on the same value repeats it; refinements of a whole
      // object (username with password, certificate with key) are separate problems.
      if (reported.has(path)) continue;
      if (issue.code !== 'custom') reported.add(path);
      // A pattern's own message says what is expected; the value shows what was given instead.
      const got =
        issue.code === 'invalid_format'
          ? `, got ${describeValue(valueAt(raw, issue.path), settingAt(path)?.secret === true)}`
          : '';
      // A value from a variable or a flag replaced the file's: then the file's spelling is not the one at fault.
      const shown = formerPathOf.get(path) !== undefined && fromFile(sources, path) ? formerPathOf.get(path) : path;
      problems.push(
        `${shown === '' ? 'configuration' : shown}: ${issue.message}${got}${describeSource(path, sources.scope)}`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return (result as { data: z.infer<S> }).data;
}

/**
 * A file's setting under a former path (`etcd.leaseSeconds`) moves to where it is read now; both at
 * once is a problem. Returns the former path of each setting moved, so that a problem with its
 * value names what the file says.
 */
function movePastSpellings(
  raw: Record<string, unknown>,
  file: string | undefined,
  problems: string[],
): Map<string, string> {
  const moved = new Map<string, string>();
  for (const setting of settings) {
    for (const former of setting.formerPaths ?? []) {
      const parts = former.split('.');
      const parent = valueAt(raw, parts.slice(0, -1));
      const last = parts[parts.length - 1] as string;
      if (typeof parent !== 'object' || parent === null || !Object.hasOwn(parent, last)) continue;
      const value = (parent as Record<string, unknown>)[last];
      delete (parent as Record<string, unknown>)[last];
      if (valueAt(raw, setting.path.split('.')) !== undefined)
        problems.push(
          `${file ?? 'configuration'}: "${former}" and "${setting.path}" both set; keep "${setting.path}" (its former spelling is "${former}")`,
        );
      else {
        setPath(raw, setting.path, value);
        moved.set(setting.path, former);
      }
    }
  }
  return moved;
}

/** Whether neither a variable nor a flag set the setting at `path` (the file's value stands). */
function fromFile(sources: ConfigSources, path: string): boolean {
  const setting = settings.find((candidate) => candidate.path === path);
  return (
    setting === undefined ||
    ((sources.env[setting.env] ?? '') === '' && sources.flags[flagAttribute(setting)] === undefined)
  );
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of path)
    node =
      typeof node === 'object' && node !== null && Object.hasOwn(node, part)
        ? (node as Record<PropertyKey, unknown>)[part]
        : undefined;
  return node;
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
