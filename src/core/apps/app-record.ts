import type { AppFrontend } from './app-frontends.ts';
import type { AppFrontendMode } from './app-options.ts';

/** What is known of an app's use, from Traefik (see the activity tracker). */
export interface AppActivity {
  /** When a request or an open connection was last seen (ms since the epoch); undefined when none was. */
  readonly lastActivityMs: number | undefined;
  /** Connections open now on its own entry point (port mode); undefined when Traefik cannot tell it apart. */
  readonly openConnections: number | undefined;
}

/**
 * Where users find one app and how it is used: what `appproxy apps` and `GET /apps` list, and
 * what is kept in the store at `appproxy/apps/<root>/<identity>` for a platform to read. JSON,
 * with `null` for what is not known, so that readers in any language see every field.
 */
export interface AppRecord {
  readonly identity: string;
  readonly workload: string;
  readonly app: string;
  readonly protocol: 'http' | 'tcp';
  readonly frontend: AppFrontendMode;
  /** The Traefik entry point; null when the app is not served (see error). */
  readonly entryPoint: string | null;
  readonly port: number | null;
  /** Wildcard mode: its host name; port mode: --app-public-host, or empty. */
  readonly host: string;
  /** `http://host:port/` or `tcp://host:port`, empty when no host is known. */
  readonly url: string;
  /** The appproxy owner id that serves it. */
  readonly owner: string;
  readonly servedSince: string;
  readonly lastActivity: string | null;
  readonly openConnections: number | null;
  readonly idleTimeoutSeconds: number | null;
  /** Past its idle timeout with no open connection; null without an idle timeout or without activity tracking. */
  readonly idle: boolean | null;
  /** Why it is not served (a port that could not be allocated, a host name taken), else null. */
  readonly error: string | null;
}

export interface RecordContext {
  readonly owner: string;
  readonly nowMs: number;
  /** When this app was first served, from its earlier record. */
  readonly servedSinceMs: number;
  /** Its earlier record's last activity: kept across restarts of the sidecar. */
  readonly storedActivityMs: number | undefined;
  /** Undefined when activity is not tracked (no Traefik metrics to read). */
  readonly activity: AppActivity | undefined;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** The record of an app that is served. */
export function servedAppRecord(frontend: AppFrontend, context: RecordContext): AppRecord {
  const tracked = context.activity;
  const seen = [tracked?.lastActivityMs, context.storedActivityMs].filter((ms): ms is number => ms !== undefined);
  const lastActivityMs = seen.length === 0 ? undefined : Math.max(...seen);
  const open = tracked?.openConnections;
  let idle: boolean | null = null;
  if (frontend.idleTimeoutSeconds !== undefined && tracked !== undefined) {
    // Never used since it was served: idle counts from then.
    const since = Math.max(lastActivityMs ?? 0, context.servedSinceMs);
    idle = (open ?? 0) === 0 && context.nowMs - since >= frontend.idleTimeoutSeconds * 1000;
  }
  return {
    identity: frontend.key,
    workload: frontend.workload,
    app: frontend.app,
    protocol: frontend.protocol,
    frontend: frontend.mode,
    entryPoint: frontend.entryPoint,
    port: frontend.port,
    host: frontend.host,
    url: frontend.url,
    owner: context.owner,
    servedSince: new Date(context.servedSinceMs).toISOString(),
    lastActivity: iso(lastActivityMs),
    openConnections: open ?? null,
    idleTimeoutSeconds: frontend.idleTimeoutSeconds ?? null,
    idle,
    error: null,
  };
}

/** The record of an app that could not be served, with why. */
export function refusedAppRecord(
  app: {
    key: string;
    workload: string;
    app: string;
    protocol: 'http' | 'tcp';
    mode: AppFrontendMode;
    idleTimeoutSeconds: number | undefined;
  },
  error: string,
  context: Pick<RecordContext, 'owner' | 'servedSinceMs'>,
): AppRecord {
  return {
    identity: app.key,
    workload: app.workload,
    app: app.app,
    protocol: app.protocol,
    frontend: app.mode,
    entryPoint: null,
    port: null,
    host: '',
    url: '',
    owner: context.owner,
    servedSince: new Date(context.servedSinceMs).toISOString(),
    lastActivity: null,
    openConnections: null,
    idleTimeoutSeconds: app.idleTimeoutSeconds ?? null,
    idle: null,
    error,
  };
}

/** A record read from the store, or undefined when it is not one (written by hand, another version). */
export function decodeAppRecord(text: string): AppRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<AppRecord> | null;
    if (typeof value?.identity !== 'string' || typeof value.owner !== 'string' || typeof value.app !== 'string')
      return undefined;
    return value as AppRecord;
  } catch {
    return undefined;
  }
}
