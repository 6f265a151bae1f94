import { KeyLayout } from '../sync/key-layout.ts';

/**
 * The etcd users, roles and rights of one root key, derived from the key layout (so that the
 * rights can never drift from where appproxy writes): appproxy's user reads and writes its keys
 * and nothing else; Traefik's user reads the root key's prefix only, so that a stolen Traefik
 * credential changes nothing; root administers. `appproxy etcd-setup` applies it, `--print` shows
 * it as etcdctl commands.
 */
export interface AccessRecipe {
  readonly roles: readonly { readonly name: string; readonly permissions: readonly Permission[] }[];
  readonly users: readonly {
    readonly name: string;
    readonly roles: readonly string[];
    readonly password: 'file' | 'none';
  }[];
}

export interface Permission {
  readonly type: 'Read' | 'Readwrite';
  readonly key: string;
  /** The key is a prefix: every key that starts with it. */
  readonly prefix: boolean;
}

export interface AccessNames {
  readonly rootKey: string;
  readonly appproxyUser: string;
  readonly traefikUser: string;
  /** Traefik's user has a password (else it is a certificate-only user: its client certificate's CN). */
  readonly traefikPassword: boolean;
}

/** A role name from a root key: `traefik/worker_a` → `traefik-worker_a`. */
function roleSuffix(rootKey: string): string {
  return rootKey.replace(/[^A-Za-z0-9_-]/g, '-');
}

export function accessRecipe(names: AccessNames): AccessRecipe {
  const layout = new KeyLayout(names.rootKey, 'any');
  const writer = `appproxy-${roleSuffix(names.rootKey)}`;
  const reader = `traefik-read-${roleSuffix(names.rootKey)}`;
  return {
    roles: [
      { name: 'root', permissions: [] },
      {
        name: writer,
        permissions: [
          { type: 'Readwrite', key: layout.rootKey, prefix: false },
          ...[
            layout.treePrefix,
            layout.claimsPrefix,
            layout.ownersPrefix,
            layout.electionsPrefix,
            layout.portsPrefix,
            layout.appsPrefix,
          ].map((key) => ({ type: 'Readwrite' as const, key, prefix: true })),
        ],
      },
      // Traefik watches the root key as a bare prefix (no slash): the same range is what it reads.
      { name: reader, permissions: [{ type: 'Read', key: layout.rootKey, prefix: true }] },
    ],
    users: [
      { name: 'root', roles: ['root'], password: 'file' },
      { name: names.appproxyUser, roles: [writer], password: 'file' },
      { name: names.traefikUser, roles: [reader], password: names.traefikPassword ? 'file' : 'none' },
    ],
  };
}

/** The recipe as etcdctl commands (for an operator who sets etcd up by hand). */
export function etcdctlCommands(recipe: AccessRecipe): string[] {
  const lines: string[] = [];
  for (const user of recipe.users) {
    lines.push(
      user.password === 'none'
        ? `etcdctl user add ${user.name} --no-password`
        : `etcdctl user add ${user.name}   # asks for the password`,
    );
  }
  for (const role of recipe.roles) {
    if (role.name !== 'root') lines.push(`etcdctl role add ${role.name}`);
    for (const permission of role.permissions) {
      lines.push(
        `etcdctl role grant-permission${permission.prefix ? ' --prefix=true' : ''} ${role.name} ${permission.type.toLowerCase()} '${permission.key}'`,
      );
    }
  }
  for (const user of recipe.users)
    for (const role of user.roles) lines.push(`etcdctl user grant-role ${user.name} ${role}`);
  lines.push('etcdctl auth enable');
  return lines;
}
