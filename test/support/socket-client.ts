import { io, type Socket } from 'socket.io-client';
import { userToken } from './tokens';
import { waitFor } from './wait-for';

export interface TestSocket {
  socket: Socket;
  /**
   * Every event received, in order: [name, payload], except `inbox`: every
   * socket hears the user's read state, which tests of delivery do not look
   * at; {@link all} has it too.
   */
  readonly received: Array<[string, unknown]>;
  readonly all: Array<[string, unknown]>;
  eventsNamed<T = Record<string, unknown>>(name: string): T[];
  waitForEvent<T = Record<string, unknown>>(name: string, count?: number, timeoutMs?: number): Promise<T[]>;
  /** Emits with an ack and resolves with it. */
  request<T = Record<string, unknown>>(event: string, payload: unknown): Promise<T>;
  close(): void;
}

export interface ConnectOptions {
  token?: string;
  auth?: Record<string, unknown>;
  extraHeaders?: Record<string, string>;
  transports?: string[];
}

/** A real socket.io-client on the default namespace, websocket transport unless told otherwise. */
export function connectSocket(baseUrl: string, userId: string, options: ConnectOptions = {}): TestSocket {
  const socket = io(baseUrl, {
    path: '/socket.io',
    transports: options.transports ?? ['websocket'],
    auth: options.auth ?? { token: options.token ?? userToken(userId) },
    extraHeaders: options.extraHeaders,
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
    forceNew: true,
  });
  const received: Array<[string, unknown]> = [];
  const all: Array<[string, unknown]> = [];
  socket.onAny((name: string, payload: unknown) => {
    all.push([name, payload]);
    if (name !== 'inbox') received.push([name, payload]);
  });
  const eventsNamed = <T>(name: string) => all.filter(([event]) => event === name).map(([, payload]) => payload as T);
  return {
    socket,
    received,
    all,
    eventsNamed,
    waitForEvent: <T>(name: string, count = 1, timeoutMs = 5_000) =>
      waitFor(() => (eventsNamed<T>(name).length >= count ? eventsNamed<T>(name) : null), `${count} '${name}' event(s)`, timeoutMs),
    request: <T>(event: string, payload: unknown) => socket.timeout(5_000).emitWithAck(event, payload) as Promise<T>,
    close: () => {
      socket.disconnect();
    },
  };
}

/** Resolves once connected, or rejects with the connect_error. */
export function connected(client: TestSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (client.socket.connected) return resolve();
    client.socket.once('connect', () => resolve());
    client.socket.once('connect_error', (error) => reject(error));
  });
}
