import { roomGranted } from './rooms';

describe('roomGranted', () => {
  it.each([
    [['team-1'], 'team-1', true],
    [['team-1'], 'team-10', false],
    [['team-*'], 'team-10', true],
    [['team-*'], 'team-', true],
    [['team-*'], 'tea', false],
    [['*'], 'anything', true],
    [['a', 'b-*'], 'b-1', true],
    [[], 'team-1', false],
  ])('grants %j the room %j: %p', (grants, roomId, granted) => {
    expect(roomGranted(grants, roomId)).toBe(granted);
  });
});
