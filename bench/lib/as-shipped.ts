// Running a benchmark's own code as the image runs appproxy: compiled JavaScript (not through Node's
// type stripping, which adds its own memory) and with the Node options of the image's ENTRYPOINT,
// read from the Dockerfile itself so that a benchmark never measures options the image does not use.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url).pathname;

/** Where tsconfig.bench.json compiles src/ and bench/ (node_modules is found from there). */
const BUILD_DIR = `${root}.tmp/bench-build/`;

/**
 * The options the image gives Node before its script: `ENTRYPOINT ["node", <options>, "/app/dist/cli.js"]`.
 * A Dockerfile whose ENTRYPOINT has another form fails loudly: a benchmark would measure something else.
 */
export function imageNodeOptions(): string[] {
  const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const words = line === undefined ? undefined : (JSON.parse(line) as unknown);
  if (!Array.isArray(words) || words[0] !== 'node' || words.at(-1) !== '/app/dist/cli.js')
    throw new Error(
      `the Dockerfile's ENTRYPOINT is not ["node", <options>, "/app/dist/cli.js"] (found ${line ?? 'none'}): say in bench/lib/as-shipped.ts how the image runs appproxy`,
    );
  return (words as string[]).slice(1, -1);
}

/**
 * Compiles src/ and bench/ (tsconfig.bench.json) and returns the compiled form of `benchScript`
 * (a path under bench/, such as `bench/scale.ts`).
 */
export function compiledBench(benchScript: string): string {
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.bench.json`], {
    stdio: 'inherit',
    timeout: 300_000,
  });
  return `${BUILD_DIR}${benchScript.replace(/\.ts$/, '.js')}`;
}
