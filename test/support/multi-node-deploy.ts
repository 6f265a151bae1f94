// The shipped stack on the test environment's multi-node Swarm, deployed as a user would: the
// cluster (`TEST_NODES=3 bash scripts/test-env.sh swarm`), the project's images, the secrets
// (scripts/stack-secrets.sh), and `docker stack deploy` of stacks/appproxy.yml with
// stacks/etcd-cluster.yml and an override of what an operator of several hosts sets (each appproxy
// advertises its node by host name; Traefik resolves the node names, as real hosts' DNS would), plus
// whatever a test file adds. `down` removes the stack and returns node 1 to what the rest of the
// suite expects (up, in no Swarm). Every step is limited and a failure names the step and the node.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ClusterStack } from './cluster-stack.ts';
import { clusterNodes, nodeSocketTemplate, requireTestEnv, testEnv, type TestNode } from './env.ts';
import { stackEtcdctl } from './stack-etcdctl.ts';
import { fetchWithin } from './within.ts';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

export interface MultiNodeOptions {
  /** The stack's name (`docker stack deploy ... <name>`). */
  readonly name: string;
  /** Traefik's host-mode port on each node's address. */
  readonly port: number;
  /** Overrides of the test file's own, deployed after the shipped files and the operator's. */
  readonly extraFiles?: readonly { readonly name: string; readonly text: string }[];
}

export class MultiNodeDeploy {
  readonly nodes: readonly TestNode[] = clusterNodes(3);
  readonly options: MultiNodeOptions;
  readonly workDir: string;
  readonly secretsDir: string;
  readonly scriptEnv: NodeJS.ProcessEnv;
  readonly stack: ClusterStack;

  constructor(options: MultiNodeOptions) {
    this.options = options;
    this.workDir = `${testEnv.stateDir}/${options.name}`;
    this.secretsDir = `${this.workDir}/secrets`;
    this.scriptEnv = { ...process.env, ...testEnv.scriptEnv, TEST_NODES: String(this.nodes.length) };
    this.stack = new ClusterStack(options.name, this.nodes, this.scriptEnv);
  }

  /** Traefik's entry point on a node's address. */
  base(node: TestNode): string {
    return `http://${node.address}:${this.options.port}`;
  }

  docker(node: TestNode, ...args: string[]): Promise<string> {
    return this.stack.docker(node, ...args);
  }

  /** A script of the project, limited; the error names it and shows the end of its output. */
  async script(
    what: string,
    args: string[],
    limitMs: number,
    env: NodeJS.ProcessEnv = this.scriptEnv,
  ): Promise<string> {
    try {
      return (
        await run('bash', args, {
          cwd: root,
          env,
          timeout: limitMs,
          killSignal: 'SIGKILL',
          maxBuffer: 16 * 1024 * 1024,
        })
      ).stdout;
    } catch (error) {
      const { stdout = '', stderr = '', message } = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `${what} failed (limit ${limitMs / 1000} s): ${message}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`,
        { cause: error },
      );
    }
  }

  /** etcdctl in a throwaway container on the stack's control network (from `from`, node 1 by default). */
  etcdctl(
    credentials: string[],
    args: string[],
    from: TestNode = this.stack.manager,
  ): Promise<{ ok: boolean; output: string }> {
    const etcd = {
      stack: this.options.name,
      secretsDir: this.secretsDir,
      image: this.stack.env['ETCD_IMAGE'] ?? '',
      members: ['etcd', 'etcd-2', 'etcd-3'],
    };
    return stackEtcdctl((command) => this.docker(from, ...command), etcd, credentials, args);
  }

  /** etcd's root user, by certificate and password (the files stack-secrets.sh wrote). */
  rootCredentials(): string[] {
    return [
      '--cert=/s/root.crt',
      '--key=/s/root.key',
      `--user=root:${readFileSync(`${this.secretsDir}/root.password`, 'utf8').trim()}`,
    ];
  }

  /** The cluster (three managers), the images, the secrets, the stack; then every node's Traefik serving the demo. */
  async up(log: (line: string) => void): Promise<void> {
    await requireTestEnv();
    mkdirSync(this.workDir, { recursive: true });
    let started = performance.now();
    await this.script(
      'cluster: TEST_NODES=3 bash scripts/test-env.sh swarm --managers 3',
      ['scripts/test-env.sh', 'swarm', '--managers', '3'],
      1_200_000,
    );
    log(`cluster ready (3 managers, images on every node) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const images = await this.script(
      'images: scripts/build-images.sh --print-env',
      ['scripts/build-images.sh', '--print-env'],
      60_000,
    );
    this.stack.env = {
      ...this.scriptEnv,
      ...Object.fromEntries(
        images
          .split('\n')
          .filter((line) => line.includes('='))
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      ),
      DOCKER_HOST: `unix://${this.stack.manager.dockerSocket}`,
      APPPROXY_SECRETS_DIR: this.secretsDir,
      ETCD_ENDPOINTS: 'etcd:2379,etcd-2:2379,etcd-3:2379',
      HTTP_PORT: String(this.options.port),
      DEMO_REPLICAS: '3',
      DOCKER_SOCKET: nodeSocketTemplate,
    };
    await this.#removeStack();
    rmSync(this.secretsDir, { recursive: true, force: true });
    await this.script('deploy: scripts/stack-secrets.sh', ['scripts/stack-secrets.sh'], 120_000, this.stack.env);
    const files = ['stacks/appproxy.yml', 'stacks/etcd-cluster.yml', this.#writeOverride()];
    for (const extra of this.options.extraFiles ?? []) {
      const path = `${this.workDir}/${extra.name}`;
      writeFileSync(path, extra.text);
      files.push(path);
    }
    started = performance.now();
    await this.docker(
      this.stack.manager,
      'stack',
      'deploy',
      '--resolve-image',
      'never',
      ...files.flatMap((file) => ['-c', file]),
      this.options.name,
    );
    for (const node of this.nodes) {
      await this.stack.waitFor(
        `deploy: ${node.name}'s Traefik (${this.base(node)}) serving the demo's /wsk/health`,
        async () => {
          const reply = await fetchWithin(`${this.base(node)}/wsk/health`, {}, 3000).catch(() => undefined);
          return reply?.status === 200 ? true : undefined;
        },
        300_000,
      );
    }
    log(
      `stack answering through every node's Traefik ${((performance.now() - started) / 1000).toFixed(1)} s after docker stack deploy`,
    );
    for (const node of this.nodes) {
      await this.stack.waitFor(
        `deploy: ${node.name}'s Traefik with 3 chat servers`,
        async () => ((await this.stack.serverUrls(node, 'chat@etcd')).length === 3 ? true : undefined),
        120_000,
      );
    }
  }

  /** The stack and any container named `<stack>-*` removed, the cluster dissolved (node 1 stays up). */
  async down(): Promise<void> {
    await this.#removeStack().catch((error: unknown) => console.error(error));
    await this.script(
      'teardown: TEST_NODES=3 bash scripts/test-env.sh swarm-down',
      ['scripts/test-env.sh', 'swarm-down'],
      300_000,
    ).catch((error: unknown) => console.error(error));
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** The stack, and the test's own containers (named `<stack>-...`) on every node. */
  async #removeStack(): Promise<void> {
    for (const node of this.nodes) {
      const own = (await this.docker(node, 'ps', '-aq', '--filter', `name=^${this.options.name}-`).catch(() => ''))
        .split('\n')
        .filter((id) => id !== '');
      if (own.length > 0) await this.docker(node, 'rm', '-f', ...own).catch(() => undefined);
    }
    await this.stack.remove();
  }

  /** What an operator of several hosts adds over the shipped files. */
  #writeOverride(): string {
    const path = `${this.workDir}/multi-node.yml`;
    const hosts = this.nodes.map((node) => `      - "${node.name}:${node.address}"`).join('\n');
    writeFileSync(
      path,
      `version: "3.8"
services:
  appproxy:
    environment:
      APPPROXY_ADVERTISE_ADDRESS: "{{.Node.Hostname}}"
  traefik:
    extra_hosts:
${hosts}
`,
    );
    return path;
  }
}
