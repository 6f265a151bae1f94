// The tests' own client of the test engine, and the one way they remove containers in bulk.
import Dockerode from 'dockerode';
import pLimit from 'p-limit';
import { testEnv } from './env.ts';
import { limitDockerCalls } from './limited-dockerode.ts';

/** A test's Docker call may take this long: the engine is shared and busy, but never this slow when healthy. */
export const TEST_DOCKER_LIMIT_MS = 60_000;

/**
 * Engine calls that create, stop or remove containers run at most this many at a time. Debian's
 * engine 20.10 stopped answering for good after 48 parallel force-removes ("cleaning up after shim
 * disconnected", then every call hung); a few at a time is as fast on 2 cores and never wedges it.
 */
export const ENGINE_CONCURRENCY = 4;

/**
 * A client of the test engine whose every call is limited (a plain call to its whole answer, a stream to its headers).
 */
export function testDocker(limitMs = TEST_DOCKER_LIMIT_MS): Dockerode {
  return limitDockerCalls(new Dockerode({ socketPath: testEnv.dockerSocket }), limitMs);
}

/**
 * Runs `fn` over `items` with at most ENGINE_CONCURRENCY calls in flight; resolves when all are settled, keeping order.
 */
export async function forEachLimited<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const limit = pLimit(ENGINE_CONCURRENCY);
  return Promise.all(items.map((item) => limit(() => fn(item))));
}

/**
 * Removes containers the way a careful operator does: stop (with a short grace), then remove, a
 * few at a time. Errors (already gone, already stopped) are ignored: the goal is "not there".
 */
export async function removeContainers(docker: Dockerode, ids: readonly string[]): Promise<void> {
  await forEachLimited(ids, async (id) => {
    const container = docker.getContainer(id);
    await container.stop({ t: 1 }).catch(() => undefined);
    await container.remove({ force: true, v: true }).catch(() => undefined);
  });
}

/** Removes every container (running or not) that matches the label filters, e.g. `['appproxy-fault-test']`. */
export async function removeLabelled(docker: Dockerode, labels: readonly string[]): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [...labels] } });
  await removeContainers(
    docker,
    containers.map((info) => info.Id),
  );
}
