import { SETTINGS } from './config';
import { type CursorVia, LogicalClient, pause, type Poll, readNotification } from './client';

/**
 * The polling fallback: `GET /api/notifications?after=<lastId>&limit=5` in a
 * loop (with a topic, `GET /api/topics/:topic/events`), each answer's `lastId`
 * the next `after`, following to the other instance when its own does not
 * answer.
 */
export class RestPollingClient extends LogicalClient {
  readonly cursorVia: CursorVia = 'after';
  private after: string | null = null;
  private running = 0;

  open(cursor: string | null, via: CursorVia | null): void {
    this.closed = false;
    this.dead = null;
    this.openedWith = { cursor, via };
    this.after = cursor;
    const run = ++this.running;
    const route = this.fleet.route(this.preferred);
    if (route) this.begin(route, cursor, via);
    void this.loop(run);
  }

  close(): void {
    this.closed = true;
    this.running++;
    if (this.current) this.finish(this.current, 'client');
  }

  resumeId(): string | null {
    return this.after;
  }

  /** The newest answer's lastId (what the checker compares with the truth). */
  get position(): string | null {
    return this.after;
  }

  private async loop(run: number): Promise<void> {
    while (run === this.running && this.dead === null) {
      const route = this.fleet.route(this.preferred);
      if (route === null) {
        await pause(50);
        continue;
      }
      this.preferred = route.index;
      const poll: Poll = { route, after: this.after, sentAt: performance.now(), answeredAt: null, status: null, items: [] };
      this.polls.push(poll);
      const query = `${this.after !== null ? `after=${encodeURIComponent(this.after)}&` : ''}limit=${SETTINGS.pollLimit}`;
      let full = false;
      try {
        const path = this.topics.length > 0 ? `/api/topics/${encodeURIComponent(this.topics[0])}/events` : '/api/notifications';
        const response = await fetch(`${route.url}${path}?${query}`, { headers: { Authorization: `Bearer ${this.token()}` } });
        poll.status = response.status;
        const text = await response.text();
        poll.answeredAt = performance.now();
        if (response.status === 200) {
          const body = JSON.parse(text) as { items?: unknown[]; lastId?: string | null; reset?: { reason?: string } };
          poll.items = (body.items ?? []).map((item) => readNotification(JSON.stringify(item)));
          poll.lastId = body.lastId;
          if (body.reset) poll.reset = body.reset.reason ?? JSON.stringify(body.reset);
          if (typeof body.lastId === 'string') this.after = body.lastId;
          full = poll.items.length >= SETTINGS.pollLimit;
          if (this.current && this.current.establishedAt === null) this.current.establishedAt = poll.answeredAt;
        } else {
          poll.body = text.slice(0, 300);
          // 503 while an instance drains: try again; any other refusal is final (the checker judges it).
          if (response.status !== 503) this.dead = `refused ${response.status}`;
        }
      } catch (error) {
        poll.status = (error as Error).message;
        poll.answeredAt = performance.now();
      }
      if (run !== this.running) return;
      if (!full) await pause(SETTINGS.pollIntervalMs);
    }
  }
}
