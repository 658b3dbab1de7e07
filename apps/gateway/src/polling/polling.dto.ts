import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { IDEMPOTENCY_KEY_PATTERN, NOTIFICATION_TYPE_PATTERN } from '@app/notifications';

/** The fields of every published entry, a user's notification or a topic's event. */
export class PublishEntryRequest {
  @IsString()
  @Matches(NOTIFICATION_TYPE_PATTERN, { message: `type must match ${NOTIFICATION_TYPE_PATTERN.source}` })
  type!: string;

  @IsObject({ message: 'data must be a JSON object' })
  data!: Record<string, unknown>;

  @IsOptional()
  @IsString()
  @Matches(IDEMPOTENCY_KEY_PATTERN, { message: 'idempotencyKey must be 1-128 printable characters without spaces' })
  idempotencyKey?: string;
}

/** The query of a polling read: a user's notifications or a topic's events. */
export class PollingQuery {
  /** Checked by the resume-cursor rule of every channel (admission/resume-cursor.ts), not here. */
  @IsOptional()
  after?: string | string[];

  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number from 1 to 200' })
  @Min(1, { message: 'limit must be a whole number from 1 to 200' })
  @Max(200, { message: 'limit must be a whole number from 1 to 200' })
  limit?: number;

  /** Read by the auth guard. */
  @IsOptional()
  @IsString()
  access_token?: string;
}
