// `npm run build` when a source is newer than a bundle: what `npm start` and
// `npm run fleet` do before they run dist/ (build-if-stale.d.ts types it).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const SOURCES = ['apps', 'libs', 'package.json', 'tsconfig.json', 'nest-cli.json'];

function newestMtime(entry) {
  const stat = fs.statSync(entry, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of fs.readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

/** The bundle of an app under dist/. */
function bundlePath(app) {
  return path.join(root, 'dist/apps', app, 'main.js');
}

/** Whether any of the apps' bundles is missing or older than a source (a deleted file touches its folder). */
function isStale(apps = ['gateway', 'job-matcher']) {
  const builtAt = Math.min(...apps.map((app) => fs.statSync(bundlePath(app), { throwIfNoEntry: false })?.mtimeMs ?? 0));
  return Math.max(...SOURCES.map((source) => newestMtime(path.join(root, source)))) > builtAt;
}

/**
 * Dates the bundles now: rspack leaves a bundle whose content did not change unwritten, so
 * after a build that changed nothing it would still look older than the source just saved.
 */
function markBuilt(apps = ['gateway', 'job-matcher']) {
  const now = new Date();
  for (const app of apps) fs.utimesSync(bundlePath(app), now, now);
}

/** Builds when any of the apps' bundles is missing or older than a source; exits with the build's code if it fails. */
function buildIfStale(apps = ['gateway', 'job-matcher']) {
  if (!isStale(apps)) return;
  process.stderr.write('Building (sources changed since the last build)...\n');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  markBuilt(apps);
}

module.exports = { buildIfStale, bundlePath, isStale, markBuilt };
