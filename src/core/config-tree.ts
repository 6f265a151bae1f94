/**
 * Traefik dynamic configuration as plain data: objects keyed by the schema's canonical field names.
 * Scalars keep the type the schema gives them (booleans, numbers); durations keep the text the user
 * wrote, because Traefik accepts both `10s` and `10` (seconds) and both decoders read either.
 */
export type ConfigScalar = string | number | boolean;
export type ConfigValue = ConfigScalar | readonly ConfigValue[] | ConfigObject;
export interface ConfigObject {
  [key: string]: ConfigValue;
}

export function isConfigObject(value: ConfigValue | undefined): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of two configuration values (Traefik compares with reflect.DeepEqual). */
export function configEqual(a: ConfigValue | undefined, b: ConfigValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => configEqual(item, b[index]));
  }
  const objectA = a as ConfigObject;
  const objectB = b as ConfigObject;
  const keysA = Object.keys(objectA);
  if (keysA.length !== Object.keys(objectB).length) return false;
  return keysA.every((key) => Object.hasOwn(objectB, key) && configEqual(objectA[key], objectB[key]));
}

/**
 * A deep copy, so that builders can change their own copy without touching the decoded labels.
 * Configuration is plain data (objects, arrays, scalars): a direct walk is several times faster
 * than structuredClone, which showed in profiles of 10,000 workloads.
 */
export function cloneConfig<T extends ConfigValue>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return (value as readonly ConfigValue[]).map((item) => cloneConfig(item)) as unknown as T;
  const copy: ConfigObject = {};
  for (const [key, item] of Object.entries(value as ConfigObject)) {
    // A name from a label can be `__proto__`: define it as data, never as the copy's prototype.
    // Only then: a descriptor for every key was a first sync's second largest source of garbage.
    if (key === '__proto__')
      Object.defineProperty(copy, key, {
        value: cloneConfig(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else copy[key] = cloneConfig(item);
  }
  return copy as T;
}
