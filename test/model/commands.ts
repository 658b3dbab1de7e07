import type fc from 'fast-check';
import type { ClientKind, CursorVia } from './client';
import { debug, SETTINGS } from './config';
import { combinedCursor, type CursorSpec, resolveCursor, resolveTopicCursor, type TopicCursorSpec } from './cursor-specs';
import { type ScheduleRun, TOPIC_PICKS, type TopicPick } from './schedule-run';
import { RawSseClient } from './sse-clients';

/*
 * The operations of a schedule, as fast-check commands. Their parameters are
 * abstract (user #1, the 3rd open client, "an own id from the middle"): what
 * they name is resolved when they run, so that shrinking can drop steps and
 * the rest still means something. Each command records what it resolved to,
 * which is what the report prints.
 */

export interface ModelClient {
  kind: ClientKind;
  open: boolean;
  stalled: boolean;
}
export interface Model {
  users: number;
  clients: ModelClient[];
}
export type Command = fc.AsyncCommand<Model, ScheduleRun>;

export abstract class Step implements Command {
  abstract readonly check: (model: Readonly<Model>) => boolean;
  abstract run(model: Model, real: ScheduleRun): Promise<void>;
  protected abstract readonly describe: () => string;
  /** The abstract step: fast-check reuses command objects while shrinking, so what one resolved to is in the run's report. */
  toString(): string {
    return this.describe();
  }
  protected note(real: ScheduleRun, text: string): void {
    debug(`step: ${text}`);
    real.steps.push(text);
  }
}

export class Publish extends Step {
  constructor(readonly user: number, readonly via: 'rest' | 'queue', readonly gateway: number) {
    super();
  }
  check = () => true;
  describe = () => `publish ${this.via} to u${this.user} @g${this.gateway}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const user = real.users[this.user % real.users.length];
    const sent = this.via === 'queue' ? await real.publishQueue(user) : await real.publishRest(user, this.gateway);
    this.note(real, `publish seq=${sent.seq} via ${this.via} to ${user} @g${sent.route?.index ?? '?'} → ${JSON.stringify(sent.outcome)}`);
  }
}

export class Burst extends Step {
  constructor(readonly user: number, readonly count: number) {
    super();
  }
  check = () => true;
  describe = () => `burst of ${this.count} concurrent publishes to u${this.user}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const user = real.users[this.user % real.users.length];
    const sent = await Promise.all(Array.from({ length: this.count }, (_, i) => real.publishRest(user, i % 2, { via: 'burst' })));
    const accepted = sent.filter((s) => s.outcome.kind === 'accepted').length;
    this.note(real, `burst seq=${sent[0].seq}..${sent[sent.length - 1].seq} to ${user} over both gateways → ${accepted}/${sent.length} accepted`);
  }
}

/** Publishes with an idempotency key, then the same request again (concurrently with the first, or after it). */
export class Republish extends Step {
  constructor(readonly user: number, readonly concurrent: boolean) {
    super();
  }
  check = () => true;
  describe = () => `idempotent publish to u${this.user} repeated ${this.concurrent ? 'concurrently' : 'afterwards'}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const user = real.users[this.user % real.users.length];
    const seq = real.nextSeq();
    const idempotencyKey = `model-key-${seq}`;
    const repeat = () => real.publishRest(user, 1, { via: 'republish', seq, idempotencyKey, sameAs: seq });
    const first = this.concurrent ? real.publishRest(user, 0, { seq, idempotencyKey }) : await real.publishRest(user, 0, { seq, idempotencyKey });
    const [a, b] = await Promise.all([first, repeat()]);
    this.note(real, `idempotent seq=${seq} key=${idempotencyKey} to ${user}${this.concurrent ? ' twice at once' : ', then again'} → ${JSON.stringify(a.outcome)} / ${JSON.stringify(b.outcome)}`);
  }
}

export class Chat extends Step {
  constructor(readonly user: number, readonly gateway: number) {
    super();
  }
  check = () => true;
  describe = () => `direct chat to u${this.user} @g${this.gateway}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const user = real.users[this.user % real.users.length];
    const sent = await real.chat(user, this.gateway);
    this.note(real, `chat seq=${sent.seq} to ${user} @g${sent.route?.index ?? '?'} → ${JSON.stringify(sent.outcome)}`);
  }
}

/**
 * Opens a client for a user, following `topics` besides its own stream (a polling client polls the first topic
 * instead). `cursor` is the user's stream's; `topicCursor` each topic's; `combined`: an SSE client sends one cursor
 * over all its streams (`r1.`...), built from both, where it would otherwise send the user's plain one.
 */
export class Open extends Step {
  constructor(
    readonly kind: ClientKind,
    readonly user: number,
    readonly cursor: CursorSpec,
    readonly viaQuery: boolean,
    readonly gateway: number,
    readonly topics: TopicPick = 'none',
    readonly topicCursor: TopicCursorSpec = 'none',
    readonly combined = false,
  ) {
    super();
  }
  check = () => true;
  describe = () =>
    `open ${this.kind} for u${this.user}${this.topics !== 'none' ? ` +topics ${this.topics} (topic cursor=${this.topicCursor})` : ''} cursor=${this.cursor}${this.combined && sseKind(this.kind) ? ' combined' : ''}${this.kind === 'sse' && this.viaQuery ? ' (in the query)' : ''} @g${this.gateway}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const user = real.users[this.user % real.users.length];
    const topics = TOPIC_PICKS[this.topics].follow.map((i) => real.topics[i]);
    const topicCursors = new Map<string, string | null>();
    for (const topic of topics) topicCursors.set(topic, await resolveTopicCursor(real, topic, this.topicCursor));
    const cursor =
      this.kind === 'rest-polling' && topics.length > 0
        ? (topicCursors.get(topics[0]) ?? null)
        : sseKind(this.kind) && this.combined
          ? await combinedCursor(real, user, topicCursors, this.cursor, this.topicCursor)
          : await resolveCursor(real, user, this.cursor);
    const client = real.openClient(this.kind, user, this.gateway, this.topics);
    const via: CursorVia = this.kind === 'sse' && this.viaQuery ? 'query' : client.cursorVia;
    client.open(cursor, cursor === null ? null : via, topicCursors);
    model.clients.push({ kind: this.kind, open: true, stalled: false });
    await waitSettledOpen(client);
    const segment = client.current;
    const outcome = client.dead ?? (segment?.refused ? `refused ${segment.refused}` : segment?.establishedAt ? `up on g${segment.route.index}` : 'pending');
    const followed = topics.length > 0 ? ` +topics ${topics.join(',')}${client.kind === 'rest-polling' || sseKind(client.kind) ? '' : ` from ${[...topicCursors.values()].join(',')}`}` : '';
    this.note(real, `open ${client.name}=${this.kind} for ${user}${followed} cursor=${this.cursor}${this.combined && sseKind(this.kind) ? '+combined' : ''}${cursor !== null ? `(${cursor}) via ${via}` : ''} → ${outcome}`);
  }
}

function sseKind(kind: ClientKind): boolean {
  return kind === 'sse' || kind === 'eventsource';
}

/** Picks the n-th client (modulo) among those the predicate accepts. */
function pick(model: Readonly<Model>, n: number, accept: (client: ModelClient) => boolean): number {
  const candidates = model.clients.map((client, index) => ({ client, index })).filter(({ client }) => accept(client));
  return candidates.length === 0 ? -1 : candidates[n % candidates.length].index;
}

export class Close extends Step {
  constructor(readonly n: number) {
    super();
  }
  check = (model: Readonly<Model>) => pick(model, this.n, (c) => c.open) >= 0;
  describe = () => `close open client #${this.n} (modulo)`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const index = pick(model, this.n, (c) => c.open);
    real.clients[index].close();
    Object.assign(model.clients[index], { open: false, stalled: false });
    this.note(real, `close ${real.clients[index].name} (last id ${real.clients[index].resumeId()})`);
  }
}

export class Reopen extends Step {
  constructor(readonly n: number) {
    super();
  }
  check = (model: Readonly<Model>) => pick(model, this.n, (c) => !c.open) >= 0;
  describe = () => `reopen closed client #${this.n} (modulo)`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const index = pick(model, this.n, (c) => !c.open);
    const client = real.clients[index];
    client.reopen();
    model.clients[index].open = true;
    await waitSettledOpen(client);
    this.note(real, `reopen ${client.name} from ${client.openedWith.cursor} → ${client.dead ?? client.current?.refused ?? 'up'}`);
  }
}

/**
 * Stops reading an SSE stream and publishes large entries to its user (`toTopic`: to the first topic it
 * follows, if it follows one): past the bound when `long`.
 */
export class Stall extends Step {
  constructor(readonly n: number, readonly long: boolean, readonly toTopic = false) {
    super();
  }
  check = (model: Readonly<Model>) => pick(model, this.n, (c) => c.kind === 'sse' && c.open && !c.stalled) >= 0;
  describe = () => `stall SSE reader #${this.n} (modulo) through ${this.long ? 'many' : 'a few'} large ${this.toTopic ? 'topic events' : 'notifications'}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const index = pick(model, this.n, (c) => c.kind === 'sse' && c.open && !c.stalled);
    const client = real.clients[index] as RawSseClient;
    client.stall();
    model.clients[index].stalled = true;
    const count = this.long ? SETTINGS.longStallPublishes : SETTINGS.shortStallPublishes;
    const first = real.lastSeq + 1;
    const target = (this.toTopic ? client.topics.find((topic) => client.mayFollow(topic)) : undefined) ?? client.user;
    // Six at a time, over both gateways: a fraction of the time of one by one, and still past the bound.
    for (let i = 0; i < count; i += 6) {
      await Promise.all([0, 1, 2, 3, 4, 5].filter((j) => i + j < count).map((j) => real.publishRest(target, j % 2, { via: 'big', big: true })));
    }
    this.note(real, `stall ${client.name} while ${count} entries of 64 KiB (from seq=${first}) are published to ${target}`);
  }
}

export class Resume extends Step {
  constructor(readonly n: number) {
    super();
  }
  check = (model: Readonly<Model>) => pick(model, this.n, (c) => c.stalled) >= 0;
  describe = () => `resume stalled reader #${this.n} (modulo)`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const index = pick(model, this.n, (c) => c.stalled);
    (real.clients[index] as RawSseClient).resume();
    model.clients[index].stalled = false;
    this.note(real, `resume ${real.clients[index].name}`);
  }
}

export class KillSubscriber extends Step {
  constructor(readonly both: boolean, readonly n: number) {
    super();
  }
  check = () => true;
  describe = () => `kill ${this.both ? 'both subscribers' : 'one subscriber'}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const killed = await real.fleet.killSubscriber(this.both ? 'both' : 'one', this.n);
    this.note(real, `CLIENT KILL ${killed} subscriber connection(s)`);
  }
}

export class KillGateway extends Step {
  constructor(readonly gateway: number, readonly signal: 'SIGTERM' | 'SIGKILL') {
    super();
  }
  check = () => true;
  describe = () => `${this.signal} g${this.gateway}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const generation = await real.fleet.kill(this.gateway, this.signal);
    this.note(real, `${this.signal} g${this.gateway} (generation ${generation}); it restarts in the background`);
  }
}

async function waitSettledOpen(client: { settledOpen: boolean }): Promise<void> {
  const deadline = performance.now() + 3_000;
  while (!client.settledOpen && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}
