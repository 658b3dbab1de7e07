import type { FeedSubscription } from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { onTokenExpiry } from '../auth/token-expiry';
import { CursorCoalescer, type SendMove } from './cursor-coalescer';
import { FloodLimiter } from './flood-limiter';
import type { RealtimeSocket } from './realtime.dto';

/** Client events a socket may send: sustained per second, and in one burst. */
const EVENTS_PER_SECOND = 20;
const EVENTS_BURST = 40;
/** Cursor moves are coalesced before they fan out, so they get a bucket of their own. */
const CURSOR_MOVES_PER_SECOND = 120;

export interface CursorMove {
  roomId: string;
  userId: string;
  x: number;
  y: number;
}

/** What the gateway keeps per socket; everything here is released in {@link close}. */
export class SocketSession {
  readonly limiter = new FloodLimiter(EVENTS_PER_SECOND, EVENTS_BURST);
  readonly cursorLimiter = new FloodLimiter(CURSOR_MOVES_PER_SECOND, CURSOR_MOVES_PER_SECOND);
  readonly cursors: CursorCoalescer<CursorMove>;
  private subscription: FeedSubscription | null = null;
  /** The topics the socket follows (`topic:subscribe`), each its own feed. */
  private readonly topics = new Map<string, FeedSubscription>();
  private cancelExpiry: () => void = () => undefined;
  private closed = false;

  constructor(
    readonly socket: RealtimeSocket,
    public user: AuthenticatedUser,
    sendCursor: SendMove<CursorMove>,
    private readonly onExpired: (session: SocketSession) => void,
  ) {
    this.cursors = new CursorCoalescer(sendCursor);
    this.scheduleExpiry();
  }

  attach(subscription: FeedSubscription): void {
    if (this.closed) subscription.close();
    else this.subscription = subscription;
  }

  /** Follows a topic with a feed of its own, in place of any earlier one of the same topic. */
  followTopic(topic: string, subscription: FeedSubscription): void {
    if (this.closed) return subscription.close();
    this.topics.get(topic)?.close();
    this.topics.set(topic, subscription);
  }

  unfollowTopic(topic: string): void {
    this.topics.get(topic)?.close();
    this.topics.delete(topic);
  }

  follows(topic: string): boolean {
    return this.topics.has(topic);
  }

  get followedTopics(): string[] {
    return [...this.topics.keys()];
  }

  /** `auth:refresh` with a valid token of the same user: the socket lives on until the new `exp`. */
  refresh(user: AuthenticatedUser): void {
    this.user = user;
    this.scheduleExpiry();
  }

  close(): void {
    this.closed = true;
    this.subscription?.close();
    this.subscription = null;
    for (const topic of this.topics.values()) topic.close();
    this.topics.clear();
    this.cancelExpiry();
    this.cursors.clear();
  }

  private scheduleExpiry(): void {
    this.cancelExpiry();
    this.cancelExpiry = onTokenExpiry(this.user.expiresAt, () => this.onExpired(this));
  }
}
