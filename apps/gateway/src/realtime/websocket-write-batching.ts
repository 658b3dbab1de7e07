import type { Socket as NetSocket } from 'node:net';

/** The part of an engine.io socket this needs: its transport and, on a websocket, ws's TCP socket. */
interface EngineSocket {
  readonly transport: { readonly name: string; readonly socket?: { readonly _socket?: NetSocket } };
}

/** engine.io's server: it emits `flush` and `drain` around every write of a socket's queued packets. */
interface EngineEvents {
  on(event: 'flush', listener: (socket: EngineSocket, packets: readonly unknown[]) => void): unknown;
  on(event: 'drain', listener: (socket: EngineSocket) => void): unknown;
}

function tcpSocketOf(socket: EngineSocket): NetSocket | undefined {
  return socket.transport.name === 'websocket' ? socket.transport.socket?._socket : undefined;
}

/**
 * Writes the packets engine.io flushes to a websocket together in one write.
 *
 * While a socket's write is under way engine.io queues its packets, then sends
 * the queue as a burst of frames; ws writes each frame on its own, a syscall
 * per notification per socket, which was 70% of a Socket.IO delivery's CPU at
 * saturation (profiled). engine.io emits `flush` just before the send and
 * `drain` just after it, synchronously: corked in between, the burst leaves in
 * one writev. (The SSE route corks its streams per tick for the same reason.)
 * Listens on the server, so an idle socket carries nothing for it.
 */
export function batchWebSocketWrites(engine: EngineEvents): void {
  // One packet is one frame, which ws already writes at once: only a burst is worth corking.
  engine.on('flush', (socket, packets) => {
    if (packets.length > 1) tcpSocketOf(socket)?.cork();
  });
  engine.on('drain', (socket) => {
    const tcp = tcpSocketOf(socket);
    if (tcp !== undefined && tcp.writableCorked > 0) tcp.uncork();
  });
}
