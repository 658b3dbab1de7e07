import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from '../support';
import { monotonicUs } from './bench-message';
import type { LoadClients, MergedPhase } from './load-clients';
import type { Publisher } from './publisher';
import type { ServerProcess } from './server-process';

/** What one timed phase measured. */
export interface PhaseFigures {
  readonly messages: number;
  /** messages × connections. */
  readonly expected: number;
  readonly receipts: number;
  readonly losses: number;
  readonly duplicates: number;
  readonly strays: number;
  readonly publishFailures: number;
  /** Over every receipt (message × connection), publish → receipt, ms. */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** Per message, publish → its last receiver, ms. */
  readonly lastReceiverP50Ms: number;
  readonly lastReceiverP99Ms: number;
  readonly seconds: number;
  /** CPU of the server process, % of one core. */
  readonly serverCpuPercent: number;
  /** CPU of each load-client process, % of one core. */
  readonly clientCpuPercent: number[];
  /** False when deliveries stopped progressing before every connection had every message. */
  readonly completed: boolean;
}

/** The processes of one measurement, and the number of connections that opened. */
export interface PhaseContext {
  readonly server: ServerProcess;
  readonly clients: LoadClients;
  readonly publisher: Publisher;
  readonly connections: number;
}

const BARRIER_EVERY_MS = 200;
const BARRIER_TIMEOUT_MS = 30_000;
/** A phase whose deliveries have not moved for this long is over: what is missing is lost. */
const STALL_MS = 10_000;

const ms = (us: number) => Math.round(us / 10) / 100;

/** Waits until every connection has the phase's `messages` (true), or deliveries stall (false). */
async function waitForAll(clients: LoadClients, phase: number, messages: number, onTick: (complete: number) => void = () => undefined): Promise<boolean> {
  let last = -1;
  let lastMove = Date.now();
  for (;;) {
    const { complete } = clients.progress(phase);
    onTick(complete);
    if (complete >= messages) return true;
    if (complete !== last) [last, lastMove] = [complete, Date.now()];
    else if (Date.now() - lastMove > STALL_MS) return false;
    await sleep(20);
  }
}

/** CPU use between now and the returned function's call, % of one core, for the server and each load client. */
async function cpuMeter(context: PhaseContext): Promise<() => Promise<{ server: number; clients: number[] }>> {
  const [server0, clients0, at0] = [await context.server.cpu(), await context.clients.usage(), monotonicUs()];
  return async () => {
    const [server1, clients1, at1] = [await context.server.cpu(), await context.clients.usage(), monotonicUs()];
    const span = Math.max(1, at1 - at0);
    return {
      server: Math.round(((server1 - server0) / span) * 100),
      clients: clients1.cpuUs.map((cpu, i) => Math.round(((cpu - clients0.cpuUs[i]) / span) * 100)),
    };
  };
}

function figures(merged: MergedPhase, messages: number, connections: number, seconds: number, cpu: { server: number; clients: number[] }, publishFailures: number, completed: boolean): PhaseFigures {
  const last = merged.lastReceiverUs.filter((value) => value >= 0).sort((a, b) => a - b);
  const at = (p: number) => ms(merged.histogram.getValueAtPercentile(p));
  return {
    messages,
    expected: messages * connections,
    receipts: merged.receipts,
    losses: merged.losses,
    duplicates: merged.duplicates,
    strays: merged.strays,
    publishFailures,
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    p999Ms: at(99.9),
    maxMs: ms(merged.histogram.maxValue),
    lastReceiverP50Ms: ms(percentile(last, 50)),
    lastReceiverP99Ms: ms(percentile(last, 99)),
    seconds: Math.round(seconds * 100) / 100,
    serverCpuPercent: cpu.server,
    clientCpuPercent: cpu.clients,
    completed,
  };
}

/** Broadcasts until every connection has received one, so that every subscription is live; throws if some never do. */
export async function barrier(context: PhaseContext, phase: number): Promise<void> {
  const { clients, publisher, connections } = context;
  await clients.startPhase(phase, 10_000);
  const deadline = Date.now() + BARRIER_TIMEOUT_MS;
  for (let seq = 0; clients.progress(phase).reached < connections; seq++) {
    if (Date.now() > deadline) {
      const reason = publisher.lastFailure ? ` (last publish error: ${publisher.lastFailure})` : '';
      throw new Error(`only ${clients.progress(phase).reached} of ${connections} connections receive broadcasts${reason}`);
    }
    await publisher.publish(phase, seq);
    await sleep(BARRIER_EVERY_MS);
  }
}

/** Unrecorded broadcasts, so that JIT and buffers are warm in every system alike. */
export async function warmUp(context: PhaseContext, phase: number, messages: number): Promise<void> {
  await context.clients.startPhase(phase, messages);
  for (let seq = 0; seq < messages; seq++) {
    void context.publisher.publish(phase, seq);
    await sleep(20);
  }
  await waitForAll(context.clients, phase, messages);
}

/**
 * Latency: broadcasts on an open-loop schedule at `rate` per second: a slow
 * system does not slow the schedule down (no coordinated omission).
 */
export async function pacedPhase(context: PhaseContext, phase: number, rate: number, seconds: number, onProgress: (fraction: number) => void): Promise<PhaseFigures> {
  const { clients, publisher } = context;
  const messages = Math.max(1, Math.round(rate * seconds));
  await clients.startPhase(phase, messages);
  const failuresBefore = publisher.failures;
  const cpu = await cpuMeter(context);
  const interval = 1000 / rate;
  const start = Date.now();
  const sends: Promise<void>[] = [];
  for (let seq = 0; seq < messages; seq++) {
    const wait = start + seq * interval - Date.now();
    if (wait > 0) await sleep(wait);
    sends.push(publisher.publish(phase, seq));
    onProgress(seq / messages);
  }
  await Promise.all(sends);
  const completed = await waitForAll(clients, phase, messages);
  const elapsed = (Date.now() - start) / 1000;
  const cpuUse = await cpu();
  return figures(await clients.report(messages), messages, context.connections, elapsed, cpuUse, publisher.failures - failuresBefore, completed);
}

/**
 * Saturation: `messages` broadcasts as fast as deliveries allow, with at most
 * `window` broadcasts not yet received by every connection and the
 * publisher's own bound on requests in flight. Deliveries/s = receipts /
 * (first publish → last receipt).
 */
export async function saturationPhase(
  context: PhaseContext,
  phase: number,
  messages: number,
  window: number,
  onProgress: (fraction: number) => void,
): Promise<PhaseFigures & { deliveriesPerSecond: number }> {
  const { clients, publisher } = context;
  await clients.startPhase(phase, messages);
  const failuresBefore = publisher.failures;
  const cpu = await cpuMeter(context);
  const firstPublishUs = monotonicUs();
  let published = 0;
  let inFlight = 0;
  const pump = () => {
    const { complete } = clients.progress(phase);
    while (published < messages && inFlight < publisher.maxInFlight && published - complete < window) {
      inFlight++;
      void publisher.publish(phase, published++).then(() => {
        inFlight--;
        pump();
      });
    }
  };
  clients.onProgress(pump);
  let completed: boolean;
  try {
    pump();
    completed = await waitForAll(clients, phase, messages, (complete) => onProgress(complete / messages));
  } finally {
    clients.onProgress(null);
  }
  while (inFlight > 0) await sleep(10);
  const cpuUse = await cpu();
  const merged = await clients.report(published);
  const seconds = (merged.lastReceiptUs - firstPublishUs) / 1e6;
  return {
    ...figures(merged, published, context.connections, seconds, cpuUse, publisher.failures - failuresBefore, completed),
    deliveriesPerSecond: Math.round(merged.receipts / Math.max(seconds, 1e-6)),
  };
}
