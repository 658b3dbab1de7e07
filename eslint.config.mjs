// `npm run lint`. The layer rules are the architecture (docs: ../shared/style.md):
// the libraries know nothing of HTTP, sockets or the apps, and the notifications
// library nothing of job matching, which builds on it; the browser client and
// the demo page import nothing server-side; an app never reaches out of its own
// src/ by path (so never into another app or a library's internals); only the
// entry points read process.env. test/architecture.spec.ts checks that these
// rules keep catching static imports, require() and import().
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import eslint from '@eslint/js';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Modules that mean HTTP, sockets or the Nest platform: never in the library. */
const TRANSPORT = [
  { regex: '^(node:)?(http|https|http2|net|tls)$', message: 'the library knows nothing of HTTP or sockets: transports live in apps/gateway' },
  { regex: '^(express|cookie-parser|cookie|helmet|cors)(/|$)', message: 'the library knows nothing of HTTP: transports live in apps/gateway' },
  { regex: '^(socket\\.io|socket\\.io-client|engine\\.io|ws)(/|$)|^@socket\\.io/', message: 'the library knows nothing of sockets: transports live in apps/gateway' },
  { regex: '^@nestjs/(platform-|websockets)', message: 'the library never depends on a Nest platform or gateway package' },
];
/** What a browser bundle must not pull in. */
const SERVER_SIDE = [
  { regex: '^@nestjs/|^(ioredis|bullmq|prom-client|express|socket\\.io|@socket\\.io/[^/]+|zod|class-validator|class-transformer|@app/job-matching)(/|$)', message: 'browser code imports nothing server-side' },
  { regex: `^node:|^(${builtinModules.filter((name) => !name.startsWith('_')).map((name) => name.replace(/[/.]/g, '\\$&')).join('|')})$`, message: 'browser code imports no Node built-in' },
];
const NO_APPS = { regex: '(^|/)apps/|^@app/client$', message: 'the library never imports an app or the client' };
const NO_JOB_MATCHING = { regex: '^@app/job-matching', message: 'the notifications library knows nothing of job matching: libs/job-matching builds on it' };
const ONLY_CLIENT_EVENTS = {
  regex: '^@app/notifications(?!/client-events$)',
  message: 'the client shares only the types of @app/notifications/client-events with the server',
};
const NOT_THE_LIBRARY = { regex: '^@app/notifications', message: 'the demo page talks to the gateway through @app/client only' };

/**
 * A layer: its home folder and what its files may not import. Relative paths
 * that climb out of the home folder are refused too, which is how "apps never
 * import each other" holds whatever the path spells.
 */
const LAYERS = [
  { home: 'libs/notifications/src', restricted: [...TRANSPORT, NO_APPS, NO_JOB_MATCHING] },
  // Job matching builds on the notifications library (through @app/notifications, never its files by path).
  { home: 'libs/job-matching/src', restricted: [...TRANSPORT, NO_APPS] },
  { home: 'libs/client', restricted: [...SERVER_SIDE, ONLY_CLIENT_EVENTS] },
  // Every app, so that a new one is fenced in from its first file.
  ...fs
    .readdirSync(new URL('./apps', import.meta.url), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map(({ name }) => ({ home: `apps/${name}/src`, restricted: name === 'demo' ? [...SERVER_SIDE, NOT_THE_LIBRARY] : [] })),
];
/** Deeper files are checked as if at this depth: they may climb out by a few `../` unseen. */
const MAX_DEPTH = 6;

/** esquery regex literals end at the first `/`: spell it another way. */
const esqueryRegex = (source) => `/${source.replace(/\//g, '\\x2F')}/`;

function layerRules({ home, restricted }, depth) {
  const escape = {
    regex: `^(\\./)?(\\.\\./){${depth + 1},}`,
    message: `imports nothing outside ${home} by path: use a package name or an @app/* alias`,
  };
  const all = [...restricted, escape];
  return {
    '@typescript-eslint/no-restricted-imports': ['error', { patterns: all }],
    // no-restricted-imports sees import/export declarations only: the same list for require() and import().
    'no-restricted-syntax': [
      'error',
      ...all.flatMap(({ regex, message }) => [
        { selector: `CallExpression[callee.name='require'][arguments.0.value=${esqueryRegex(regex)}]`, message },
        { selector: `ImportExpression[source.value=${esqueryRegex(regex)}]`, message },
      ]),
    ],
  };
}

/** One config object per layer and depth; a later (deeper) object replaces the rule options of an earlier one. */
const layerConfigs = LAYERS.flatMap((layer) =>
  Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => ({
    name: `layers/${layer.home}/depth-${depth}`,
    files: [`${layer.home}/${'*/'.repeat(depth)}**/*.ts`],
    rules: layerRules(layer, depth),
  })),
);

export default defineConfig(
  {
    ignores: [
      '**/node_modules/',
      'dist/',
      'coverage/',
      'bench/.build/',
      'bench/results/',
      '.redis-*/',
      // Appended to by the model checker's CLI.
      'test/model/regressions.ts',
    ],
  },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    name: 'project/defaults',
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are deliberately unused (callback positions, destructuring to omit a field).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      'no-restricted-imports': 'off',
    },
  },
  {
    name: 'project/commonjs',
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    name: 'project/browser',
    files: ['apps/demo/src/**/*.ts', 'libs/client/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    name: 'project/logger-not-console',
    // Server code logs through a Nest Logger (structured JSON); the page and client report through their callers.
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    name: 'project/prom-client-collect',
    // prom-client calls collect() with `this` bound to the metric, so the owning class is reached through an alias.
    files: ['libs/notifications/src/metrics/*.ts'],
    rules: { '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['metrics'] }] },
  },
  ...layerConfigs,
  {
    name: 'project/client-events-types-only',
    // Shared with the browser client: it may import types only, so the client bundle gets no server code.
    files: ['libs/notifications/src/client-events.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [...layerRules(LAYERS[0], 0)['@typescript-eslint/no-restricted-imports'][1].patterns, { regex: '.', allowTypeImports: true, message: 'client-events.ts is shared with the browser: import types only' }] },
      ],
    },
  },
  {
    name: 'project/env-in-entry-points',
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['apps/*/src/main.ts', '**/*.spec.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'only main.ts reads the environment: take the parsed configuration instead' }],
    },
  },
);
