#!/usr/bin/env node
// Starts and stops the Redis deployments the system supports, on loopback,
// with Debian's redis-server (no Docker): a Sentinel-managed primary with a
// two replicas and three sentinels, or a three-primary cluster with a replica
// each. Two replicas, so that REDIS_REPLICA_ACKS=1 still finds one once a
// replica has been promoted.
// Nothing is kept on disk beyond the nodes' own config files in the state
// directory; the shared Redis on 6379 is never touched.
//
//   node scripts/redis-topology.js start sentinel|cluster   prints REDIS_URL=...
//   node scripts/redis-topology.js stop sentinel|cluster
//   node scripts/redis-topology.js url sentinel|cluster
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const STATE = path.resolve(process.env.REDIS_TOPOLOGY_DIR || path.join(__dirname, '..', '.redis-topology'));
const BASE = Number(process.env.REDIS_TOPOLOGY_BASE_PORT || 7100);
const MASTER_NAME = 'rtg-primary';

const KINDS = ['sentinel', 'cluster'];

/** The ports and URL of a topology whose ports start at `base` (two topologies with different bases never meet). */
function topologyOf(kind, base = BASE) {
  const hosts = (ports) => ports.map((port) => `127.0.0.1:${port}`).join(',');
  if (kind === 'sentinel') {
    const sentinels = [base + 11, base + 12, base + 13];
    // primary, two replicas; then three sentinels
    return { kind, base, nodes: [base + 1, base + 2, base + 3], sentinels, url: `redis+sentinel://${hosts(sentinels)}/${MASTER_NAME}` };
  }
  const nodes = [base + 21, base + 22, base + 23, base + 24, base + 25, base + 26];
  return { kind, base, nodes, sentinels: [], url: `redis+cluster://${hosts(nodes.slice(0, 3))}` };
}

function redisServer() {
  for (const candidate of ['redis-server', '/usr/bin/redis-server', '/usr/sbin/redis-server']) {
    if (spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  throw new Error('redis-server is not installed: `apt-get install redis-server` (Debian) provides it, Sentinel included');
}

function cli(port, ...args) {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000 }).trim();
}

function answers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => resolve(false) || socket.destroy());
    socket.on('error', () => resolve(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => resolve(data.toString().startsWith('+PONG')) || socket.destroy());
  });
}

async function waitUntil(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function processArgs(dir, port) {
  return ['--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'yes', '--dir', dir, '--pidfile', path.join(dir, `${port}.pid`), '--logfile', path.join(dir, `${port}.log`)];
}

function nodeArgs(dir, port, extra) {
  return [...processArgs(dir, port), '--save', '', '--appendonly', 'no', ...extra];
}

async function start(kind, base = BASE) {
  const topology = topologyOf(kind, base);
  await stop(kind, base);
  const dir = path.join(STATE, `${kind}-${base}`);
  fs.mkdirSync(dir, { recursive: true });
  const server = redisServer();
  if (kind === 'sentinel') {
    const [primary, ...replicas] = topology.nodes;
    execFileSync(server, nodeArgs(dir, primary, []));
    for (const replica of replicas) execFileSync(server, nodeArgs(dir, replica, ['--replicaof', '127.0.0.1', String(primary)]));
    for (const port of topology.sentinels) {
      const conf = path.join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its config file as the deployment changes: each gets its own.
      fs.writeFileSync(conf, [
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
        `sentinel failover-timeout ${MASTER_NAME} 5000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'));
      execFileSync(server, [conf, '--sentinel', ...processArgs(dir, port)]);
    }
    await waitUntil('the replicas to sync', () => replicas.every((replica) => cli(replica, 'INFO', 'replication').includes('master_link_status:up')));
    await waitUntil('the sentinels to see the replica and each other', () =>
      topology.sentinels.every((port) => {
        const info = cli(port, 'SENTINEL', 'MASTER', MASTER_NAME);
        const field = (name) => Number(info.split('\n')[info.split('\n').indexOf(name) + 1]);
        return field('num-slaves') >= replicas.length && field('num-other-sentinels') >= 2;
      }),
    );
  } else {
    for (const port of topology.nodes) {
      execFileSync(server, nodeArgs(dir, port, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '1000']));
    }
    await waitUntil('the cluster nodes to answer', async () => (await Promise.all(topology.nodes.map(answers))).every(Boolean));
    execFileSync('redis-cli', ['--cluster', 'create', ...topology.nodes.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes'], {
      stdio: 'ignore',
      timeout: 60_000,
    });
    await waitUntil('the cluster to be ok on every node', () => topology.nodes.every((port) => cli(port, 'CLUSTER', 'INFO').includes('cluster_state:ok')));
    await waitUntil('every replica to sync', () =>
      topology.nodes.every((port) => {
        const info = cli(port, 'INFO', 'replication');
        return info.includes('role:master') || info.includes('master_link_status:up');
      }),
    );
  }
  return topology.url;
}

/**
 * Starts a node of a running topology again after it died, as an operator or
 * a supervisor would: a Sentinel turns a returning old primary into a
 * replica of the new one, and a cluster node rejoins as a replica of the node
 * that took its slots (its nodes.conf remembers the cluster).
 */
function restartNode(kind, base, port) {
  const dir = path.join(STATE, `${kind}-${base}`);
  const extra = kind === 'cluster' ? ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '1000'] : [];
  execFileSync(redisServer(), nodeArgs(dir, port, extra));
}

/** Stops every node of the topology that its pid files name (also what a failed or killed test left). */
async function stop(kind, base = BASE) {
  const dir = path.join(STATE, `${kind}-${base}`);
  if (!fs.existsSync(dir)) return;
  const pids = fs.readdirSync(dir).filter((file) => file.endsWith('.pid'));
  for (const file of pids) {
    const pid = Number(fs.readFileSync(path.join(dir, file), 'utf8'));
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const { nodes, sentinels } = topologyOf(kind, base);
  const ports = [...nodes, ...sentinels];
  await waitUntil('the old nodes to stop', async () => !(await Promise.all(ports.map(answers))).some(Boolean), 10_000);
  fs.rmSync(dir, { recursive: true, force: true });
}

module.exports = { start, stop, restartNode, topologyOf, MASTER_NAME };

if (require.main === module) {
  const [command, kind] = process.argv.slice(2);
  if (!['start', 'stop', 'url'].includes(command) || !KINDS.includes(kind)) {
    console.error('usage: node scripts/redis-topology.js start|stop|url sentinel|cluster');
    process.exit(2);
  }
  const run = { start: () => start(kind).then((url) => console.log(`REDIS_URL=${url}`)), stop: () => stop(kind), url: async () => console.log(topologyOf(kind).url) };
  run[command]().catch((error) => {
    console.error(`redis-topology ${command} ${kind}: ${error.message}`);
    process.exit(1);
  });
}
