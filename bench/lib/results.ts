// Every benchmark writes bench/results/<name>.json (figures and raw data) and <name>.md (a table
// for people), and prints the table.
import { mkdirSync, writeFileSync } from 'node:fs';

export const resultsDir = new URL('../results/', import.meta.url).pathname;

export function writeResult(name: string, result: Record<string, unknown>, table: readonly string[]): void {
  const measured = new Date().toISOString();
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(`${resultsDir}${name}.json`, `${JSON.stringify({ measured, ...result }, null, 2)}\n`);
  const text = [...table, '', `Measured ${measured}.`].join('\n');
  writeFileSync(`${resultsDir}${name}.md`, `${text}\n`);
  process.stdout.write(`\n${text}\n`);
}
