import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { Range, type Etcd3 } from 'etcd3';
import { checkRootKey } from '../core/kv/root-key.ts';
import { accessRecipe, etcdctlCommands, type AccessRecipe, type Permission } from '../etcd/etcd-access.ts';
import { etcdFromConfig } from '../etcd/etcd-client.ts';
import { retryForever } from '../retry/retry-forever.ts';

interface SetupFlags {
  etcdEndpoints: string;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  rootKey: string;
  rootPasswordFile?: string;
  appproxyUser: string;
  appproxyPasswordFile?: string;
  traefikUser: string;
  traefikPasswordFile?: string;
  waitSeconds: string;
  print?: boolean;
}

function readSecret(option: string, path: string | undefined): string {
  if (path === undefined)
    throw new SetupError(`${option} is required (a file holding the password, such as a Docker secret)`);
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SetupError(
      `${option}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new SetupError(`${option}: ${path} is empty`);
  return password;
}

class SetupError extends Error {}

const AUTH_NOT_ENABLED = /authentication is not enabled/i;

function sameRange(a: Range, b: Range): boolean {
  return a.start.equals(b.start) && a.end.equals(b.end);
}

function rangeOf(permission: Permission): Range {
  return permission.prefix ? Range.prefix(permission.key) : new Range(permission.key, '');
}

/**
 * Whether `password` authenticates `name` now (false also while auth is not enabled yet: nobody holds a token then).
 */
async function passwordWorks(client: Etcd3, name: string, password: string): Promise<boolean> {
  try {
    await client.auth.authenticate({ name, password });
    return true;
  } catch {
    return false;
  }
}

/** Brings etcd's users, roles and rights to exactly the recipe, then enables auth. Every step is idempotent. */
async function applyRecipe(
  client: Etcd3,
  recipe: AccessRecipe,
  passwords: ReadonlyMap<string, string>,
  log: (line: string) => void,
): Promise<void> {
  const users = new Set((await client.getUsers()).map((user) => user.name));
  for (const user of recipe.users) {
    const password = passwords.get(user.name);
    if (!users.has(user.name)) {
      if (password === undefined)
        await client.auth.userAdd({ name: user.name, password: '', options: { no_password: true } });
      else await client.user(user.name).create(password);
      log(
        `user ${user.name}: created${password === undefined ? " (certificate only: its client certificate's CN)" : ''}`,
      );
    } else if (password !== undefined) {
      // etcd revokes every token of a user whose password is set, even to the one it had: a running
      // appproxy would lose its watch at each redeploy of the stack (which runs this again). So a
      // password that already authenticates is left alone.
      if (await passwordWorks(client, user.name, password)) {
        log(`user ${user.name}: password unchanged`);
      } else {
        await client.user(user.name).setPassword(password);
        log(`user ${user.name}: password set`);
      }
    }
  }
  const roles = new Set((await client.getRoles()).map((role) => role.name));
  for (const role of recipe.roles) {
    // etcd's root role is built in.
    if (role.name === 'root') continue;
    const handle = client.role(role.name);
    if (!roles.has(role.name)) await handle.create();
    const have = await handle.permissions();
    const want = role.permissions.map((permission) => ({ permission: permission.type, range: rangeOf(permission) }));
    const extra = have.filter(
      (granted) =>
        !want.some((wanted) => wanted.permission === granted.permission && sameRange(wanted.range, granted.range)),
    );
    const missing = want.filter(
      (wanted) =>
        !have.some((granted) => wanted.permission === granted.permission && sameRange(wanted.range, granted.range)),
    );
    for (const permission of extra) await handle.revoke({ permission: permission.permission, range: permission.range });
    for (const permission of missing) await handle.grant(permission);
    log(
      `role ${role.name}: ${role.permissions.map((permission) => `${permission.type.toLowerCase()} ${permission.key}${permission.prefix ? '*' : ''}`).join(', ')}${extra.length > 0 ? ` (${extra.length} other rights revoked)` : ''}`,
    );
  }
  for (const user of recipe.users) {
    const have = (await client.user(user.name).roles()).map((role) => role.name);
    for (const role of have) if (!user.roles.includes(role)) await client.user(user.name).removeRole(role);
    for (const role of user.roles) if (!have.includes(role)) await client.user(user.name).addRole(role);
  }
}

export function etcdSetupCommand(): Command {
  const command = new Command('etcd-setup')
    .summary("create etcd's users and roles for appproxy and Traefik, and enable auth")
    .description(
      "Brings etcd's users, roles and rights to exactly what appproxy and Traefik need for one root key, then " +
        'enables auth: root (administers), an appproxy user that reads and writes its keys (the root key, ' +
        '<root>/, appproxy/claims/<root>/, appproxy/owners/<root>/, appproxy/elections/<root>/, appproxy/ports/<root>/, appproxy/apps/<root>/) and nothing else, and a ' +
        'Traefik user that reads the prefix <root> only. Without --traefik-password-file the Traefik user has no ' +
        "password and is authenticated by its client certificate (etcd's --client-cert-auth: the certificate's CN " +
        'is the user name). Idempotent: run it again after changing a password file. Waits for etcd to answer ' +
        '(--wait-seconds). Passwords come from files (Docker secrets), never from flags. --print shows the same as ' +
        'etcdctl commands and connects to nothing.\n\nExit status: 0 done, 1 failed (the message says what), 2 bad options.',
    )
    .addOption(
      new Option('--etcd-endpoints <list>', 'etcd endpoints, comma-separated')
        .env('APPPROXY_ETCD_ENDPOINTS')
        .default('http://127.0.0.1:2379'),
    )
    .addOption(new Option('--etcd-ca <file>', 'CA certificate file for etcd TLS').env('APPPROXY_ETCD_CA'))
    .addOption(
      new Option('--etcd-cert <file>', 'client certificate file (etcd --client-cert-auth)').env('APPPROXY_ETCD_CERT'),
    )
    .addOption(new Option('--etcd-key <file>', 'client key file').env('APPPROXY_ETCD_KEY'))
    .addOption(
      new Option('--root-key <key>', "Traefik's providers.etcd.rootKey").env('APPPROXY_ROOT_KEY').default('traefik'),
    )
    .addOption(
      new Option('--root-password-file <file>', "file holding etcd's root password").env('ETCD_ROOT_PASSWORD_FILE'),
    )
    .addOption(
      new Option('--appproxy-user <name>', "appproxy's etcd user").env('APPPROXY_ETCD_USERNAME').default('appproxy'),
    )
    .addOption(
      new Option('--appproxy-password-file <file>', "file holding appproxy's password").env(
        'APPPROXY_ETCD_PASSWORD_FILE',
      ),
    )
    .addOption(
      new Option('--traefik-user <name>', "Traefik's etcd user").env('TRAEFIK_ETCD_USERNAME').default('traefik'),
    )
    .addOption(
      new Option(
        '--traefik-password-file <file>',
        "file holding Traefik's password (default: no password, certificate only)",
      ).env('TRAEFIK_ETCD_PASSWORD_FILE'),
    )
    .addOption(new Option('--wait-seconds <n>', 'how long to wait for etcd to answer').default('120'))
    .option('--print', 'print the etcdctl commands that do the same, and exit');
  command.action(async (flags: SetupFlags) => {
    const say = (line: string) => process.stdout.write(`etcd-setup: ${line}\n`);
    try {
      const rootKeyProblem = checkRootKey(flags.rootKey);
      if (rootKeyProblem !== undefined) throw new SetupError(`--root-key: ${rootKeyProblem}`);
      const recipe = accessRecipe({
        rootKey: flags.rootKey,
        appproxyUser: flags.appproxyUser,
        traefikUser: flags.traefikUser,
        traefikPassword: flags.traefikPasswordFile !== undefined,
      });
      if (flags.print === true) {
        process.stdout.write(`${etcdctlCommands(recipe).join('\n')}\n`);
        return;
      }
      const passwords = new Map<string, string>([
        ['root', readSecret('--root-password-file', flags.rootPasswordFile)],
        [flags.appproxyUser, readSecret('--appproxy-password-file', flags.appproxyPasswordFile)],
      ]);
      if (flags.traefikPasswordFile !== undefined)
        passwords.set(flags.traefikUser, readSecret('--traefik-password-file', flags.traefikPasswordFile));
      const waitSeconds = Number(flags.waitSeconds);
      if (!Number.isInteger(waitSeconds) || waitSeconds < 1)
        throw new SetupError('--wait-seconds: a whole number of seconds, at least 1');
      const connection = {
        endpoints: flags.etcdEndpoints.split(',').map((endpoint) => endpoint.trim()),
        ...(flags.etcdCa === undefined ? {} : { ca: flags.etcdCa }),
        ...(flags.etcdCert === undefined ? {} : { cert: flags.etcdCert }),
        ...(flags.etcdKey === undefined ? {} : { key: flags.etcdKey }),
        timeoutSeconds: 10,
      };
      const asRoot = etcdFromConfig({ ...connection, username: 'root', password: passwords.get('root') ?? '' });
      const plain = etcdFromConfig(connection);
      try {
        // Once auth is on, only root may do this; before, root does not authenticate yet.
        const client = await retryForever(
          async () => {
            try {
              await asRoot.getRoles();
              return asRoot;
            } catch (error) {
              if (!AUTH_NOT_ENABLED.test((error as Error).message)) throw error;
              await plain.getRoles();
              return plain;
            }
          },
          {
            minMs: 500,
            maxMs: 3000,
            signal: AbortSignal.timeout(waitSeconds * 1000),
            isFatal: (error) =>
              /authentication failed|invalid auth token|permission denied/i.test((error as Error).message),
            onFailure: (error, retryInMs) =>
              say(`etcd not ready (${(error as Error).message}); again in ${retryInMs} ms`),
          },
        );
        const enabled = client === asRoot;
        await applyRecipe(client, recipe, passwords, say);
        if (!enabled) {
          await plain.auth.authEnable();
          say('auth enabled');
        } else {
          say('auth was already enabled');
        }
      } finally {
        asRoot.close();
        plain.close();
      }
      say('done');
    } catch (error) {
      process.stderr.write(`appproxy etcd-setup: ${(error as Error).message}\n`);
      process.exitCode = error instanceof SetupError ? 2 : 1;
    }
  });
  return command;
}
