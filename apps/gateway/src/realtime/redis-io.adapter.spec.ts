import { createServer, type IncomingMessage } from 'node:http';
import { Server } from 'socket.io';
import { prefixSessionIds } from './redis-io.adapter';

const request = {} as IncomingMessage;

describe('prefixSessionIds', () => {
  it("names sessions `<instance>.<engine's random id>` on a real engine.io server", async () => {
    const io = new Server(createServer()); // attached, never listening
    try {
      prefixSessionIds(io.engine, 'g1');
      const ids = await Promise.all([io.engine.generateId(request), io.engine.generateId(request)]);
      for (const id of ids) expect(id).toMatch(/^g1\.[A-Za-z0-9_-]{20}$/);
      expect(ids[0]).not.toBe(ids[1]);
    } finally {
      io.close();
    }
  });

  it('keeps the random part whole, so the first `.` always ends the instance id', async () => {
    const engine = { generateId: (_: IncomingMessage): string | PromiseLike<string> => 'a.b-c_d' };
    prefixSessionIds(engine, 'gw-2');
    const id = await engine.generateId(request);
    expect(id).toBe('gw-2.a.b-c_d');
    expect(id.slice(0, id.indexOf('.'))).toBe('gw-2');
  });

  it('wraps an asynchronous generator too', async () => {
    const engine = { generateId: async (_: IncomingMessage): Promise<string> => 'xyz' };
    prefixSessionIds(engine, 'g3');
    await expect(engine.generateId(request)).resolves.toBe('g3.xyz');
  });
});
