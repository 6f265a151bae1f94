// Stopping and restarting pieces of the test environment from a test (the engine, etcd), the way
// an operator's restart or a crash would.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { firstNode, testEnv } from './env.ts';
import { waitFor } from './traefik-api.ts';

const run = promisify(execFile);
const testEnvScript = new URL('../../scripts/test-env.sh', import.meta.url).pathname;

export const PID_FILES = {
  docker: firstNode.dockerPidFile,
  etcd: `${testEnv.stateDir}/pids/etcd.pid`,
  redis: `${testEnv.stateDir}/pids/redis.pid`,
} as const;

/** Where the test Redis keeps a snapshot (SAVE writes it; a start loads it when it is there). */
export const REDIS_SNAPSHOT = `${testEnv.stateDir}/redis/dump.rdb`;

/** True while `pid` runs; a zombie (nobody reaps it here) counts as gone. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
}

/** Sends `signal` to the process named in a pid file and waits until it is gone. */
export async function stopByPidFile(path: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const pid = Number(readFileSync(path, 'utf8').trim());
  process.kill(pid, signal);
  await waitFor(`pid ${pid} to exit`, async () => (processAlive(pid) ? undefined : true), 30_000);
}

/** Restarts what is down. No smoke check: an appproxy under test owns the root key and would remove its router. */
export async function environmentUp(): Promise<void> {
  await run('bash', [testEnvScript, 'up'], { timeout: 120_000, env: { ...process.env, TEST_ENV_SMOKE: '0' } });
}
