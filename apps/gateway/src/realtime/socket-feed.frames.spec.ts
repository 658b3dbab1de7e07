import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import WebSocket from 'ws';
import { DeliveryStats, NotificationEnvelope } from '@app/notifications';
import { SOCKET_MAX_QUEUED_PACKETS, SOCKET_SOFT_QUEUED_PACKETS, SocketFeedSink, socketIoEventFrame, socketIoEventPacket } from './socket-feed.sink';

/*
 * The sink writes pre-encoded Socket.IO packets and WebSocket frames through
 * private socket.io / engine.io / ws members (`client._packet`, the
 * `wsPreEncodedFrame` option, `conn.writeBuffer`, `drain`, `close(true)`).
 * These tests pin what reaches the wire on a real server (loopback, no Redis),
 * so a socket.io, engine.io or ws upgrade that changes any of it fails here
 * rather than in a client.
 */

const ID = '1732190000000-0';
/** Non-ASCII on purpose: a frame's length counts UTF-8 bytes, not characters. */
const BODY = '"type":"job.match","data":{"title":"Café"},"createdAt":"2024-11-21T12:00:00.000Z"}';
const NOTIFICATION_JSON = `{"id":"${ID}",${BODY}`;
const envelope = () => NotificationEnvelope.fromStored(ID, 'job.match', 'u1', BODY);
const EVENT_PACKET = `2["job.match",${NOTIFICATION_JSON}]`;
const RESET_PACKET = `2["reset",{"reason":"history-truncated","lastEventId":"${ID}"}]`;

/** engine.io's ws frame builder, untyped in @types/ws. */
const sender = (WebSocket as unknown as { Sender: { prototype: { sendFrame(list: Buffer[], cb?: () => void): void } } }).Sender.prototype;

describe('socket-feed frames (pinned socket.io 4.8 / engine.io 6.6 / ws 8 behaviour)', () => {
  it('encodes a notification as a Socket.IO event packet and one unmasked WebSocket text frame', () => {
    const event = socketIoEventFrame(envelope());
    const payload = Buffer.from(`4${EVENT_PACKET}`);
    expect(socketIoEventPacket(envelope())).toBe(EVENT_PACKET);
    expect(event.packets).toEqual([EVENT_PACKET]);
    expect(event.options.preEncoded).toBe(true);
    // FIN + text opcode, then the 7-bit length (the payload is under 126 bytes), no mask, no key.
    expect(payload.length).toBeLessThan(126);
    expect(Buffer.concat(event.options.wsPreEncodedFrame).toString('hex')).toBe(`81${payload.length.toString(16).padStart(2, '0')}${payload.toString('hex')}`);
  });

  it('uses the 16-bit length form past 125 bytes', () => {
    const body = `"type":"job.match","data":{"title":"${'é'.repeat(100)}"},"createdAt":"2024-11-21T12:00:00.000Z"}`;
    const frame = Buffer.concat(socketIoEventFrame(NotificationEnvelope.fromStored(ID, 'job.match', 'u1', body)).options.wsPreEncodedFrame);
    const payload = Buffer.from(`42["job.match",{"id":"${ID}",${body}]`);
    expect(frame.subarray(0, 4).toString('hex')).toBe(`817e${payload.length.toString(16).padStart(4, '0')}`);
    expect(frame.subarray(4)).toEqual(payload);
  });

  describe('on a live server', () => {
    let http: HttpServer;
    let io: Server;
    let base: string;
    /** What each test does with the sink: in the handshake (before `connect`) and once connected. */
    let duringHandshake: (sink: SocketFeedSink) => void;
    let sinks: Array<{ sink: SocketFeedSink; socket: Socket }>;

    beforeAll(async () => {
      http = createServer();
      // The gateway's transports and the default (no) per-message deflate: the pre-encoded frame is used only without it.
      io = new Server(http, { transports: ['polling', 'websocket'] });
      io.use((socket, next) => {
        // As the gateway does: the feed opens (and may deliver) before the client hears `connect`.
        const sink = new SocketFeedSink(socket, new DeliveryStats());
        sinks.push({ sink, socket });
        duringHandshake(sink);
        next();
      });
      io.on('connection', (socket) => sinks.find((entry) => entry.socket === socket)?.sink.connected());
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      base = `127.0.0.1:${(http.address() as AddressInfo).port}/socket.io/?EIO=4`;
    });

    beforeEach(() => {
      sinks = [];
      duringHandshake = () => undefined;
    });

    afterEach(() => jest.restoreAllMocks());

    afterAll(async () => {
      io.disconnectSockets(true);
      await new Promise((resolve) => io.close(resolve));
    });

    it('writes the pre-encoded frame itself to a websocket, after `connect` and in order', async () => {
      const sendFrame = jest.spyOn(sender, 'sendFrame');
      const notification = envelope();
      const frame = notification.encode(socketIoEventFrame).options.wsPreEncodedFrame;
      const framesWritten = () => sendFrame.mock.calls.filter(([list]) => list === frame).length;
      duringHandshake = (sink) => {
        sink.notification(notification, false);
        sink.reset('history-truncated', ID);
      };
      const ws = new WebSocket(`ws://${base}&transport=websocket`);
      const messages: string[] = [];
      ws.on('message', (data) => messages.push(data.toString()));
      await new Promise((resolve) => ws.once('open', resolve));
      await until(() => messages.length === 1);
      expect(messages[0]).toMatch(/^0\{"sid":/);
      ws.send('40');
      await until(() => messages.length === 4);
      const [, connect, event, reset] = messages;
      expect(connect).toMatch(/^40\{"sid":"[^"]+"\}$/);
      expect(event).toBe(`4${EVENT_PACKET}`);
      expect(reset).toBe(`4${RESET_PACKET}`);
      // engine.io skipped its own framing and handed ws the very buffers the sink built.
      expect(framesWritten()).toBe(1);

      // Live, after connect: straight through, the same frame again.
      sinks[0].sink.notification(notification, true);
      await until(() => messages.length === 5);
      expect(messages[4]).toBe(`4${EVENT_PACKET}`);
      expect(framesWritten()).toBe(2);
      ws.close();
    });

    it('writes the packets to a polling client: engine.io messages joined by the record separator', async () => {
      duringHandshake = (sink) => {
        sink.notification(envelope(), false);
        sink.reset('history-truncated', ID);
      };
      const poll = await Polling.open(base);
      await poll.post('40');
      const packets = await poll.read(3);
      expect(packets[0]).toMatch(/^40\{"sid":"[^"]+"\}$/);
      expect(packets.slice(1)).toEqual([`4${EVENT_PACKET}`, `4${RESET_PACKET}`]);
      await poll.post('41');
    });

    it('reads engine.io’s write buffer for back-pressure: soft bound, `drain`, then close(true) past the hard bound', async () => {
      const poll = await Polling.open(base);
      await poll.post('40');
      await poll.read(1);
      const { sink, socket } = sinks[0];
      const engine = socket.conn as unknown as { writeBuffer: unknown[]; readyState: string };
      // No GET pending: packets stay in engine.io's write buffer, which the sink counts.
      let accepted = true;
      let written = 0;
      while (accepted) {
        accepted = sink.notification(envelope(), false);
        written++;
      }
      expect(written).toBe(SOCKET_SOFT_QUEUED_PACKETS);
      expect(engine.writeBuffer).toHaveLength(SOCKET_SOFT_QUEUED_PACKETS);
      let resumed = false;
      sink.whenWritable(() => (resumed = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(resumed).toBe(false);
      // The client reads: engine.io hands the buffer to the transport and emits `drain`.
      expect(await poll.read(SOCKET_SOFT_QUEUED_PACKETS)).toEqual(Array(SOCKET_SOFT_QUEUED_PACKETS).fill(`4${EVENT_PACKET}`));
      await until(() => resumed);

      for (let n = 0; n <= SOCKET_MAX_QUEUED_PACKETS; n++) sink.notification(envelope(), false);
      expect(engine.readyState).toBe('open');
      sink.notification(envelope(), false);
      expect(engine.readyState).toBe('closed');
    });
  });
});

/** A bare engine.io long-polling client: one GET at a time, bodies split into packets. */
class Polling {
  private buffered: string[] = [];

  private constructor(private readonly url: string) {}

  static async open(base: string): Promise<Polling> {
    const body = await (await fetch(`http://${base}&transport=polling`)).text();
    const { sid } = JSON.parse(body.slice(1)) as { sid: string };
    return new Polling(`http://${base}&transport=polling&sid=${sid}`);
  }

  async post(packet: string): Promise<void> {
    const response = await fetch(this.url, { method: 'POST', body: packet });
    expect(await response.text()).toBe('ok');
  }

  /** The next `count` packets, over as many GETs as it takes. */
  async read(count: number): Promise<string[]> {
    while (this.buffered.length < count) this.buffered.push(...(await (await fetch(this.url)).text()).split('\x1e'));
    return this.buffered.splice(0, count);
  }
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
