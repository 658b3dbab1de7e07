/*
 * Load client: a process of its own (forked by the orchestrator, talking over
 * IPC) that opens its share of the N connections of the one benchmark user and
 * records every receipt. The same code drives the gateway and the references:
 * raw http SSE streams, or socket.io-client over WebSocket only.
 */
import { io, type Socket } from 'socket.io-client';
import { BENCH_TYPE, marksFromJson, marksFromNotification, monotonicUs } from './bench-message';
import type { ConnectReply, LoadClientReply, LoadClientRequest, ProgressMessage, Transport, UsageReply } from './load-client-protocol';
import { PhaseReceipts } from './phase-receipts';
import { openSseStream } from './sse-stream';

/** Give up on a connection that has not opened after this long (counted as failed). */
const OPEN_TIMEOUT_MS = 30_000;
/** Progress reports are batched: the publisher's window needs them promptly, not per receipt. */
const PROGRESS_EVERY_MS = 5;

interface Connection {
  close(): void;
}

const connections: Connection[] = [];
let closing = false;
let dropped = 0;
let live = 0;
let current: PhaseReceipts | null = null;
let progressTimer: NodeJS.Timeout | null = null;

function send(message: LoadClientReply | ProgressMessage): void {
  if (process.connected) process.send?.(message);
}

function sendProgress(): void {
  progressTimer = null;
  const phase = current;
  if (phase) send({ progress: { phase: phase.phase, complete: phase.complete, reached: phase.reached } });
}

function receive(connection: number, phase: number, seq: number, sentUs: number): void {
  if (current?.record(connection, phase, seq, sentUs, monotonicUs()) && progressTimer === null) {
    progressTimer = setTimeout(sendProgress, PROGRESS_EVERY_MS);
  }
}

function openSse(index: number, port: number, token: string, topic: string | null): Promise<Connection> {
  return new Promise((resolve, reject) => {
    let opened = false;
    // Closed, not just abandoned, so that a late opener cannot join the count afterwards.
    const timer = setTimeout(() => {
      stream.close();
      reject(new Error(`not open after ${OPEN_TIMEOUT_MS} ms`));
    }, OPEN_TIMEOUT_MS);
    const topics = topic === null ? '' : `&topics=${topic}`;
    const stream = openSseStream(port, `/api/events?access_token=${encodeURIComponent(token)}${topics}`, {
      onOpen: () => {
        clearTimeout(timer);
        opened = true;
        live++;
        resolve(stream);
      },
      onEvent: (event, data) => {
        if (event !== BENCH_TYPE) return;
        const marks = marksFromJson(data);
        if (marks) receive(index, marks.phase, marks.seq, marks.sentUs);
      },
      onClose: (error) => {
        clearTimeout(timer);
        if (!opened) reject(error ?? new Error('closed before it opened'));
        else if (!closing) {
          dropped++;
          live--;
        }
      },
    });
  });
}

function openSocket(index: number, port: number, token: string, topic: string | null): Promise<Connection> {
  return new Promise((resolve, reject) => {
    let opened = false;
    const socket: Socket = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      // Past this, `connect_error` (timeout): the socket is closed and counted as failed.
      timeout: OPEN_TIMEOUT_MS,
      auth: { token },
    });
    socket.on(BENCH_TYPE, (notification: unknown) => {
      const marks = marksFromNotification(notification);
      if (marks) receive(index, marks.phase, marks.seq, marks.sentUs);
    });
    socket.once('connect', () => {
      const ready = () => {
        opened = true;
        live++;
        resolve({ close: () => socket.disconnect() });
      };
      if (topic === null) return ready();
      // Open once the gateway follows the topic for this socket: its ack.
      socket.timeout(OPEN_TIMEOUT_MS).emit('topic:subscribe', { topic }, (error: Error | null, ack: { ok: boolean; error?: string }) => {
        if (error || !ack.ok) {
          socket.disconnect();
          reject(error ?? new Error(`topic:subscribe: ${ack.error}`));
        } else ready();
      });
    });
    socket.once('connect_error', (error) => {
      socket.disconnect();
      reject(error);
    });
    socket.on('disconnect', () => {
      if (opened && !closing) {
        dropped++;
        live--;
      }
    });
  });
}

/** Opens one connection per token with at most `concurrency` handshakes in flight; times from the first to the last open. */
async function connect(transport: Transport, port: number, tokens: string[], concurrency: number, topic: string | null): Promise<ConnectReply> {
  const count = tokens.length;
  const open = transport === 'sse' ? openSse : openSocket;
  const firstErrors: string[] = [];
  let failed = 0;
  let next = 0;
  let endUs = 0;
  const base = connections.length;
  const startUs = monotonicUs();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = base + next;
        const token = tokens[next++];
        try {
          connections[index] = await open(index, port, token, topic);
          endUs = monotonicUs();
        } catch (error) {
          failed++;
          connections[index] = { close: () => undefined };
          if (firstErrors.length < 3) firstErrors.push((error as Error).message);
        }
      }
    }),
  );
  return { opened: count - failed, failed, startUs, endUs, firstErrors };
}

function usage(): UsageReply {
  const cpu = process.cpuUsage();
  return { cpuUs: cpu.user + cpu.system, atUs: monotonicUs(), rss: process.memoryUsage.rss(), dropped };
}

async function handle(request: LoadClientRequest): Promise<LoadClientReply> {
  switch (request.cmd) {
    case 'connect':
      return { id: request.id, ok: true, connect: await connect(request.transport, request.port, request.tokens, request.concurrency, request.topic) };
    case 'phase':
      current = new PhaseReceipts(request.phase, request.messages, connections.length, live);
      return { id: request.id, ok: true };
    case 'report':
      if (!current) return { id: request.id, ok: false, error: 'no phase started' };
      return { id: request.id, ok: true, report: current.report(request.published) };
    case 'usage':
      return { id: request.id, ok: true, usage: usage() };
    case 'close':
      closing = true;
      current = null;
      for (const connection of connections.splice(0)) connection.close();
      return { id: request.id, ok: true };
  }
}

process.on('message', (request: LoadClientRequest) => {
  handle(request).then(send, (error: Error) => send({ id: request.id, ok: false, error: error.message }));
});
// The orchestrator is gone (finished, crashed or killed): so is this client.
process.on('disconnect', () => process.exit(0));
