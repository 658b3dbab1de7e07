import { Injectable } from '@nestjs/common';
import { InboxStore, inboxPayload, type InvalidInputError, type MarkReadRequest } from '@app/notifications';
import { parseMarkReadRequest } from '../inbox/mark-read.request';
import type { AckOf } from './realtime.dto';
import type { SocketSession } from './socket-session';

/** `inbox:read`: marks the user's notifications read; the ack has the new state, which every socket of the user also hears as `inbox`. */
@Injectable()
export class SocketInbox {
  constructor(private readonly inbox: InboxStore) {}

  async markRead(session: SocketSession, payload: unknown): Promise<AckOf<'inbox:read'>> {
    let request: MarkReadRequest;
    try {
      request = parseMarkReadRequest(payload);
    } catch (error) {
      return { ok: false, error: 'invalid_payload', field: (error as InvalidInputError).field };
    }
    return { ok: true, ...inboxPayload(await this.inbox.markRead(session.user.id, request)) };
  }
}
