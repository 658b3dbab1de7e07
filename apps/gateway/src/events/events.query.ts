import { InvalidInputError, NOTIFICATION_TYPE_PATTERN } from '@app/notifications';
import { optionalString, type QueryParameters, refuseUnknownParameters } from '../admission/query-parameters';
import { cursorFromField, cursorFromHeader } from '../admission/resume-cursor';

/** The parameters `GET /api/events` knows (`access_token` is read by the admission); any other is a 400. */
export const EVENTS_QUERY_PARAMETERS: ReadonlySet<string> = new Set(['types', 'lastEventId', 'access_token']);

/** What a stream asks for: the types it narrows to (null: all), and where it resumes after (null: live only). */
export interface EventsRequest {
  readonly types: ReadonlySet<string> | null;
  readonly after: string | null;
}

/**
 * The query and resume header of `GET /api/events`, read with the edge rules
 * rather than the validation pipe: class-transformer's copy of the query was
 * the largest cost of opening a stream after the token check, and two
 * optional strings need none of it.
 */
export function readEventsRequest(query: QueryParameters, lastEventIdHeader: string | string[] | undefined): EventsRequest {
  refuseUnknownParameters(query, EVENTS_QUERY_PARAMETERS);
  const types = parseTypes(optionalString(query, 'types'));
  // The header wins, as a reconnecting browser sends it (with the query of the first connection).
  const after = cursorFromHeader(lastEventIdHeader) ?? cursorFromField(query.lastEventId, 'lastEventId');
  return { types, after };
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
