import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { JOB_NAMES, QUEUES } from '@app/job-matching';
import { type JobPosting, SERVER_EVENTS } from '@app/notifications';
import { LiveConnections } from '../connections/live-connections';
import { RealtimeGateway } from '../realtime/realtime.gateway';
import { chatRoom } from '../realtime/rooms';

/** The room the demo page joins first, where the feed's bot leaves its tips. */
export const DEMO_ROOM = 'lobby';
export const DEMO_BOT = 'demo-bot';
/** Between two sample postings while someone is connected. */
export const DEMO_POSTING_EVERY_MS = 8_000;
/** How often the feed looks whether anyone is connected: a newcomer waits at most this for the first posting. */
const LOOK_EVERY_MS = 1_000;

type SamplePosting = Omit<JobPosting, 'id'>;

/** Even entries mention TypeScript, odd ones do not: a guest sees both matches and postings that are not theirs. */
export const SAMPLE_POSTINGS: readonly SamplePosting[] = [
  { title: 'Senior TypeScript engineer', company: 'Acme', location: 'Berlin', tags: ['typescript', 'nestjs'], salary: 85_000, remote: true },
  { title: 'Site reliability engineer', company: 'Globex', location: 'Lisbon', tags: ['redis', 'kubernetes'], salary: 78_000 },
  { title: 'Full-stack developer', company: 'Initech', description: 'React and TypeScript on the front, Node.js behind.', tags: ['react', 'node.js'], remote: true },
  { title: 'Data engineer', company: 'Umbrella', location: 'Madrid', tags: ['python', 'kafka'], salary: 70_000 },
  { title: 'Front-end engineer (TypeScript)', company: 'Hooli', location: 'Amsterdam', tags: ['vue', 'css'], salary: 72_000 },
  { title: 'Go backend developer', company: 'Vandelay', tags: ['go', 'postgres'], remote: true },
  { title: 'Realtime platform engineer', company: 'Stark', description: 'Socket.IO, SSE and Redis at scale, in TypeScript.', tags: ['node.js', 'redis'], salary: 95_000 },
  { title: 'Mobile developer', company: 'Wayne', location: 'Paris', tags: ['kotlin', 'swift'] },
];

/** What the bot says in the room, in turn. */
export const DEMO_TIPS: readonly string[] = [
  'Welcome! Sample jobs arrive on the job board every few seconds; the TypeScript ones match your saved search and land in your feed.',
  'Open a second tab as another guest (the link at the top) to chat, type and move cursors between two users.',
  'The bell counts what you have not read, exactly, in every tab; open the feed to read them.',
  'Close this tab, post a job, open it again: the feed resumes where it left off, with nothing missed and nothing twice.',
];

/**
 * A local trial's sample traffic (DEMO_FEED=true, which `npm start` sets
 * outside production): while this instance has a connection, a sample
 * posting every DEMO_POSTING_EVERY_MS through the same queue as
 * `POST /api/jobs`, and a tip from the bot in DEMO_ROOM. Nothing while
 * nobody is connected, so an idle gateway stays idle.
 */
@Injectable()
export class DemoFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(DemoFeed.name);
  /** Postings of this process are `demo-<run>-<n>`: unique per start, so each is matched once. */
  private readonly run = Date.now().toString(36);
  private posted = 0;
  private lastPostAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectQueue(QUEUES.jobPostings) private readonly postings: Queue,
    private readonly connections: LiveConnections,
    private readonly realtime: RealtimeGateway,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.connections.size > 0 && Date.now() - this.lastPostAt >= DEMO_POSTING_EVERY_MS) void this.postNext();
    }, LOOK_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Posts the next sample and leaves the next tip; returns the posting's id. */
  async postNext(): Promise<string> {
    this.lastPostAt = Date.now();
    const n = this.posted++;
    const posting: JobPosting = { id: `demo-${this.run}-${n}`, ...SAMPLE_POSTINGS[n % SAMPLE_POSTINGS.length] };
    this.say(DEMO_TIPS[n % DEMO_TIPS.length]);
    try {
      await this.postings.add(JOB_NAMES.posting, posting, { jobId: posting.id });
    } catch (error) {
      this.log.warn(`sample posting ${posting.id} not queued: ${(error as Error).message}`);
    }
    return posting.id;
  }

  private say(content: string): void {
    const message = { id: randomUUID(), roomId: DEMO_ROOM, from: DEMO_BOT, content, timestamp: new Date().toISOString() };
    // This instance's members only: every instance with a feed speaks to its own.
    this.realtime.server.local.to(chatRoom(DEMO_ROOM)).emit(SERVER_EVENTS.chat, message);
  }
}
