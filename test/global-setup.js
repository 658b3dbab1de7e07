// Once per `npm test`: Redis must answer, the run gets an id that every test
// prefix carries (so parallel runs on one Redis never meet), and the app
// bundles are built, when a source is newer, for the specs that run them as processes.
'use strict';
const { execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const net = require('node:net');
const path = require('node:path');
const { isStale, markBuilt } = require('../tools/build-if-stale');

module.exports = async function globalSetup() {
  // A Sentinel or Cluster URL names several hosts: ping the first.
  const first = (process.env.REDIS_URL || 'redis://127.0.0.1:6379').replace(/^redis\+(sentinel|cluster):/, 'redis:').replace(/,[^/]*/, '');
  const url = new URL(first);
  const ok = await new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
    socket.setTimeout(2000, () => resolve(false) || socket.destroy());
    socket.on('error', () => resolve(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', () => resolve(true) || socket.destroy());
  });
  if (!ok) throw new Error(`Redis does not answer at ${url.host}: start it or set REDIS_URL (npm test starts one when redis-server is on the PATH).`);
  process.env.RTG_TEST_RUN ??= randomBytes(3).toString('hex');
  const root = path.resolve(__dirname, '..');
  // CI has just run `npm run build`, and runs the suite once per Redis topology: build only what is stale.
  for (const app of ['gateway', 'job-matcher']) {
    if (!isStale([app])) continue;
    execFileSync(path.join(root, 'node_modules/.bin/nest'), ['build', app], { cwd: root, stdio: 'ignore' });
    markBuilt([app]);
  }
};
