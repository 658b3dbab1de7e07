/*
 * The fleet's child processes: each with its output kept and a bounded stop,
 * a gateway with its port and /health, and every child killed if this process
 * exits first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';
import { bundlePath as bundle } from '../../tools/build-if-stale';

export const LOOPBACK = '127.0.0.1';
/** Gateways and the job-matcher exit within 10 s of SIGTERM (the contract); past this they are killed. */
const STOP_GRACE_MS = 12_000;
export const START_TIMEOUT_MS = 30_000;

export interface FleetProcess {
  readonly name: string;
  /** The running (or last) child process. */
  readonly process: ChildProcess;
  /** Its last 500 lines of stdout and stderr. */
  logs(): string;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code once it exited (SIGKILL after 12 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface FleetGateway extends FleetProcess {
  readonly instanceId: string;
  readonly port: number;
  /** http://127.0.0.1:<port>, bypassing nginx. */
  readonly url: string;
  /** Stops it if it still runs, starts it again on the same port (nginx's upstream) and resolves once /health is 200. */
  restart(): Promise<void>;
}

/** A child process with its output kept (and optionally forwarded), stopped with a bounded wait. */
export class ManagedProcess implements FleetProcess {
  private child!: ChildProcess;
  private exitedWith: Promise<number | null> = Promise.resolve(null);
  private running = false;
  /** The last 500 lines, each with its number since the first start. */
  private readonly tail: Array<{ n: number; line: string }> = [];
  private lines = 0;
  private readonly lineWaiters = new Set<() => void>();

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    protected env: Record<string, string>,
    private readonly onLog?: (line: string) => void,
    spawnNow = true,
  ) {
    if (spawnNow) this.spawn();
  }

  get process(): ChildProcess {
    return this.child;
  }

  logs(): string {
    return this.tail.map((entry) => entry.line).join('\n');
  }

  protected spawn(): void {
    // Its own process group: a Ctrl-C in the terminal reaches only the fleet script, which stops
    // everything in order (nginx, then the gateways, then the worker) instead of all at once.
    const child = spawn(this.command, this.args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.running = true;
    live.add(child);
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream! }).on('line', (line) => {
        this.tail.push({ n: this.lines++, line });
        if (this.tail.length > 500) this.tail.shift();
        this.onLog?.(`${this.name} | ${line}`);
        for (const wake of this.lineWaiters) wake();
      });
    }
    this.exitedWith = new Promise((resolve) => {
      child.once('error', (error) => {
        this.tail.push({ n: this.lines++, line: `${this.name}: ${error.message}` });
        this.running = false;
        live.delete(child);
        resolve(null);
      });
      child.once('exit', (code) => {
        this.running = false;
        live.delete(child);
        for (const wake of this.lineWaiters) wake();
        resolve(code);
      });
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) {
      this.child.kill(signal);
      const timer = setTimeout(() => killGroup(this.child), STOP_GRACE_MS);
      const code = await this.exitedWith;
      clearTimeout(timer);
      return code;
    }
    return this.exitedWith;
  }

  /** Resolves with the first match of `pattern` in a line numbered `since` or later. */
  waitForLine(pattern: RegExp, timeoutMs: number, since = 0): Promise<RegExpExecArray> {
    return this.waitUntil(
      async () => {
        for (const { n, line } of this.tail) {
          if (n < since) continue;
          const match = pattern.exec(line);
          if (match) return match;
        }
        return null;
      },
      `a line matching ${pattern}`,
      timeoutMs,
    );
  }

  /** Polls `check` until it gives a value; fails early, with the logs, if the process exits. */
  async waitUntil<T>(check: () => Promise<T | null | false>, what: string, timeoutMs: number, extraLogs?: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check().catch(() => null);
      if (value) return value;
      const why = !this.running ? 'it exited' : Date.now() > deadline ? `${timeoutMs} ms passed` : null;
      if (why) throw new Error(`${this.name}: ${why} while waiting for ${what}\n${this.logs()}${extraLogs ? `\n${extraLogs()}` : ''}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.lineWaiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 50);
        this.lineWaiters.add(wake);
      });
    }
  }

  protected get lineCount(): number {
    return this.lines;
  }
}

export class ManagedGateway extends ManagedProcess implements FleetGateway {
  private boundPort = 0;

  constructor(
    readonly instanceId: string,
    shared: Record<string, string>,
    onLog?: (line: string) => void,
  ) {
    super(instanceId, process.execPath, [bundle('gateway')], { ...shared, INSTANCE_ID: instanceId }, onLog, false);
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${LOOPBACK}:${this.boundPort}`;
  }

  /** Starts on `port` (0: any free port, then kept for restarts) and waits until /health answers 200. */
  async start(port: number): Promise<void> {
    this.env = { ...this.env, PORT: String(port) };
    const since = this.lineCount;
    this.spawn();
    const match = await this.waitForLine(/listening on http:\/\/[^\s]+:(\d+)/, START_TIMEOUT_MS, since);
    this.boundPort = Number(match[1]);
    await this.waitUntil(() => httpStatus(`${this.url}/health`).then((status) => status === 200), '/health to answer 200', START_TIMEOUT_MS);
  }

  async restart(): Promise<void> {
    await this.stop('SIGTERM');
    await this.start(this.boundPort);
  }
}

// Children still running when this process exits (a crash, a failed test run) are killed with it.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child);
});

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL'); // nginx's workers too
  } catch {
    child.kill('SIGKILL');
  }
}

export function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

export async function httpStatus(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status;
}
