import type Redis from 'ioredis';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deletePrefix, primariesOf, type RedisClient, subscriberConnectionName, testRedisClient, testRedisUrl } from '../support/redis';
import { waitFor } from '../support/wait-for';
import { debug, SETTINGS } from './config';

/*
 * Two real gateway processes on one prefix of the shared Redis, started once
 * per run. The bundle is copied to a private directory first: other engineers'
 * jest runs rebuild dist/ while this runs, and a gateway restarted mid-run must
 * be the same build as its neighbour. Every stop of a process is recorded by
 * generation, so the checker can tell a connection the harness killed from one
 * the gateway cut by itself.
 */

export const MODEL_JWT_SECRET = 'model-secret-that-is-long-enough-for-hs256!';
export const MODEL_API_KEY = 'model-internal-api-key';
const root = path.resolve(__dirname, '../..');

/** An HS256 user token with more `claims` (`topics`), signed here so that the CLI needs none of Nest. */
export function userToken(userId: string, claims: Record<string, unknown> = {}): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, sub: userId, iat: now, exp: now + 3600 })}`;
  return `${unsigned}.${createHmac('sha256', MODEL_JWT_SECRET).update(unsigned).digest('base64url')}`;
}

export interface Route {
  index: number;
  generation: number;
  url: string;
}

interface Instance {
  generation: number;
  child: ChildProcess;
  url: string | null;
  /** From the moment the harness signals it: no new connection is routed here. */
  stopping: boolean;
  log: string;
}

export class Fleet {
  readonly admin: RedisClient;
  /** generation → when the harness signalled it (performance.now()), and how. */
  readonly stops = new Map<number, { at: number; signal: NodeJS.Signals }>();
  /**
   * Each CLIENT KILL of subscribers: from when, until their connections were seen back (then half a
   * second more for the re-sync). A refusal in that window is excused; a loaded machine only widens it.
   */
  readonly subscriberKills: Array<{ at: number; back: number }> = [];
  /** Exits nobody asked for: always a finding. */
  readonly crashes: string[] = [];
  private readonly instances: Array<Instance | null> = [null, null];
  private readonly starting: Array<Promise<void> | null> = [null, null];
  private nextGeneration = 1;

  private constructor(
    readonly prefix: string,
    readonly redisUrl: string,
    private readonly bundle: string,
    /** The copy resolves its packages from where the bundle came from. */
    private readonly nodePath: string,
  ) {
    this.admin = testRedisClient({ connectionName: `${prefix}:model-admin` }, redisUrl);
  }

  /** Copies `bundle` (default: dist/apps/gateway/main.js) aside and starts both gateways. */
  static async start(prefix: string, bundle = path.join(root, 'dist/apps/gateway/main.js')): Promise<Fleet> {
    if (!fs.existsSync(bundle)) throw new Error(`no gateway bundle at ${bundle}: build it (nest build gateway)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtg-model-'));
    const copy = path.join(dir, 'main.js');
    fs.copyFileSync(bundle, copy);
    const fleet = new Fleet(prefix, testRedisUrl(), copy, path.resolve(path.dirname(bundle), '../../../node_modules'));
    await Promise.all([fleet.launch(0), fleet.launch(1)]);
    return fleet;
  }

  /** A gateway that takes connections, `preferred` if it can. */
  route(preferred: number): Route | null {
    for (const index of [preferred, 1 - preferred]) {
      const instance = this.instances[index];
      if (instance && instance.url && !instance.stopping) return { index, generation: instance.generation, url: instance.url };
    }
    return null;
  }

  /** Whether every gateway that is up answers /health with 200. */
  private async allHealthy(): Promise<boolean> {
    const urls = this.instances.filter((instance) => instance?.url && !instance.stopping).map((instance) => (instance as Instance).url as string);
    const answers = await Promise.all(urls.map((url) => fetch(`${url}/health`).then((response) => response.status, () => 0)));
    return answers.every((status) => status === 200);
  }

  /** Waits until a gateway takes connections (one may be restarting). */
  async routeWhenUp(preferred: number): Promise<Route> {
    return waitFor(() => this.route(preferred), 'a gateway to take connections', 20_000);
  }

  /** Both gateways up: a kill waits for the previous restart, so one is always serving. */
  async bothUp(): Promise<void> {
    await Promise.all(this.starting.map((starting) => starting ?? Promise.resolve()));
  }

  isStopped(generation: number): { at: number; signal: NodeJS.Signals } | undefined {
    return this.stops.get(generation);
  }

  /** Signals one gateway and restarts it in the background once it has exited. */
  async kill(index: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<number> {
    await this.bothUp();
    const instance = this.instances[index] as Instance;
    instance.stopping = true;
    this.stops.set(instance.generation, { at: performance.now(), signal });
    const signalledAt = performance.now();
    const exited = new Promise<void>((resolve) => instance.child.once('exit', () => resolve()));
    void exited.then(() => debug(`g${index} exited ${Math.round(performance.now() - signalledAt)} ms after ${signal}`));
    instance.child.kill(signal);
    this.starting[index] = exited.then(() => this.launch(index));
    return instance.generation;
  }

  /** Kills the notification subscriber connection(s) of this prefix's gateways (only ours: matched by name). */
  async killSubscriber(which: 'one' | 'both', pick: number): Promise<number> {
    const subscribers = await this.subscribers();
    const ids = subscribers.map(({ id }) => id);
    const kill = { at: performance.now(), back: Infinity };
    this.subscriberKills.push(kill);
    // One connection, or all of them (on a cluster a gateway holds one per primary it subscribes on).
    const victims = which === 'both' ? subscribers : subscribers.slice(pick % Math.max(1, subscribers.length)).slice(0, 1);
    for (const { node, id } of victims) await node.client('KILL', 'ID', id);
    // Watch for them to come back, in the background: new connection ids, then every gateway's /health
    // at 200 (ioredis is ready only after it has re-subscribed, a while after the connection shows up
    // on a loaded machine), then 2 s for the re-sync (seed 31337 path 410 was refused past half a second).
    const killed = victims.map(({ node, id }) => `${node.options.port}/${id}`);
    void waitFor(async () => (await this.subscriberIds()).filter((id) => !killed.includes(id)).length >= ids.length, 'the subscribers to reconnect', 30_000)
      .then(() => waitFor(() => this.allHealthy(), 'every gateway healthy again', 30_000))
      .then(
        () => (kill.back = performance.now() + 2_000),
        () => (kill.back = performance.now()),
      );
    return victims.length;
  }

  /**
   * Where every schedule starts: each running gateway has its subscriber connected. A gateway still
   * restarting is not waited for (that takes seconds): the schedule starts on the other, and the
   * restarted one joins when it is up.
   */
  async ready(): Promise<void> {
    const running = () => this.instances.filter((instance) => instance?.url && !instance.stopping).length;
    await waitFor(async () => running() > 0 && (await this.subscriberIds()).length >= running(), 'the subscriber connections', 10_000);
  }

  private async subscriberIds(): Promise<string[]> {
    return (await this.subscribers()).map(({ node, id }) => `${node.options.port}/${id}`);
  }

  /** The gateways' subscriber connections, on every primary. */
  private async subscribers(): Promise<Array<{ node: Redis; id: string }>> {
    const found: Array<{ node: Redis; id: string }> = [];
    const name = subscriberConnectionName(this.prefix, this.admin);
    for (const node of primariesOf(this.admin)) {
      const list = (await node.client('LIST')) as string;
      for (const line of list.split('\n')) {
        const id = line.includes(` name=${name} `) ? /(?:^|\s)id=(\d+)/.exec(line)?.[1] : undefined;
        if (id !== undefined) found.push({ node, id });
      }
    }
    return found;
  }

  /** The gateways' recent warnings and errors (from the tail each instance keeps), for a failure report. */
  warnings(): string[] {
    return this.instances.flatMap((instance, i) => (instance?.log ?? '').split('\n').filter((line) => /"level":"(warn|error)"|\b(WARN|ERROR)\b/.test(line)).slice(-8).map((line) => `g${i}: ${line.trim().slice(0, 240)}`));
  }

  logs(): string {
    return this.instances.map((instance, i) => `--- g${i} (generation ${instance?.generation})\n${instance?.log.slice(-3000) ?? ''}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.starting.map((starting) => starting ?? Promise.resolve()));
    await Promise.all(
      this.instances.map(async (instance) => {
        if (!instance || instance.child.exitCode !== null) return;
        instance.stopping = true;
        const exited = new Promise((resolve) => instance.child.once('exit', resolve));
        instance.child.kill('SIGKILL');
        await exited;
      }),
    );
    this.admin.disconnect();
    await deletePrefix(this.prefix, this.redisUrl);
    fs.rmSync(path.dirname(this.bundle), { recursive: true, force: true });
  }

  private async launch(index: number): Promise<void> {
    const generation = this.nextGeneration++;
    const child = spawn(process.execPath, [this.bundle], { env: this.env(index), stdio: 'pipe' });
    const instance: Instance = { generation, child, url: null, stopping: false, log: '' };
    const append = (chunk: Buffer) => {
      instance.log = (instance.log + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    child.once('exit', (code, signal) => {
      instance.url = null;
      if (!instance.stopping) this.crashes.push(`g${index} (generation ${generation}) exited by itself: code ${code} signal ${signal}\n${instance.log.slice(-2000)}`);
    });
    this.instances[index] = instance;
    // A runner that dies without stop() (Ctrl-C, a jest worker torn down) must not leave gateways behind.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    const port = await waitFor(() => /listening on http:\/\/[^:]+:(\d+)/.exec(instance.log)?.[1], `g${index} to listen`, 30_000);
    instance.url = `http://127.0.0.1:${port}`;
    this.starting[index] = null;
    debug(`g${index} (generation ${generation}) listening`);
  }

  private env(index: number): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      NODE_PATH: this.nodePath,
      NODE_ENV: 'test',
      REDIS_URL: this.redisUrl,
      REDIS_KEY_PREFIX: this.prefix,
      JWT_SECRET: MODEL_JWT_SECRET,
      INTERNAL_API_KEY: MODEL_API_KEY,
      HOST: '127.0.0.1',
      PORT: '0',
      INSTANCE_ID: `g${index}`,
      WORKER_EMBEDDED: 'true',
      HISTORY_MAX_PER_USER: String(SETTINGS.historyMax),
      TOPIC_HISTORY_MAX: String(SETTINGS.topicHistoryMax),
      // The model's public topics are under `jobs.`; its private one is followed through a token's `topics` claim.
      PUBLIC_TOPICS: 'jobs.*',
      SSE_RETRY_MS: String(SETTINGS.sseRetryMs),
      // One wave: a SIGTERM sends every client away at once instead of over four seconds.
      DRAIN_PERCENT_PER_SECOND: '100',
      MAX_CONNECTIONS_PER_USER: '256',
    };
  }
}
