import { InvalidInputError, NOTIFICATION_TYPE_PATTERN } from '@app/notifications';
import { optionalString, type QueryParameters, refuseUnknownParameters } from '../admission/query-parameters';
import { cursorFromField, cursorFromHeader } from '../admission/resume-cursor';
import { parseTopicList } from '../topics/topic-access';
import { parseStreamSetCursor, type StreamSetResume, UNREADABLE_RESUME } from './stream-set-cursor';

/** The parameters `GET /api/events` knows (`access_token` is read by the admission); any other is a 400. */
export const EVENTS_QUERY_PARAMETERS: ReadonlySet<string> = new Set(['types', 'topics', 'lastEventId', 'access_token']);

/**
 * What a stream asks for: the types it narrows to (null: all), the topics it
 * carries besides the user's own feed, and where it resumes (null: live only).
 */
export interface EventsRequest {
  readonly types: ReadonlySet<string> | null;
  readonly topics: readonly string[];
  readonly resume: StreamSetResume | null;
}

/**
 * The query and resume header of `GET /api/events`, read with the edge rules
 * rather than the validation pipe: class-transformer's copy of the query was
 * the largest cost of opening a stream after the token check, and three
 * optional strings need none of it. The cursor is a notification id or the
 * connection's cursor over its streams (see stream-set-cursor.ts), under the
 * rule of every channel (admission/resume-cursor.ts).
 */
export function readEventsRequest(query: QueryParameters, lastEventIdHeader: string | string[] | undefined): EventsRequest {
  refuseUnknownParameters(query, EVENTS_QUERY_PARAMETERS);
  const types = parseTypes(optionalString(query, 'types'));
  const topics = parseTopicList(optionalString(query, 'topics'));
  // The header wins, as a reconnecting browser sends it (with the query of the first connection).
  const resume =
    cursorFromHeader(lastEventIdHeader, parseStreamSetCursor, UNREADABLE_RESUME) ?? cursorFromField(query.lastEventId, 'lastEventId', parseStreamSetCursor);
  return { types, topics, resume };
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
