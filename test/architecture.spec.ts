import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/*
 * The layout is the architecture: the libraries know nothing of HTTP or sockets,
 * the notifications library nothing of job matching, the apps do not import
 * each other, the browser code imports nothing server-side, and only the entry
 * points read the environment.
 * eslint.config.mjs enforces that (`npm run lint`, run by CI); this spec guards
 * the guard: each layer rule must catch a static import, a require() and an
 * import() it forbids, let through what the layer uses, and cover every app.
 */
const root = path.resolve(__dirname, '..');
/** The rules the layer config sets; other findings (an unused import in a snippet) are not the point here. */
const LAYER_RULES = new Set(['@typescript-eslint/no-restricted-imports', 'no-restricted-syntax', 'no-restricted-properties']);

interface Snippet {
  file: string;
  code: string;
}

/**
 * Lints snippets as if they were the given files, in one child process: ESLint
 * loads its flat config with import(), which Jest's CommonJS sandbox cannot do.
 */
function layerFindings(snippets: Snippet[]): string[][] {
  const script = `
    import { ESLint } from 'eslint';
    const snippets = JSON.parse(process.argv[1]);
    const eslint = new ESLint({ cwd: process.cwd() });
    const found = [];
    for (const { file, code } of snippets) {
      const [result] = await eslint.lintText(code, { filePath: file });
      found.push(result.messages.map((message) => message.ruleId ?? message.message));
    }
    process.stdout.write(JSON.stringify(found));
  `;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(snippets)], { cwd: root, encoding: 'utf8' });
  const found = JSON.parse(output) as Array<Array<string | null>>;
  return found.map((ids) => ids.filter((id): id is string => id !== null && LAYER_RULES.has(id)));
}

/** The three ways code can load a module; each must be caught. */
const loads = (specifier: string): string[] => [
  `import * as loaded from '${specifier}';\nexport { loaded };`,
  `export const loaded = require('${specifier}');`,
  `export const load = () => import('${specifier}');`,
];

const refused: Array<[string, Snippet]> = [
  ...loads('express').map((code) => ['HTTP in the library', { file: 'libs/notifications/src/probe.ts', code }] as [string, Snippet]),
  ...loads('socket.io').map((code) => ['sockets in the library', { file: 'libs/notifications/src/redis/probe.ts', code }] as [string, Snippet]),
  ...loads('node:http').map((code) => ['node:http in the library', { file: 'libs/notifications/src/probe.ts', code }] as [string, Snippet]),
  ...loads('@nestjs/platform-express').map((code) => ['a Nest platform in the library', { file: 'libs/notifications/src/probe.ts', code }] as [string, Snippet]),
  ...loads('../../../apps/gateway/src/gateway.module').map((code) => ['an app from the library', { file: 'libs/notifications/src/probe.ts', code }] as [string, Snippet]),
  ...loads('../../job-matcher/src/job-matcher.module').map((code) => ['another app from an app', { file: 'apps/gateway/src/probe.ts', code }] as [string, Snippet]),
  ...loads('../../../gateway/src/main').map((code) => ['another app from a nested file', { file: 'apps/job-matcher/src/nested/probe.ts', code }] as [string, Snippet]),
  ...loads('../../../libs/notifications/src/notification.store').map((code) => ['library internals by path', { file: 'apps/gateway/src/probe.ts', code }] as [string, Snippet]),
  ...loads('@app/job-matching').map((code) => ['job matching in the notifications library', { file: 'libs/notifications/src/redis/probe.ts', code }] as [string, Snippet]),
  ...loads('express').map((code) => ['HTTP in the job-matching library', { file: 'libs/job-matching/src/pipeline/probe.ts', code }] as [string, Snippet]),
  ...loads('../../../notifications/src/notification.store').map((code) => ['the notifications library by path from job matching', { file: 'libs/job-matching/src/pipeline/probe.ts', code }] as [string, Snippet]),
  ...loads('@app/job-matching').map((code) => ['the job-matching library in the client', { file: 'libs/client/src/probe.ts', code }] as [string, Snippet]),
  ...loads('ioredis').map((code) => ['a server package in the client', { file: 'libs/client/src/probe.ts', code }] as [string, Snippet]),
  ...loads('node:fs').map((code) => ['a Node built-in in the client', { file: 'libs/client/src/probe.ts', code }] as [string, Snippet]),
  ...loads('@app/notifications').map((code) => ['the server library in the client', { file: 'libs/client/src/probe.ts', code }] as [string, Snippet]),
  ...loads('@app/notifications').map((code) => ['the server library in the demo page', { file: 'apps/demo/src/probe.ts', code }] as [string, Snippet]),
  ['a value import in the file the client shares', { file: 'libs/notifications/src/client-events.ts', code: "import { NOTIFICATION_TYPES } from './notification';\nexport const types = NOTIFICATION_TYPES;" }],
  ['process.env outside an entry point', { file: 'apps/gateway/src/probe.ts', code: 'export const port = process.env.PORT;' }],
  ['process.env destructured in the library', { file: 'libs/notifications/src/probe.ts', code: 'const { env } = process;\nexport const port = env.PORT;' }],
];

const allowed: Array<[string, Snippet]> = [
  ['Nest, Redis and queues in the library', { file: 'libs/notifications/src/probe.ts', code: "import { Injectable } from '@nestjs/common';\nimport { Redis } from 'ioredis';\nimport { Queue } from 'bullmq';\nimport { NotificationStore } from './notification.store';\nexport { Injectable, NotificationStore, Queue, Redis };" }],
  ['the notifications library, BullMQ and its own folders in job matching', { file: 'libs/job-matching/src/pipeline/probe.ts', code: "import { NotificationService } from '@app/notifications';\nimport { Queue } from 'bullmq';\nimport { QUEUES } from './queues';\nimport { SavedSearchStore } from '../saved-searches/saved-search.store';\nexport { NotificationService, Queue, QUEUES, SavedSearchStore };" }],
  ['both libraries in an app', { file: 'apps/job-matcher/src/probe.ts', code: "import { JobMatchingModule } from '@app/job-matching';\nimport { NotificationsModule } from '@app/notifications';\nexport { JobMatchingModule, NotificationsModule };" }],
  ['the library and its own folders in an app', { file: 'apps/gateway/src/events/probe.ts', code: "import { NotificationService } from '@app/notifications';\nimport { sibling } from '../sibling/sibling';\nexport { NotificationService, sibling };" }],
  ['the shared event types, socket.io-client and eventsource in the client', { file: 'libs/client/src/probe.ts', code: "import type { Notification } from '@app/notifications/client-events';\nimport { io } from 'socket.io-client';\nexport type N = Notification;\nexport const load = () => import('eventsource');\nexport { io };" }],
  ['the client test fakes from a client spec', { file: 'libs/client/src/probe.spec.ts', code: "import { settle } from '../test/fakes';\nexport { settle };" }],
  ['the client library in the demo page', { file: 'apps/demo/src/probe.ts', code: "import { createRealtimeClient } from '@app/client';\nexport { createRealtimeClient };" }],
  ['type imports in the file the client shares', { file: 'libs/notifications/src/client-events.ts', code: "import type { Notification } from './notification';\nexport type N = Notification;" }],
  ['process.env in an entry point', { file: 'apps/gateway/src/main.ts', code: 'export const port = process.env.PORT;' }],
];

describe('architecture (the ESLint layer rules)', () => {
  let refusedFindings: string[][];
  let allowedFindings: string[][];

  beforeAll(() => {
    const findings = layerFindings([...refused, ...allowed].map(([, snippet]) => snippet));
    refusedFindings = findings.slice(0, refused.length);
    allowedFindings = findings.slice(refused.length);
  }, 60_000);

  it('refuses each forbidden module however it is loaded', () => {
    const missed = refused.filter((_, n) => refusedFindings[n].length === 0).map(([why, { file, code }]) => `${why}: ${file}: ${code}`);
    expect(missed).toEqual([]);
  });

  it('lets each layer use what it is built on', () => {
    const flagged = allowed.flatMap(([why, { file }], n) => (allowedFindings[n].length > 0 ? [`${why}: ${file}: ${allowedFindings[n].join(', ')}`] : []));
    expect(flagged).toEqual([]);
  });

  it('fences in every app, including one added later', () => {
    const apps = fs.readdirSync(path.join(root, 'apps'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
    expect(apps.map((app) => app.name)).toContain('gateway');
    const findings = layerFindings(apps.map(({ name }) => ({ file: `apps/${name}/src/probe.ts`, code: "export const load = () => import('../../other/src/main');" })));
    expect(apps.filter((_, n) => findings[n].length === 0).map((app) => app.name)).toEqual([]);
  }, 60_000);
});
