/** The notification type of the storm: its SSE event name and its Socket.IO event name. */
export const STORM_TYPE = 'storm-tick';

export type StormConnectionKind = 'sse' | 'socket';

export interface StormDevice {
  /** Index of the user (`storm-user-<user>`). */
  readonly user: number;
  readonly token: string;
}

/** Orchestrator → storm client. Every request is answered once with the same `id`. */
export type StormRequest =
  | { id: number; cmd: 'open'; port: number; kind: StormConnectionKind; devices: StormDevice[]; concurrency: number }
  /** Publishing after the signal starts at this sequence number: a receipt of it or a later one, after a reopen, completes a connection. */
  | { id: number; cmd: 'signal'; firstSeq: number }
  | { id: number; cmd: 'status' }
  | { id: number; cmd: 'report' }
  | { id: number; cmd: 'close' };

export interface StormStatus {
  readonly connections: number;
  /** Open right now. */
  readonly live: number;
  /** Opened again after they were sent away. */
  readonly reopened: number;
  /** Reopened and then received a notification published after the signal. */
  readonly done: number;
}

export interface StormConnectionReport {
  readonly user: number;
  readonly kind: StormConnectionKind;
  /** Monotonic µs of each open: the first, then every reopen. */
  readonly opens: number[];
  /** Monotonic µs of each close of an open connection: closes[k] ends the k-th open. */
  readonly closes: number[];
  /** Pairs of (sequence number, monotonic µs of receipt), in order of receipt. */
  readonly receipts: number[];
  /** When it completed (see StormStatus.done), or null. */
  readonly doneUs: number | null;
  readonly resets: number;
  /** Reopen attempts that failed (and were tried again). */
  readonly failedReopens: number;
}

export type StormReply =
  | { id: number; ok: true; opened?: { opened: number; failed: number; firstErrors: string[] }; status?: StormStatus; report?: StormConnectionReport[] }
  | { id: number; ok: false; error: string };
