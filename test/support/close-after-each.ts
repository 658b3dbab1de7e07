/**
 * Registers an `afterEach` (call it in a `describe`) that closes whatever the
 * test tracked: SSE streams, sockets, EventSources. Returns `track`, which
 * hands back what it was given.
 */
export function closeAfterEach(): <T extends { close(): void }>(client: T) => T {
  const open: Array<{ close(): void }> = [];
  afterEach(() => {
    for (const client of open.splice(0)) client.close();
  });
  return (client) => {
    open.push(client);
    return client;
  };
}
