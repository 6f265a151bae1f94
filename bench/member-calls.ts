// Run inside a container of a test engine by bench/member-name-stall.ts: `put` calls back to back
// for a while through the etcd client of the project at ROOT, whose endpoints are one live member
// (`member-a`) and GONE names that Docker's embedded DNS does not know (it forwards them to an
// upstream that never answers). Prints one JSON line: calls, failed, p50, p99, max (ms).
//
//   node bench/member-calls.ts ROOT GONE SECONDS
const [root = '/repo', goneArg = '1', secondsArg = '30'] = process.argv.slice(2);
const gone = Number(goneArg);
const { etcdFromConfig } = (await import(
  `${root}/src/etcd/etcd-client.ts`
)) as typeof import('../src/etcd/etcd-client.ts');
const endpoints = [...Array.from({ length: gone }, (_, index) => `gone-${index + 1}:2379`), 'member-a:2379'];
const client = etcdFromConfig({ endpoints, timeoutSeconds: 10 } as Parameters<typeof etcdFromConfig>[0]);
const start = performance.now();
const times: number[] = [];
const failures: string[] = [];
while (performance.now() - start < Number(secondsArg) * 1000) {
  const called = performance.now();
  try {
    await client.put('appproxy-bench/member-calls').value(String(called));
  } catch (error) {
    const at = ((performance.now() - start) / 1000).toFixed(1);
    failures.push(
      `${at} s, after ${Math.round(performance.now() - called)} ms: ${(error as Error).message.slice(0, 160)}`,
    );
  }
  times.push(performance.now() - called);
}
client.close();
times.sort((a, b) => a - b);
const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(times.length * q))] ?? 0);
process.stdout.write(
  `${JSON.stringify({ calls: times.length, failed: failures.length, p50: at(0.5), p99: at(0.99), max: Math.round(times.at(-1) ?? 0), failures: failures.slice(0, 5) })}\n`,
);
process.exit(0);
