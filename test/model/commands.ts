import fc from 'fast-check';
import type { ClientKind, CursorVia } from './client';
import { debug, type Feature, SETTINGS } from './config';
import type { ScheduleRun } from './schedule-run';
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

export type CursorSpec = 'none' | 'zero' | 'zero-zero' | 'own-first' | 'own-middle' | 'own-last' | 'ahead' | 'ahead-max' | 'foreign' | 'malformed' | 'out-of-range';

abstract class Step implements Command {
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

export class Open extends Step {
  constructor(readonly kind: ClientKind, readonly user: number, readonly cursor: CursorSpec, readonly viaQuery: boolean, readonly gateway: number) {
    super();
  }
  check = () => true;
  describe = () => `open ${this.kind} for u${this.user} cursor=${this.cursor}${this.kind === 'sse' && this.viaQuery ? ' (in the query)' : ''} @g${this.gateway}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const user = real.users[this.user % real.users.length];
    const cursor = await resolveCursor(real, user, this.cursor);
    const client = real.openClient(this.kind, user, this.gateway);
    const via: CursorVia = this.kind === 'sse' && this.viaQuery ? 'query' : client.cursorVia;
    client.open(cursor, cursor === null ? null : via);
    model.clients.push({ kind: this.kind, open: true, stalled: false });
    await waitSettledOpen(client);
    const segment = client.current;
    const outcome = client.dead ?? (segment?.refused ? `refused ${segment.refused}` : segment?.establishedAt ? `up on g${segment.route.index}` : 'pending');
    this.note(real, `open ${client.name}=${this.kind} for ${user} cursor=${this.cursor}${cursor !== null ? `(${cursor}) via ${via}` : ''} → ${outcome}`);
  }
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

/** Stops reading an SSE stream and publishes large notifications to its user: past the bound when `long`. */
export class Stall extends Step {
  constructor(readonly n: number, readonly long: boolean) {
    super();
  }
  check = (model: Readonly<Model>) => pick(model, this.n, (c) => c.kind === 'sse' && c.open && !c.stalled) >= 0;
  describe = () => `stall SSE reader #${this.n} (modulo) through ${this.long ? 'many' : 'a few'} large notifications`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const index = pick(model, this.n, (c) => c.kind === 'sse' && c.open && !c.stalled);
    const client = real.clients[index] as RawSseClient;
    client.stall();
    model.clients[index].stalled = true;
    const count = this.long ? SETTINGS.longStallPublishes : SETTINGS.shortStallPublishes;
    const first = real.lastSeq + 1;
    // Six at a time, over both gateways: a fraction of the time of one by one, and still past the bound.
    for (let i = 0; i < count; i += 6) {
      await Promise.all([0, 1, 2, 3, 4, 5].filter((j) => i + j < count).map((j) => real.publishRest(client.user, j % 2, { via: 'big', big: true })));
    }
    this.note(real, `stall ${client.name} while ${count} notifications of 64 KiB (from seq=${first}) are published to ${client.user}`);
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

const UINT64 = '18446744073709551615';

async function resolveCursor(real: ScheduleRun, user: string, spec: CursorSpec): Promise<string | null> {
  const own = real.truth.items(user);
  switch (spec) {
    case 'none':
      return null;
    case 'zero':
      return '0';
    case 'zero-zero':
      return '0-0';
    case 'own-first':
      return own[0]?.id ?? null;
    case 'own-middle':
      return own[Math.floor(own.length / 2)]?.id ?? null;
    case 'own-last':
      return own[own.length - 1]?.id ?? null;
    case 'ahead':
      return '9999999999999-0';
    case 'ahead-max':
      return `${UINT64}-${UINT64}`;
    case 'malformed':
      return 'abc';
    case 'out-of-range':
      return '18446744073709551616-0'; // 2^64: shaped like an id, out of range
    case 'foreign': {
      const other = real.users.find((candidate) => candidate !== user && real.truth.items(candidate).length > 0) ?? real.users.find((candidate) => candidate !== user)!;
      // Someone else must have an id: publish one if nobody has yet.
      if (real.truth.items(other).length === 0) await real.publishRest(other, 0);
      await waitUntil(() => real.truth.items(other).length > 0);
      return real.truth.items(other)[0]?.id ?? null;
    }
  }
}

async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = performance.now() + 2_000;
  while (!check() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The command arbitrary: weights are how often each step appears (in an average schedule of ~10 steps). */
export function commandArbitraries(excluded: ReadonlySet<Feature>): fc.Arbitrary<Command>[] {
  const on = (feature: Feature, weight: number) => (excluded.has(feature) ? 0 : weight);
  const user = fc.nat({ max: 3 });
  const gateway = fc.nat({ max: 1 });
  /** Which client a step acts on, among those it can act on (modulo their number). */
  const pickOne = fc.nat({ max: 7 });
  const kind = fc.constantFrom<ClientKind>('sse', 'sse', 'sse', 'websocket', 'websocket', 'sio-polling', 'rest-polling', ...(excluded.has('eventsource') ? [] : (['eventsource'] as const)));
  const cursors: Array<[CursorSpec, number]> = [
    ['none', 4],
    ['own-first', 1],
    ['own-middle', 1],
    ['own-last', 2],
    ['zero', on('zero-cursors', 1)],
    ['zero-zero', on('zero-cursors', 1)],
    ['ahead', on('ahead-cursors', 1)],
    ['ahead-max', on('ahead-cursors', 1)],
    ['foreign', on('foreign-cursors', 1)],
    ['malformed', on('malformed-cursors', 1)],
    ['out-of-range', on('malformed-cursors', 1)],
  ];
  const cursor = fc.oneof(...cursors.filter(([, weight]) => weight > 0).map(([spec, weight]) => ({ arbitrary: fc.constant(spec), weight })));
  const weighted: Array<[fc.Arbitrary<Command>, number]> = [
    [fc.tuple(user, fc.constantFrom<'rest' | 'queue'>('rest', 'rest', ...(excluded.has('queue') ? [] : (['queue'] as const))), gateway).map(([u, via, g]) => new Publish(u, via, g)), 12],
    [fc.tuple(user, fc.integer({ min: 3, max: 10 })).map(([u, count]) => new Burst(u, count)), 4],
    [fc.tuple(user, fc.boolean()).map(([u, concurrent]) => new Republish(u, concurrent)), 2],
    [fc.tuple(user, gateway).map(([u, g]) => new Chat(u, g)), on('chat', 3)],
    [fc.tuple(kind, user, cursor, fc.boolean(), gateway).map(([k, u, c, q, g]) => new Open(k, u, c, q, g)), 12],
    [pickOne.map((n) => new Close(n)), 3],
    [pickOne.map((n) => new Reopen(n)), 3],
    [fc.tuple(pickOne, fc.boolean()).map(([n, long]) => new Stall(n, long)), on('stall', 2)],
    [pickOne.map((n) => new Resume(n)), on('stall', 2)],
    [fc.tuple(fc.boolean(), fc.nat({ max: 1 })).map(([both, n]) => new KillSubscriber(both, n)), on('subscriber-kill', 2)],
    [fc.tuple(gateway, fc.constantFrom<'SIGTERM' | 'SIGKILL'>('SIGTERM', 'SIGKILL')).map(([g, s]) => new KillGateway(g, s)), on('kill', 1)],
  ];
  return [fc.oneof(...weighted.filter(([, weight]) => weight > 0).map(([arbitrary, weight]) => ({ arbitrary, weight })))];
}
