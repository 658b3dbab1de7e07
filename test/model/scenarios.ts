import { type Command, KillSubscriber, Open, Publish, Stall } from './commands';

/*
 * The defects issue 12 names (and those the model found), each as a fixed
 * list of steps, replayed before the recorded seeds and the random search.
 * A seed's shrunk schedule shows a defect by its first symptom (an echoed
 * cursor, say); these keep the consequence in view as well (what that echo
 * swallows), and, being plain steps, survive a change of the arbitraries that
 * makes recorded seeds stale. Users are 3: u0, u1, and the non-ASCII u2.
 */
export interface Scenario {
  name: string;
  steps: () => Command[];
}

const U0 = 0;
const UNICODE = 2;

export const SCENARIOS: Scenario[] = [
  {
    name: 'SSE: a cursor ahead of the stream is not echoed and does not swallow what comes next',
    steps: () => [new Open('sse', U0, 'ahead', false, 0), new Publish(U0, 'rest', 0), new Publish(U0, 'rest', 1)],
  },
  {
    name: 'Socket.IO: a cursor ahead of the stream does not swallow what comes next',
    steps: () => [new Open('websocket', U0, 'ahead', false, 1), new Publish(U0, 'rest', 0), new Publish(U0, 'rest', 1)],
  },
  {
    name: 'polling: the largest id is an unknown cursor, not a 500',
    steps: () => [new Publish(U0, 'rest', 0), new Open('rest-polling', U0, 'ahead-max', false, 0), new Publish(U0, 'rest', 1)],
  },
  {
    name: 'SSE: the largest id in Last-Event-ID gets a reset, not a stream that ends at once',
    steps: () => [new Open('sse', U0, 'ahead-max', false, 0), new Publish(U0, 'rest', 1)],
  },
  {
    name: 'SSE: an out-of-range Last-Event-ID counts as unknown (a 400 would stop a browser for good)',
    steps: () => [new Open('sse', U0, 'out-of-range', false, 0), new Publish(U0, 'rest', 1)],
  },
  {
    name: "SSE: another user's id is an unknown cursor, never echoed",
    steps: () => [new Publish(1, 'rest', 0), new Open('sse', U0, 'foreign', false, 0), new Publish(U0, 'rest', 1)],
  },
  {
    name: 'Socket.IO: a malformed auth.lastEventId is connect_error bad_cursor',
    steps: () => [new Open('websocket', U0, 'malformed', false, 0)],
  },
  {
    name: 'SSE: a stalled reader cut off at the bound catches up from its last id without being cut again',
    steps: () => [new Open('sse', U0, 'none', false, 0), new Publish(U0, 'rest', 0), new Stall(0, true)],
  },
  {
    name: 'a non-ASCII user id publishes, connects on every channel and chats',
    steps: () => [
      new Open('sse', UNICODE, 'none', false, 0),
      new Open('websocket', UNICODE, 'none', false, 1),
      new Open('rest-polling', UNICODE, 'none', false, 0),
      new Publish(UNICODE, 'rest', 0),
      new Publish(UNICODE, 'queue', 1),
    ],
  },
  {
    name: 'Socket.IO: a socket that opens while the subscriber re-subscribes gets no old history',
    // A race (a feed attached between the subscriber's reconnect and its re-sync reads from 0-0):
    // sockets retrying every 50-200 ms around the reconnect, several rounds, give it its chances.
    steps: () => [
      new Publish(U0, 'rest', 0),
      new Publish(U0, 'rest', 0),
      ...[0, 1, 2, 3].flatMap(() => [new KillSubscriber(true, 0), ...[0, 1, 2, 3, 4, 5].map((i) => new Open(i % 2 ? 'sio-polling' : 'websocket', U0, 'none', false, i % 2))]),
      new Publish(U0, 'rest', 1),
    ],
  },
];
