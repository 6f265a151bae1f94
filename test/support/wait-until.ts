/** Polls `condition` every few milliseconds until it holds; fails after `limitMs`, saying what it waited for. */
export async function waitUntil(what: string, condition: () => boolean, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
