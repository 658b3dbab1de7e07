import { Job, type Queue } from 'bullmq';
import fc from 'fast-check';
import request from 'supertest';
import { QUEUES } from '@app/job-matching';
import { RedisKeys } from '@app/notifications';
import { isPlainObject, postingIsValid, publishIsValid, USER_ID } from './support/contract-oracles';
import { countCase, deeplyNested, fuzzParameters, fuzzTimeout, hostileJson, hostileString, mutated, overTheWire, printFuzzTally } from './support/fuzz';
import { randomUserId } from './support/prefix';
import { type RedisClient, testQueue, testRedisClient } from './support/redis';
import { startGateway, TEST_API_KEY, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Property-based fuzzing of queue job data, added straight to BullMQ as an
 * internal service may: any job name, any data. A job either completes (valid
 * data) or fails at once with an UnrecoverableError that stays in the failed
 * set with its reason: never retried, never a worker crash, and nothing stored
 * for a job that failed.
 */

const FINISHED = ['completed', 'failed'];

jest.setTimeout(fuzzTimeout(30_000));

describe('fuzz: queue job data', () => {
  let gateway: TestGateway;
  let redis: RedisClient;
  let notifications: Queue;
  let postings: Queue;
  const users = [randomUserId('fzq-a'), randomUserId('fzq-b')];
  const watcher = randomUserId('fzq-watch');
  const acceptedPostings = new Set<string>();
  const historyLength = (userId: string) => redis.xlen(new RedisKeys(gateway.config.redisKeyPrefix).userStream(userId));

  /** Adds a job the way an internal service would (with the contract's retry options) and waits until it settles. */
  const run = async (queue: Queue, name: string, data: unknown): Promise<Job> => {
    const job = await queue.add(name, data, { attempts: 5, backoff: { type: 'exponential', delay: 1_000 } });
    // 'delayed' would be a retry: the first look at it fails the property.
    const state = await waitFor(async () => {
      const now = await job.getState();
      return FINISHED.includes(now) || now === 'delayed' ? now : null;
    }, `job ${job.id} to settle`, 10_000, 5);
    const settled = (await Job.fromId(queue, job.id as string)) as Job;
    expect({ state, attemptsMade: settled.attemptsMade }).toEqual({ state, attemptsMade: 1 });
    return settled;
  };

  beforeAll(async () => {
    gateway = await startGateway({ env: { WORKER_EMBEDDED: 'true' } });
    redis = testRedisClient();
    notifications = testQueue(QUEUES.notifications, gateway.config);
    postings = testQueue(QUEUES.jobPostings, gateway.config);
    // Every valid posting below mentions "fuzzword": the watcher's job-matches show which postings were matched.
    const search = await request(gateway.url).post('/api/saved-searches').set('Authorization', `Bearer ${userToken(watcher)}`).send({ keywords: ['fuzzword'] });
    expect(search.status).toBe(201);
  });

  afterAll(async () => {
    printFuzzTally('fuzz-queue');
    await notifications.close();
    await postings.close();
    redis.disconnect();
    await gateway.close();
  });

  const jobName = (expected: string) => fc.oneof({ weight: 8, arbitrary: fc.constant(expected) }, { weight: 1, arbitrary: fc.constantFrom('notify', 'posting', 'Notify', '', ' ') }, { weight: 1, arbitrary: hostileString(20) });

  it('completes exactly the valid notify jobs (one notification each) and fails the rest at once, storing nothing', async () => {
    const valid = fc.record({
      userId: fc.constantFrom(...users),
      type: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,63}$/),
      data: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
      idempotencyKey: fc.string(),
    });
    const data = fc.oneof(
      { weight: 6, arbitrary: mutated(valid) },
      { weight: 1, arbitrary: hostileJson() },
      { weight: 1, arbitrary: fc.constantFrom(...[65, 1_000].map((depth) => ({ userId: users[0], type: 'job-match', data: { deep: deeplyNested(depth, 'object') } }))) },
    );
    await fc.assert(
      fc.asyncProperty(jobName('notify'), data, async (name, raw) => {
        countCase('notifications queue job');
        const wire = overTheWire(raw);
        const target = isPlainObject(wire) && typeof wire.userId === 'string' && USER_ID.test(wire.userId) ? wire.userId : null;
        const before = target === null ? 0 : await historyLength(target);
        const job = await run(notifications, name, raw);
        const fields = isPlainObject(wire) ? { userId: wire.userId, type: wire.type, data: wire.data } : null;
        const validJob = name === 'notify' && fields !== null && publishIsValid(fields);
        if (validJob) {
          expect(await job.getState()).toBe('completed');
          expect(await historyLength(target as string)).toBe(before + 1);
        } else {
          expect(await job.getState()).toBe('failed');
          expect(job.failedReason).toMatch(name === 'notify' ? /^invalid notification: / : /^unknown job name /);
          if (target !== null) expect(await historyLength(target)).toBe(before);
        }
      }),
      fuzzParameters(250),
    );
  });

  it('matches exactly the valid postings and fails the rest at once, notifying no one for those', async () => {
    const valid = fc.record(
      {
        id: fc.stringMatching(/^fzq-[A-Za-z0-9_.-]{1,30}$/),
        title: fc.string({ maxLength: 30 }).map((title) => `${title} fuzzword`),
        company: fc.string({ minLength: 1, maxLength: 20 }),
        location: fc.string({ minLength: 1, maxLength: 20 }),
        description: fc.string({ maxLength: 100 }),
        tags: fc.array(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 4 }),
        salary: fc.double({ min: 0, max: 1e6, noNaN: true }),
        remote: fc.boolean(),
      },
      { requiredKeys: ['id', 'title', 'company'] },
    );
    const data = fc.oneof({ weight: 6, arbitrary: mutated(valid) }, { weight: 1, arbitrary: hostileJson() });
    await fc.assert(
      fc.asyncProperty(jobName('posting'), data, async (name, raw) => {
        countCase('job-postings queue job');
        const wire = overTheWire(raw);
        const job = await run(postings, name, raw);
        if (name === 'posting' && postingIsValid(wire)) {
          expect(await job.getState()).toBe('completed');
          acceptedPostings.add((wire as { id: string }).id);
        } else {
          expect(await job.getState()).toBe('failed');
          expect(job.failedReason).toMatch(name === 'posting' ? /^invalid posting: / : /^unknown job name /);
        }
      }),
      fuzzParameters(200),
    );
    // Every job-match the watcher got is for a posting that completed, and none came twice.
    const page = await request(gateway.url).get('/api/notifications?limit=200').set('Authorization', `Bearer ${userToken(watcher)}`);
    const matched = (page.body.items as Array<{ data: { jobId: string } }>).map((item) => item.data.jobId);
    expect(new Set(matched).size).toBe(matched.length);
    for (const jobId of matched) expect(acceptedPostings.has(jobId)).toBe(true);
  });

  it('matches postings with runs of tens of thousands of dots and dashes in a bounded time (issue 13)', async () => {
    // Trimming with `[.-]+$` was quadratic: "a" + 50,000 dots + "a" held the gateway's event loop
    // (the worker is embedded) for a second or more. The bound is generous, for noisy machines;
    // the unit specs pin the work itself (tokenizeSteps).
    const LIMIT_MS = 300;
    const searcher = randomUserId('fzq-redos');
    const search = await request(gateway.url).post('/api/saved-searches').set('Authorization', `Bearer ${userToken(searcher)}`).send({ keywords: ['redos-word'] });
    expect(search.status).toBe(201);
    const edge = fc.constantFrom('.', '-', '.-', '-.', '..--');
    const dotsAndDashes = (min: number, max: number) =>
      fc.tuple(edge, fc.integer({ min, max })).map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));
    const letters = fc.stringMatching(/^[A-Za-z]{1,3}$/);
    // One word that cannot be trimmed (letters at both ends of a huge run), and the keyword wrapped in runs that must be.
    const posting = fc.record({
      title: fc.tuple(letters, dotsAndDashes(100, 480), letters).map((parts) => parts.join('')),
      description: fc
        .tuple(letters, dotsAndDashes(45_000, 48_000), letters, fc.boolean(), dotsAndDashes(0, 900), dotsAndDashes(0, 900))
        .map(([a, run, b, mentions, before, after]) => `${a}${run}${b} ${mentions ? `${before}Redos-Word${after}` : ''}`),
      tags: fc.array(fc.tuple(letters, dotsAndDashes(1, 90), letters).map((parts) => parts.join('')), { maxLength: 50 }),
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(posting, async (fields) => {
        countCase('job-postings queue job, dots and dashes');
        const data = { id: `fzq-redos-${n++}`, company: 'Acme', ...fields };
        expect(postingIsValid(data)).toBe(true);
        const before = await historyLength(searcher);
        const job = await run(postings, 'posting', data);
        expect(await job.getState()).toBe('completed');
        expect((job.finishedOn as number) - (job.processedOn as number)).toBeLessThan(LIMIT_MS);
        expect(await historyLength(searcher)).toBe(before + (fields.description.includes('Redos-Word') ? 1 : 0));
      }),
      fuzzParameters(20),
    );
  });

  it('still serves after the fuzzing: the worker takes a valid job and the gateway answers', async () => {
    const userId = users[1];
    const before = await historyLength(userId);
    const job = await run(notifications, 'notify', { userId, type: 'job-match', data: { after: 'fuzz' } });
    expect(await job.getState()).toBe('completed');
    expect(await historyLength(userId)).toBe(before + 1);
    const published = await request(gateway.url).post('/api/notifications').set('X-Api-Key', TEST_API_KEY).send({ userId, type: 'job-match', data: {} });
    expect(published.status).toBe(202);
    expect((await request(gateway.url).get('/health')).status).toBe(200);
  });
});
