import type { SchemaObject } from '@nestjs/swagger';
import { InvalidInputError, type MarkReadRequest, parseNotificationId } from '@app/notifications';
import { RESUME_ID_PATTERN } from '../polling/polling.dto';

/** Ids one read may name, as the contract bounds them. */
export const MAX_READ_IDS = 200;

const SHAPE = 'body must be { ids: [id, ...] } (1 to 200 notification ids) or { upTo: id }';

/** A notification id as a read may name it: `<ms>-<seq>` or `<ms>` (each part at most 2^64-1). */
const NOTIFICATION_ID: SchemaObject = { type: 'string', pattern: RESUME_ID_PATTERN, example: '1732190000000-0' };

/**
 * What {@link parseMarkReadRequest} accepts, as a JSON schema (OpenAPI 3.0) for
 * the gateway's document; the OpenAPI test holds the two to the same examples.
 */
export const MARK_READ_REQUEST_SCHEMA: SchemaObject = {
  oneOf: [
    {
      type: 'object',
      title: 'ids',
      description: "Mark these notifications read. Ids that are not the user's are ignored.",
      required: ['ids'],
      additionalProperties: false,
      properties: { ids: { type: 'array', minItems: 1, maxItems: MAX_READ_IDS, items: NOTIFICATION_ID } },
    },
    {
      type: 'object',
      title: 'upTo',
      description: 'Mark read every retained notification with an id up to and including `upTo`.',
      required: ['upTo'],
      additionalProperties: false,
      properties: { upTo: NOTIFICATION_ID },
    },
  ],
};

/**
 * The body of `POST /api/notifications/read` and the payload of Socket.IO
 * `inbox:read`: exactly one of `ids` and `upTo`, every id a notification id
 * (returned canonical, as the store keeps them). Whether an id is the user's
 * is not asked here: one that is not changes nothing.
 */
export function parseMarkReadRequest(value: unknown): MarkReadRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInputError('body', SHAPE);
  const fields = Object.keys(value);
  const unknown = fields.find((field) => field !== 'ids' && field !== 'upTo');
  if (unknown !== undefined) throw new InvalidInputError(unknown, `${unknown} is not a field of a read: ${SHAPE}`);
  if (fields.length !== 1) throw new InvalidInputError(fields.length === 0 ? 'ids' : 'upTo', SHAPE);
  const { ids, upTo } = value as { ids?: unknown; upTo?: unknown };
  if (fields[0] === 'upTo') return { upTo: notificationId(upTo, 'upTo') };
  if (!Array.isArray(ids) || ids.length < 1 || ids.length > MAX_READ_IDS) {
    throw new InvalidInputError('ids', `ids must be an array of 1 to ${MAX_READ_IDS} notification ids`);
  }
  return { ids: ids.map((id, index) => notificationId(id, `ids[${index}]`)) };
}

function notificationId(value: unknown, field: string): string {
  const id = typeof value === 'string' ? parseNotificationId(value) : null;
  if (id === null) throw new InvalidInputError(field, `${field} must be a notification id like 1732190000000-0`);
  return id;
}
