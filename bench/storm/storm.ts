/*
 * Reconnect storm: what users meet on a deploy. The repo's nginx config in
 * front of two gateways (scripts/fleet.ts), every stream and socket on
 * gateway A, a publisher at a steady rate through nginx; then A gets SIGTERM,
 * drains, and every client comes back on B on its own (bench/storm/storm-client.ts).
 *
 * Reported: the time from the signal until the last client had reopened, and
 * until the last one had also received a notification published after the
 * signal; every notification answered 202 lost or received twice, per
 * connection (both must be 0); publish → receipt p99 during the storm, of
 * notifications that found their connection open, against the same figure
 * before it (target ≤ 3×), and apart from it the catch-up of those published
 * while their connection was away.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFleet } from '../../scripts/fleet';
import { monotonicUs } from '../fanout/bench-message';
import type { ProgressBar } from '../progress-bar';
import { API_KEY, JWT_SECRET, percentile, redisUrl, root, userToken } from '../support';
import { acceptQueueOverflows } from './accept-queue';
import { StormClient } from './storm-client-handle';
import type { StormConnectionReport, StormDevice, StormStatus } from './storm-protocol';
import { StormPublisher } from './storm-publisher';

export interface StormPlan {
  readonly users: number;
  readonly ssePerUser: number;
  readonly socketsPerUser: number;
  /** Notifications per second, round-robin over the users. */
  readonly rate: number;
  /** Publishing before the signal: the unloaded latency. */
  readonly unloadedSeconds: number;
}

export const STORM_PLANS: Record<'quick' | 'full', StormPlan> = {
  quick: { users: 200, ssePerUser: 5, socketsPerUser: 1, rate: 200, unloadedSeconds: 8 },
  full: { users: 1_000, ssePerUser: 10, socketsPerUser: 2, rate: 500, unloadedSeconds: 15 },
};

export interface StormLatency {
  readonly receipts: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface StormResult {
  readonly plan: StormPlan;
  readonly streams: number;
  readonly sockets: number;
  readonly failedOpens: number;
  /** Signal → the last client open again (on B). */
  readonly lastReopenSeconds: number;
  /** Signal → the last client open again and holding a notification published after the signal. */
  readonly lastResumedSeconds: number;
  /** Clients that had not resumed by the deadline (must be 0). */
  readonly notResumed: number;
  /** Signal → gateway A's exit. */
  readonly gatewayExitSeconds: number;
  readonly published: number;
  readonly publishGaveUp: number;
  /** Publish attempts that failed and were retried with their idempotency key, by status. */
  readonly publishFailures: Record<string, number>;
  /** Notifications answered 202 that a connection which did resume never received. */
  readonly lost: number;
  /** The same, for connections that had not resumed by the deadline (they may simply not be back yet). */
  readonly missedByNotResumed: number;
  readonly duplicated: number;
  /** nginx's error log of the run, kept under bench/results/ (the fleet's run directory is removed). */
  readonly nginxErrorLog: string | null;
  readonly resets: number;
  readonly failedReopens: number;
  /** Handshakes the kernel dropped, signal → end, because an accept queue was full (null: not on Linux). */
  readonly acceptQueueOverflows: number | null;
  /** Publish → receipt before the signal (every client open). */
  readonly unloaded: StormLatency;
  /**
   * Publish → receipt during the storm (signal → last client resumed), of notifications that
   * found their connection open: the live path under the storm's load.
   */
  readonly storm: StormLatency;
  /** Storm p99 over unloaded p99. */
  readonly p99Ratio: number;
  /**
   * Publish → receipt of notifications published while their connection was away (sent away,
   * waiting its `retry:`, reconnecting) and replayed once it was back: the catch-up a client
   * meets, bounded by how long it was away, which the drain spreads out on purpose.
   */
  readonly caughtUp: StormLatency;
}

const CONNECT_CONCURRENCY = 200;
const CLIENT_PROCESSES = 2;
/** Unloaded latency leaves out the first seconds of publishing (connections still warming). */
const UNLOADED_SKIP_US = 2_000_000;
const RESUME_DEADLINE_MS = 60_000;
const TAIL_MS = 3_000;

/** Expected seconds of the phase, to weigh the progress bar. */
export function stormSeconds(plan: StormPlan): number {
  const connections = plan.users * (plan.ssePerUser + plan.socketsPerUser);
  return 10 + connections / 1000 + plan.unloadedSeconds + 15 + TAIL_MS / 1000;
}

function latencyOf(values: number[]): StormLatency {
  values.sort((a, b) => a - b);
  const ms = (us: number) => Math.round(us / 100) / 10;
  return { receipts: values.length, p50Ms: ms(percentile(values, 50)), p99Ms: ms(percentile(values, 99)) };
}

/** Runs the storm under `prefix` (the caller deletes it). */
export async function runStorm(plan: StormPlan, prefix: string, bar: ProgressBar): Promise<StormResult> {
  const weight = stormSeconds(plan);
  bar.begin('reconnect storm: starting nginx and two gateways', weight);
  const fleet = await startFleet({
    gateways: 2,
    port: 0,
    prefix,
    redisUrl,
    env: { NODE_ENV: 'production', JWT_SECRET, INTERNAL_API_KEY: API_KEY },
  });
  const clients = Array.from({ length: CLIENT_PROCESSES }, () => StormClient.start());
  const port = Number(new URL(fleet.url).port);
  const [gatewayA, gatewayB] = fleet.gateways;
  const publisher = new StormPublisher(port, plan.users, plan.rate);
  try {
    // Every client on A: B is down while they connect, so nginx sends each to A.
    await gatewayB.stop('SIGTERM');
    const devices = (perUser: number, kind: string): StormDevice[] =>
      Array.from({ length: plan.users * perUser }, (_, i) => ({ user: i % plan.users, token: userToken(`storm-user-${i % plan.users}`, 3600, `${kind}${i}`) }));
    const share = <T>(items: T[], client: number) => items.filter((_, i) => i % CLIENT_PROCESSES === client);
    bar.update(5 / weight, `reconnect storm: opening ${(plan.users * (plan.ssePerUser + plan.socketsPerUser)).toLocaleString('en-US')} connections on A`);
    const sse = devices(plan.ssePerUser, 's');
    const sockets = devices(plan.socketsPerUser, 'w');
    let failedOpens = 0;
    for (const [kind, list] of [['sse', sse], ['socket', sockets]] as const) {
      const replies = await Promise.all(clients.map((client, i) => client.ask({ cmd: 'open', port, kind, devices: share(list, i), concurrency: CONNECT_CONCURRENCY / CLIENT_PROCESSES })));
      for (const { opened } of replies) {
        failedOpens += opened?.failed ?? 0;
        if (opened?.failed) bar.log(`reconnect storm: ${opened.failed} ${kind} connection(s) failed to open: ${opened.firstErrors.join('; ')}`);
      }
    }
    await gatewayB.restart();

    bar.update(0.4, 'reconnect storm: publishing, unloaded');
    const publishingFromUs = monotonicUs();
    publisher.start();
    await sleep(plan.unloadedSeconds * 1000);

    const signalSeq = publisher.next;
    const overflowsBefore = acceptQueueOverflows();
    const signalUs = monotonicUs();
    const exited = gatewayA.stop('SIGTERM').then(() => monotonicUs());
    await Promise.all(clients.map((client) => client.ask({ cmd: 'signal', firstSeq: signalSeq })));
    const deadline = Date.now() + RESUME_DEADLINE_MS;
    let status: StormStatus = { connections: 0, live: 0, reopened: 0, done: 0 };
    while (Date.now() < deadline) {
      const statuses = (await Promise.all(clients.map((client) => client.ask({ cmd: 'status' })))).map((reply) => reply.status as StormStatus);
      status = statuses.reduce((sum, s) => ({ connections: sum.connections + s.connections, live: sum.live + s.live, reopened: sum.reopened + s.reopened, done: sum.done + s.done }));
      bar.update(0.6 + (0.3 * status.done) / Math.max(1, status.connections), `reconnect storm: ${status.reopened} reopened, ${status.done} resumed of ${status.connections}`);
      if (status.done === status.connections) break;
      await sleep(250);
    }
    const stormEndUs = monotonicUs();
    const overflowsAfter = acceptQueueOverflows();
    const overflows = overflowsBefore === null || overflowsAfter === null ? null : overflowsAfter - overflowsBefore;
    await publisher.stop();
    const exitUs = await exited;
    await sleep(TAIL_MS);
    const reports = (await Promise.all(clients.map((client) => client.ask({ cmd: 'report' })))).flatMap((reply) => reply.report as StormConnectionReport[]);
    const nginxErrorLog = keepNginxErrorLog(fleet.runDir);
    return summarize(plan, reports, publisher, { publishingFromUs, signalUs, signalSeq, stormEndUs, exitUs, failedOpens, notResumed: status.connections - status.done, nginxErrorLog, overflows });
  } finally {
    await publisher.stop();
    await Promise.all(clients.map((client) => client.ask({ cmd: 'close' }).catch(() => undefined)));
    for (const client of clients) client.kill();
    await fleet.stop();
  }
}

/** Copies nginx's error log out of the fleet's run directory (removed when the fleet stops); its path, or null when it is empty. */
function keepNginxErrorLog(runDir: string): string | null {
  const source = path.join(runDir, 'error.log');
  if (!fs.existsSync(source) || fs.statSync(source).size === 0) return null;
  const target = path.join(root, 'bench/results/storm-nginx-error.log');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(source, target);
  return path.relative(root, target);
}

/** Whether one open of the connection spans both instants: the notification was live for it, not replayed. */
function wasOpenThrough(connection: StormConnectionReport, fromUs: number, toUs: number): boolean {
  let k = connection.opens.length - 1;
  while (k >= 0 && connection.opens[k] > fromUs) k--;
  return k >= 0 && toUs < (connection.closes[k] ?? Infinity);
}

function summarize(
  plan: StormPlan,
  reports: StormConnectionReport[],
  publisher: StormPublisher,
  at: { publishingFromUs: number; signalUs: number; signalSeq: number; stormEndUs: number; exitUs: number; failedOpens: number; notResumed: number; nginxErrorLog: string | null; overflows: number | null },
): StormResult {
  const unloaded: number[] = [];
  const storm: number[] = [];
  const caughtUp: number[] = [];
  let lost = 0;
  let missedByNotResumed = 0;
  let duplicated = 0;
  let lastReopenUs = at.signalUs;
  let lastResumedUs = at.signalUs;
  const published = publisher.accepted.filter(Boolean).length;
  for (const connection of reports) {
    const seen = new Set<number>();
    for (let i = 0; i < connection.receipts.length; i += 2) {
      const seq = connection.receipts[i];
      if (seen.has(seq)) {
        duplicated++;
        continue;
      }
      seen.add(seq);
      const sentUs = publisher.sentUs[seq];
      const receivedUs = connection.receipts[i + 1];
      const latency = receivedUs - sentUs;
      if (seq < at.signalSeq) {
        if (sentUs >= at.publishingFromUs + UNLOADED_SKIP_US) unloaded.push(latency);
      } else if (sentUs <= at.stormEndUs) (wasOpenThrough(connection, sentUs, receivedUs) ? storm : caughtUp).push(latency);
    }
    let missed = 0;
    for (let seq = connection.user; seq < publisher.accepted.length; seq += plan.users) if (publisher.accepted[seq] && !seen.has(seq)) missed++;
    if (connection.doneUs === null) missedByNotResumed += missed;
    else lost += missed;
    if (connection.opens.length > 1) lastReopenUs = Math.max(lastReopenUs, connection.opens[1]);
    if (connection.doneUs !== null) lastResumedUs = Math.max(lastResumedUs, connection.doneUs);
  }
  const seconds = (us: number) => Math.round((us - at.signalUs) / 10_000) / 100;
  const before = latencyOf(unloaded);
  const during = latencyOf(storm);
  return {
    plan,
    streams: reports.filter((r) => r.kind === 'sse').length,
    sockets: reports.filter((r) => r.kind === 'socket').length,
    failedOpens: at.failedOpens,
    lastReopenSeconds: seconds(lastReopenUs),
    lastResumedSeconds: seconds(lastResumedUs),
    notResumed: at.notResumed,
    gatewayExitSeconds: seconds(at.exitUs),
    published,
    publishGaveUp: publisher.gaveUp,
    publishFailures: publisher.failures,
    lost,
    missedByNotResumed,
    duplicated,
    nginxErrorLog: at.nginxErrorLog,
    resets: reports.reduce((sum, r) => sum + r.resets, 0),
    failedReopens: reports.reduce((sum, r) => sum + r.failedReopens, 0),
    acceptQueueOverflows: at.overflows,
    unloaded: before,
    storm: during,
    p99Ratio: Math.round((during.p99Ms / before.p99Ms) * 100) / 100,
    caughtUp: latencyOf(caughtUp),
  };
}
