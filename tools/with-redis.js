#!/usr/bin/env node
// Runs a command with a Redis it can reach. REDIS_URL set: used as is. Unset:
// the default 127.0.0.1:6379 if it answers, else a private redis-server from the
// PATH on a free loopback port (no persistence), stopped when the command ends.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const { freePort } = require('./free-port');

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 6379;

function ping(port, host = DEFAULT_HOST, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    let answer = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk;
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

function hasRedisServer() {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Resolves to { url, stop } for a Redis to use, or exits with one line on how to get one. */
async function ensureRedis() {
  const topology = process.env.REDIS_TOPOLOGY || 'single';
  if (topology !== 'single') {
    // A Sentinel or Cluster deployment of our own on loopback (scripts/redis-topology.js), stopped on exit.
    const topologies = require('../scripts/redis-topology');
    const url = await topologies.start(topology);
    process.stderr.write(`REDIS_TOPOLOGY=${topology}: started ${url} for this run (stopped on exit).\n`);
    return { url, stop: () => topologies.stop(topology) };
  }
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: () => undefined };
  if (await ping(DEFAULT_PORT)) return { url: `redis://${DEFAULT_HOST}:${DEFAULT_PORT}`, stop: () => undefined };
  if (!hasRedisServer()) {
    process.stderr.write(
      `No Redis answers at ${DEFAULT_HOST}:${DEFAULT_PORT} and redis-server is not on the PATH: install Redis (apt-get install redis-server, brew install redis) or set REDIS_URL.\n`,
    );
    process.exit(1);
  }
  const port = await freePort(DEFAULT_HOST);
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', DEFAULT_HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
    { stdio: 'ignore' },
  );
  for (let attempt = 0; attempt < 100 && !(await ping(port)); attempt++) await new Promise((r) => setTimeout(r, 50));
  if (!(await ping(port))) {
    server.kill('SIGKILL');
    process.stderr.write(`Could not start redis-server on ${DEFAULT_HOST}:${port}: set REDIS_URL to a Redis you run.\n`);
    process.exit(1);
  }
  process.stderr.write(`No Redis at ${DEFAULT_HOST}:${DEFAULT_PORT}: started a private redis-server on ${DEFAULT_HOST}:${port} for this run (stopped on exit).\n`);
  return { url: `redis://${DEFAULT_HOST}:${port}`, stop: () => server.kill('SIGTERM') };
}

/** Runs `command args` with REDIS_URL set, forwards SIGINT/SIGTERM, and exits with its code. */
async function runWithRedis(command, args) {
  const redis = await ensureRedis();
  const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, REDIS_URL: redis.url } });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    Promise.resolve(redis.stop()).finally(() => process.exit(code ?? (signal ? 1 : 0)));
  });
}

module.exports = { ensureRedis, runWithRedis };

if (require.main === module) {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    process.stderr.write('usage: with-redis.js <command> [args...]\n');
    process.exit(2);
  }
  // npm puts node_modules/.bin on the PATH, so `jest` resolves here as in a script.
  runWithRedis(command, args);
}
