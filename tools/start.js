#!/usr/bin/env node
// `npm start`: build when the sources are newer than the bundle, then run the
// gateway with a Redis it can reach (see with-redis.js).
'use strict';
const { spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
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
// Outside production, `npm start` alone should let a newcomer try everything: the demo page signs in
// with dev tokens (JWT_SECRET unset: a per-process secret, see loadConfig) and posts jobs with the
// internal key. These defaults are for this machine only: a random key each start rather than a
// well-known one, and loopback unless HOST says otherwise. Never over a value the caller set.
if (process.env.NODE_ENV !== 'production') {
  const supplied = [];
  if (!process.env.INTERNAL_API_KEY) {
    process.env.INTERNAL_API_KEY = randomBytes(18).toString('base64url');
    supplied.push(`INTERNAL_API_KEY=${process.env.INTERNAL_API_KEY} (random, this run only: the demo's "post a job" form asks for it)`);
  }
  if (!process.env.JWT_SECRET) supplied.push('a random per-process JWT_SECRET, with POST /api/dev/token');
  if (supplied.length > 0) {
    if (!process.env.HOST) process.env.HOST = '127.0.0.1';
    process.stderr.write(
      `npm start: development defaults: ${supplied.join('; ')}; listening on ${process.env.HOST} (set INTERNAL_API_KEY, JWT_SECRET or HOST to override)\n`,
    );
  }
}
runWithRedis(process.execPath, [bundle]);
