import fs from 'node:fs';

/**
 * The kernel's count of connections refused because a listening socket's
 * accept queue was full (TcpExt ListenOverflows, every socket of the host
 * together), or null where /proc/net/netstat does not say. Each one is a
 * handshake the client retransmits a second later: during a storm, that is
 * the difference between a reconnect that waits and one that times out.
 */
export function acceptQueueOverflows(): number | null {
  let text: string;
  try {
    text = fs.readFileSync('/proc/net/netstat', 'utf8');
  } catch {
    return null;
  }
  // Two lines per group: the names, then the values.
  const [names, values] = text.split('\n').filter((line) => line.startsWith('TcpExt:'));
  if (names === undefined || values === undefined) return null;
  const at = names.split(' ').indexOf('ListenOverflows');
  return at < 0 ? null : Number(values.split(' ')[at]);
}
