import type { Queue } from 'bullmq';
import { io, type Socket } from 'socket.io-client';
import type { ClientKind, LogicalClient } from './client';
import { SETTINGS } from './config';
import { type Fleet, MODEL_API_KEY, type Route, userToken } from './fleet';
import { RestPollingClient } from './polling-client';
import { SocketIoClient } from './socket-clients';
import { EventSourceClient, RawSseClient } from './sse-clients';
import type { Sent, Truth, Via } from './truth';

/*
 * One schedule's world: its fresh users and topics, its clients, the
 * publishes it made (each with a sequence number in `data`, unique in the
 * schedule, so a report reads "seq=12" rather than a stream id), and what it
 * did to the fleet. Commands act through it.
 */

let execution = 0;

/**
 * Fresh ids per execution (shrinking re-runs a schedule: it must not meet its earlier run's history):
 * users, and three topics: two public (`jobs.*`) and one only a token's `topics` claim lets a user follow.
 */
export function freshStreams(count: number, unicode: boolean): { users: string[]; topics: string[] } {
  const run = `${++execution}${Math.random().toString(36).slice(2, 6)}`;
  const users = Array.from({ length: count }, (_, i) => `m${run}-u${i}`);
  if (unicode) users[count - 1] = `ü-用户-${run}-🚀`;
  return { users, topics: [`jobs.m-${run}-a`, `jobs.m-${run}-b`, `feed.m-${run}-p`] };
}

/** Which topics a client follows (indexes into the schedule's topics), and which its token's claim grants. */
export const TOPIC_PICKS = {
  none: { follow: [], claim: [] },
  a: { follow: [0], claim: [] },
  b: { follow: [1], claim: [] },
  ab: { follow: [0, 1], claim: [] },
  /** The non-public topic, with the claim that grants it. */
  ap: { follow: [0, 2], claim: [2] },
  /** The non-public topic without the claim: 403, or the ack `forbidden`. */
  forbidden: { follow: [2, 0], claim: [] },
} as const satisfies Record<string, { follow: readonly number[]; claim: readonly number[] }>;
export type TopicPick = keyof typeof TOPIC_PICKS;

export class ScheduleRun {
  readonly clients: LogicalClient[] = [];
  /** What happened, one line per step, for the report. */
  readonly steps: string[] = [];
  private seq = 0;
  /** Sockets the model opened to act as someone (`<user>@<generation>`): the chat sender, a user's `inbox:read`. */
  private readonly senders = new Map<string, Socket>();
  private readonly jobs: Array<{ sent: Sent; jobId: string }> = [];

  constructor(
    readonly fleet: Fleet,
    readonly truth: Truth,
    readonly queue: Queue,
    readonly users: string[],
    readonly topics: string[],
  ) {}

  nextSeq(): number {
    return ++this.seq;
  }

  get lastSeq(): number {
    return this.seq;
  }

  openClient(kind: ClientKind, user: string, preferred: number, pick: TopicPick = 'none'): LogicalClient {
    const name = `c${this.clients.length}`;
    const Kind = { sse: RawSseClient, eventsource: EventSourceClient, websocket: SocketIoClient, 'sio-polling': SocketIoClient, 'rest-polling': RestPollingClient }[kind];
    const { follow, claim } = TOPIC_PICKS[pick];
    const client = new Kind(name, kind, user, this.fleet, preferred, follow.map((i) => this.topics[i]), claim.map((i) => this.topics[i]));
    this.clients.push(client);
    return client;
  }

  isTopic(stream: string): boolean {
    return this.topics.includes(stream);
  }

  /**
   * `POST /api/notifications` (or, to a topic, `POST /api/topics/:topic/events`) as an internal service;
   * resolves with the ledger entry once answered.
   */
  async publishRest(stream: string, preferred: number, options: { via?: Via; big?: boolean; seq?: number; idempotencyKey?: string; sameAs?: number } = {}): Promise<Sent> {
    const seq = options.seq ?? this.nextSeq();
    const data: Record<string, unknown> = { seq };
    if (options.big) data.blob = 'x'.repeat(SETTINGS.bigBlobChars);
    const topic = this.isTopic(stream);
    const type = topic ? (seq % 2 === 0 ? 'model-tick' : 'model-score') : seq % 3 === 0 ? 'model-ping' : 'job-match';
    const route = this.fleet.route(preferred);
    const sent = this.truth.record({ seq, stream, via: options.via ?? 'rest', sentAt: performance.now(), outcome: { kind: 'pending' }, route: route ?? undefined, idempotencyKey: options.idempotencyKey, sameAs: options.sameAs });
    if (route === null) {
      sent.outcome = { kind: 'unknown', error: 'no gateway up' };
      return sent;
    }
    const body = JSON.stringify({ ...(topic ? {} : { userId: stream }), type, data, ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}) });
    try {
      const response = await fetch(topic ? `${route.url}/api/topics/${encodeURIComponent(stream)}/events` : `${route.url}/api/notifications`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Api-Key': MODEL_API_KEY },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      sent.answeredAt = performance.now();
      if (response.status === 202) sent.outcome = { kind: 'accepted', id: (JSON.parse(text) as { id: string }).id };
      else sent.outcome = { kind: 'refused', status: response.status, body: text.slice(0, 200) };
    } catch (error) {
      sent.answeredAt = performance.now();
      sent.outcome = { kind: 'unknown', error: (error as Error).message };
    }
    return sent;
  }

  /** A `notify` job on the `notifications` queue; its outcome is read when the schedule settles. */
  async publishQueue(user: string): Promise<Sent> {
    const seq = this.nextSeq();
    const sent = this.truth.record({ seq, stream: user, via: 'queue', sentAt: performance.now(), outcome: { kind: 'pending' } });
    const job = await this.queue.add('notify', { userId: user, type: 'job-match', data: { seq } });
    sent.jobId = job.id;
    this.jobs.push({ sent, jobId: job.id as string });
    return sent;
  }

  /** Direct chat from this schedule's sender, stored as the recipient's `message-received`. */
  async chat(user: string, preferred: number): Promise<Sent> {
    const seq = this.nextSeq();
    const route = this.fleet.route(preferred);
    const sent = this.truth.record({ seq, stream: user, via: 'chat', sentAt: performance.now(), outcome: { kind: 'pending' }, route: route ?? undefined });
    if (route === null) {
      sent.outcome = { kind: 'unknown', error: 'no gateway up' };
      return sent;
    }
    try {
      const socket = await this.sender(route);
      sent.sentAt = performance.now();
      const ack = (await socket.timeout(3_000).emitWithAck('chat', { recipientId: user, content: `hello #${seq}` })) as { ok: boolean; id?: string; error?: string };
      sent.answeredAt = performance.now();
      sent.outcome = ack.ok && ack.id ? { kind: 'accepted', id: ack.id } : { kind: 'refused', status: ack.error ?? 'no error' };
      if (ack.id) sent.messageId = ack.id;
    } catch (error) {
      sent.answeredAt = performance.now();
      sent.outcome = { kind: 'unknown', error: (error as Error).message };
    }
    return sent;
  }

  /** Reads the outcome of every queued job (completed: the id it returned). */
  async readJobs(): Promise<boolean> {
    let done = true;
    for (const { sent, jobId } of this.jobs) {
      if (sent.outcome.kind !== 'pending') continue;
      const state = await this.queue.getJobState(jobId);
      sent.jobState = state;
      // Read the job only once it is finished: a copy read before holds no return value.
      const job = state === 'completed' || state === 'failed' ? await this.queue.getJob(jobId) : undefined;
      if (state === 'completed') sent.outcome = { kind: 'accepted', id: (job?.returnvalue as { id: string } | undefined)?.id ?? '(no return value)' };
      else if (state === 'failed') sent.outcome = { kind: 'refused', status: `job failed: ${job?.failedReason}` };
      else done = false;
    }
    return done;
  }

  /** A job a SIGKILL interrupted is retried only after BullMQ's stall interval: it is left, not waited for. */
  abandonPendingJobs(): void {
    for (const { sent } of this.jobs) if (sent.outcome.kind === 'pending') sent.outcome = { kind: 'unknown', error: 'job not finished when the schedule settled' };
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.close();
    for (const socket of this.senders.values()) socket.disconnect();
  }

  /** A connected socket of `userId` (default: the schedule's chat sender) on that gateway, opened once and kept. */
  async sender(route: Route, userId = `${this.users[0]}-sender`): Promise<Socket> {
    const key = `${userId}@${route.generation}`;
    const existing = this.senders.get(key);
    if (existing?.connected) return existing;
    existing?.disconnect();
    // A stock client: it retries by itself (a gateway whose subscriber is reconnecting closes the handshake).
    const socket = io(route.url, { transports: ['websocket'], auth: { token: userToken(userId) }, forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 200 });
    this.senders.set(key, socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the socket of ${userId} did not connect within 3 s`)), 3_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return socket;
  }
}
