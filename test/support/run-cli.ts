import { spawn } from 'node:child_process';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const cli = new URL('../../src/cli.ts', import.meta.url).pathname;

/** How long one CLI run may take: `render` and `explain` against a busy engine take seconds. */
const CLI_LIMIT_MS = 60_000;

/**
 * Runs `appproxy <args>` with this Node (24), feeding `input` on standard input; killed, and failing with what it
 * printed, after `limitMs`.
 */
export function runCli(
  args: readonly string[],
  input?: string,
  env: NodeJS.ProcessEnv = process.env,
  limitMs = CLI_LIMIT_MS,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`appproxy ${args.join(' ')}: no exit within ${limitMs} ms; it printed:\n${stdout}${stderr}`));
    }, limitMs);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}
