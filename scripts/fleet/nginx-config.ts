/*
 * nginx for the fleet: where Debian keeps it, and deploy/nginx/gateway.conf.template filled in
 * for a set of gateways.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LOOPBACK } from './managed-process';

const TEMPLATE = path.resolve(__dirname, '../../deploy/nginx/gateway.conf.template');

/** nginx's path, or null when it is not installed (Debian puts it in /usr/sbin, often not on a user's PATH). */
export function findNginx(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  for (const dir of dirs) {
    const candidate = path.join(dir || '.', 'nginx');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Fills deploy/nginx/gateway.conf.template for these gateways. */
export function renderNginxConfig(options: {
  runDir: string;
  listen: string;
  gateways: ReadonlyArray<{ instanceId: string; port: number }>;
  fileLimit?: number;
}): string {
  const fileLimit = options.fileLimit ?? openFileLimit();
  const values: Record<string, string> = {
    RUN_DIR: options.runDir,
    WORKER_PROCESSES: 'auto',
    WORKER_RLIMIT_NOFILE: String(fileLimit),
    // Keep room under the descriptor limit for the log files and listening sockets.
    WORKER_CONNECTIONS: String(Math.max(512, fileLimit - 256)),
    LISTEN: options.listen,
    POOL_SERVERS: options.gateways.map((g) => `        server ${LOOPBACK}:${g.port} max_fails=0;`).join('\n'),
    INSTANCE_UPSTREAMS: options.gateways
      .map((g) => `    upstream gateway_${g.instanceId} {\n        server ${LOOPBACK}:${g.port};\n        keepalive 16;\n        keepalive_timeout 4s;\n    }`)
      .join('\n'),
    SID_ROUTES: options.gateways.map((g) => `        "~^${g.instanceId}\\." gateway_${g.instanceId};`).join('\n'),
  };
  const rendered = fs.readFileSync(TEMPLATE, 'utf8').replace(/\{\{([A-Z_]+)\}\}/g, (placeholder, name: string) => {
    if (!(name in values)) throw new Error(`${TEMPLATE}: unknown placeholder ${placeholder}`);
    return values[name];
  });
  return rendered;
}

/** The hard limit on open files this process may raise nginx's to (`ulimit -Hn`), capped at 65536. */
function openFileLimit(): number {
  const result = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const hard = result.stdout?.trim();
  const limit = hard === 'unlimited' ? 65536 : Number(hard);
  return Number.isInteger(limit) && limit > 0 ? Math.min(limit, 65536) : 1024;
}
