import { type Model, Step } from './commands';
import { userToken } from './fleet';
import type { InboxRead, ReadRequest } from './inbox-truth';
import { describeRead } from './inbox-truth';
import type { ScheduleRun } from './schedule-run';
import { SocketIoClient } from './socket-clients';

/*
 * Reads (issue 16): a user marks notifications read, by ids or up to an id,
 * over `POST /api/notifications/read` on either gateway, or over Socket.IO
 * `inbox:read` from a tab of the user: a model socket client of the user
 * when one is connected, else a socket opened for it. Each read is recorded
 * in the truth (inbox-truth.ts) with what it asked, when, and the answer.
 */

export type ReadVia = 'rest' | 'socket';
/** Which ids a read lists beside a subset of the user's own: another user's real id, an id nobody has. */
export type IdsMix = 'own' | 'own+foreign' | 'own+made-up' | 'own+both';
/** What `upTo` names: an own id (first, middle, last accepted), an id ahead of the stream, another user's id. */
export type UpToTarget = 'own-first' | 'own-middle' | 'own-last' | 'ahead' | 'foreign';

/** An id no stream of the model has: older than anything (the model's ids are of today). */
const MADE_UP_MS = 1_000_000_000_000;

/** Marks read a subset of the user's accepted ids (`subset` seeds which), mixed with ids not the user's. */
export class MarkReadIds extends Step {
  constructor(readonly user: number, readonly subset: number, readonly mix: IdsMix, readonly via: ReadVia, readonly gateway: number) {
    super();
  }
  check = () => true;
  describe = () => `mark read subset #${this.subset} of u${this.user}'s ids (${this.mix}) via ${this.via} @g${this.gateway}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const user = real.users[this.user % real.users.length];
    const random = mulberry32(this.subset);
    const own = real.truth.items(user).map((item) => item.id);
    const ids = own.filter(() => random() < 0.5);
    const parts = [`${ids.length} own`];
    if (this.mix === 'own+foreign' || this.mix === 'own+both') {
      const foreign = real.users.filter((other) => other !== user).flatMap((other) => real.truth.items(other).map((item) => item.id));
      if (foreign.length > 0) {
        ids.splice(Math.floor(random() * (ids.length + 1)), 0, foreign[Math.floor(random() * foreign.length)]);
        parts.push('foreign');
      }
    }
    if (this.mix === 'own+made-up' || this.mix === 'own+both') {
      ids.push(`${MADE_UP_MS}-${this.subset % 1000}`);
      parts.push('made-up');
    }
    // 1 to 200 ids: an empty pick takes the newest own id (or, with none, one nobody has).
    if (ids.length === 0) {
      ids.push(own.length > 0 ? own[own.length - 1] : `${MADE_UP_MS}-0`);
      parts.push(own.length > 0 ? '(the newest own)' : '(made-up: no own id yet)');
    }
    const read = await markRead(real, user, { ids }, parts.join(' + '), this.via, this.gateway);
    this.note(real, `mark-read ids via ${read.via} ${describeRead(read)}`);
  }
}

/** Marks read everything up to an id: the user's own, one ahead of the stream, another user's. */
export class MarkReadUpTo extends Step {
  constructor(readonly user: number, readonly target: UpToTarget, readonly via: ReadVia, readonly gateway: number) {
    super();
  }
  check = () => true;
  describe = () => `mark read u${this.user}'s up to ${this.target} via ${this.via} @g${this.gateway}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const user = real.users[this.user % real.users.length];
    const own = real.truth.items(user).map((item) => item.id);
    const foreign = real.users.filter((other) => other !== user).flatMap((other) => real.truth.items(other).map((item) => item.id));
    const upTo = {
      'own-first': own[0],
      'own-middle': own[Math.floor(own.length / 2)],
      'own-last': own[own.length - 1],
      ahead: '9999999999999-0',
      foreign: foreign[foreign.length - 1],
    }[this.target];
    // No such id yet: one nobody has, older than anything (it reads nothing).
    const read = await markRead(real, user, { upTo: upTo ?? `${MADE_UP_MS}-0` }, upTo === undefined ? `${this.target}: none yet, made-up` : this.target, this.via, this.gateway);
    this.note(real, `mark-read upTo via ${read.via} ${describeRead(read)}`);
  }
}

/** Sends one read and records it (and its answer) in the truth. */
async function markRead(real: ScheduleRun, user: string, request: ReadRequest, what: string, via: ReadVia, gateway: number): Promise<InboxRead> {
  const read: InboxRead = { user, request, what, via, route: real.fleet.route(gateway), sentAt: performance.now(), answeredAt: null, outcome: { kind: 'pending' } };
  real.truth.reads.push(read);
  const answered = (outcome: InboxRead['outcome']) => {
    read.answeredAt = performance.now();
    read.outcome = outcome;
    return read;
  };
  try {
    if (via === 'socket') {
      // A tab of the user that is connected (the model's), else a socket of the user's opened for this.
      let sent: { route: InboxRead['route']; ack: Promise<unknown> } | null = null;
      for (const client of real.clients) {
        if (sent === null && client instanceof SocketIoClient && client.user === user) {
          read.sentAt = performance.now();
          sent = client.emitWithAck('inbox:read', request, 3_000);
          if (sent) read.via = `socket ${client.name}`;
        }
      }
      if (sent === null) {
        if (read.route === null) return answered({ kind: 'error', error: 'no gateway up' });
        const socket = await real.sender(read.route, user);
        read.sentAt = performance.now();
        sent = { route: read.route, ack: socket.timeout(3_000).emitWithAck('inbox:read', request) as Promise<unknown> };
      }
      read.route = sent.route;
      const ack = (await sent.ack) as { ok?: unknown; unread?: unknown; readUpTo?: unknown; error?: unknown } | undefined;
      if (ack?.ok === true && typeof ack.unread === 'number' && typeof ack.readUpTo === 'string') return answered({ kind: 'ok', unread: ack.unread, readUpTo: ack.readUpTo });
      return answered({ kind: 'error', error: typeof ack?.error === 'string' ? ack.error : `ack ${JSON.stringify(ack)}` });
    }
    if (read.route === null) return answered({ kind: 'error', error: 'no gateway up' });
    read.sentAt = performance.now();
    const response = await fetch(`${read.route.url}/api/notifications/read`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${userToken(user)}` },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (response.status !== 200) return answered({ kind: 'error', error: `${response.status} ${text.slice(0, 160)}` });
    const body = JSON.parse(text) as { unread?: unknown; readUpTo?: unknown };
    if (typeof body.unread === 'number' && typeof body.readUpTo === 'string' && Object.keys(body).length === 2) return answered({ kind: 'ok', unread: body.unread, readUpTo: body.readUpTo });
    return answered({ kind: 'error', error: `200 but not { unread, readUpTo }: ${text.slice(0, 160)}` });
  } catch (error) {
    return answered({ kind: 'error', error: (error as Error).message });
  }
}

/** A small seeded generator: the same `subset` picks the same ids of the same accepted sequence. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
