// ESLint: the code-level rules (`npm run lint` runs it with Prettier, dependency-cruiser and knip).
// Layout is Prettier's job (.prettierrc.json); the import rules of the structure (the pure core, no
// import circles) are dependency-cruiser's (.dependency-cruiser.cjs); unused exports and files are
// knip's (knip.json). Rules here need no type information, so that a run takes seconds.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // examples/websocket-app is a package of its own (plain JavaScript, its own dependencies).
  globalIgnores([
    'dist/',
    'examples/',
    'test/fixtures/',
    'test/artifacts/',
    'bench/results/',
    '.npm-cache/',
    '.scratch/',
    '.tmp/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@stylistic': stylistic },
    rules: {
      // No unused code: locals, parameters, imports and caught errors; `_` marks one kept on purpose
      // (a callback's position, an array hole).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'all',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Prettier wraps code at 120 columns; this catches what it cannot wrap (comments, long chains
      // it leaves alone). Strings, template literals, regular expressions and URLs may run longer:
      // splitting a message or a pattern makes it harder to find.
      '@stylistic/max-len': [
        'error',
        {
          code: 120,
          tabWidth: 2,
          ignoreUrls: true,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignoreRegExpLiterals: true,
        },
      ],
      // Control characters in patterns are deliberate here (NUL as a placeholder, Go's escapes).
      'no-control-regex': 'off',
    },
  },
  {
    // The pure folders (see .dependency-cruiser.cjs for their imports) reach no I/O through globals
    // either: no environment, no output, no network, no timers.
    files: ['src/core/**/*.ts', 'src/golang/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['process', 'console', 'fetch', 'WebSocket', 'setTimeout', 'setInterval', 'setImmediate'].map((name) => ({
          name,
          message: `src/core and src/golang do no I/O: the edge that calls them passes in what ${name} would give.`,
        })),
      ],
    },
  },
  {
    // The benchmarks read rows of JSON that their own child processes print; typing each row buys nothing.
    files: ['bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
