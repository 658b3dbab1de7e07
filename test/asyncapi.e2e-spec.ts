import { Parser } from '@asyncapi/parser';
import Ajv, { type ValidateFunction } from 'ajv';
import { load } from 'js-yaml';
import fs from 'node:fs';
import request from 'supertest';
import { ASYNCAPI_PATH } from '../apps/gateway/src/docs/asyncapi';
import { CLIENT_EVENTS, type SseControlEvent, SERVER_EVENTS } from '../libs/notifications/src/client-events';
import { NOTIFICATION_TYPES } from '../libs/notifications/src/notification';
import { ASYNCAPI_FILE, generateAsyncApiYaml } from '../tools/asyncapi';
import { randomUserId } from './support/prefix';
import { publish } from './support/publish';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { openSse, type RawSseStream } from './support/sse-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { userToken } from './support/tokens';
import { waitFor } from './support/wait-for';

/*
 * Issue 17: the AsyncAPI document at /api/docs/asyncapi is the committed
 * docs/asyncapi.yaml, generated from client-events.ts (regenerating gives the
 * same text), valid AsyncAPI 3, with every event the gateway emits or accepts,
 * and the payloads a real gateway sends fit its schemas.
 */

/** The SSE control events as values: the type has none (the check below fails to compile when one is missing). */
const SSE_CONTROL_EVENTS = ['reset', 'token-expired', 'inbox'] as const satisfies readonly SseControlEvent[];
type NoneMissing<T extends never> = T;
export type EverySseControlEventListed = NoneMissing<Exclude<SseControlEvent, (typeof SSE_CONTROL_EVENTS)[number]>>;

/** A resume id ahead of any stream: a `reset` (`unknown-cursor`) first. */
const AHEAD = '9999999999999-0';

interface RawDocument {
  asyncapi: string;
  channels: Record<string, { messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { action: 'send' | 'receive'; channel: { $ref: string }; messages: Array<{ $ref: string }>; reply?: { messages: Array<{ $ref: string }> } }>;
  components: { messages: Record<string, { name: string; payload: { $ref: string } }>; schemas: Record<string, object> };
}

describe('AsyncAPI document', () => {
  let gateway: TestGateway;
  let text: string;
  let raw: RawDocument;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validators = new Map<string, ValidateFunction>();

  beforeAll(async () => {
    gateway = await startGateway();
    const response = await request(gateway.url).get(ASYNCAPI_PATH).buffer(true).parse((res, done) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done(null, body));
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/yaml/);
    text = response.body as string;
    raw = load(text) as RawDocument;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const messageKey = (ref: { $ref: string }) => ref.$ref.split('/').pop() as string;
  /** The names of a channel's messages. */
  const namesOn = (channel: string) => Object.values(raw.channels[channel].messages).map((ref) => raw.components.messages[messageKey(ref)].name);
  /** The names of the messages of a channel's operations with this action (and their replies). */
  const operationNames = (channel: string, action: 'send' | 'receive', part: 'messages' | 'reply') =>
    Object.values(raw.operations)
      .filter((operation) => operation.action === action && operation.channel.$ref === `#/channels/${channel}`)
      .flatMap((operation) => (part === 'messages' ? operation.messages : (operation.reply?.messages ?? [])))
      .map((ref) => raw.components.messages[messageKey(ref)].name);

  /** Validates a payload against the schema of the channel's message of this name (the first one of that name). */
  const check = (channel: string, name: string, payload: unknown) => {
    const key = Object.keys(raw.channels[channel].messages).find((candidate) => raw.components.messages[candidate].name === name);
    if (!key) throw new Error(`${channel} has no message ${name}`);
    let validate = validators.get(key);
    if (!validate) validators.set(key, (validate = ajv.compile(raw.components.schemas[key])));
    expect({ channel, name, payload, errors: validate(payload) ? null : validate.errors }).toEqual({ channel, name, payload, errors: null });
  };

  it('is the committed docs/asyncapi.yaml, and regenerating it from client-events.ts gives the same text', () => {
    expect(text).toBe(fs.readFileSync(ASYNCAPI_FILE, 'utf8'));
    expect(generateAsyncApiYaml()).toBe(text);
  });

  it('is a valid AsyncAPI 3 document (@asyncapi/parser: no error, no warning)', async () => {
    const { document, diagnostics } = await new Parser().parse(text);
    // Spectral severities: 0 error, 1 warning, 2 information, 3 hint.
    expect(diagnostics.filter((diagnostic) => diagnostic.severity <= 1).map((diagnostic) => `${diagnostic.code}: ${diagnostic.message} at ${diagnostic.path.join('.')}`)).toEqual([]);
    expect(document?.version()).toMatch(/^3\./);
    expect(document?.channels().all().map((channel) => channel.address())).toEqual(['/api/events', '/']);
  });

  it('has every event the gateway emits or accepts, both ways', () => {
    const notifications = Object.values(NOTIFICATION_TYPES);
    // SSE: the notifications and every control event, all sent.
    expect(namesOn('sse')).toEqual(expect.arrayContaining([...notifications, ...SSE_CONTROL_EVENTS]));
    expect(operationNames('sse', 'send', 'messages')).toEqual(expect.arrayContaining([...notifications, ...SSE_CONTROL_EVENTS]));
    expect(operationNames('sse', 'receive', 'messages')).toEqual([]);
    // Socket.IO: notifications and server events sent; client events received, each answered by its ack.
    expect(operationNames('socketio', 'send', 'messages')).toEqual(expect.arrayContaining([...notifications, ...Object.values(SERVER_EVENTS)]));
    expect(operationNames('socketio', 'receive', 'messages').sort()).toEqual(Object.values(CLIENT_EVENTS).sort());
    expect(operationNames('socketio', 'receive', 'reply').sort()).toEqual(Object.values(CLIENT_EVENTS).map((event) => `${event} ack`).sort());
  });

  describe('against a running gateway', () => {
    const data = { jobId: 'acme-1', title: 'Engineer', company: 'Acme', location: null, searchIds: ['s1'] };
    let stream: RawSseStream | undefined;
    let client: TestSocket | undefined;

    afterEach(() => {
      stream?.close();
      client?.close();
    });

    it("SSE's inbox, reset and notifications fit the schemas", async () => {
      const userId = randomUserId('asyncapi');
      await publish(gateway.url, userId, NOTIFICATION_TYPES.jobMatch, data);
      stream = await openSse(gateway.url, '/api/events', { Authorization: `Bearer ${userToken(userId)}`, 'Last-Event-ID': AHEAD });
      expect(stream.status).toBe(200);
      await publish(gateway.url, userId, NOTIFICATION_TYPES.jobMatch, data);
      await publish(gateway.url, userId, 'asyncapi.other', { any: ['json'] });
      const events = await stream.waitForEvents(3);
      expect(events.map((event) => event.event)).toEqual(['reset', NOTIFICATION_TYPES.jobMatch, 'asyncapi.other']);
      check('sse', 'reset', JSON.parse(events[0].data ?? ''));
      check('sse', NOTIFICATION_TYPES.jobMatch, JSON.parse(events[1].data ?? ''));
      check('sse', '<type>', JSON.parse(events[2].data ?? ''));
      const [inbox] = await waitFor(() => (stream?.inboxEvents.length ? stream.inboxEvents : null), 'an inbox block');
      check('sse', 'inbox', JSON.parse(inbox.data ?? ''));
    });

    it("Socket.IO's inbox, reset, notifications and acks fit the schemas", async () => {
      const userId = randomUserId('asyncapi');
      await publish(gateway.url, userId, NOTIFICATION_TYPES.jobMatch, data);
      client = connectSocket(gateway.url, userId, { auth: { token: userToken(userId), lastEventId: AHEAD } });
      await connected(client);
      const [reset] = await client.waitForEvent('reset');
      check('socketio', 'reset', reset);
      const [inbox] = await client.waitForEvent('inbox');
      check('socketio', 'inbox', inbox);
      const id = await publish(gateway.url, userId, NOTIFICATION_TYPES.jobMatch, data);
      const [notification] = await client.waitForEvent(NOTIFICATION_TYPES.jobMatch);
      check('socketio', NOTIFICATION_TYPES.jobMatch, notification);
      const requests: Array<[string, unknown]> = [
        [CLIENT_EVENTS.roomJoin, { roomId: 'asyncapi-room' }],
        [CLIENT_EVENTS.inboxRead, { upTo: id }],
        [CLIENT_EVENTS.topicSubscribe, { topic: 'jobs.new' }],
        [CLIENT_EVENTS.roomLeave, { roomId: 'asyncapi-room' }],
      ];
      for (const [event, payload] of requests) {
        check('socketio', event, payload);
        check('socketio', `${event} ack`, await client.request(event, payload));
      }
      // A refused one: the error form of the ack.
      const refused = await client.request<{ ok: boolean }>(CLIENT_EVENTS.roomLeave, { roomId: 42 });
      expect(refused.ok).toBe(false);
      check('socketio', `${CLIENT_EVENTS.roomLeave} ack`, refused);
    });
  });
});
