import { closeAfterEach } from './support/close-after-each';
import { randomUserId } from './support/prefix';
import { connectSocket, connected, type TestSocket } from './support/socket-client';
import { startGateway, type TestGateway } from './support/start-gateway';
import { waitFor } from './support/wait-for';

type Ack = { ok: boolean; error?: string; field?: string };
type Move = { roomId: string; userId: string; x: number; y: number };
type Arrival = Move & { at: number };

/** The contract's fan-out cap per sender, and its interval. */
const MAX_PER_SECOND = 30;
const INTERVAL_MS = 1000 / MAX_PER_SECOND;
/**
 * How long after its last emit a burst's newest position may take to reach a watcher before the test
 * calls it lost: a bound on arriving at all, not a speed target. The gateway, the sender and the
 * watcher share this process's loop, which on a busy CI machine took over a second to work through
 * 2,000 emits with their acks. How fast it arrives is measured, printed below, never asserted.
 */
const LAST_POSITION_DEADLINE_MS = 5_000;
/** A rate_limited move is answered at once, a kept one within a coalescing interval: all within this. */
const ACKS_DEADLINE_MS = 5_000;

/**
 * Issue 12, defect 5: "latest wins" under a burst far over the per-socket
 * cursor bucket. The newest position must reach the room whatever the rate
 * limit did to the ones before it, in order and still at most 30 a second.
 */
describe('Socket.IO cursor bursts', () => {
  let gateway: TestGateway;
  const track = closeAfterEach();
  const measured: string[] = [];
  const measure = (what: string, moves: Arrival[], started: number, latency: number, extra = '') => {
    const seconds = (moves[moves.length - 1].at - started) / 1000;
    measured.push(`${what}: ${moves.length} moves reached the watcher in ${Math.round(seconds * 1000)} ms (${(moves.length / seconds).toFixed(1)}/s), the last ${latency} ms after the last emit${extra}`);
  };

  const connect = async (userId = randomUserId()) => {
    const client = connectSocket(gateway.url, userId);
    track(client);
    await connected(client);
    return client;
  };
  const room = () => `burst-${Math.random().toString(36).slice(2, 10)}`;

  /** Every cursor-move the watcher receives, with its arrival time. */
  const watch = (watcher: TestSocket): Arrival[] => {
    const arrivals: Arrival[] = [];
    watcher.socket.on('cursor-move', (move: Move) => {
      // The reliable copy of a room's last position, an interval after the cursor stopped: not a move.
      const previous = arrivals.findLast((arrival) => arrival.roomId === move.roomId);
      if (previous?.x === move.x && previous.y === move.y) return;
      arrivals.push({ ...move, at: Date.now() });
    });
    return arrivals;
  };

  /** Waits until the watcher holds `x` for that room; returns how long after `since` it arrived. */
  const lastArrives = async (arrivals: Arrival[], roomId: string, x: number, since: number): Promise<number> => {
    const arrival = await waitFor(() => arrivals.find((move) => move.roomId === roomId && move.x === x), `x = ${x} in ${roomId}`, LAST_POSITION_DEADLINE_MS, 5);
    return arrival.at - since;
  };

  /**
   * Never more than 30 a second: the k-th move cannot go out before `started` + (k-1) intervals,
   * so that bounds the count by when the last one arrived (one more for timer granularity). Measured
   * from the first emit, since the watcher shares this process, whose loop is busy emitting at first.
   */
  const expectAtMostThirtyASecond = (moves: Arrival[], started: number) => {
    const spanMs = moves.length > 0 ? moves[moves.length - 1].at - started : 0;
    expect(moves.length).toBeLessThanOrEqual(Math.floor(spanMs / INTERVAL_MS) + 2);
  };

  const expectIncreasing = (moves: Arrival[]) => {
    const xs = moves.map((move) => move.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(new Set(xs).size).toBe(xs.length);
  };

  /** A mover and a watcher, both members of each room. */
  const pair = async (rooms: string[]) => {
    const mover = await connect();
    const watcher = await connect();
    const arrivals = watch(watcher);
    for (const roomId of rooms) {
      expect((await mover.request<Ack>('room:join', { roomId })).ok).toBe(true);
      expect((await watcher.request<Ack>('room:join', { roomId })).ok).toBe(true);
    }
    return { mover, watcher, arrivals };
  };

  beforeAll(async () => {
    gateway = await startGateway();
  });

  afterAll(async () => {
    await gateway.close();
    process.stdout.write(`\ncursor bursts (one sender, loopback):\n${measured.map((line) => `  ${line}\n`).join('')}`);
  });

  describe.each([300, 2_000])('a burst of %i from one socket', (count) => {
    it('without acks: the newest position reaches the room, in order, at most 30 a second', async () => {
      const roomId = room();
      const { mover, arrivals } = await pair([roomId]);
      const started = Date.now();
      for (let x = 1; x <= count; x++) mover.socket.emit('cursor-move', { roomId, x, y: -x });
      const sentAt = Date.now();
      const latency = await lastArrives(arrivals, roomId, count, sentAt);
      expect(arrivals[arrivals.length - 1]).toMatchObject({ roomId, x: count, y: -count });
      expectAtMostThirtyASecond(arrivals, started);
      expectIncreasing(arrivals);
      expect(mover.eventsNamed('cursor-move')).toEqual([]);
      measure(`${count} without acks`, arrivals, started, latency);
    });

    it('with acks: every move is answered, the flood is rate_limited and the newest is acked ok and reaches the room', async () => {
      const roomId = room();
      const { mover, arrivals } = await pair([roomId]);
      const acks = new Map<number, Ack>();
      const started = Date.now();
      for (let x = 1; x <= count; x++) mover.socket.emit('cursor-move', { roomId, x, y: x }, (ack: Ack) => acks.set(x, ack));
      const sentAt = Date.now();
      const latency = await lastArrives(arrivals, roomId, count, sentAt);
      await waitFor(() => acks.size === count, `${count} acks`, ACKS_DEADLINE_MS);
      const answeredWithinMs = Date.now() - started;
      expect(acks.get(count)).toEqual({ ok: true });
      const answers = [...acks.values()];
      expect(answers.filter((ack) => !ack.ok).every((ack) => ack.error === 'rate_limited')).toBe(true);
      // The bucket holds 120 and refills 120 a second: however long a loaded server took to read
      // the burst, no more were handled than that allows (the rest are refused, not queued).
      const handled = answers.filter((ack) => ack.ok).length;
      expect(handled).toBeLessThanOrEqual(Math.floor(120 + (120 * answeredWithinMs) / 1000) + 1);
      expectAtMostThirtyASecond(arrivals, started);
      expectIncreasing(arrivals);
      measure(`${count} with acks`, arrivals, started, latency, `; acks ${answers.length - answers.filter((ack) => !ack.ok).length} ok, ${answers.filter((ack) => !ack.ok).length} rate_limited`);
    });
  });

  it('fans out about 30 a second, in order, through a sustained flood at 1,000 a second, and ends on the last', async () => {
    const roomId = room();
    const { mover, arrivals } = await pair([roomId]);
    const acks: Ack[] = [];
    const count = 2_000;
    const started = Date.now();
    // Pacing the sender, not waiting for a state: 20 moves every 20 ms for two seconds.
    for (let x = 1; x <= count; x++) {
      mover.socket.emit('cursor-move', { roomId, x, y: x }, (ack: Ack) => acks.push(ack));
      if (x % 20 === 0 && x < count) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const latency = await lastArrives(arrivals, roomId, count, Date.now());
    await waitFor(() => acks.length === count, `${count} acks`, ACKS_DEADLINE_MS);
    expectAtMostThirtyASecond(arrivals, started);
    expectIncreasing(arrivals);
    const seconds = (arrivals[arrivals.length - 1].at - started) / 1000;
    expect(arrivals.length / seconds).toBeGreaterThan(MAX_PER_SECOND / 3);
    const refused = acks.filter((ack) => !ack.ok).length;
    measure('a 2 s flood at 1,000/s', arrivals, started, latency, `; acks ${count - refused} ok, ${refused} rate_limited`);
  });

  it('keeps each room its own newest position when one burst alternates two rooms', async () => {
    const [first, second] = [room(), room()];
    const { mover, arrivals } = await pair([first, second]);
    const count = 600;
    const started = Date.now();
    for (let x = 1; x <= count; x++) mover.socket.emit('cursor-move', { roomId: x % 2 === 1 ? first : second, x, y: x });
    const sentAt = Date.now();
    await lastArrives(arrivals, first, count - 1, sentAt);
    await lastArrives(arrivals, second, count, sentAt);
    for (const roomId of [first, second]) {
      const moves = arrivals.filter((move) => move.roomId === roomId);
      expectIncreasing(moves);
      expectAtMostThirtyASecond(moves, started);
    }
  });

  it.each([
    ['a wrong type', (roomId: string) => ({ roomId, x: 'left', y: 1 })],
    ['an unknown field', (roomId: string) => ({ roomId, x: 1e9, y: 1, z: 3 })],
    ['a bad room id', () => ({ roomId: 'no spaces', x: 1e9, y: 1 })],
  ])('keeps the newest valid position when the last move of a burst has %s', async (_, invalid) => {
    const roomId = room();
    const { mover, arrivals } = await pair([roomId]);
    const count = 300;
    for (let x = 1; x <= count; x++) mover.socket.emit('cursor-move', { roomId, x, y: x });
    const refused = mover.request<Ack>('cursor-move', invalid(roomId));
    const sentAt = Date.now();
    await lastArrives(arrivals, roomId, count, sentAt);
    expect(['rate_limited', 'invalid_payload']).toContain((await refused).error);
    // A barrier: a later valid move reaches the room, so the invalid one would have by now.
    mover.socket.emit('cursor-move', { roomId, x: count + 1, y: 0 });
    await lastArrives(arrivals, roomId, count + 1, Date.now());
    expect(arrivals.map((move) => move.x).filter((x) => x > count + 1)).toEqual([]);
    expectIncreasing(arrivals);
  });

  it('sends nothing still pending to a room after the sender left it', async () => {
    const [left, barrier] = [room(), room()];
    const { mover, arrivals } = await pair([left, barrier]);
    const other = await connect();
    expect((await other.request<Ack>('room:join', { roomId: barrier })).ok).toBe(true);
    for (let x = 1; x <= 300; x++) mover.socket.emit('cursor-move', { roomId: left, x, y: x });
    expect(await mover.request<Ack>('room:leave', { roomId: left })).toEqual({ ok: true });
    const seenAtLeave = arrivals.filter((move) => move.roomId === left).length;
    // A barrier from a socket with a full bucket: each second move of a pair waits a whole
    // coalescing interval, so two pairs outlast anything the left room could still have pending.
    for (const x of [1, 2, 3, 4]) {
      other.socket.emit('cursor-move', { roomId: barrier, x, y: x });
      if (x % 2 === 0) await lastArrives(arrivals, barrier, x, Date.now());
    }
    expect(arrivals.filter((move) => move.roomId === left).length).toBe(seenAtLeave);
    // And a move to the left room now is refused.
    expect(await mover.request<Ack>('cursor-move', { roomId: left, x: 1e6, y: 0 })).toMatchObject({ ok: false });
  });
});
