import type { ClientToServerEventMap, InboxPayload } from '@app/notifications/client-events';
import type { ConnectionHub } from './connection-hub';
import type { TabMessage, TabRequest } from './tab-messages';

type Ack<E extends keyof ClientToServerEventMap> = ClientToServerEventMap[E]['ack'];

/** Which tabs want each room or topic. */
class TabInterests {
  private readonly tabs = new Map<string, Set<string>>();

  add(key: string, tabId: string): void {
    let tabs = this.tabs.get(key);
    if (!tabs) this.tabs.set(key, (tabs = new Set()));
    tabs.add(tabId);
  }

  /** True when no tab wants `key` any more (it is then forgotten). */
  remove(key: string, tabId: string): boolean {
    const tabs = this.tabs.get(key);
    tabs?.delete(tabId);
    if (tabs && tabs.size > 0) return false;
    this.tabs.delete(key);
    return true;
  }

  keysOf(tabId: string): string[] {
    return [...this.tabs].filter(([, tabs]) => tabs.has(tabId)).map(([key]) => key);
  }
}

/**
 * The leader tab's connections, used on behalf of every tab of the user: a
 * room is joined and a topic followed once for however many tabs want it, and
 * left after the last one, so one tab leaving (or closing) does not take it
 * from the others. Followers' announcements and requests are served here.
 */
export class SharedConnections {
  private readonly roomTabs = new TabInterests();
  private readonly topicTabs = new TabInterests();

  constructor(
    readonly hub: ConnectionHub,
    private readonly post: (message: TabMessage) => void,
    /** The leader's current status, as a follower gets it. */
    private readonly status: () => TabMessage,
    /** The read state the leader knows (null before its first): a follower starts from it, then hears each change. */
    private readonly inbox: () => InboxPayload | null,
  ) {}

  /** What a follower says: `hello` (its rooms, types and topics), `bye`, or a request to answer. */
  fromFollower(message: TabMessage): void {
    switch (message.kind) {
      case 'hello':
        for (const type of message.types) this.hub.watch(type);
        for (const roomId of message.rooms) void this.join(message.tabId, roomId);
        // A topic it re-announces goes on from where the client stands; a refused one stays refused.
        for (const topic of message.topics) this.follow(message.tabId, topic, null, false);
        this.post(this.status());
        this.postInbox();
        return;
      case 'bye':
        for (const roomId of this.roomTabs.keysOf(message.tabId)) void this.leave(message.tabId, roomId);
        for (const topic of this.topicTabs.keysOf(message.tabId)) this.unfollow(message.tabId, topic);
        return;
      case 'request':
        void this.serve(message.tabId, message.requestId, message.request);
        return;
      default:
        return; // another leader's traffic cannot happen: the lock has one holder
    }
  }

  /** Tells every follower the read state the leader knows, if it knows one. */
  postInbox(): void {
    const state = this.inbox();
    if (state !== null) this.post({ kind: 'inbox', state });
  }

  join(tabId: string, roomId: string): Promise<Ack<'room:join'>> {
    this.roomTabs.add(roomId, tabId);
    return this.hub.join(roomId);
  }

  async leave(tabId: string, roomId: string): Promise<Ack<'room:leave'>> {
    // Another tab of this user is still in the room: the shared socket stays.
    if (!this.roomTabs.remove(roomId, tabId)) return { ok: true };
    return this.hub.leave(roomId);
  }

  follow(tabId: string, topic: string, from: string | null, retryRefused: boolean): void {
    this.topicTabs.add(topic, tabId);
    this.hub.follow(topic, from, retryRefused);
  }

  unfollow(tabId: string, topic: string): void {
    if (this.topicTabs.remove(topic, tabId)) this.hub.unfollow(topic);
  }

  private async serve(tabId: string, requestId: number, request: TabRequest): Promise<void> {
    let answer: unknown = { ok: true };
    switch (request.op) {
      case 'emit':
        answer = await this.hub.emit(request.event, request.payload as never);
        break;
      case 'volatile':
        this.hub.emitVolatile(request.event, request.payload as never);
        return;
      case 'join':
        answer = await this.join(tabId, request.roomId);
        break;
      case 'leave':
        answer = await this.leave(tabId, request.roomId);
        break;
      case 'transports':
        this.hub.setTransports(request.transports);
        break;
      case 'follow':
        this.follow(tabId, request.topic, request.lastEventId, true);
        break;
      case 'unfollow':
        this.unfollow(tabId, request.topic);
        break;
    }
    this.post({ kind: 'answer', to: tabId, requestId, answer });
  }
}
