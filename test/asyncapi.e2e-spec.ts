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
import { startGateway, TEST_API_KEY, type TestGateway } from './support/start-gateway';
import { closeAfterEach } from './support/close-after-each';
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

  /** Validates a payload against the schema of the channel's message with this component key. */
  const checkMessage = (channel: string, key: string, payload: unknown) => {
    if (!(key in raw.channels[channel].messages)) throw new Error(`${channel} has no message ${key}`);
    let validate = validators.get(key);
    if (!validate) validators.set(key, (validate = ajv.compile(raw.components.schemas[key])));
    expect({ channel, key, payload, errors: validate(payload) ? null : validate.errors }).toEqual({ channel, key, payload, errors: null });
  };
  /** Validates a payload against the schema of the channel's message of this name (the first one of that name: a notification's, not a topic event's). */
  const check = (channel: string, name: string, payload: unknown) => {
    const key = Object.keys(raw.channels[channel].messages).find((candidate) => raw.components.messages[candidate].name === name);
    if (!key) throw new Error(`${channel} has no message ${name}`);
    checkMessage(channel, key, payload);
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
    const jobPosted = { jobId: 'acme-1', title: 'Engineer', company: 'Acme', location: null, remote: false, tags: [] };
    let stream: RawSseStream | undefined;
    let client: TestSocket | undefined;
    const track = closeAfterEach();

    afterEach(() => {
      stream?.close();
      client?.close();
    });

    /** A topic event through the internal API, as a producer publishes one. */
    const publishToTopic = async (topic: string, type: string, payload: Record<string, unknown>) => {
      const response = await request(gateway.url).post(`/api/topics/${topic}/events`).set('X-Api-Key', TEST_API_KEY).send({ type, data: payload });
      expect(response.status).toBe(202);
    };
    const socketOf = async (userId: string, token = userToken(userId)) => {
      const socket = track(connectSocket(gateway.url, userId, { auth: { token } }));
      await connected(socket);
      return socket;
    };

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

    it("Socket.IO's room traffic, direct chat, topic events and their acks fit the schemas", async () => {
      const [aliceId, bobId] = [randomUserId('asyncapi-a'), randomUserId('asyncapi-b')];
      const alice = await socketOf(aliceId);
      const bob = await socketOf(bobId);
      const roomId = `asyncapi-${Math.random().toString(36).slice(2, 8)}`;
      // By component key: `chat`, `typing` and `cursor-move` name a server event too.
      const send = async (name: keyof typeof CLIENT_EVENTS, payload: unknown) => {
        checkMessage('socketio', `client_${name}`, payload);
        const ack = await alice.request<{ ok: boolean }>(CLIENT_EVENTS[name], payload);
        expect(ack.ok).toBe(true);
        checkMessage('socketio', `ack_${name}`, ack);
      };
      await send('roomJoin', { roomId });
      expect((await bob.request<{ ok: boolean }>(CLIENT_EVENTS.roomJoin, { roomId })).ok).toBe(true);
      const [presence] = await alice.waitForEvent('presence');
      check('socketio', 'presence', presence);
      await send('chat', { roomId, content: 'hello room' });
      await send('typing', { roomId, isTyping: true });
      await send('cursorMove', { roomId, x: 10, y: 20 });
      await send('chat', { recipientId: bobId, content: 'hello bob' });
      for (const event of ['typing', 'cursor-move']) check('socketio', event, (await bob.waitForEvent(event))[0]);
      const chats = await bob.waitForEvent('chat', 2);
      expect(chats.map((chat) => chat.content)).toEqual(['hello room', 'hello bob']);
      for (const chat of chats) check('socketio', 'chat', chat);
      // The direct message is also stored for Bob as a notification.
      check('socketio', NOTIFICATION_TYPES.messageReceived, (await bob.waitForEvent(NOTIFICATION_TYPES.messageReceived))[0]);
      await send('authRefresh', { token: userToken(aliceId) });

      await send('topicSubscribe', { topic: 'jobs.new' });
      await publishToTopic('jobs.new', 'job-posted', jobPosted);
      await publishToTopic('jobs.new', 'asyncapi.other', { any: ['json'] });
      checkMessage('socketio', 'topicEvent_jobPosted', (await alice.waitForEvent('job-posted'))[0]);
      checkMessage('socketio', 'topicEvent_other', (await alice.waitForEvent('asyncapi.other'))[0]);
      await send('topicUnsubscribe', { topic: 'jobs.new' });
    });

    it("SSE's topic events fit the schemas", async () => {
      const userId = randomUserId('asyncapi');
      stream = await openSse(gateway.url, '/api/events?topics=jobs.new', { Authorization: `Bearer ${userToken(userId)}` });
      expect(stream.status).toBe(200);
      await publishToTopic('jobs.new', 'job-posted', jobPosted);
      await publishToTopic('jobs.new', 'asyncapi.other', { any: ['json'] });
      const events = await stream.waitForEvents(2);
      expect(events.map((event) => event.event)).toEqual(['job-posted', 'asyncapi.other']);
      checkMessage('sse', 'topicEvent_jobPosted', JSON.parse(events[0].data ?? ''));
      checkMessage('sse', 'topicEvent_other', JSON.parse(events[1].data ?? ''));
    });

    it('token-expired on SSE and Socket.IO fits the schema', async () => {
      const userId = randomUserId('asyncapi');
      const shortLived = userToken(userId, { expiresInSeconds: 2 });
      stream = await openSse(gateway.url, '/api/events', { Authorization: `Bearer ${shortLived}` });
      expect(stream.status).toBe(200);
      client = await socketOf(userId, shortLived);
      await stream.waitForEnd(10_000);
      const expired = stream.events.at(-1);
      expect(expired?.event).toBe('token-expired');
      check('sse', 'token-expired', JSON.parse(expired?.data ?? ''));
      check('socketio', 'token-expired', (await client.waitForEvent('token-expired', 1, 10_000))[0]);
    });
  });
});
