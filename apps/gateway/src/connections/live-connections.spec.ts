import { loadGatewayConfig } from '../config/gateway-config';
import { type ConnectionSlot, LiveConnections } from './live-connections';

function liveConnections(env: Record<string, string> = {}): LiveConnections {
  return new LiveConnections(loadGatewayConfig({ MAX_CONNECTIONS_PER_USER: '3', MAX_CONNECTIONS_PER_INSTANCE: '5', ...env }));
}

function admitted(live: LiveConnections, userId: string): ConnectionSlot {
  const slot = live.admit(userId);
  if (typeof slot === 'string') throw new Error(`refused: ${slot}`);
  return slot;
}

describe('LiveConnections', () => {
  it('caps the connections of one user and gives the slot back on release', () => {
    const live = liveConnections();
    const slots = [admitted(live, 'u1'), admitted(live, 'u1'), admitted(live, 'u1')];
    expect(live.admit('u1')).toBe('user-limit');
    expect(typeof live.admit('u2')).toBe('object');
    slots[0].release();
    slots[0].release(); // twice is harmless
    expect(typeof live.admit('u1')).toBe('object');
    expect(live.size).toBe(4);
  });

  it('caps the instance over all users', () => {
    const live = liveConnections();
    for (const user of ['a', 'b', 'c', 'd', 'e']) admitted(live, user);
    expect(live.admit('f')).toBe('instance-limit');
  });

  it('refuses everyone once draining, and the drain of nothing ends at once', async () => {
    const live = liveConnections();
    await live.drain();
    expect(live.isDraining).toBe(true);
    expect(live.admit('u1')).toBe('draining');
  });

  describe('drain', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('sends connections away oldest first, DRAIN_PERCENT_PER_SECOND per second', async () => {
      const live = liveConnections({ MAX_CONNECTIONS_PER_USER: '100', MAX_CONNECTIONS_PER_INSTANCE: '100', DRAIN_PERCENT_PER_SECOND: '25' });
      const drainedAt: number[] = [];
      const slots = Array.from({ length: 10 }, (_, index) => {
        const slot = admitted(live, `u${index}`);
        // Like a real channel: told to go, it closes (here at once) and frees its slot.
        slot.onDrain(() => {
          drainedAt[index] = Date.now();
          slot.release();
        });
        return slot;
      });
      const start = Date.now();
      let done = false;
      const drained = live.drain().then(() => (done = true));
      // Waves of ceil(10 × 25%) = 3: at 0 s, 1 s, 2 s and 3 s.
      expect(drainedAt.filter(Boolean)).toHaveLength(3);
      await jest.advanceTimersByTimeAsync(1000);
      expect(drainedAt.filter(Boolean)).toHaveLength(6);
      await jest.advanceTimersByTimeAsync(2000);
      await drained;
      expect(done).toBe(true);
      expect(drainedAt.map((at) => Math.round((at - start) / 1000))).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
      expect(live.size).toBe(0);
      expect(slots).toHaveLength(10);
    });

    it('does not tell a connection twice, even if it has not closed yet when the next wave goes', async () => {
      const live = liveConnections({ MAX_CONNECTIONS_PER_USER: '100', DRAIN_PERCENT_PER_SECOND: '50' });
      const told = [0, 0, 0, 0];
      for (let index = 0; index < 4; index++) admitted(live, 'u').onDrain(() => told[index]++); // never releases
      const drained = live.drain();
      await jest.advanceTimersByTimeAsync(5000);
      await drained;
      expect(told).toEqual([1, 1, 1, 1]);
      expect(live.size).toBe(4); // still counted until they close
    });

    it('frees a slot whose channel never said how to drain it', async () => {
      const live = liveConnections();
      admitted(live, 'u');
      await live.drain();
      expect(live.size).toBe(0);
    });
  });
});
