import fc from 'fast-check';
import type { ClientKind } from './client';
import { type Command, Chat, Close, KillGateway, KillSubscriber, Open, Publish, Burst, Republish, Reopen, Resume, Stall } from './commands';
import { type Feature, MODEL_VERSION } from './config';
import type { CursorSpec, TopicCursorSpec } from './cursor-specs';
import { type IdsMix, MarkReadIds, MarkReadUpTo, type ReadVia, type UpToTarget } from './inbox-commands';
import type { TopicPick } from './schedule-run';
import { TopicPublish, TopicRepublish } from './topic-commands';

/*
 * The command arbitraries, by model version: weights are how often each step
 * appears (in an average schedule of ~10 steps). A version's arbitraries never
 * change once recorded regressions use them: a change is a new version (see
 * MODEL_VERSION), and the old one stays here for as long as entries recorded
 * under it are kept.
 */

export function commandArbitraries(excluded: ReadonlySet<Feature>, version: number = MODEL_VERSION): fc.Arbitrary<Command>[] {
  if (version === 1) return version1(excluded);
  if (version === 2) return version2(excluded);
  if (version === 3) return version3(excluded);
  throw new Error(`no arbitraries for model version ${version}`);
}

type Weighted = Array<[fc.Arbitrary<Command>, number]>;

/** One arbitrary that picks among the entries by weight (those of weight 0 left out). */
function weightedCommands(weighted: Weighted): fc.Arbitrary<Command>[] {
  return [fc.oneof(...weighted.filter(([, weight]) => weight > 0).map(([arbitrary, weight]) => ({ arbitrary, weight })))];
}

/** Model 3: model 2's steps, unchanged, and reads (by ids, up to an id; over REST or `inbox:read`). */
function version3(excluded: ReadonlySet<Feature>): fc.Arbitrary<Command>[] {
  const on = (weight: number) => (excluded.has('inbox') ? 0 : weight);
  const user = fc.nat({ max: 3 });
  const gateway = fc.nat({ max: 1 });
  const via = fc.constantFrom<ReadVia>('rest', 'rest', 'socket');
  const mix = fc.constantFrom<IdsMix>('own', 'own', 'own+foreign', 'own+made-up', 'own+both');
  const target = fc.constantFrom<UpToTarget>('own-first', 'own-middle', 'own-middle', 'own-last', 'own-last', 'own-last', 'ahead', 'ahead', 'foreign');
  return weightedCommands([
    ...version2Entries(excluded),
    [fc.tuple(user, fc.nat(), mix, via, gateway).map(([u, subset, m, v, g]) => new MarkReadIds(u, subset, m, v, g)), on(4)],
    [fc.tuple(user, target, via, gateway).map(([u, t, v, g]) => new MarkReadUpTo(u, t, v, g)), on(4)],
  ]);
}

/** Model 2: topics (publishes, clients that follow them, per-topic and combined cursors), and older-than-anything cursors. */
function version2(excluded: ReadonlySet<Feature>): fc.Arbitrary<Command>[] {
  return weightedCommands(version2Entries(excluded));
}

/** Model 2's steps and weights, unchanged (model 3 adds to them). */
function version2Entries(excluded: ReadonlySet<Feature>): Weighted {
  const on = (feature: Feature, weight: number) => (excluded.has(feature) ? 0 : weight);
  const topicsOn = (weight: number) => on('topics', weight);
  const weightedOf = <T>(entries: Array<[T, number]>) => fc.oneof(...entries.filter(([, weight]) => weight > 0).map(([value, weight]) => ({ arbitrary: fc.constant(value), weight })));
  const user = fc.nat({ max: 3 });
  const gateway = fc.nat({ max: 1 });
  /** Which client a step acts on, among those it can act on (modulo their number). */
  const pickOne = fc.nat({ max: 7 });
  const kind = fc.constantFrom<ClientKind>('sse', 'sse', 'sse', 'websocket', 'websocket', 'sio-polling', 'rest-polling', ...(excluded.has('eventsource') ? [] : (['eventsource'] as const)));
  const cursor = weightedOf<CursorSpec>([
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
    ['ancient', on('ancient-cursors', 1)],
  ]);
  const topics = weightedOf<TopicPick>([
    ['none', 5],
    ['a', topicsOn(2)],
    ['b', topicsOn(1)],
    ['ab', topicsOn(3)],
    ['ap', excluded.has('topics') ? 0 : on('topic-claims', 1)],
    ['forbidden', excluded.has('topics') ? 0 : on('topic-claims', 1)],
  ]);
  const topicCursor = weightedOf<TopicCursorSpec>([
    ['none', 3],
    ['first', 2],
    ['middle', 1],
    ['last', 3],
    ['zero', on('zero-cursors', 1)],
    ['ahead', on('ahead-cursors', 1)],
    ['foreign', on('foreign-cursors', 1)],
    ['malformed', on('malformed-cursors', 1)],
    ['ancient', on('ancient-cursors', 1)],
  ]);
  const topic = fc.constantFrom(0, 0, 1, 1, ...(excluded.has('topic-claims') ? [] : [2]));
  const weighted: Array<[fc.Arbitrary<Command>, number]> = [
    [fc.tuple(user, fc.constantFrom<'rest' | 'queue'>('rest', 'rest', ...(excluded.has('queue') ? [] : (['queue'] as const))), gateway).map(([u, via, g]) => new Publish(u, via, g)), 12],
    [fc.tuple(user, fc.integer({ min: 3, max: 10 })).map(([u, count]) => new Burst(u, count)), 4],
    [fc.tuple(user, fc.boolean()).map(([u, concurrent]) => new Republish(u, concurrent)), 2],
    [fc.tuple(user, gateway).map(([u, g]) => new Chat(u, g)), on('chat', 3)],
    [fc.tuple(topic, gateway).map(([t, g]) => new TopicPublish(t, g, 1)), topicsOn(7)],
    [fc.tuple(topic, gateway, fc.integer({ min: 3, max: 12 })).map(([t, g, count]) => new TopicPublish(t, g, count)), topicsOn(4)],
    [fc.tuple(topic, fc.boolean()).map(([t, concurrent]) => new TopicRepublish(t, concurrent)), topicsOn(1)],
    [fc.tuple(kind, user, cursor, fc.boolean(), gateway, topics, topicCursor, fc.boolean()).map(([k, u, c, q, g, t, tc, combined]) => new Open(k, u, c, q, g, t, tc, combined)), 14],
    [pickOne.map((n) => new Close(n)), 4],
    [pickOne.map((n) => new Reopen(n)), 5],
    [fc.tuple(pickOne, fc.boolean(), fc.boolean()).map(([n, long, toTopic]) => new Stall(n, long, toTopic && !excluded.has('topics'))), on('stall', 2)],
    [pickOne.map((n) => new Resume(n)), on('stall', 2)],
    [fc.tuple(fc.boolean(), fc.nat({ max: 1 })).map(([both, n]) => new KillSubscriber(both, n)), on('subscriber-kill', 2)],
    [fc.tuple(gateway, fc.constantFrom<'SIGTERM' | 'SIGKILL'>('SIGTERM', 'SIGKILL')).map(([g, s]) => new KillGateway(g, s)), on('kill', 1)],
  ];
  return weighted;
}

/** Model 1 (no topics), unchanged: what its recorded regressions were generated with. */
function version1(excluded: ReadonlySet<Feature>): fc.Arbitrary<Command>[] {
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
