import type { PathItemObject } from '@nestjs/swagger';
import { MAX_TOPICS_PER_CONNECTION } from '@app/notifications';
import { errorResponse, USER_SECURITY } from './api-docs.decorators';

/** Where the stream is served: ahead of Express (events/event-stream.route.ts), so no controller describes it. */
export const EVENT_STREAM_PATH = '/api/events';

/** A stream as a client reads it: the opening frame, the inbox, a notification, a heartbeat. */
const STREAM_EXAMPLE = [
  'retry: 3000',
  'id: 1732190000000-0',
  '',
  'event: inbox',
  'data: {"unread":3,"readUpTo":"0-0"}',
  '',
  'id: 1732190000500-0',
  'event: job-match',
  'data: {"id":"1732190000500-0","type":"job-match","userId":"u42","data":{"jobId":"j1"},"createdAt":"2026-11-21T12:00:00.500Z"}',
  '',
  ': heartbeat',
  '',
  '',
].join('\n');

/**
 * `GET /api/events` for the OpenAPI document. Its query parameters are those
 * the route knows (EVENTS_QUERY_PARAMETERS, `access_token` being the
 * `userQuery` security scheme): the OpenAPI test checks that they agree.
 */
export const EVENT_STREAM_PATH_ITEM: PathItemObject = {
  get: {
    operationId: 'EventStream_open',
    tags: ['events'],
    summary: "The user's notifications, and followed topics' events, as Server-Sent Events",
    // TODO(issue 17): link the AsyncAPI document of the events once it is published.
    description: [
      'A long-lived `text/event-stream` for `EventSource` (which cannot set headers: use the `access_token` cookie or query parameter).',
      'It opens with `retry:` and the position the stream continues after (`id:`), then `event: inbox` with the read state, an optional `reset`, the replay after the resume id, then live notifications;',
      'a `: heartbeat` comment every `SSE_HEARTBEAT_MS`. Each notification is `id: <id>`, `event: <type>`, `data: <notification JSON>`.',
      'The frames and their payloads (`inbox`, `reset`, `token-expired`, notifications and topic events) are events, not REST answers:',
      'they are described with the other realtime channels (Socket.IO) in the event documentation (docs/api.md, "SSE"), not here.',
      'Errors are answered as JSON before the stream starts.',
    ].join(' '),
    security: USER_SECURITY,
    parameters: [
      {
        name: 'types',
        in: 'query',
        required: false,
        description: 'Deliver only these notification types: a comma-separated list. Control events (`reset`, `token-expired`, `inbox`) are never filtered.',
        schema: { type: 'string', example: 'job-match,message-received' },
      },
      {
        name: 'topics',
        in: 'query',
        required: false,
        description: `Topics to carry on the same stream besides the user's own notifications: a comma-separated list of at most ${MAX_TOPICS_PER_CONNECTION} topic names the user may follow (else 403). With topics, each \`id:\` is an opaque cursor over every stream of the connection.`,
        schema: { type: 'string', example: 'jobs.new' },
      },
      {
        name: 'lastEventId',
        in: 'query',
        required: false,
        description: 'Resume after this id (an id the stream sent), for clients that cannot set `Last-Event-ID`; the header wins. Not an id at all: 400.',
        schema: { type: 'string', example: '1732190000000-0' },
      },
      {
        name: 'Last-Event-ID',
        in: 'header',
        required: false,
        description: 'Resume after this id, as a reconnecting `EventSource` sends it: replay without gap or duplicate, then live. A value that is not an id counts as an unknown cursor (`reset`), never a 400.',
        schema: { type: 'string', example: '1732190000000-0' },
      },
    ],
    responses: {
      200: {
        description: 'The stream: never compressed, written unbuffered, until the token expires (`event: token-expired`), the client is too slow, or the instance shuts down (a last `retry:`).',
        headers: {
          'Cache-Control': { schema: { type: 'string', example: 'no-cache' } },
          'X-Accel-Buffering': { schema: { type: 'string', example: 'no' } },
        },
        content: { 'text/event-stream': { schema: { type: 'string' }, example: STREAM_EXAMPLE } },
      },
      400: errorResponse({ statusCode: 400, error: 'Bad Request', message: 'property lastEventID should not exist', field: 'lastEventID' }),
      401: errorResponse(401),
      403: errorResponse(403),
      429: errorResponse(429),
      503: errorResponse(503),
    },
  },
};
