import type { PhaseReport } from './phase-receipts';

/** The transports the benchmark drives, each through its stock client path. */
export type Transport = 'sse' | 'socketio';

/** Orchestrator → load client. Every request is answered once with the same `id`. */
export type LoadClientRequest =
  | { id: number; cmd: 'connect'; transport: Transport; port: number; tokens: string[]; concurrency: number; topic: string | null }
  | { id: number; cmd: 'phase'; phase: number; messages: number }
  | { id: number; cmd: 'report'; published: number }
  | { id: number; cmd: 'usage' }
  | { id: number; cmd: 'close' };

export interface ConnectReply {
  readonly opened: number;
  readonly failed: number;
  readonly startUs: number;
  /** When the last connection opened (stream headers or Socket.IO `connect`). */
  readonly endUs: number;
  readonly firstErrors: string[];
}

export interface UsageReply {
  /** process.cpuUsage() user + system, µs. */
  readonly cpuUs: number;
  readonly atUs: number;
  readonly rss: number;
  /** Connections that closed while they should have stayed open. */
  readonly dropped: number;
}

export type LoadClientReply =
  | { id: number; ok: true; connect?: ConnectReply; report?: PhaseReport; usage?: UsageReply }
  | { id: number; ok: false; error: string };

/** Load client → orchestrator, unasked: the phase moved (sent at most every few ms). */
export interface ProgressMessage {
  readonly progress: { phase: number; complete: number; reached: number };
}
