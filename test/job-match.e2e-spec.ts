import { Queue } from 'bullmq';
import request from 'supertest';
import { closeAfterEach } from './support/close-after-each';
import { runApp } from './support/gateway-process';
import { randomUserId } from './support/prefix';
import { testQueue, testRedisUrl } from './support/redis';
import { openSse } from './support/sse-client';
import { startGateway, TEST_ADMIN_PASSWORD, TEST_API_KEY, TEST_JWT_SECRET, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

type Notification = { id: string; type: string; userId: string; data: Record<string, unknown> };

describe('job-match pipeline', () => {
  let gateway: TestGateway;
  let queue: Queue;
  const track = closeAfterEach();
  const posting = (overrides: Record<string, unknown> = {}) => ({
    id: `job-${Math.random().toString(36).slice(2, 10)}`,
    title: 'Senior Node.js engineer',
    company: 'Acme',
    location: 'Berlin',
    description: 'Build realtime systems with NestJS, Redis and C#. Machine learning a plus.',
    tags: ['backend', 'front-end'],
    salary: 90_000,
    remote: true,
    ...overrides,
  });
  const asUser = (userId: string) => ({ Authorization: `Bearer ${userToken(userId)}` });
  const saveSearch = async (userId: string, body: Record<string, unknown>, target = gateway) => {
    const response = await request(target.url).post('/api/saved-searches').set(asUser(userId)).send(body);
    expect(response.status).toBe(201);
    return response.body as { id: string };
  };
  const subscribe = async (userId: string, target = gateway) => {
    const stream = await openSse(target.url, '/api/events?types=job-match', asUser(userId));
    track(stream);
    await waitFor(() => stream.blocks.length > 0, 'the stream to open');
    return stream;
  };
  const postJob = (body: Record<string, unknown>, target = gateway) =>
    request(target.url).post('/api/jobs').set('X-Api-Key', TEST_API_KEY).send(body);
  const polled = async (userId: string) =>
    (await request(gateway.url).get('/api/notifications').set(asUser(userId))).body.items as Notification[];

  beforeAll(async () => {
    gateway = await startGateway({ env: { WORKER_EMBEDDED: 'true' } });
    queue = testQueue('job-postings', gateway.config);
  });

  afterAll(async () => {
    await queue.close();
    await gateway.close();
  });

  describe('saved searches', () => {
    it('creates, lists and deletes a saved search, only for its owner', async () => {
      const owner = randomUserId();
      const created = await request(gateway.url)
        .post('/api/saved-searches')
        .set(asUser(owner))
        .send({ keywords: ['node.js', 'machine learning'], location: 'Berlin', remote: true, minSalary: 50_000 });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        userId: owner,
        keywords: ['node.js', 'machine learning'],
        location: 'Berlin',
        remote: true,
        minSalary: 50_000,
        createdAt: expect.any(String),
      });
      const listed = await request(gateway.url).get('/api/saved-searches').set(asUser(owner));
      expect(listed.body).toEqual({ items: [created.body] });

      const intruder = randomUserId();
      expect((await request(gateway.url).get('/api/saved-searches').set(asUser(intruder))).body).toEqual({ items: [] });
      const stolen = await request(gateway.url).delete(`/api/saved-searches/${created.body.id}`).set(asUser(intruder));
      expect(stolen.status).toBe(404);
      expect((await request(gateway.url).get('/api/saved-searches').set(asUser(owner))).body.items).toHaveLength(1);

      expect((await request(gateway.url).delete(`/api/saved-searches/${created.body.id}`).set(asUser(owner))).status).toBe(204);
      expect((await request(gateway.url).get('/api/saved-searches').set(asUser(owner))).body).toEqual({ items: [] });
      expect((await request(gateway.url).delete(`/api/saved-searches/${created.body.id}`).set(asUser(owner))).status).toBe(404);
    });

    it.each([
      ['no keywords', { keywords: [] }, 'keywords'],
      ['eleven keywords', { keywords: Array.from({ length: 11 }, (_, i) => `k${i}`) }, 'keywords'],
      ['a keyword that is not a string', { keywords: [42] }, 'keywords'],
      ['a keyword without a word', { keywords: ['--'] }, 'keywords'],
      ['a negative minSalary', { keywords: ['go'], minSalary: -1 }, 'minSalary'],
      ['remote as a string', { keywords: ['go'], remote: 'yes' }, 'remote'],
      ['an unknown field', { keywords: ['go'], salaryMax: 3 }, 'salaryMax'],
    ])('refuses %s with a 400 naming the field, storing nothing', async (_, body, field) => {
      const userId = randomUserId();
      const response = await request(gateway.url).post('/api/saved-searches').set(asUser(userId)).send(body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, field });
      expect((await request(gateway.url).get('/api/saved-searches').set(asUser(userId))).body).toEqual({ items: [] });
    });

    it('answers 401 without a user token', async () => {
      expect((await request(gateway.url).get('/api/saved-searches')).status).toBe(401);
      expect((await request(gateway.url).post('/api/saved-searches').send({ keywords: ['go'] })).status).toBe(401);
    });
  });

  describe('matching', () => {
    it('turns a posting from POST /api/jobs into one job-match per user, with the exact data shape', async () => {
      const alice = randomUserId('alice');
      const bob = randomUserId('bob');
      const first = await saveSearch(alice, { keywords: ['node.js'] });
      const second = await saveSearch(alice, { keywords: ['Machine Learning', 'c#'], remote: true, location: 'berlin' });
      await saveSearch(bob, { keywords: ['cobol'] });
      const stream = await subscribe(alice);
      const job = posting();
      const accepted = await postJob(job);
      expect(accepted.status).toBe(202);
      expect(accepted.body).toEqual({ jobId: job.id });
      const [event] = await stream.waitForEvents(1, 10_000);
      expect(event.event).toBe('job-match');
      const notification = JSON.parse(event.data as string);
      expect(notification).toMatchObject({ type: 'job-match', userId: alice });
      expect(notification.data).toEqual({
        jobId: job.id,
        title: job.title,
        company: 'Acme',
        location: 'Berlin',
        searchIds: [first.id, second.id].sort(),
      });
      await waitFor(async () => (await queue.getJobState(job.id)) === 'completed', 'the job to complete');
      expect(await polled(bob)).toEqual([]);
      expect(await polled(alice)).toHaveLength(1);
    });

    it('takes postings added with plain BullMQ, and gives location null when the posting has none', async () => {
      const userId = randomUserId();
      await saveSearch(userId, { keywords: ['kotlin'] });
      const stream = await subscribe(userId);
      const job = posting({ title: 'Kotlin developer', location: undefined });
      delete (job as Record<string, unknown>).location;
      await queue.add('posting', job, { jobId: job.id });
      const [event] = await stream.waitForEvents(1, 10_000);
      expect(JSON.parse(event.data as string).data).toMatchObject({ jobId: job.id, location: null });
    });

    it('matches the same posting id once, however often it is posted', async () => {
      const userId = randomUserId();
      await saveSearch(userId, { keywords: ['realtime'] });
      const job = posting();
      for (let i = 0; i < 3; i++) expect((await postJob(job)).status).toBe(202);
      await queue.add('posting', job, { jobId: job.id });
      await waitFor(async () => (await queue.getJobState(job.id)) === 'completed', 'the job to complete');
      // Even a second run of the same posting (a retry after a crash) notifies no one twice.
      const rerun = `${job.id}-rerun`;
      await queue.add('posting', { ...job }, { jobId: rerun });
      await waitFor(async () => (await queue.getJobState(rerun)) === 'completed', 'the re-run to complete');
      expect((await polled(userId)).map((item) => item.data.jobId)).toEqual([job.id]);
    });

    it('applies location, remote and minSalary, and whole words only', async () => {
      const userId = randomUserId();
      const wanted = await saveSearch(userId, { keywords: ['redis'], location: 'BERLIN', minSalary: 80_000 });
      await saveSearch(userId, { keywords: ['redis'], location: 'Paris' });
      await saveSearch(userId, { keywords: ['redis'], minSalary: 100_000 });
      await saveSearch(userId, { keywords: ['red'] });
      const onsite = await saveSearch(userId, { keywords: ['redis'], remote: true });
      const job = posting({ remote: false });
      await postJob(job);
      await waitFor(async () => (await queue.getJobState(job.id)) === 'completed', 'the job to complete');
      const [match] = await polled(userId);
      expect(match.data.searchIds).toEqual([wanted.id]);
      expect(match.data.searchIds).not.toContain(onsite.id);
    });

    it('fails an invalid job at once, without retries, keeping the reason in the failed set', async () => {
      const jobId = `bad-${Math.random().toString(36).slice(2, 8)}`;
      await queue.add('posting', { id: jobId, company: 'Acme' }, { jobId, attempts: 5, backoff: { type: 'fixed', delay: 10 } });
      await waitFor(async () => (await queue.getJobState(jobId)) === 'failed', 'the job to fail');
      const job = await queue.getJob(jobId);
      expect(job?.attemptsMade).toBe(1);
      expect(job?.failedReason).toMatch(/^invalid posting: title/);
      const response = await postJob({ id: 'x', company: 'Acme' });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ field: 'title' });
      expect((await postJob({ ...posting(), id: '12345' })).body).toMatchObject({ field: 'id' });
      expect((await request(gateway.url).post('/api/jobs').send(posting())).status).toBe(401);
    });
  });

  describe('the live job board', () => {
    it('publishes every accepted posting once to jobs.new as job-posted, which any signed-in user may follow', async () => {
      const viewer = randomUserId();
      const board = await openSse(gateway.url, '/api/events?topics=jobs.new&types=job-posted', asUser(viewer));
      track(board);
      await waitFor(() => board.blocks.length > 0, 'the board to open');
      const job = posting({ tags: ['backend'] });
      expect((await postJob(job)).status).toBe(202);
      expect((await postJob(job)).status).toBe(202);
      const [event] = await board.waitForEvents(1, 10_000);
      expect(event.event).toBe('job-posted');
      expect(JSON.parse(event.data as string)).toEqual({
        id: expect.any(String),
        topic: 'jobs.new',
        type: 'job-posted',
        data: { jobId: job.id, title: job.title, company: job.company, location: job.location, remote: true, tags: ['backend'] },
        createdAt: expect.any(String),
      });
      const polledBoard = await request(gateway.url).get('/api/topics/jobs.new/events?limit=200').set(asUser(viewer));
      const announced = (polledBoard.body.items as Array<{ data: { jobId: string } }>).filter((item) => item.data.jobId === job.id);
      expect(announced).toHaveLength(1);
    });
  });

  describe('operations', () => {
    it('exposes queue depth and processed counts in /metrics', async () => {
      const metrics = await request(gateway.url).get('/metrics');
      expect(metrics.text).toMatch(/rtg_queue_jobs\{queue="job-postings",state="completed"\} \d+/);
      expect(metrics.text).toMatch(/rtg_queue_jobs\{queue="notifications",state="waiting"\} \d+/);
      expect(metrics.text).toMatch(/rtg_jobs_processed_total\{queue="job-postings",result="completed"\} [1-9]/);
      expect(metrics.text).toMatch(/rtg_jobs_processed_total\{queue="job-postings",result="failed"\} [1-9]/);
    });

    it('serves Bull Board at /admin/queues only with ADMIN_PASSWORD', async () => {
      expect((await request(gateway.url).get('/admin/queues')).status).toBe(401);
      expect((await request(gateway.url).get('/admin/queues').auth('admin', 'wrong')).status).toBe(401);
      expect((await request(gateway.url).get('/admin/queues').set('X-Api-Key', TEST_API_KEY)).status).toBe(401);
      const page = await request(gateway.url).get('/admin/queues').auth('admin', TEST_ADMIN_PASSWORD);
      expect(page.status).toBe(200);
      const api = await request(gateway.url).get('/admin/queues/api/queues').auth('admin', TEST_ADMIN_PASSWORD);
      expect(api.status).toBe(200);
      expect(JSON.stringify(api.body)).toContain('job-postings');
    });

    it('delivers through the standalone job-matcher when the gateway does not embed the worker', async () => {
      const detached = await startGateway({ env: { WORKER_EMBEDDED: 'false' } });
      const worker = runApp('job-matcher', {
        REDIS_URL: testRedisUrl(),
        REDIS_KEY_PREFIX: detached.config.redisKeyPrefix,
        JWT_SECRET: TEST_JWT_SECRET,
      });
      try {
        await waitFor(() => worker.stdout.includes('job-matcher ready'), 'the worker to start', 15_000);
        const userId = randomUserId();
        await saveSearch(userId, { keywords: ['typescript'] }, detached);
        const stream = await subscribe(userId, detached);
        const job = posting({ title: 'TypeScript engineer' });
        await postJob(job, detached);
        const [event] = await stream.waitForEvents(1, 10_000);
        expect(JSON.parse(event.data as string).data.jobId).toBe(job.id);
        worker.child.kill('SIGTERM');
        expect(await worker.exited).toBe(0);
      } finally {
        worker.child.kill('SIGKILL');
        await detached.close();
      }
    }, 60_000);
  });
});
