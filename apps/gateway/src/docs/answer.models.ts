import { ApiProperty, type ApiPropertyOptions, ApiPropertyOptional, type SchemaObject } from '@nestjs/swagger';
import { MAX_DATA_BYTES, NOTIFICATION_TYPE_PATTERN, TOPIC_NAME_PATTERN } from '@app/notifications';

/*
 * The shapes the gateway answers with, for the OpenAPI document only: the
 * library builds them (its interfaces Notification, TopicEvent, SavedSearch,
 * InboxPayload), and the OpenAPI test holds these models to real answers.
 */

/** A position in a stream as the gateway hands it back: canonical `<ms>-<seq>`. */
export const STREAM_ID_SCHEMA = { type: 'string', pattern: '^\\d{1,20}-\\d{1,20}$', example: '1732190000000-0' } as const;

const DATA_DESCRIPTION = `A JSON object, at most ${MAX_DATA_BYTES} bytes serialized.`;

export class PublishedAnswer {
  @ApiProperty({ ...STREAM_ID_SCHEMA, description: 'The id of the stored entry (the first one, for an idempotent repeat).' })
  id!: string;
}

export class BatchPublishedAnswer {
  @ApiProperty({ type: 'array', items: { ...STREAM_ID_SCHEMA }, description: 'The ids, in the order of `items`.', example: ['1732190000000-0', '1732190000000-1'] })
  ids!: string[];
}

export class NotificationAnswer {
  @ApiProperty(STREAM_ID_SCHEMA)
  id!: string;

  @ApiProperty({ type: String, pattern: NOTIFICATION_TYPE_PATTERN.source, example: 'job-match' })
  type!: string;

  @ApiProperty({ type: String, description: 'The recipient.', example: 'u42' })
  userId!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: DATA_DESCRIPTION, example: { jobId: 'j1' } })
  data!: Record<string, unknown>;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-21T12:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ type: Boolean, description: 'Whether the user has read it (see the inbox).', example: false })
  read!: boolean;
}

export class TopicEventAnswer {
  @ApiProperty(STREAM_ID_SCHEMA)
  id!: string;

  @ApiProperty({ type: String, pattern: TOPIC_NAME_PATTERN.source, example: 'jobs.new' })
  topic!: string;

  @ApiProperty({ type: String, pattern: NOTIFICATION_TYPE_PATTERN.source, example: 'job-posted' })
  type!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: DATA_DESCRIPTION, example: { jobId: 'acme-1042', title: 'Senior Node.js engineer' } })
  data!: Record<string, unknown>;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-21T12:00:00.000Z' })
  createdAt!: string;
}

export class ResetAnswer {
  @ApiProperty({
    type: String,
    enum: ['history-truncated', 'unknown-cursor'],
    description: '`history-truncated`: `after` is older than the retained history (the oldest retained items follow); `unknown-cursor`: it is not a position of this history (no items; poll on from `lastId`).',
    example: 'history-truncated',
  })
  reason!: string;
}

const LAST_ID: ApiPropertyOptions = {
  ...STREAM_ID_SCHEMA,
  nullable: true,
  description: 'The id of the last item; with no items, the `after` sent (normalized) or the newest position; `null` with no items and no `after`. Send it as the next `after`.',
};

export class NotificationPageAnswer {
  @ApiProperty({ type: () => [NotificationAnswer], description: 'Up to `limit` notifications after `after`, oldest first.' })
  items!: NotificationAnswer[];

  @ApiProperty(LAST_ID)
  lastId!: string | null;

  @ApiPropertyOptional({ type: () => ResetAnswer, description: 'Present only when `after` does not continue.' })
  reset?: ResetAnswer;
}

export class TopicEventPageAnswer {
  @ApiProperty({ type: () => [TopicEventAnswer], description: 'Up to `limit` events after `after`, oldest first.' })
  items!: TopicEventAnswer[];

  @ApiProperty(LAST_ID)
  lastId!: string | null;

  @ApiPropertyOptional({ type: () => ResetAnswer, description: 'Present only when `after` does not continue.' })
  reset?: ResetAnswer;
}

export class InboxAnswer {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Retained notifications not read: exact, never capped.', example: 3 })
  unread!: number;

  @ApiProperty({ ...STREAM_ID_SCHEMA, description: 'The newest id below which everything is read (`0-0` at first).', example: '0-0' })
  readUpTo!: string;
}

export class SavedSearchAnswer {
  @ApiProperty({ type: String, format: 'uuid', example: '1c9e4b7a-0f2d-4d5e-8a61-3b7c2e9f0a14' })
  id!: string;

  @ApiProperty({ type: String, example: 'u42' })
  userId!: string;

  @ApiProperty({ type: [String], example: ['node.js', 'machine learning'] })
  keywords!: string[];

  @ApiPropertyOptional({ type: String, example: 'Berlin' })
  location?: string;

  @ApiPropertyOptional({ type: Boolean, example: true })
  remote?: boolean;

  @ApiPropertyOptional({ type: Number, minimum: 0, example: 60000 })
  minSalary?: number;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-21T12:00:00.000Z' })
  createdAt!: string;
}

export class SavedSearchListAnswer {
  @ApiProperty({ type: () => [SavedSearchAnswer], description: "The user's saved searches, oldest first." })
  items!: SavedSearchAnswer[];
}

export class JobAcceptedAnswer {
  @ApiProperty({ type: String, description: 'The posting id, which is also the BullMQ job id.', example: 'acme-1042' })
  jobId!: string;
}

export class DevTokenAnswer {
  @ApiProperty({ type: String, description: 'An HS256 user token, valid for 1 hour.', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1NDIifQ.c2lnbmF0dXJl' })
  token!: string;
}

/** One check of the health report: `redis` (live delivery proven by a probe) or `lifecycle` (serving or draining). */
const HEALTH_CHECKS: SchemaObject = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    additionalProperties: true,
  },
};

/** The health report (@nestjs/terminus), 200 and 503 alike. */
export const HEALTH_REPORT_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['status', 'info', 'error', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok', 'error', 'shutting_down'], description: '`shutting_down` once the process has begun to stop.' },
    info: HEALTH_CHECKS,
    error: HEALTH_CHECKS,
    details: HEALTH_CHECKS,
  },
};
