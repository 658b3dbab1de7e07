import { fakeBrowser, settle } from '../test/fakes';
import { TabLeader, type TabRole, type TabSharing } from './tab-leader';

function tab(name: string, sharing: TabSharing) {
  const roles: TabRole[] = [];
  const messages: unknown[] = [];
  const leader = new TabLeader(name, sharing);
  leader.start(
    (role) => roles.push(role),
    (message) => messages.push(message),
  );
  return { leader, roles, messages };
}

/** Lets the fake BroadcastChannel deliver (it posts on a zero-delay timer, as a browser does on a task). */
const delivered = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('TabLeader', () => {
  it('elects the first tab and makes the others followers', async () => {
    const browser = fakeBrowser();
    const first = tab('rtg:u1', browser);
    await settle();
    const second = tab('rtg:u1', browser);
    const third = tab('rtg:u1', browser);
    await settle();
    expect(first.roles).toEqual(['leader']);
    expect(second.roles).toEqual(['follower']);
    expect(third.roles).toEqual(['follower']);
  });

  it('hands the leadership to the next tab in line when the leader goes, and only to one', async () => {
    const browser = fakeBrowser();
    const first = tab('rtg:u1', browser);
    await settle();
    const second = tab('rtg:u1', browser);
    const third = tab('rtg:u1', browser);
    await settle();
    first.leader.stop();
    await settle();
    expect(second.roles).toEqual(['follower', 'leader']);
    expect(third.roles).toEqual(['follower']);
    second.leader.stop();
    await settle();
    expect(third.roles).toEqual(['follower', 'leader']);
  });

  it('takes a follower that closed out of the line', async () => {
    const browser = fakeBrowser();
    const first = tab('rtg:u1', browser);
    await settle();
    const second = tab('rtg:u1', browser);
    const third = tab('rtg:u1', browser);
    await settle();
    second.leader.stop();
    first.leader.stop();
    await settle();
    expect(second.roles).toEqual(['follower']);
    expect(third.roles).toEqual(['follower', 'leader']);
  });

  it('keeps users (names) apart', async () => {
    const browser = fakeBrowser();
    const alice = tab('rtg:alice', browser);
    const bob = tab('rtg:bob', browser);
    await settle();
    expect(alice.roles).toEqual(['leader']);
    expect(bob.roles).toEqual(['leader']);
  });

  it('posts to the other tabs of the name, never back to the sender', async () => {
    const browser = fakeBrowser();
    const first = tab('rtg:u1', browser);
    const second = tab('rtg:u1', browser);
    const stranger = tab('rtg:u2', browser);
    await settle();
    first.leader.post({ hello: 1 });
    await delivered();
    expect(second.messages).toEqual([{ hello: 1 }]);
    expect(first.messages).toEqual([]);
    expect(stranger.messages).toEqual([]);
  });

  it('is `single` where tabs cannot share (Node, or no Web Locks)', () => {
    const node = tab('rtg:u1', { locks: null, openChannel: null });
    expect(node.roles).toEqual(['single']);
  });
});
