/*
 * Storm client: a process of its own (forked by bench/storm/storm.ts, over
 * IPC) holding its share of the storm's SSE streams and sockets. Each comes
 * back as a real client does when its gateway sends it away: an SSE stream
 * after the server's last `retry:`, with `Last-Event-ID` (as EventSource
 * does), a socket through socket.io-client's own reconnection, with
 * `auth.lastEventId` (as the gateway's client library does).
 */
import { io, type Socket } from 'socket.io-client';
import { Backoff } from '../../libs/client/src/backoff';
import { monotonicUs } from '../fanout/bench-message';
import { openSseStream, type SseStream } from '../fanout/sse-stream';
import { STORM_TYPE, type StormConnectionKind, type StormConnectionReport, type StormDevice, type StormReply, type StormRequest, type StormStatus } from './storm-protocol';

const OPEN_TIMEOUT_MS = 30_000;
/**
 * A reopen that failed (a 502 while the balancer has no instance, say) is tried again after an
 * exponential backoff with jitter: the settings of the client library's SSE transport.
 */
const FAILED_REOPEN_BACKOFF = { initialMs: 1_000, maxMs: 30_000 };

class Tracked {
  readonly opens: number[] = [];
  readonly closes: number[] = [];
  readonly receipts: number[] = [];
  doneUs: number | null = null;
  resets = 0;
  failedReopens = 0;

  constructor(
    readonly user: number,
    readonly kind: StormConnectionKind,
  ) {}

  opened(): void {
    this.opens.push(monotonicUs());
  }

  closed(): void {
    this.closes.push(monotonicUs());
  }

  received(seq: number): void {
    const at = monotonicUs();
    this.receipts.push(seq, at);
    if (this.doneUs === null && signalSeq !== null && seq >= signalSeq && this.opens.length > 1) this.doneUs = at;
  }

  report(): StormConnectionReport {
    return { user: this.user, kind: this.kind, opens: this.opens, closes: this.closes, receipts: this.receipts, doneUs: this.doneUs, resets: this.resets, failedReopens: this.failedReopens };
  }
}

const tracked: Tracked[] = [];
const closers: (() => void)[] = [];
let closing = false;
let live = 0;
let signalSeq: number | null = null;

function seqOf(json: string): number {
  const at = json.indexOf('"stormSeq":');
  return at < 0 ? NaN : parseInt(json.slice(at + 11, at + 31), 10);
}

/** An SSE stream that reopens itself, resuming from where the last one stood. */
function sseClient(port: number, device: StormDevice, connection: Tracked): Promise<void> {
  return new Promise((resolve, reject) => {
    let stream: SseStream | null = null;
    let lastEventId = '';
    let retryMs = 0;
    let everOpened = false;
    const backoff = new Backoff(FAILED_REOPEN_BACKOFF);
    const timer = setTimeout(() => {
      stream?.close();
      reject(new Error(`not open after ${OPEN_TIMEOUT_MS} ms`));
    }, OPEN_TIMEOUT_MS);
    const open = () => {
      if (closing) return;
      let streamOpened = false;
      const current = openSseStream(
        port,
        `/api/events?access_token=${encodeURIComponent(device.token)}`,
        {
          onOpen: () => {
            streamOpened = true;
            backoff.reset();
            live++;
            connection.opened();
            if (!everOpened) {
              everOpened = true;
              clearTimeout(timer);
              resolve();
            }
          },
          onEvent: (event, data) => {
            if (event === STORM_TYPE) connection.received(seqOf(data));
            else if (event === 'reset') connection.resets++;
          },
          onClose: (error) => {
            // Where the stream stood, and when it asked to be back: what EventSource keeps across reconnects.
            lastEventId = current.lastEventId || lastEventId;
            retryMs = current.retryMs ?? retryMs;
            if (!everOpened) {
              clearTimeout(timer);
              reject(error ?? new Error('closed before it opened'));
              return;
            }
            if (streamOpened) {
              live--;
              connection.closed();
            }
            if (closing) return;
            if (!streamOpened) connection.failedReopens++;
            const delay = streamOpened ? retryMs : backoff.next();
            setTimeout(open, delay);
          },
        },
        lastEventId ? { 'Last-Event-ID': lastEventId } : {},
      );
      stream = current;
    };
    closers.push(() => stream?.close());
    open();
  });
}

/** A socket with socket.io-client's reconnection, resuming after the last notification it received. */
function socketClient(port: number, device: StormDevice, connection: Tracked): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastEventId: string | null = null;
    let everOpened = false;
    const socket: Socket = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      forceNew: true,
      timeout: OPEN_TIMEOUT_MS,
      // Read at every (re)connect, so each resumes after what it last received.
      auth: (send) => send(lastEventId === null ? { token: device.token } : { token: device.token, lastEventId }),
    });
    socket.on(STORM_TYPE, (notification: { id?: string; data?: { stormSeq?: number } }) => {
      if (typeof notification?.id === 'string') lastEventId = notification.id;
      connection.received(notification?.data?.stormSeq ?? NaN);
    });
    socket.on('reset', (payload: { lastEventId?: string }) => {
      connection.resets++;
      if (typeof payload?.lastEventId === 'string') lastEventId = payload.lastEventId;
    });
    socket.on('connect', () => {
      live++;
      connection.opened();
      if (everOpened) return;
      everOpened = true;
      resolve();
    });
    socket.on('connect_error', (error) => {
      if (!everOpened) {
        socket.disconnect();
        reject(error);
      } else connection.failedReopens++;
    });
    socket.on('disconnect', () => {
      live--;
      connection.closed();
    });
    closers.push(() => socket.disconnect());
  });
}

async function open(port: number, kind: StormConnectionKind, devices: StormDevice[], concurrency: number): Promise<{ opened: number; failed: number; firstErrors: string[] }> {
  const firstErrors: string[] = [];
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, devices.length) }, async () => {
      while (next < devices.length) {
        const device = devices[next++];
        const connection = new Tracked(device.user, kind);
        tracked.push(connection);
        try {
          await (kind === 'sse' ? sseClient : socketClient)(port, device, connection);
        } catch (error) {
          // Never opened: it expects nothing, and is not counted.
          tracked.splice(tracked.indexOf(connection), 1);
          failed++;
          if (firstErrors.length < 3) firstErrors.push((error as Error).message);
        }
      }
    }),
  );
  return { opened: devices.length - failed, failed, firstErrors };
}

function status(): StormStatus {
  let reopened = 0;
  let done = 0;
  for (const connection of tracked) {
    if (connection.opens.length > 1) reopened++;
    if (connection.doneUs !== null) done++;
  }
  return { connections: tracked.length, live, reopened, done };
}

async function handle(request: StormRequest): Promise<StormReply> {
  switch (request.cmd) {
    case 'open':
      return { id: request.id, ok: true, opened: await open(request.port, request.kind, request.devices, request.concurrency) };
    case 'signal':
      signalSeq = request.firstSeq;
      return { id: request.id, ok: true };
    case 'status':
      return { id: request.id, ok: true, status: status() };
    case 'report':
      return { id: request.id, ok: true, report: tracked.map((connection) => connection.report()) };
    case 'close':
      closing = true;
      for (const close of closers.splice(0)) close();
      return { id: request.id, ok: true };
  }
}

process.on('message', (request: StormRequest) => {
  handle(request).then(
    (reply) => process.send?.(reply),
    (error: Error) => process.send?.({ id: request.id, ok: false, error: error.message }),
  );
});
process.on('disconnect', () => process.exit(0));
