// A command run as the stacks run appproxy under a memory limit (`resources.limits.memory`): in a
// memory cgroup of its own, so that Node sizes its heap to the limit (it reads the cgroup's limit
// at start: 259 MiB of heap under 512 MiB here) and the kernel enforces it. cgroup v2 or v1,
// whichever the machine mounts; needs root. The cgroup is removed once the command ended.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';

const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

/** "512M", "1G" → bytes. */
export function parseMemory(text: string): number {
  const match = /^(\d+)([KMG])$/i.exec(text.trim());
  if (match === null) throw new Error(`a memory limit like 512M or 1G, not "${text}"`);
  const unit = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(match[2] as string).toUpperCase() as 'K' | 'M' | 'G'];
  return Number(match[1]) * unit;
}

export interface LimitedRun {
  readonly run: SpawnSyncReturns<string>;
  /** The cgroup's highest memory use (its own count: RSS and page cache), in MiB; undefined if not kept. */
  readonly peakMiB: number | undefined;
  /** The kernel killed it for its memory (the cgroup's OOM killer). */
  readonly oomKilled: boolean;
}

/** Runs `command` in a new memory cgroup limited to `limitBytes`, for at most `timeoutMs`. */
export function runInMemoryCgroup(
  limitBytes: number,
  command: string,
  args: readonly string[],
  timeoutMs: number,
): LimitedRun {
  const dir = V2
    ? `/sys/fs/cgroup/appproxy-bench-${process.pid}`
    : `/sys/fs/cgroup/memory/appproxy-bench-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(`${dir}/${V2 ? 'memory.max' : 'memory.limit_in_bytes'}`, String(limitBytes));
    if (V2) writeFileSync(`${dir}/memory.swap.max`, '0');
    // The shell joins the cgroup, then becomes the command: nothing else runs in it.
    const run = spawnSync('bash', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, command, ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      env: process.env,
    });
    const read = (file: string) => (existsSync(`${dir}/${file}`) ? readFileSync(`${dir}/${file}`, 'utf8') : '');
    const peak = Number(read(V2 ? 'memory.peak' : 'memory.max_usage_in_bytes').trim());
    const events = read(V2 ? 'memory.events' : 'memory.oom_control');
    const oomKilled = /oom_kill [1-9]/.test(events) || (run.signal === 'SIGKILL' && run.error === undefined);
    return { run, peakMiB: peak > 0 ? Math.round((peak / 1024 / 1024) * 10) / 10 : undefined, oomKilled };
  } finally {
    rmdirSync(dir);
  }
}
