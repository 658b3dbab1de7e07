import { Queue } from 'bullmq';
import request from 'supertest';
import { DEMO_BOT, DEMO_POSTING_EVERY_MS, DEMO_ROOM, DemoFeed, SAMPLE_POSTINGS } from '../apps/gateway/src/demo/demo-feed';
import { STARTER_SEARCH } from '../apps/demo/src/identity';
import { QUEUES } from '@app/job-matching';
import { randomUserId } from './support/prefix';
import { testQueue } from './support/redis';
import { closeAfterEach } from './support/close-after-each';
import { connectSocket, connected } from './support/socket-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Issue 17: with DEMO_FEED=true (which `npm start` sets outside production)
 * the demo moves with no typing. While someone is connected, sample postings
 * go through the job pipeline (the jobs topic, job-match for the guest's
 * starter search) and the bot leaves tips in the lobby; with nobody connected,
 * nothing is posted.
 */
describe('demo feed (DEMO_FEED=true)', () => {
  let gateway: TestGateway;
  let postings: Queue;
  const track = closeAfterEach();

  beforeAll(async () => {
    gateway = await startGateway({ env: { DEMO_FEED: 'true', WORKER_EMBEDDED: 'true' } });
    postings = testQueue(QUEUES.jobPostings, gateway.config);
  });

  afterAll(async () => {
    await postings?.close();
    await gateway?.close();
  });

  const countPostings = async () => Object.values(await postings.getJobCounts()).reduce((sum, count) => sum + count, 0);

  it('posts nothing while nobody is connected', async () => {
    // Longer than the feed's look-around (1 s) twice over: an idle gateway stays idle.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await countPostings()).toBe(0);
  });

  it('gives a connected guest a lobby tip, the posting on the jobs topic and a job-match for its starter search, within seconds', async () => {
    const guest = randomUserId('guest');
    const token = userToken(guest);
    const search = await request(gateway.url).post('/api/saved-searches').set('Authorization', `Bearer ${token}`).send(STARTER_SEARCH);
    expect(search.status).toBe(201);
    const client = track(connectSocket(gateway.url, guest, { auth: { token } }));
    await connected(client);
    expect((await client.request<{ ok: boolean }>('room:join', { roomId: DEMO_ROOM })).ok).toBe(true);
    expect((await client.request<{ ok: boolean }>('topic:subscribe', { topic: 'jobs.new' })).ok).toBe(true);

    // The first sample comes within the feed's look-around of the first connection, not after a full interval.
    const [match] = await client.waitForEvent<{ data: { jobId: string; searchIds: string[] } }>('job-match', 1, DEMO_POSTING_EVERY_MS);
    expect(match.data).toMatchObject({ title: SAMPLE_POSTINGS[0].title, searchIds: [search.body.id] });
    const [first] = await client.waitForEvent<{ data: { jobId: string } }>('job-posted');
    expect(first.data.jobId).toBe(match.data.jobId);
    const [tip] = await client.waitForEvent<{ roomId: string; from: string; content: string }>('chat');
    expect(tip).toMatchObject({ roomId: DEMO_ROOM, from: DEMO_BOT, content: expect.any(String) });

    // Two more now (the timer may add its own meanwhile on a slow machine): matched exactly when they mention TypeScript.
    const feed = gateway.app.get(DemoFeed);
    const more = [await feed.postNext(), await feed.postNext()];
    const jobIds = (event: string) => client.eventsNamed<{ data: { jobId: string } }>(event).map((received) => received.data.jobId);
    await waitFor(() => more.every((jobId) => jobIds('job-posted').includes(jobId)), 'the two postings on the jobs topic');
    const titles = new Map(SAMPLE_POSTINGS.map((sample) => [sample.title, /typescript/i.test(JSON.stringify(sample))]));
    const posted = client.eventsNamed<{ data: { jobId: string; title: string } }>('job-posted');
    const matching = posted.filter((event) => titles.get(event.data.title)).map((event) => event.data.jobId);
    expect(matching).toContain(match.data.jobId);
    expect(posted.length - matching.length).toBeGreaterThanOrEqual(1);
    await waitFor(() => jobIds('job-match').length >= matching.length || null, 'a job-match for each TypeScript posting');
    expect(new Set(jobIds('job-match'))).toEqual(new Set(matching));
    expect(new Set(client.eventsNamed<{ from: string }>('chat').map((chat) => chat.from))).toEqual(new Set([DEMO_BOT]));
    expect(client.eventsNamed('chat').length).toBeGreaterThanOrEqual(posted.length);
  });
});

describe('without DEMO_FEED (the default)', () => {
  it('runs no feed', async () => {
    const gateway = await startGateway();
    try {
      expect(() => gateway.app.get(DemoFeed)).toThrow();
    } finally {
      await gateway.close();
    }
  });
});
