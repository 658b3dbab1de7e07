import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsNumber, IsString, Length, Matches, validateSync } from 'class-validator';
import { unsafeJsonField, USER_ID_PATTERN, USER_ID_RULE } from '@app/notifications';
import { ROOM_ID_PATTERN } from './rooms';

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

export class AuthRefreshRequest {
  @IsString()
  token!: string;
}

export type Ack = ({ ok: true } & Record<string, unknown>) | { ok: false; error: string; field?: string };

export type Validated<T> = { ok: true; value: T } | { ok: false; ack: Ack };

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
