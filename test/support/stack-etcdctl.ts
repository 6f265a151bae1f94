/** Where a deployed stack's etcd is reached from a throwaway container. */
export interface StackEtcd {
  /** The stack's name: its control network is `<stack>_control`. */
  readonly stack: string;
  /** The directory scripts/stack-secrets.sh wrote (ca.crt, root.crt, passwords, ...), mounted at /s. */
  readonly secretsDir: string;
  /** An image with etcdctl (the stack's etcd image). */
  readonly image: string;
  /** The members' names on the control network. */
  readonly members: readonly string[];
}

/**
 * etcdctl in a throwaway container on the stack's control network, with the secrets' files, run by
 * `run` (a `docker` of the caller's engine, given the arguments after `docker`). A refusal is an
 * outcome, not an error: the tests assert what etcd refused and why.
 */
export async function stackEtcdctl(
  run: (args: string[]) => Promise<string>,
  etcd: StackEtcd,
  credentials: readonly string[],
  args: readonly string[],
): Promise<{ ok: boolean; output: string }> {
  try {
    const output = await run([
      'run',
      '--rm',
      '--network',
      `${etcd.stack}_control`,
      '-v',
      `${etcd.secretsDir}:/s:ro`,
      '--entrypoint',
      'etcdctl',
      etcd.image,
      `--endpoints=${etcd.members.map((member) => `https://${member}:2379`).join(',')}`,
      '--cacert=/s/ca.crt',
      '--dial-timeout=5s',
      '--command-timeout=5s',
      ...credentials,
      ...args,
    ]);
    return { ok: true, output };
  } catch (error) {
    const {
      stdout = '',
      stderr = '',
      message = String(error),
    } = error as {
      stdout?: string;
      stderr?: string;
      message?: string;
    };
    return { ok: false, output: `${stdout}${stderr}` || message };
  }
}
