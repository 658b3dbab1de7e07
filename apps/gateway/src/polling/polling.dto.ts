import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { IDEMPOTENCY_KEY_PATTERN, MAX_DATA_BYTES, NOTIFICATION_TYPE_PATTERN } from '@app/notifications';

/** What a resume id in a request may look like (`0` is the beginning); each part is also at most 2^64-1. */
export const RESUME_ID_PATTERN = '^\\d{1,20}(-\\d{1,20})?$';

/** The fields of every published entry, a user's notification or a topic's event. */
export class PublishEntryRequest {
  @ApiProperty({ type: String, pattern: NOTIFICATION_TYPE_PATTERN.source, description: 'Known types: `job-match`, `message-received`; others may be published.', example: 'job-match' })
  @IsString()
  @Matches(NOTIFICATION_TYPE_PATTERN, { message: `type must match ${NOTIFICATION_TYPE_PATTERN.source}` })
  type!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: `A JSON object, at most ${MAX_DATA_BYTES} bytes serialized, nested at most 64 levels, with no \`__proto__\`, \`constructor\` or \`prototype\` key.`,
    example: { jobId: 'j1' },
  })
  @IsObject({ message: 'data must be a JSON object' })
  data!: Record<string, unknown>;

  @ApiPropertyOptional({
    type: String,
    pattern: IDEMPOTENCY_KEY_PATTERN.source,
    description: 'Within 24 h, the same key (for the same user or topic) answers the first `id` and stores nothing new.',
    example: 'job-j1-u42',
  })
  @IsOptional()
  @IsString()
  @Matches(IDEMPOTENCY_KEY_PATTERN, { message: 'idempotencyKey must be 1-128 printable characters without spaces' })
  idempotencyKey?: string;
}

/** The query of a polling read: a user's notifications or a topic's events. */
export class PollingQuery {
  /** Checked by the resume-cursor rule of every channel (admission/resume-cursor.ts), not here. */
  @ApiPropertyOptional({
    type: String,
    pattern: RESUME_ID_PATTERN,
    description: 'List what comes after this id (`<ms>-<seq>`, or `<ms>`; `0` is the beginning). Absent: from the oldest retained.',
    example: '1732190000000-0',
  })
  @IsOptional()
  after?: string | string[];

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50, example: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number from 1 to 200' })
  @Min(1, { message: 'limit must be a whole number from 1 to 200' })
  @Max(200, { message: 'limit must be a whole number from 1 to 200' })
  limit?: number;

  /** Read by the auth guard; documented as the `userQuery` security scheme. */
  @IsOptional()
  @IsString()
  access_token?: string;
}
