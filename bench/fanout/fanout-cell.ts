import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProgressBar } from '../progress-bar';
import { type ProfileSummary, summarizeProfile } from '../report/cpu-profile';
import { API_KEY, appEnv, root, userToken } from '../support';
import { BENCH_TOPIC, BENCH_USER, monotonicUs } from './bench-message';
import { barrier, pacedPhase, type PhaseContext, type PhaseFigures, saturationPhase, warmUp } from './fanout-phases';
import { LoadClients } from './load-clients';
import { Publisher } from './publisher';
import { startServer } from './server-process';
import type { System } from './systems';

/** How one system is measured at one N. */
export interface CellPlan {
  readonly connections: number;
  /** Broadcasts per second in the latency phase, and for how long. */
  readonly latencyRate: number;
  readonly latencySeconds: number;
  /** Broadcasts per saturation round (the same for every system at this N), and rounds (the median counts). */
  readonly saturationMessages: number;
  readonly saturationRounds: number;
  /** Saturation: at most this many broadcasts not yet received by every connection. */
  readonly window: number;
  /** Handshakes in flight while connecting, over all load clients. */
  readonly connectConcurrency: number;
  readonly clientProcesses: number;
}

export interface CellResult {
  readonly system: System['id'];
  readonly transport: System['transport'];
  readonly label: string;
  readonly connections: number;
  readonly connect: ConnectFigures;
  /**
   * Connecting N distinct users, one connection each (each a position read and, for the gateway,
   * a subscription of its own), after the other phases and once the first N have closed; absent
   * for the topic rows, whose first connect already is N users.
   */
  readonly connectUsers?: ConnectFigures;
  readonly memory: { rssBeforeBytes: number; rssAfterBytes: number; rssPerConnectionBytes: number; heapPerConnectionBytes: number; externalPerConnectionBytes: number };
  readonly latency: PhaseFigures & { rate: number };
  /**
   * The saturation round with the median deliveries/s; its losses, duplicates
   * and failed publishes are the sums over all rounds.
   */
  readonly saturation: PhaseFigures & { deliveriesPerSecond: number; roundsDeliveriesPerSecond: number[] };
  readonly droppedConnections: number;
  /** Distinct reasons of failed publish requests, if any (the count is in each phase's figures). */
  readonly publishErrors: string[];
  readonly clientRssBytes: number;
  /**
   * With --profile: the server's CPU profile, and where its CPU went while one user's N
   * connections opened, while N distinct users' did, and over the saturation rounds.
   */
  readonly profile?: { file: string; connect: ProfileSummary; connectUsers: ProfileSummary | null; saturation: ProfileSummary };
}

export interface ConnectFigures {
  readonly opened: number;
  readonly failed: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly firstErrors: string[];
}

export interface CellContext {
  readonly script: (file: string) => string;
  readonly redisPrefix: string;
  readonly bar: ProgressBar;
  readonly stepLabel: string;
  /** Set: every server runs with `--cpu-prof` and writes its profile under this directory. */
  readonly profileDir?: string;
}

const PHASE = { barrier: 1, warmup: 2, latency: 3, saturation: 10 } as const;
const WARMUP_MESSAGES = 20;
/** Settle after the last handshake: the gateway subscribes a socket to its feed after the client's `connect`. */
const SETTLE_MS = 1_500;
/** Assumed delivery rate, only to weigh the progress bar. */
const ASSUMED_DELIVERIES_PER_SECOND = 100_000;

/** Expected seconds of a cell, to weigh the progress bar. */
export function estimateSeconds(plan: CellPlan): number {
  return 8 + (2 * plan.connections) / 1500 + plan.latencySeconds + (plan.saturationRounds * plan.saturationMessages * plan.connections) / ASSUMED_DELIVERIES_PER_SECOND;
}

function environment(system: System, prefix: string): Record<string, string> {
  const common = { PATH: process.env.PATH ?? '', NODE_ENV: 'production' };
  if (system.reference) return common;
  return {
    ...appEnv(prefix),
    ...common,
    // The fan-out phases measure the gateway's delivery path, not the job-match worker.
    WORKER_EMBEDDED: 'false',
    // One user holds all N connections here, far above the per-user default of 32.
    MAX_CONNECTIONS_PER_USER: '100000',
    MAX_CONNECTIONS_PER_INSTANCE: '100000',
    PUBLIC_TOPICS: BENCH_TOPIC,
  };
}

function figures(connect: { opened: number; failed: number; seconds: number; firstErrors: string[] }): ConnectFigures {
  return {
    opened: connect.opened,
    failed: connect.failed,
    seconds: Math.round(connect.seconds * 1000) / 1000,
    perSecond: Math.round(connect.opened / connect.seconds),
    firstErrors: connect.firstErrors,
  };
}

/**
 * Measures one system at one N, on a fresh server process: idle memory per
 * connection, connect rate, latency at a moderate broadcast rate, then
 * deliveries per second at saturation, with losses and duplicates counted in
 * every timed phase.
 */
export async function runCell(system: System, plan: CellPlan, context: CellContext): Promise<CellResult> {
  const { bar, stepLabel } = context;
  const n = plan.connections;
  const weight = estimateSeconds(plan);
  const stage = (from: number, span: number, fraction: number, detail: string) => bar.update((from + span * fraction) / weight, `${stepLabel}: ${detail}`);
  bar.begin(`${stepLabel}: starting`, weight);
  const entry = system.reference ? context.script(system.reference) : path.join(root, 'dist/apps/gateway/main.js');
  const profileDir = context.profileDir ? path.join(context.profileDir, `${system.id}-${n}`) : null;
  const profileFlags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const server = await startServer(entry, context.script('probe.ts'), environment(system, context.redisPrefix), profileFlags);
  const clients = new LoadClients(context.script('load-client.ts'), plan.clientProcesses);
  const toTopic = system.audience === 'topic-followers';
  const publisher = new Publisher(server.port, API_KEY, toTopic);
  let result: CellResult;
  let connectWindow: [number, number];
  let saturationWindow: [number, number];
  let usersWindow: [number, number] | null = null;
  try {
    await sleep(500);
    const before = await server.probe();

    // Connect: N handshakes, bounded concurrency. Each carries a token of its own, as N devices
    // would: the gateway verifies every one (it remembers a verified token, so one shared token
    // would be checked once and leave JWT verification out of the connect rate). A topic's
    // followers are N users, each subscribed to their own feed besides the topic.
    const connectSpan = n / 1500;
    stage(2, connectSpan, 0, `connecting ${n.toLocaleString('en-US')}`);
    const tokens = Array.from({ length: n }, (_, i) => (toTopic ? userToken(`bench-follower-${i}`) : userToken(BENCH_USER, 3600, `c${i}`)));
    const connect = await clients.connect(system.transport, server.port, tokens, plan.connectConcurrency, toTopic ? BENCH_TOPIC : null);
    connectWindow = [connect.startUs, connect.endUs];
    if (connect.opened === 0) throw new Error(`no connection opened: ${connect.firstErrors.join('; ')}`);
    if (connect.failed > 0) bar.log(`${stepLabel}: ${connect.failed} connection(s) failed: ${connect.firstErrors.join('; ')}`);

    // Idle memory: once the handshakes have settled, against the empty server's (both after full GCs).
    stage(2 + connectSpan, 2, 0, 'idle memory');
    await sleep(SETTLE_MS);
    const after = await server.probe();
    const perConnection = (key: 'rss' | 'heapUsed' | 'external') => Math.round((after[key] - before[key]) / connect.opened);

    const phases: PhaseContext = { server, clients, publisher, connections: connect.opened };
    stage(4 + connectSpan, 1, 0, 'barrier and warm-up');
    await barrier(phases, PHASE.barrier);
    await warmUp(phases, PHASE.warmup, WARMUP_MESSAGES);

    const latencyFrom = 5 + connectSpan;
    const latency = await pacedPhase(phases, PHASE.latency, plan.latencyRate, plan.latencySeconds, (fraction) =>
      stage(latencyFrom, plan.latencySeconds, fraction, `latency at ${plan.latencyRate} broadcasts/s`),
    );

    const saturationFrom = latencyFrom + plan.latencySeconds;
    const roundSpan = (weight - saturationFrom - 3 - connectSpan) / plan.saturationRounds;
    const rounds: Awaited<ReturnType<typeof saturationPhase>>[] = [];
    const saturationFromUs = monotonicUs();
    for (let round = 0; round < plan.saturationRounds; round++) {
      rounds.push(
        await saturationPhase(phases, PHASE.saturation + round, plan.saturationMessages, plan.window, (fraction) =>
          stage(saturationFrom + round * roundSpan, roundSpan, fraction, `saturation, round ${round + 1}/${plan.saturationRounds}`),
        ),
      );
    }
    saturationWindow = [saturationFromUs, monotonicUs()];
    const median = [...rounds].sort((a, b) => a.deliveriesPerSecond - b.deliveriesPerSecond)[Math.floor(rounds.length / 2)];
    const sum = (key: 'losses' | 'duplicates' | 'publishFailures') => rounds.reduce((total, round) => total + round[key], 0);

    const usage = await clients.usage();

    let connectUsers: ConnectFigures | undefined;
    if (system.audience === 'one-user') {
      stage(weight - 3 - connectSpan, connectSpan, 0, `connecting ${n.toLocaleString('en-US')} distinct users`);
      await clients.closeConnections();
      await sleep(SETTLE_MS);
      const users = await clients.connect(system.transport, server.port, Array.from({ length: n }, (_, i) => userToken(`bench-device-user-${i}`)), plan.connectConcurrency);
      connectUsers = figures(users);
      usersWindow = [users.startUs, users.endUs];
    }
    result = {
      system: system.id,
      transport: system.transport,
      label: system.label,
      connections: n,
      connect: figures(connect),
      ...(connectUsers ? { connectUsers } : {}),
      memory: {
        rssBeforeBytes: before.rss,
        rssAfterBytes: after.rss,
        rssPerConnectionBytes: perConnection('rss'),
        heapPerConnectionBytes: perConnection('heapUsed'),
        externalPerConnectionBytes: perConnection('external'),
      },
      latency: { ...latency, rate: plan.latencyRate },
      saturation: {
        ...median,
        losses: sum('losses'),
        duplicates: sum('duplicates'),
        publishFailures: sum('publishFailures'),
        roundsDeliveriesPerSecond: rounds.map((round) => round.deliveriesPerSecond),
      },
      droppedConnections: usage.dropped,
      publishErrors: publisher.failureReasons,
      clientRssBytes: usage.rss,
    };
  } finally {
    stage(weight - 1, 1, 0, 'closing');
    // Clients leave first, so that the gateway's graceful shutdown has no streams to drain.
    await clients.closeConnections().catch(() => undefined);
    await clients.stop();
    publisher.close();
    await server.stop();
  }
  // The profile is written as the server exits.
  const profile = profileDir && fs.existsSync(profileDir) ? fs.readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile')) : undefined;
  if (profileDir && profile) {
    const file = path.join(profileDir, profile);
    const summary = (window: [number, number]) => summarizeProfile(file, window[0], window[1]);
    result = {
      ...result,
      profile: { file: path.relative(root, file), connect: summary(connectWindow), connectUsers: usersWindow && summary(usersWindow), saturation: summary(saturationWindow) },
    };
  }
  return result;
}
