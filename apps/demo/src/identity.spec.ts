import { DEFAULT_ROOM, GUEST_PATTERN, isUserId, newGuestId, readLaunch, roomToJoin, secondTabHref } from './identity';

describe('the demo page: who a tab is and which room it joins', () => {
  it('makes up guests as guest- and four lowercase letters, never the one to avoid', () => {
    for (let i = 0; i < 200; i++) expect(newGuestId()).toMatch(GUEST_PATTERN);
    expect(newGuestId(() => 0)).toBe('guest-aaaa');
    expect(newGuestId(() => 0.999_999)).toBe('guest-zzzz');
    const draws = [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5];
    expect(newGuestId(() => draws.shift() ?? 0, 'guest-aaaa')).toBe('guest-nnnn');
    expect(isUserId(newGuestId())).toBe(true);
  });

  it('reads ?user=, ?guest=new and ?room= once, and keeps the rest of the query', () => {
    expect(readLaunch('')).toEqual({ user: null, newGuest: false, room: null, cleanSearch: '' });
    expect(readLaunch('?guest=new&room=lobby')).toEqual({ user: null, newGuest: true, room: 'lobby', cleanSearch: '' });
    expect(readLaunch('?user=alice&room=team-1&debug=1')).toEqual({ user: 'alice', newGuest: false, room: 'team-1', cleanSearch: '?debug=1' });
    // Not a user id or a room id: ignored, and still dropped from the address.
    expect(readLaunch('?user=a%20b&room=no%20spaces&guest=yes')).toEqual({ user: null, newGuest: false, room: null, cleanSearch: '' });
    expect(readLaunch(`?room=${'r'.repeat(65)}`).room).toBeNull();
  });

  it('joins the link’s room, else the last one, else the default; none after a leave', () => {
    expect(roomToJoin('team', 'lobby')).toBe('team');
    expect(roomToJoin(null, 'team')).toBe('team');
    expect(roomToJoin(null, null)).toBe(DEFAULT_ROOM);
    expect(roomToJoin(null, '')).toBeNull();
    expect(roomToJoin(null, 'not a room')).toBeNull();
  });

  it('links a second tab to a new guest in the same room', () => {
    expect(secondTabHref('team-1')).toBe('/?guest=new&room=team-1');
    expect(secondTabHref(null)).toBe(`/?guest=new&room=${DEFAULT_ROOM}`);
  });
});
