import type { Transport } from './load-client-protocol';

export type SystemId = 'gateway-sse' | 'gateway-sse-topic' | 'bare-sse' | 'better-sse' | 'gateway-socketio' | 'gateway-socketio-topic' | 'bare-socketio';

export interface System {
  readonly id: SystemId;
  readonly transport: Transport;
  readonly label: string;
  /** The gateway itself (built app), or a reference under bench/fanout/references/. */
  readonly reference: string | null;
  /** The bare baseline that figures of this transport are divided by. */
  readonly baseline: boolean;
  /**
   * What the broadcasts go to: one user with N connections (a notification to
   * every device), or a topic that N users follow (BENCH_TOPIC). The
   * references broadcast to every connection either way.
   */
  readonly audience: 'one-user' | 'topic-followers';
}

/** In run order per transport: the baseline first, then the gateway, then the peer library. */
export const SYSTEMS: readonly System[] = [
  { id: 'bare-sse', transport: 'sse', label: 'bare node:http', reference: 'references/bare-sse.ts', baseline: true, audience: 'one-user' },
  { id: 'gateway-sse', transport: 'sse', label: 'gateway SSE', reference: null, baseline: false, audience: 'one-user' },
  { id: 'gateway-sse-topic', transport: 'sse', label: 'gateway SSE topic', reference: null, baseline: false, audience: 'topic-followers' },
  { id: 'better-sse', transport: 'sse', label: 'better-sse', reference: 'references/better-sse.ts', baseline: false, audience: 'one-user' },
  { id: 'bare-socketio', transport: 'socketio', label: 'bare socket.io', reference: 'references/bare-socketio.ts', baseline: true, audience: 'one-user' },
  { id: 'gateway-socketio', transport: 'socketio', label: 'gateway Socket.IO', reference: null, baseline: false, audience: 'one-user' },
  { id: 'gateway-socketio-topic', transport: 'socketio', label: 'gateway Socket.IO topic', reference: null, baseline: false, audience: 'topic-followers' },
];

export const TRANSPORT_LABELS: Record<Transport, string> = { sse: 'SSE', socketio: 'Socket.IO' };

export function baselineOf(transport: Transport): System {
  return SYSTEMS.find((system) => system.transport === transport && system.baseline) as System;
}
