import fc from 'fast-check';
import { CursorMoveRequest, isCursorMovePayload, validatePayload } from './realtime.dto';

const agrees = (payload: unknown) => isCursorMovePayload(payload) === validatePayload(CursorMoveRequest, payload).ok;

describe('isCursorMovePayload', () => {
  it.each([
    ['a move', { roomId: 'room-1', x: 1.5, y: -2 }],
    ['a move at the origin', { roomId: 'A_b-9', x: 0, y: -0 }],
    ['a 64-character room', { roomId: 'r'.repeat(64), x: Number.MAX_VALUE, y: Number.MIN_VALUE }],
  ])('accepts %s, as the DTO does', (_, payload) => {
    expect(isCursorMovePayload(payload)).toBe(true);
    expect(agrees(payload)).toBe(true);
  });

  it.each([
    ['no payload', undefined],
    ['an array', [{ roomId: 'r', x: 1, y: 1 }]],
    ['a string x', { roomId: 'r', x: '1', y: 1 }],
    ['NaN', { roomId: 'r', x: Number.NaN, y: 1 }],
    ['Infinity', { roomId: 'r', x: 1, y: Number.POSITIVE_INFINITY }],
    ['a missing y', { roomId: 'r', x: 1 }],
    ['an unknown field', { roomId: 'r', x: 1, y: 1, z: 1 }],
    ['a bad room id', { roomId: 'a b', x: 1, y: 1 }],
    ['a 65-character room', { roomId: 'r'.repeat(65), x: 1, y: 1 }],
    ['a __proto__ key', JSON.parse('{"roomId":"r","x":1,"__proto__":{"y":1}}')],
  ])('refuses %s, as the DTO does', (_, payload) => {
    expect(isCursorMovePayload(payload)).toBe(false);
    expect(agrees(payload)).toBe(true);
  });

  it('gives the DTO validation’s verdict on any JSON a client can send', () => {
    const value = fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constantFrom('room', 'a b', '', 'r'.repeat(64), 'r'.repeat(65)), fc.jsonValue());
    const move = fc.record(
      { roomId: value, x: value, y: value, z: value, __proto__: value, constructor: value },
      { requiredKeys: ['roomId', 'x', 'y'], noNullPrototype: true },
    );
    const sparse = fc.record({ roomId: value, x: value, y: value }, { requiredKeys: [] });
    // Mostly valid: NaN and ±Infinity become null through JSON.
    const likely = fc.record({ roomId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), x: fc.double(), y: fc.oneof(fc.double(), value) });
    // Through JSON, as the Socket.IO parser hands it over.
    const payload = fc.oneof(likely, move, sparse, fc.jsonValue()).map((candidate) => JSON.parse(JSON.stringify(candidate)) as unknown);
    fc.assert(fc.property(payload, agrees), { numRuns: 5_000 });
  });
});
