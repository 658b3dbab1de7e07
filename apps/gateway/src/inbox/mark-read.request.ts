import { InvalidInputError, type MarkReadRequest, parseNotificationId } from '@app/notifications';

/** Ids one read may name, as the contract bounds them. */
export const MAX_READ_IDS = 200;

const SHAPE = 'body must be { ids: [id, ...] } (1 to 200 notification ids) or { upTo: id }';

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
