import type { Notification } from './notification';

/**
 * A stored notification as it travels: its serialized JSON, made once when it
 * was stored, plus the few fields transports route on. Transports frame it with
 * {@link encode}, which memoizes per encoder, so a notification for a user with
 * a thousand connections is framed once and the same bytes are written a
 * thousand times.
 */
export class NotificationEnvelope {
  private encodings: Map<unknown, unknown> | undefined;
  private parsed: Notification | undefined;
  private publishedAt = -1;

  constructor(
    readonly id: string,
    readonly type: string,
    /** The user id or topic name whose stream holds it. */
    readonly streamName: string,
    /** The notification (or topic event) exactly as every channel sends it. */
    readonly json: string,
  ) {}

  /** Builds the JSON of a stored entry: the id goes first, then the stored body. */
  static fromStored(id: string, type: string, streamName: string, body: string): NotificationEnvelope {
    return new NotificationEnvelope(id, type, streamName, `{"id":"${id}",${body}`);
  }

  encode<T>(encoder: (envelope: NotificationEnvelope) => T): T {
    this.encodings ??= new Map();
    let encoded = this.encodings.get(encoder) as T | undefined;
    if (encoded === undefined) {
      encoded = encoder(this);
      this.encodings.set(encoder, encoded);
    }
    return encoded;
  }

  /** When Redis stored it: the millisecond part of the stream id. */
  get publishedAtMs(): number {
    if (this.publishedAt < 0) this.publishedAt = Number(this.id.slice(0, this.id.indexOf('-')));
    return this.publishedAt;
  }

  toNotification(): Notification {
    this.parsed ??= JSON.parse(this.json) as Notification;
    return this.parsed;
  }
}
