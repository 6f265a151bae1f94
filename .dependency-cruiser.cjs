// The import rules of the project's structure, checked by `npm run lint` (dependency-cruiser).
// They are graph rules: each import is resolved to a file first, so a rule holds at any folder
// depth, for `import type` (which TypeScript erases but a reader still follows), for `export … from`
// and for `import()`.
//
// Edit the lists below when a folder or a dependency is added.

/**
 * Folders that must stay pure: no I/O, no edges; the same input always gives the same output.
 * (eslint.config.js names them too, for its rule against I/O through globals.)
 */
const PURE = ['src/core', 'src/golang'];

/**
 * What a pure folder may import from outside the pure folders: npm packages and Node modules that
 * compute without I/O. Anything else (fs, net, http, child_process, dns, dockerode, etcd3, ioredis,
 * fastify, pino, prom-client, p-retry, the edge folders such as src/docker, src/etcd, src/redis,
 * src/daemon, src/sync, …) is refused, so a new I/O dependency is caught without editing this file.
 */
const PURE_PACKAGES = ['re2js', 'yaml', 'zod', 'fastest-levenshtein'];
/** Node's own modules, named without `node:` (dependency-cruiser resolves `node:crypto` to `crypto`). */
const PURE_NODE_MODULES = ['crypto', 'util', 'buffer', 'string_decoder'];

const anyOf = (paths) => `^(${paths.map((path) => path.replace(/[.+]/g, '\\$&')).join('|')})(/|$)`;
const moduleName = (names) => `^(${names.map((name) => name.replace(/[.+]/g, '\\$&')).join('|')})$`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import circle (type-only imports count: a reader follows them too). ' +
        'Move what both sides need into a module of its own, or pass it in.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'pure-imports-no-edges',
      severity: 'error',
      comment:
        `${PURE.join(' and ')} are pure: they import nothing of the project outside them. ` +
        'The edges (Docker, the stores, the daemon, the sync engine, the CLI) import the core, never the reverse.',
      from: { path: anyOf(PURE) },
      to: { path: '^src/', pathNot: anyOf(PURE) },
    },
    {
      name: 'go-library-knows-no-traefik',
      severity: 'error',
      comment: 'The Go emulation is a library of its own: it imports nothing of the project outside src/golang.',
      from: { path: anyOf(['src/golang']) },
      to: { path: '^src/', pathNot: anyOf(['src/golang']) },
    },
    {
      name: 'traefik-semantics-know-no-apps',
      severity: 'error',
      comment:
        "core/provider is Traefik's label semantics: it imports nothing of appproxy's apps; " +
        'the layer that combines the two imports both.',
      from: { path: anyOf(['src/core/provider']) },
      to: { path: anyOf(['src/core/apps']) },
    },
    {
      name: 'pure-imports-no-io-packages',
      severity: 'error',
      comment:
        `${PURE.join(' and ')} import only packages that compute without I/O ` +
        `(${[...PURE_PACKAGES, ...PURE_NODE_MODULES].join(', ')}): add one to PURE_PACKAGES or ` +
        'PURE_NODE_MODULES in .dependency-cruiser.cjs only if it does no I/O.',
      from: { path: anyOf(PURE) },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown', 'core'],
        pathNot: [moduleName(PURE_NODE_MODULES), anyOf(PURE_PACKAGES.map((name) => `node_modules/${name}`))],
      },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file (a typo, or a module that was moved).',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|examples)/' },
    // Type-only imports are dependencies too (see no-circular).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    cache: false,
  },
};
