import { fork, type ChildProcess } from 'node:child_process';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { trackChild } from '../support';
import type { ConnectReply, LoadClientReply, LoadClientRequest, ProgressMessage, Transport, UsageReply } from './load-client-protocol';
import { latencyHistogram, type PhaseReport } from './phase-receipts';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Ask = WithoutId<LoadClientRequest>;

const REQUEST_TIMEOUT_MS = 120_000;

/** One phase merged over all load clients. */
export interface MergedPhase {
  readonly receipts: number;
  readonly duplicates: number;
  readonly strays: number;
  readonly losses: number;
  readonly firstReceiptUs: number;
  readonly lastReceiptUs: number;
  /** Per message, the latency of its last receiver over all connections (µs). */
  readonly lastReceiverUs: number[];
  readonly histogram: ReturnType<typeof latencyHistogram>;
}

/** Connect figures merged: the span runs from the first client's start to the last connection's open. */
export interface MergedConnect {
  readonly opened: number;
  readonly failed: number;
  readonly seconds: number;
  /** The span on the machine's monotonic clock (µs). */
  readonly startUs: number;
  readonly endUs: number;
  readonly firstErrors: string[];
}

class LoadClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(reply: LoadClientReply): void; reject(error: Error): void }>();
  progress: ProgressMessage['progress'] = { phase: -1, complete: 0, reached: 0 };

  constructor(
    private readonly child: ChildProcess,
    onProgress: () => void,
  ) {
    child.on('message', (message: LoadClientReply | ProgressMessage) => {
      if ('progress' in message) {
        this.progress = message.progress;
        onProgress();
        return;
      }
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      waiter?.resolve(message);
    });
    child.once('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`load client exited (${code})`));
      this.pending.clear();
    });
  }

  async ask(request: Ask): Promise<LoadClientReply & { ok: true }> {
    const id = this.nextId++;
    const reply = await new Promise<LoadClientReply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load client: no answer to ${request.cmd}`)), REQUEST_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      this.child.send({ ...request, id } as LoadClientRequest);
    });
    if (!reply.ok) throw new Error(`load client: ${reply.error}`);
    return reply;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      // Closing IPC makes it exit (see load-client.ts); SIGKILL if it does not.
      this.child.disconnect();
      setTimeout(() => this.child.kill('SIGKILL'), 3_000).unref();
    });
  }
}

/**
 * The load-client processes of one measurement, driven together: the N
 * connections are split evenly between them, and their figures merged.
 */
export class LoadClients {
  private readonly clients: LoadClient[];
  private listener: (() => void) | null = null;

  constructor(script: string, count: number) {
    this.clients = Array.from(
      { length: count },
      // Compiled JS: no ts-node hook inherited from the orchestrator's execArgv.
      () => new LoadClient(trackChild(fork(script, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })), () => this.listener?.()),
    );
  }

  get size(): number {
    return this.clients.length;
  }

  /** Called whenever a client reports progress of the current phase. */
  onProgress(listener: (() => void) | null): void {
    this.listener = listener;
  }

  /** Over all clients: messages every connection has, and connections that got at least one. */
  progress(phase: number): { complete: number; reached: number } {
    let complete = Infinity;
    let reached = 0;
    for (const client of this.clients) {
      const mine = client.progress.phase === phase ? client.progress : { complete: 0, reached: 0 };
      complete = Math.min(complete, mine.complete);
      reached += mine.reached;
    }
    return { complete, reached };
  }

  /** Opens a connection per token, shared out between the clients; with `topic`, each follows it (SSE `?topics=`, Socket.IO `topic:subscribe`). */
  async connect(transport: Transport, port: number, tokens: string[], concurrency: number, topic: string | null = null): Promise<MergedConnect> {
    const total = tokens.length;
    const shares = this.clients.map((_, i) => Math.floor(total / this.clients.length) + (i < total % this.clients.length ? 1 : 0));
    const perClient = Math.max(1, Math.floor(concurrency / this.clients.length));
    let from = 0;
    const slices = shares.map((share) => tokens.slice(from, (from += share)));
    const replies = await Promise.all(
      this.clients.map((client, i) => client.ask({ cmd: 'connect', transport, port, tokens: slices[i], concurrency: perClient, topic })),
    );
    const connects = replies.map((reply) => reply.connect as ConnectReply);
    const start = Math.min(...connects.map((c) => c.startUs));
    const end = Math.max(...connects.map((c) => c.endUs));
    return {
      opened: connects.reduce((sum, c) => sum + c.opened, 0),
      failed: connects.reduce((sum, c) => sum + c.failed, 0),
      seconds: (end - start) / 1e6,
      startUs: start,
      endUs: end,
      firstErrors: connects.flatMap((c) => c.firstErrors).slice(0, 3),
    };
  }

  async startPhase(phase: number, messages: number): Promise<void> {
    await Promise.all(this.clients.map((client) => client.ask({ cmd: 'phase', phase, messages })));
  }

  async report(published: number): Promise<MergedPhase> {
    const reports = (await Promise.all(this.clients.map((client) => client.ask({ cmd: 'report', published })))).map((reply) => reply.report as PhaseReport);
    const histogram = latencyHistogram();
    for (const report of reports) histogram.add(decodeFromCompressedBase64(report.histogram));
    const received = reports.filter((r) => r.receipts > 0);
    return {
      receipts: reports.reduce((sum, r) => sum + r.receipts, 0),
      duplicates: reports.reduce((sum, r) => sum + r.duplicates, 0),
      strays: reports.reduce((sum, r) => sum + r.strays, 0),
      losses: reports.reduce((sum, r) => sum + r.losses, 0),
      firstReceiptUs: received.length ? Math.min(...received.map((r) => r.firstReceiptUs)) : 0,
      lastReceiptUs: received.length ? Math.max(...received.map((r) => r.lastReceiptUs)) : 0,
      lastReceiverUs: Array.from({ length: published }, (_, seq) => Math.max(...reports.map((r) => r.lastReceiverUs[seq] ?? -1))),
      histogram,
    };
  }

  /** CPU time (µs, all clients) and the dropped connections so far. */
  async usage(): Promise<{ cpuUs: number[]; atUs: number; dropped: number; rss: number }> {
    const usages = (await Promise.all(this.clients.map((client) => client.ask({ cmd: 'usage' })))).map((reply) => reply.usage as UsageReply);
    return {
      cpuUs: usages.map((u) => u.cpuUs),
      atUs: Math.max(...usages.map((u) => u.atUs)),
      dropped: usages.reduce((sum, u) => sum + u.dropped, 0),
      rss: usages.reduce((sum, u) => sum + u.rss, 0),
    };
  }

  async closeConnections(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.ask({ cmd: 'close' })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.stop()));
  }
}
