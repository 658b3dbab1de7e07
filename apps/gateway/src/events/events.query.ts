import { IsOptional, IsString } from 'class-validator';
import { InvalidInputError, NOTIFICATION_TYPE_PATTERN, parseNotificationId } from '@app/notifications';

export class EventsQuery {
  /** Comma-separated notification types to narrow the stream to. */
  @IsOptional()
  @IsString()
  types?: string;

  /** Resume id for clients that cannot send the Last-Event-ID header. */
  @IsOptional()
  @IsString()
  lastEventId?: string;

  /** Read by the auth guard (EventSource cannot set headers). */
  @IsOptional()
  @IsString()
  access_token?: string;
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

/** The resume id, canonical; the header wins, as a reconnecting browser sends it. null when absent. */
export function parseResumeId(header: string | undefined, query: string | undefined): string | null {
  const [field, raw] = header !== undefined && header !== '' ? ['Last-Event-ID', header] : ['lastEventId', query];
  if (raw === undefined || raw === '') return null;
  const id = parseNotificationId(raw.trim());
  if (id === null) throw new InvalidInputError(field, `${field} must be a notification id like 1732190000000-0`);
  return id;
}
