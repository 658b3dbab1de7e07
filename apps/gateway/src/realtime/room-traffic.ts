import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SERVER_EVENTS } from '@app/notifications';
import type { SendMove } from './cursor-coalescer';
import { type AckOf, type AckRefusal, CursorMoveRequest, isCursorMovePayload, RoomChatRequest, TypingRequest, type RealtimeSocket as Socket, validatePayload } from './realtime.dto';
import { chatRoom } from './rooms';
import type { CursorMove, SocketSession } from './socket-session';

const RATE_LIMITED: AckRefusal = { ok: false, error: 'rate_limited' };
const NOT_A_MEMBER: AckRefusal = { ok: false, error: 'not_a_member' };

/**
 * What members send to a room: chat, typing and cursors. Only a socket in the
 * Socket.IO room may send, and everything goes to that room, sender excluded:
 * the room's members on every instance, nobody else.
 */
@Injectable()
export class RoomTraffic {
  private readonly log = new Logger(RoomTraffic.name);

  chat(socket: Socket, session: SocketSession, payload: unknown): AckOf<'chat'> {
    const request = validatePayload(RoomChatRequest, payload);
    if (!request.ok) return request.ack;
    const { roomId, content } = request.value;
    if (!socket.rooms.has(chatRoom(roomId))) return NOT_A_MEMBER;
    const message = { id: randomUUID(), roomId, from: session.user.id, content, timestamp: new Date().toISOString() };
    socket.to(chatRoom(roomId)).emit(SERVER_EVENTS.chat, message);
    return { ok: true, id: message.id };
  }

  typing(socket: Socket, session: SocketSession, payload: unknown): AckOf<'typing'> {
    const request = validatePayload(TypingRequest, payload);
    if (!request.ok) return request.ack;
    const { roomId, isTyping } = request.value;
    if (!socket.rooms.has(chatRoom(roomId))) return NOT_A_MEMBER;
    socket.to(chatRoom(roomId)).emit(SERVER_EVENTS.typing, { roomId, userId: session.user.id, isTyping });
    return { ok: true };
  }

  cursorMove(socket: Socket, session: SocketSession, payload: unknown): AckOf<'cursor-move'> {
    const { ack, move } = this.acceptCursor(socket, session, payload);
    if (move !== null) session.cursors.move(move.roomId, move);
    return ack;
  }

  /** How a socket's coalesced cursor moves leave: to the room, volatile but for the last position (see CursorCoalescer). */
  sendCursor(socket: Socket): SendMove<CursorMove> {
    return (roomId, move, reliable) => {
      const room = socket.to(chatRoom(roomId));
      (reliable ? room : room.volatile).emit(SERVER_EVENTS.cursorMove, move);
    };
  }

  /**
   * Latest wins under any burst. A well-formed move to a room of the socket that
   * is over the cursor bucket is not dropped: it becomes the room's one deferred
   * move, checked and sent at the coalescer's next slot and acked with the
   * result, while the deferred move it replaces is acked `rate_limited`. A flood
   * therefore costs a shape check and a slot per packet, and at most one full
   * check per room per interval, never a Nest dispatch. A move the bucket lets
   * through drops the room's deferred one here, in arrival order, because its
   * handler runs later than this.
   */
  limitCursor(socket: Socket, session: SocketSession, packet: unknown[], next: () => void): void {
    const last = packet[packet.length - 1];
    const ack = typeof last === 'function' ? (last as (answer: AckOf<'cursor-move'>) => void) : null;
    // The handler gets the payload only when it is the one argument before the ack (see mapPayload).
    const payload = packet.length === (ack ? 3 : 2) ? packet[1] : undefined;
    const roomId = isCursorMovePayload(payload) && socket.rooms.has(chatRoom(payload.roomId)) ? payload.roomId : null;
    if (session.cursorLimiter.take()) {
      if (roomId !== null) session.cursors.supersede(roomId);
      return next();
    }
    if (roomId === null) {
      ack?.(RATE_LIMITED);
      return;
    }
    session.cursors.defer(roomId, {
      resolve: () => {
        let accepted: { ack: AckOf<'cursor-move'>; move: CursorMove | null };
        try {
          accepted = this.acceptCursor(socket, session, payload);
        } catch (error) {
          // On the coalescer's timer a throw would take the process down.
          this.log.error(`deferred cursor-move failed: ${(error as Error).stack ?? String(error)}`);
          accepted = { ack: { ok: false, error: 'internal_error' }, move: null };
        }
        ack?.(accepted.ack);
        return accepted.move;
      },
      drop: () => ack?.(RATE_LIMITED),
    });
  }

  /** The one check of a cursor move, for the handler and for a deferred move: its ack, and the move if accepted. */
  private acceptCursor(socket: Socket, session: SocketSession, payload: unknown): { ack: AckOf<'cursor-move'>; move: CursorMove | null } {
    const request = validatePayload(CursorMoveRequest, payload);
    if (!request.ok) return { ack: request.ack, move: null };
    const { roomId, x, y } = request.value;
    if (!socket.rooms.has(chatRoom(roomId))) return { ack: NOT_A_MEMBER, move: null };
    return { ack: { ok: true }, move: { roomId, userId: session.user.id, x, y } };
  }
}
