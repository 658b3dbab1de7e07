#!/usr/bin/env node
// `npm start`: build when the sources are newer than the bundle, then run the
// gateway with a Redis it can reach (see with-redis.js).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { runWithRedis } = require('./with-redis');

const root = path.resolve(__dirname, '..');
const bundle = path.join(root, 'dist/apps/gateway/main.js');

function newestMtime(entry) {
  const stat = fs.statSync(entry, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of fs.readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

const sources = ['apps', 'libs', 'package.json', 'tsconfig.json', 'nest-cli.json'].map((p) => path.join(root, p));
const builtAt = fs.statSync(bundle, { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (Math.max(...sources.map(newestMtime)) > builtAt) {
  process.stderr.write('Building (sources changed since the last build)...\n');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
// The demo page posts jobs the way an internal service does, with the internal key: on a developer's
// machine `npm start` alone should let a newcomer try everything, so it supplies a well-known one.
// Never in production, and never over a key the caller set.
if (process.env.NODE_ENV !== 'production' && !process.env.INTERNAL_API_KEY) {
  process.env.INTERNAL_API_KEY = 'dev-key';
  process.stderr.write('npm start: INTERNAL_API_KEY is not set, using "dev-key" for local development (set it to override)\n');
}
runWithRedis(process.execPath, [bundle]);
