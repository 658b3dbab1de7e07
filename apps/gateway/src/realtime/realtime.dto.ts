import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsNumber, IsOptional, IsString, Length, Matches, validateSync } from 'class-validator';
import type { DefaultEventsMap, Server, Socket } from 'socket.io';
import {
  type ClientToServerEventMap,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SocketAck,
  TOPIC_NAME_PATTERN,
  unsafeJsonField,
  USER_ID_PATTERN,
  USER_ID_RULE,
} from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { ROOM_ID_PATTERN } from './rooms';

/** What other instances may read of a socket (fetchSockets serializes it): plain data only. */
export interface SocketData {
  user: AuthenticatedUser;
}

/** The gateway's Socket.IO server, typed by the contract's event maps (libs/notifications client-events.ts). */
export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, DefaultEventsMap, SocketData>;
/** One socket of {@link RealtimeServer}: it emits only the contract's server events, with their payloads. */
export type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents, DefaultEventsMap, SocketData>;

/** Every acknowledgement, the one type the client is typed to receive. */
export type Ack = SocketAck;
/** A refusal, the same shape for every event. */
export type AckRefusal = Extract<SocketAck, { ok: false }>;
/** The acknowledgement of one client event, as the contract's map types it. */
export type AckOf<E extends keyof ClientToServerEventMap> = ClientToServerEventMap[E]['ack'];

const roomIdMessage = 'roomId must be 1-64 of A-Z a-z 0-9 _ -';

export class RoomRequest {
  @IsString()
  @Matches(ROOM_ID_PATTERN, { message: roomIdMessage })
  roomId!: string;
}

export class RoomChatRequest extends RoomRequest {
  @IsString()
  @Length(1, 4000, { message: 'content must be 1 to 4000 characters' })
  content!: string;
}

export class DirectChatRequest {
  @IsString()
  @Matches(USER_ID_PATTERN, { message: `recipientId ${USER_ID_RULE}` })
  recipientId!: string;

  @IsString()
  @Length(1, 4000, { message: 'content must be 1 to 4000 characters' })
  content!: string;
}

export class TypingRequest extends RoomRequest {
  @IsBoolean()
  isTyping!: boolean;
}

export class CursorMoveRequest extends RoomRequest {
  @IsNumber({ allowNaN: false, allowInfinity: false })
  x!: number;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  y!: number;
}

/**
 * The verdict of `validatePayload(CursorMoveRequest, payload)` without
 * class-validator, cheap enough for the rate limiter to run on every packet of
 * a flood (realtime.dto.spec.ts holds the two to the same answers).
 */
export function isCursorMovePayload(payload: unknown): payload is Pick<CursorMoveRequest, 'roomId' | 'x' | 'y'> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  const { roomId, x, y } = payload as Record<string, unknown>;
  return typeof roomId === 'string' && ROOM_ID_PATTERN.test(roomId) && Number.isFinite(x) && Number.isFinite(y) && Object.keys(payload).length === 3;
}

export class TopicRequest {
  @IsString()
  @Matches(TOPIC_NAME_PATTERN, { message: `topic must match ${TOPIC_NAME_PATTERN.source}` })
  topic!: string;
}

export class TopicSubscribeRequest extends TopicRequest {
  /** Checked by the resume-cursor rule of every channel (admission/resume-cursor.ts). */
  @IsOptional()
  lastEventId?: unknown;
}

export class AuthRefreshRequest {
  @IsString()
  token!: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; ack: AckRefusal };

/**
 * Validates a client event payload against its DTO: unknown fields and wrong
 * types are refused, and the refusal is an ack, never a thrown error.
 */
export function validatePayload<T extends object>(type: new () => T, payload: unknown): Validated<T> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, ack: { ok: false, error: 'invalid_payload', field: 'payload' } };
  }
  // Before class-transformer walks it: deep nesting would overflow its recursion, and it skips `__proto__`.
  const unsafe = unsafeJsonField(payload, 'payload');
  if (unsafe !== null) return { ok: false, ack: { ok: false, error: 'invalid_payload', field: unsafe.field } };
  const instance = plainToInstance(type, payload);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) return { ok: false, ack: { ok: false, error: 'invalid_payload', field: errors[0].property } };
  return { ok: true, value: instance };
}
