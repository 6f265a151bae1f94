// A Swarm stack on the multi-node cluster of the test environment (`test-env.sh swarm`), seen node
// by node: each node's engine, each node's task of a global service, each node's Traefik. Every
// call is limited, and a failure names the node (and, for waits, the stack's tasks), so that a test
// of several nodes says which node did not do what.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestNode } from './env.ts';
import { waitFor } from './traefik-api.ts';

const run = promisify(execFile);

export class ClusterStack {
  /** The stack's name (`docker stack deploy ... <name>`). */
  readonly name: string;
  /** The cluster, the first a manager (where Swarm calls go). */
  readonly nodes: readonly TestNode[];
  /** The environment of docker calls (the stack file's variables when deploying). */
  env: NodeJS.ProcessEnv;

  constructor(name: string, nodes: readonly TestNode[], env: NodeJS.ProcessEnv) {
    this.name = name;
    this.nodes = nodes;
    this.env = env;
  }

  get manager(): TestNode {
    const node = this.nodes[0];
    if (node === undefined) throw new Error(`stack ${this.name}: no nodes`);
    return node;
  }

  /** docker against one node's engine (2 minutes at most); the error names the node and the command. */
  async docker(node: TestNode, ...args: string[]): Promise<string> {
    try {
      return (
        await run('docker', ['-H', `unix://${node.dockerSocket}`, ...args], {
          env: this.env,
          maxBuffer: 16 * 1024 * 1024,
          timeout: 120_000,
          killSignal: 'SIGKILL',
        })
      ).stdout;
    } catch (error) {
      const { stderr = '', message } = error as { stderr?: string; message: string };
      throw new Error(`${node.name}: docker ${args.join(' ')} failed: ${stderr.trim() || message}`, { cause: error });
    }
  }

  /**
   * A labelled standalone (non-Swarm) container on `node`: busybox httpd answering `body`, published
   * on `port`, routed by `Host(host)` through router and service `router` on the `web` entry point.
   */
  async runStandalone(
    node: TestNode,
    options: {
      name: string;
      image: string;
      port: number;
      host: string;
      router: string;
      body: string;
      restartAlways?: boolean;
    },
  ): Promise<void> {
    const { name, image, port, host, router, body } = options;
    await this.docker(
      node,
      'run',
      '-d',
      ...(options.restartAlways === true ? ['--restart', 'always'] : []),
      '--name',
      name,
      '-p',
      `${port}:8080`,
      '--label',
      'appproxy.enable=true',
      '--label',
      `appproxy.http.routers.${router}.rule=Host(\`${host}\`)`,
      '--label',
      `appproxy.http.routers.${router}.entrypoints=web`,
      '--label',
      `appproxy.http.services.${router}.loadbalancer.server.port=8080`,
      image,
      'sh',
      '-c',
      `echo '${body}' > /var/www/index.html && exec httpd -f -p 8080 -h /var/www`,
    );
  }

  /** `docker stack ps` on the manager, for failure messages: where each task is and why it is not running. */
  async tasks(): Promise<string> {
    return this.docker(
      this.manager,
      'stack',
      'ps',
      this.name,
      '--no-trunc',
      '--format',
      '{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}',
    ).catch((error: unknown) => String(error));
  }

  /** waitFor, with the stack's tasks in the failure. `what` should name the scenario and the node. */
  async waitFor<T>(what: string, check: () => Promise<T | undefined>, limitMs: number): Promise<T> {
    try {
      return await waitFor(what, check, limitMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nstack tasks:\n${await this.tasks()}`, { cause: error });
    }
  }

  /** The one running container of a service on a node (a global service has one a node). */
  async taskContainer(node: TestNode, service: string): Promise<string> {
    const ids = (
      await this.docker(node, 'ps', '-q', '--filter', `label=com.docker.swarm.service.name=${this.name}_${service}`)
    )
      .split('\n')
      .filter((id) => id !== '');
    assert.equal(ids.length, 1, `${node.name}: one running container of ${this.name}_${service}, found ${ids.length}`);
    return ids[0] as string;
  }

  /** A node's Traefik API (not published): asked from inside that node's `traefik` task on port 8080. */
  async traefikApi(node: TestNode, path: string): Promise<unknown> {
    return JSON.parse(
      await this.docker(
        node,
        'exec',
        await this.taskContainer(node, 'traefik'),
        'wget',
        '-qO-',
        `http://127.0.0.1:8080${path}`,
      ),
    );
  }

  /**
   * What a node's Traefik says of itself, for a failure message: its TCP connections to etcd (state,
   * peer, keep-alive timer, read in its network namespace from the host) and its last log lines
   * other than health checks. Never throws: what cannot be read is said.
   */
  async traefikState(node: TestNode): Promise<string> {
    try {
      const traefik = await this.taskContainer(node, 'traefik');
      const pid = (await this.docker(node, 'inspect', '--format', '{{.State.Pid}}', traefik)).trim();
      const { stdout: connections } = await run(
        'nsenter',
        [`--net=/proc/${pid}/ns/net`, 'ss', '-tnoH', 'state', 'all', '( dport = :2379 )'],
        { timeout: 10_000, killSignal: 'SIGKILL' },
      );
      const logs = await run(
        'docker',
        ['-H', `unix://${node.dockerSocket}`, 'logs', '--timestamps', '--tail', '400', traefik],
        {
          env: this.env,
          maxBuffer: 16 * 1024 * 1024,
          timeout: 30_000,
          killSignal: 'SIGKILL',
        },
      );
      const lines = `${logs.stdout}${logs.stderr}`
        .split('\n')
        .filter((line) => line !== '' && !line.includes('Health check'))
        .slice(-12);
      return `${node.name}'s Traefik (${traefik.slice(0, 12)}): etcd connections:\n${connections.trim() || '(none)'}\nlast log lines:\n${lines.join('\n')}`;
    } catch (error) {
      return `${node.name}'s Traefik: unreadable (${error instanceof Error ? error.message : String(error)})`;
    }
  }

  /** The server URLs of a service (`name@provider`) in a node's Traefik, sorted; none when it is missing. */
  async serverUrls(node: TestNode, service: string): Promise<string[]> {
    const found = (await this.traefikApi(node, `/api/http/services/${service}`).catch(() => undefined)) as
      { loadBalancer?: { servers?: { url: string }[] } } | undefined;
    return (found?.loadBalancer?.servers ?? []).map((server) => server.url).sort();
  }

  /** The host names of the nodes running a service's tasks, one per running task, sorted. */
  async taskNodes(service: string): Promise<string[]> {
    const lines = await this.docker(
      this.manager,
      'service',
      'ps',
      `${this.name}_${service}`,
      '--filter',
      'desired-state=running',
      '--format',
      '{{.Node}} {{.CurrentState}}',
    );
    return lines
      .split('\n')
      .filter((line) => / Running /.test(`${line} `))
      .map((line) => line.split(' ')[0] as string)
      .sort();
  }

  /**
   * The stack's services Swarm has not settled, each with why: fewer or more running tasks than it
   * wants, a task it wants running that is not (Pending, Starting), or two running tasks for one
   * slot. Empty when every service runs exactly what it should.
   */
  async unsettled(): Promise<string[]> {
    const services = (
      await this.docker(
        this.manager,
        'service',
        'ls',
        '--filter',
        `label=com.docker.stack.namespace=${this.name}`,
        '--format',
        '{{.Name}} {{.Replicas}}',
      )
    )
      .split('\n')
      .filter((line) => line !== '');
    // Every task Swarm remembers (the desired state too: a task told to shut down may still run).
    const tasks = (
      await this.docker(
        this.manager,
        'stack',
        'ps',
        this.name,
        '--format',
        '{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}}',
      )
    )
      .split('\n')
      .filter((line) => line !== '');
    // A one-shot service (etcd-setup: restarted on failure only) is settled once its task completed.
    const oneShot = new Set(
      services.length === 0
        ? []
        : (
            await this.docker(
              this.manager,
              'service',
              'inspect',
              '--format',
              '{{.Spec.Name}} {{.Spec.TaskTemplate.RestartPolicy.Condition}}',
              ...services.map((line) => line.split(' ')[0] as string),
            )
          )
            .split('\n')
            .filter((line) => / (none|on-failure)$/.test(line))
            .map((line) => line.split(' ')[0]),
    );
    const found: string[] = [];
    for (const line of services) {
      const [service = '', replicas = ''] = line.split(' ');
      const [running, wanted] = replicas.split('/');
      if (running !== wanted && !oneShot.has(service)) found.push(`${service}: ${replicas} running`);
    }
    const slots = new Map<string, string[]>();
    for (const line of tasks) {
      const [slot = '', node = '', desired = '', state = ''] = line.split(' ');
      if (desired === 'Running' && state !== 'Running') found.push(`${slot} on ${node || '(no node)'}: ${state}`);
      if (state === 'Running') slots.set(slot, [...(slots.get(slot) ?? []), node]);
    }
    for (const [slot, nodes] of slots) {
      if (nodes.length > 1) found.push(`${slot}: ${nodes.length} tasks running (${nodes.join(', ')})`);
    }
    found.push(...(await this.managersUnsettled()));
    return found;
  }

  /**
   * Managers whose own engine does not act as one yet. After a demotion and promotion, or a heal,
   * `docker node ls` may list a node as a manager while that node's engine still says it controls
   * nothing (ControlAvailable false, or no cluster): its appproxy then stands in no election. In
   * one run both other managers' engines said so for three minutes, and a scenario that cut the
   * Swarm writer's node found nobody left to take over. Each entry begins with `Swarm: ` (waited
   * for, never mended by updating a service).
   */
  async managersUnsettled(): Promise<string[]> {
    const listed = (await this.docker(this.manager, 'node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}'))
      .split('\n')
      .filter((line) => line !== '');
    const found: string[] = [];
    for (const node of this.nodes) {
      const status = listed.find((line) => line.split(' ')[0] === node.name)?.split(' ')[1] ?? '';
      if (status === '') continue; // a worker
      if (status === 'Unreachable') {
        found.push(`Swarm: ${node.name}, a manager, unreachable`);
        continue;
      }
      const own = (
        await this.docker(node, 'info', '--format', '{{.Swarm.ControlAvailable}} {{.Swarm.Cluster.ID}}').catch(
          (error: unknown) => `unanswered: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        )
      ).trim();
      if (!/^true \S+$/.test(own))
        found.push(`Swarm: ${node.name}, a manager (${status}), whose engine does not act as one (${own})`);
    }
    return found;
  }

  /**
   * Waits (`limitMs`) until Swarm has settled the stack by itself and kept it so for `stableMs` (a
   * node back from a partition reports the tasks it restarted on its own a minute later: two tasks
   * for a slot, seen in two runs). If it does not, Swarm 20.10 after a healed partition has kept a
   * slot's task Pending on a host-mode port, or two tasks for a slot, for many minutes: forces an
   * update of each unsettled service, one at a time, and waits again. The scenarios after a fault
   * start from a settled cluster; the returned notes say what was needed.
   */
  async settle(what: string, limitMs: number, stableMs = 30_000): Promise<string[]> {
    const started = performance.now();
    let settledSince: number | undefined;
    let left: string[];
    for (;;) {
      // A manager that answers nothing, or a Swarm electing its leader after a heal, is not settled yet.
      left = await this.unsettled().catch((error: unknown) => [
        `Swarm: ${error instanceof Error ? error.message : String(error)}`,
      ]);
      const now = performance.now();
      if (left.length > 0) settledSince = undefined;
      else if (now - (settledSince ??= now) >= stableMs) return [];
      if (now - started >= limitMs) break;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    // Settled at the limit, though not for long: as good as it gets.
    if (left.length === 0) return [];
    // Only a service's own state is mended by updating it; a Swarm without a leader is waited for.
    const services = [
      ...new Set(
        left.filter((entry) => !entry.startsWith('Swarm: ')).map((entry) => entry.split(/[.: ]/)[0] as string),
      ),
    ];
    for (const service of services) {
      await this.docker(this.manager, 'service', 'update', '--force', '--detach', service);
    }
    await this.waitFor(
      `${what}: Swarm running every task of the stack once${services.length > 0 ? ` after a forced update of ${services.join(', ')}` : ''} (it had not within ${limitMs / 1000} s: ${left.join('; ')})`,
      async () => ((await this.unsettled().catch(() => ['unanswered'])).length === 0 ? true : undefined),
      180_000,
    );
    return [
      `Swarm had not settled ${((performance.now() - started) / 1000).toFixed(0)} s into the set-up (${left.join('; ')})${services.length > 0 ? `: forced an update of ${services.join(', ')}` : ''}`,
    ];
  }

  /**
   * Removes the stack, waits until no node has a container of it, and removes its volumes on every
   * node (each node keeps its own: an etcd member that found an old cluster's data would not join a
   * new one) and the secrets labelled `appproxy.secret=true`. Any state is fine: no Swarm, no stack.
   */
  async remove(): Promise<void> {
    const manager =
      (await this.docker(this.manager, 'info', '--format', '{{.Swarm.ControlAvailable}}')).trim() === 'true';
    if (manager) {
      // A manager busy electing a leader (after a partition, a demotion) refuses for a moment: again.
      await this.waitFor(
        `clean-up: docker stack rm ${this.name}`,
        async () => {
          const stacks = await this.docker(this.manager, 'stack', 'ls', '--format', '{{.Name}}');
          if (!stacks.split('\n').includes(this.name)) return true;
          await this.docker(this.manager, 'stack', 'rm', this.name);
          return undefined;
        },
        60_000,
      );
      for (const node of this.nodes) {
        await this.waitFor(
          `clean-up: ${node.name} without containers of stack ${this.name}`,
          async () =>
            (
              await this.docker(node, 'ps', '-aq', '--filter', `label=com.docker.stack.namespace=${this.name}`)
            ).trim() === ''
              ? true
              : undefined,
          120_000,
        );
      }
      const secrets = (
        await this.docker(
          this.manager,
          'secret',
          'ls',
          '--filter',
          'label=appproxy.secret=true',
          '--format',
          '{{.Name}}',
        )
      )
        .split('\n')
        .filter((name) => name !== '');
      if (secrets.length > 0) await this.docker(this.manager, 'secret', 'rm', ...secrets);
    }
    for (const node of this.nodes) {
      const volumes = (
        await this.docker(node, 'volume', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${this.name}`)
      )
        .split('\n')
        .filter((name) => name !== '');
      if (volumes.length > 0) {
        await this.waitFor(
          `clean-up: ${node.name} removing its volumes ${volumes.join(', ')}`,
          async () =>
            this.docker(node, 'volume', 'rm', ...volumes).then(
              () => true,
              () => undefined,
            ),
          60_000,
        );
      }
    }
  }
}
