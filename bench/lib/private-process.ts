// Daemons a benchmark starts for itself (an etcd, a Redis, a Traefik), apart from the test
// environment's: its own ports, its own data directory, stopped by its own pid. Every one started is
// remembered, so that a finally block or a signal handler can stop them all.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { within } from '../../test/support/within.ts';

/** Clock ticks a second, as /proc/<pid>/stat counts CPU time. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim()) || 100;

const running = new Set<PrivateProcess>();

export class PrivateProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  #log = '';

  constructor(name: string, command: string, args: readonly string[], cwd?: string) {
    this.name = name;
    this.#child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) });
    const keep = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString('utf8')).slice(-16_384);
    };
    this.#child.stdout?.on('data', keep);
    this.#child.stderr?.on('data', keep);
    this.#child.once('exit', () => running.delete(this));
    running.add(this);
  }

  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) throw new Error(`${this.name} did not start: ${this.#log}`);
    return pid;
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** The last 16 KiB of its standard output and error, for failure messages. */
  log(): string {
    return this.#log;
  }

  /**
   * User plus system CPU seconds it has used so far (/proc/<pid>/stat, fields 14 and 15; the name in
   * field 2 may hold spaces and parentheses, so the fields are counted after its closing one).
   */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }

  /** Polls `ready` every 100 ms until it holds; fails naming the process, with its log, after `limitMs`. */
  async waitReady(what: string, ready: () => Promise<boolean>, limitMs = 30_000): Promise<void> {
    const deadline = performance.now() + limitMs;
    while (!(await ready().catch(() => false))) {
      if (this.exited) throw new Error(`${this.name} exited before ${what}: ${this.#log}`);
      if (performance.now() > deadline)
        throw new Error(`${this.name}: ${what}: not within ${limitMs} ms: ${this.#log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGTERM, then SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGTERM');
    await within(`${this.name} (pid ${this.pid}) to exit after SIGTERM`, 15_000, exited).catch(async () => {
      this.#child.kill('SIGKILL');
      await within(`${this.name} (pid ${this.pid}) to exit after SIGKILL`, 5_000, exited);
    });
  }
}

/** Stops every private process still running, each by its own pid. */
export async function stopAllPrivate(): Promise<void> {
  await Promise.allSettled([...running].map((process) => process.stop()));
}
