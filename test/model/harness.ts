import type { Queue } from 'bullmq';
import fc from 'fast-check';
import { uniquePrefix } from '../support/prefix';
import { queuePrefixOf, testQueue } from '../support/redis';
import { commandArbitraries } from './arbitraries';
import type { LogicalClient, Received, Segment } from './client';
import type { Model } from './commands';
import { debug, type Feature, MODEL_VERSION, SETTINGS } from './config';
import { Fleet } from './fleet';
import { checkInbox, inboxUnsettled } from './inbox-check';
import { checkLedger } from './ledger';
import { freshStreams, ScheduleRun } from './schedule-run';
import { RawSseClient } from './sse-clients';
import { Truth } from './truth';
import { type CheckContext, checkClient, lagging } from './verdict';

/*
 * Runs schedules: two gateways and the monitor live for the whole run; each
 * schedule gets fresh users and topics, runs its commands, lets everything settle
 * (bounded by a deadline, never a bare sleep), checks the invariant and closes
 * its clients. A violation throws a ModelViolation whose message is the whole
 * readable report, so fast-check's shrinking keeps the report of the smallest
 * failing schedule.
 */

export class ModelViolation extends Error {}

export interface HarnessOptions {
  bundle?: string;
  log?: (line: string) => void;
}

export class ModelHarness {
  schedules = 0;
  /** While replaying a recorded path: how many schedules may still run (fast-check walks on past a passing one). */
  replayLeft: number | null = null;
  /** What the run exercised (steps by kind, connections, resets, cut-offs): printed at the end. */
  readonly tally = new Map<string, number>();
  private failureAt: number | null = null;

  private constructor(
    readonly fleet: Fleet,
    readonly truth: Truth,
    readonly queue: Queue,
    readonly options: HarnessOptions,
  ) {}

  static async start(options: HarnessOptions): Promise<ModelHarness> {
    const prefix = uniquePrefix();
    const fleet = await Fleet.start(prefix, options.bundle);
    const truth = new Truth(fleet.redisUrl, prefix);
    const queue = testQueue('notifications', { queuePrefix: queuePrefixOf(prefix, fleet.redisUrl) }, fleet.redisUrl);
    return new ModelHarness(fleet, truth, queue, options);
  }

  /**
   * The property: 3 or 4 users, up to SETTINGS.maxCommands steps, without the `excluded` features.
   * `replayPath` only when replaying a recorded failure; `version`: the model version it was recorded under.
   */
  property(excluded: ReadonlySet<Feature>, replayPath?: string, version = MODEL_VERSION): fc.IAsyncProperty<[number, Iterable<fc.AsyncCommand<Model, ScheduleRun>>]> {
    const commands = fc.commands(commandArbitraries(excluded, version), { maxCommands: SETTINGS.maxCommands, size: 'max', replayPath });
    return fc.asyncProperty(fc.integer({ min: 3, max: 4 }), commands, async (userCount, steps) => {
      // Shrinking is bounded: past the budget every further candidate "passes" and the smallest so far stands.
      if (this.failureAt !== null && performance.now() - this.failureAt > SETTINGS.shrinkBudgetMs) return;
      if (this.replayLeft !== null && this.replayLeft-- <= 0) return;
      try {
        await this.schedule(userCount, steps, excluded);
      } catch (error) {
        this.failureAt ??= performance.now();
        throw error;
      }
    });
  }

  /** Runs one fixed scenario (3 users, nothing excluded); resolves with the report of its violations, or null. */
  async scenario(steps: Iterable<fc.AsyncCommand<Model, ScheduleRun>>): Promise<string | null> {
    try {
      await this.schedule(3, steps, new Set());
      return null;
    } catch (error) {
      if (error instanceof ModelViolation) return error.message;
      throw error;
    }
  }

  /** Forget a previous failure (between a regression replay and the random run). */
  resetShrinkBudget(): void {
    this.failureAt = null;
  }

  async schedule(userCount: number, steps: Iterable<fc.AsyncCommand<Model, ScheduleRun>>, excluded: ReadonlySet<Feature>): Promise<void> {
    this.schedules++;
    await this.fleet.ready();
    const startedAt = performance.now();
    const { users, topics } = freshStreams(userCount, !excluded.has('unicode'));
    await this.truth.watch(users, topics);
    debug(`schedule ${this.schedules}: users ${users.join(' ')}, topics ${topics.join(' ')}`);
    const run = new ScheduleRun(this.fleet, this.truth, this.queue, users, topics);
    try {
      await fc.asyncModelRun(() => ({ model: { users: userCount, clients: [] }, real: run }), steps);
      for (const client of run.clients) if (client instanceof RawSseClient && client.isStalled) client.resume();
      const ctx: CheckContext = { truth: this.truth, fleet: this.fleet, users, topics, historyMax: SETTINGS.historyMax, topicHistoryMax: SETTINGS.topicHistoryMax };
      debug('settling');
      const inbox = !excluded.has('inbox');
      await this.settle(run, ctx, startedAt, inbox);
      debug('checking');
      this.count(run);
      const problems = [...(await checkLedger(ctx)), ...run.clients.flatMap((client) => checkClient(ctx, client)), ...(inbox ? await checkInbox(ctx, run.clients) : [])];
      if (problems.length > 0) throw new ModelViolation(report(run, ctx, problems));
    } finally {
      debug('closing');
      await run.close();
      await this.truth.unwatch();
      await this.truth.forget(users, topics).catch(() => undefined);
    }
  }

  /** One line per tally entry, sorted. */
  describeTally(): string {
    return [...this.tally].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `  ${key}: ${n}`).join('\n');
  }

  private count(run: ScheduleRun): void {
    const add = (key: string, n = 1) => this.tally.set(key, (this.tally.get(key) ?? 0) + n);
    add('schedules');
    for (const step of run.steps) add(`step: ${/^(open \S+=\S+|\S+ \S+ via \S+|\S+)/.exec(step)?.[1].replace(/ c\d+=/, ' ').replace(/ seq=\d+/, '')}`);
    for (const step of run.steps) if (step.startsWith('open')) add(`open cursor=${/cursor=(\S+?)(\(|$| )/.exec(step)?.[1]}`);
    for (const client of run.clients) {
      for (const segment of client.segments) {
        add('connections');
        if (segment.refused) add(`connections refused: ${segment.refused.replace(/\d{3,}/g, (m) => m).slice(0, 40)}`);
        if (segment.end && segment.end !== 'client' && segment.refused === null) {
          const stop = this.fleet.stops.get(segment.route.generation);
          const why = segment.paused ? 'stalled reader' : stop && stop.at <= (segment.endedAt ?? 0) + 5 ? stop.signal : 'unexplained';
          add(`connections ended by the server side: ${client.kind} ${segment.end} (${why})`);
        }
        for (const event of segment.received) {
          if (event.kind === 'reset') add(`reset ${event.reason}${event.topic ? ' (topic)' : ''}`);
          else add(event.kind === 'item' ? (event.topic ? 'topic events received' : 'notifications received') : 'bad frames');
        }
        if (segment.inbox.length > 0) add('inbox events received', segment.inbox.length);
        for (const sub of segment.subs) add(`topic:subscribe ${sub.ack === null ? 'not acked' : sub.ack.ok ? `ok${sub.cursor !== null ? ' with a cursor' : ''}` : sub.ack.error.replace(/^no ack.*/, 'no ack')}`);
      }
      if (client.polls.length > 0) add(client.topics.length > 0 ? 'topic polls' : 'polls', client.polls.length);
      for (const poll of client.polls) if (poll.reset) add(`poll reset ${poll.reset}${client.topics.length > 0 ? ' (topic)' : ''}`);
      if (client.topics.length > 0) add(`clients following topics: ${client.kind}`);
    }
    add('notifications accepted', run.users.reduce((sum, user) => sum + this.truth.items(user).length, 0));
    add('topic events accepted', run.topics.reduce((sum, topic) => sum + this.truth.items(topic).length, 0));
    for (const read of this.truth.reads) add(`reads ${read.outcome.kind === 'ok' ? 'answered' : 'failed'}`);
    add('topics trimmed', run.topics.filter((topic) => this.truth.items(topic).length > SETTINGS.topicHistoryMax).length);
  }

  async stop(): Promise<void> {
    await this.queue.close();
    await this.truth.close();
    await this.fleet.stop();
  }

  /** Until every publish is seen, every client has caught up and (`inbox`) every open connection heard its user's state. */
  private async settle(run: ScheduleRun, ctx: CheckContext, startedAt: number, inbox: boolean): Promise<void> {
    const deadline = performance.now() + SETTINGS.settleMs;
    for (;;) {
      const jobsDone = await run.readJobs();
      const unseen = this.truth.sent.some((sent) => {
        const { outcome } = sent;
        if (outcome.kind !== 'accepted') return false;
        // A direct chat is acked with the message id; its notification carries it in data.messageId.
        const items = this.truth.items(sent.stream);
        return sent.via === 'chat' ? !items.some((item) => item.messageId === outcome.id) : this.truth.indexOf(sent.stream, outcome.id) < 0;
      });
      const behind = run.clients.some((client) => lagging(ctx, client) !== null);
      if (jobsDone && !unseen && !behind && (!inbox || (await inboxUnsettled(ctx, run.clients)) === null)) return;
      if (performance.now() > deadline) {
        // A job a SIGKILL interrupted comes back only after BullMQ's stall interval (30 s): not waited for.
        if ([...this.fleet.stops.values()].some((stop) => stop.signal === 'SIGKILL' && stop.at >= startedAt)) run.abandonPendingJobs();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** The report of a failing schedule: what it did, what was wrong, and what each client saw. */
function report(run: ScheduleRun, ctx: CheckContext, problems: string[]): string {
  const lines = ['violations:', ...collapse(problems).map((problem) => `  - ${problem}`), 'steps as run:', ...run.steps.map((step, i) => `  ${i + 1}. ${step}`)];
  lines.push('accepted sequences (#index=id(seq)):');
  for (const stream of [...run.users, ...run.topics]) {
    const items = ctx.truth.items(stream).map((item, i) => `#${i}=${item.id}(${item.seq})`);
    lines.push(`  ${stream}: ${elide(items, 8) || '(none)'}`);
  }
  const heard = run.users.filter((user) => ctx.truth.inboxHeard.has(user)).map((user) => `  ${user}: ${ctx.truth.inboxHeard.get(user)}`);
  if (heard.length > 0) lines.push("each user's read state as its channel last carried it (unread readUpTo version):", ...heard);
  lines.push('clients (what each connection received, by seq; inbox: the read states heard, unread/readUpTo):', ...run.clients.map((client) => describeClient(client)));
  const warnings = ctx.fleet.warnings();
  if (warnings.length > 0) lines.push("the gateways' recent warnings and errors:", ...warnings.map((line) => `  ${line}`));
  return lines.join('\n');
}

/** The same violation on many segments of a reconnect loop, said once with the segments it hit. */
function collapse(problems: string[]): string[] {
  const groups = new Map<string, string[]>();
  for (const problem of problems) {
    const segment = /segment (\d+)/.exec(problem)?.[1];
    const key = problem.replace(/segment \d+/, 'segment *');
    groups.set(key, [...(groups.get(key) ?? []), segment ?? '']);
  }
  return [...groups].map(([key, segments]) => (segments.length > 1 ? key.replace('segment *', `segments ${elide(segments, 3)}`) : key.replace('segment *', `segment ${segments[0]}`)));
}

/** The first and last `keep` of a long list. */
function elide(items: string[], keep: number): string {
  return items.length <= keep * 2 + 1 ? items.join(' ') : `${items.slice(0, keep).join(' ')} ... (${items.length - keep * 2} more) ... ${items.slice(-keep).join(' ')}`;
}

/** `a:12` for seq 12 of the topic ending in `-a`; a notification's seq bare. */
function describeEvents(received: Received[]): string {
  const tag = (topic: string | undefined) => (topic === undefined ? '' : `${topic.slice(topic.lastIndexOf('-') + 1)}:`);
  return elide(
    received.map((e) => (e.kind === 'item' ? `${tag(e.topic ? e.stream : undefined)}${e.seq}` : e.kind === 'reset' ? `RESET(${tag(e.topic)}${e.reason})` : `BAD(${e.text})`)),
    12,
  );
}

function describeClient(client: LogicalClient): string {
  const events = describeEvents;
  const topics = client.topics.length > 0 ? ` +topics ${client.topics.join(',')}${client.claims.length > 0 ? ` (claim ${client.claims.join(',')})` : ''}` : '';
  const head = `  ${client.name} ${client.kind} ${client.user}${topics}${client.closed ? ' [closed]' : ''}${client.dead ? ` [gave up: ${client.dead}]` : ''}`;
  if (client.kind === 'rest-polling') {
    const polls = client.polls.map((poll) => `    poll after=${poll.after} g${poll.route.index} → ${poll.status} [${events(poll.items)}] lastId=${poll.lastId}`);
    return [head, ...elideLines(polls, 6)].join('\n');
  }
  const subs = (s: Segment) =>
    s.subs.map((sub) => ` sub(${sub.topic.slice(sub.topic.lastIndexOf('-') + 1)} after ${sub.cursor ?? '-'} → ${sub.ack === null ? 'no ack' : sub.ack.ok ? sub.ack.lastEventId : sub.ack.error})`).join('');
  const segments = client.segments.map(
    (s) =>
      `    #${s.index} g${s.route.index}/gen${s.route.generation} cursor=${s.cursor ?? '-'} via=${s.via ?? '-'}${s.refused ? ` REFUSED ${s.refused}` : ''}${s.position ? ` position=${s.position}` : ''}${subs(s)}${s.paused ? ' [stalled]' : ''}: [${events(s.received)}]${inboxes(s)} end=${s.end ?? 'open'}${s.endDetail ? ` (${s.endDetail.slice(0, 160)})` : ''}`,
  );
  return [head, ...elideLines(segments, 4)].join('\n');
}

/** The read states a connection heard, each after how many of its events: ` inbox: @0 3/0-0 @2 4/0-0`. */
function inboxes(segment: Segment): string {
  return segment.inbox.length === 0 ? '' : ` inbox: ${elide(segment.inbox.map((heard) => `@${heard.before} ${heard.unread}/${heard.readUpTo}`), 3)}`;
}

function elideLines(lines: string[], keep: number): string[] {
  return lines.length <= keep * 2 + 1 ? lines : [...lines.slice(0, keep), `    ... ${lines.length - keep * 2} more like these ...`, ...lines.slice(-keep)];
}
