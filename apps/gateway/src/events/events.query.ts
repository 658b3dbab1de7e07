import { InvalidInputError, NOTIFICATION_TYPE_PATTERN, parseNotificationId, UNREADABLE_CURSOR } from '@app/notifications';

/**
 * The query of `GET /api/events`: `types`, `lastEventId` (and `access_token`,
 * read by the auth guard). Parsed here rather than by the validation pipe:
 * class-transformer's copy of the query was the largest cost of opening a
 * stream after the token check, and two optional strings need none of it.
 */
export interface EventsQuery {
  readonly types: string | undefined;
  readonly lastEventId: string | undefined;
}

export function readEventsQuery(query: Record<string, unknown>): EventsQuery {
  return { types: optionalString(query, 'types'), lastEventId: optionalString(query, 'lastEventId') };
}

/** A repeated (`?a=1&a=2`) or nested (`?a[b]=1`) parameter is a 400 naming it, as the pipe answered. */
function optionalString(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new InvalidInputError(name, `${name} must be a string`);
}

/** `?types=a,b` as a set; null when absent. */
export function parseTypes(raw: string | undefined): ReadonlySet<string> | null {
  if (raw === undefined || raw.trim() === '') return null;
  const types = raw.split(',').map((type) => type.trim());
  for (const type of types) {
    if (!NOTIFICATION_TYPE_PATTERN.test(type)) {
      throw new InvalidInputError('types', `types must be a comma-separated list of types matching ${NOTIFICATION_TYPE_PATTERN.source}`);
    }
  }
  return new Set(types);
}

/**
 * The resume cursor, canonical; the header wins, as a reconnecting browser
 * sends it. null when absent. A malformed `lastEventId` query is a 400 naming
 * it; a malformed `Last-Event-ID` header is an unknown cursor (a reset, not an
 * error), because a browser's EventSource stops reconnecting after a 400 and
 * would keep sending the same header.
 */
export function parseResumeId(header: string | undefined, query: string | undefined): string | null {
  if (header !== undefined && header !== '') return parseNotificationId(header.trim()) ?? UNREADABLE_CURSOR;
  if (query === undefined || query === '') return null;
  const id = parseNotificationId(query.trim());
  if (id === null) throw new InvalidInputError('lastEventId', 'lastEventId must be a notification id like 1732190000000-0');
  return id;
}
