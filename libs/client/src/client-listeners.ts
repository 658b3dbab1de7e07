import type { Notification } from '@app/notifications/client-events';
import type { ClientStatus } from './client-options';
import type { DeliveryMeta } from './connection-hub';
import type { SocketEventName } from './socket-transport';
import type { TransportName } from './transport';

type Handler<T extends unknown[]> = (...args: T) => void;

/** Adds `handler` to the set under `key`; returns the function that removes it. */
function subscribe<K, T extends unknown[]>(map: Map<K, Set<Handler<T>>>, key: K, handler: Handler<T>): () => void {
  let handlers = map.get(key);
  if (!handlers) map.set(key, (handlers = new Set()));
  handlers.add(handler);
  return () => handlers.delete(handler);
}

/** A client's event handlers, and their dispatch: a throwing handler stops neither the others nor the transport. */
export class ClientListeners {
  private readonly byType = new Map<string, Set<Handler<[Notification, DeliveryMeta]>>>();
  private readonly socket = new Map<string, Set<Handler<[unknown]>>>();
  private readonly single = new Map<'notification' | 'reset' | 'status', Set<Handler<never[]>>>();

  onType(type: string, handler: Handler<[Notification, DeliveryMeta]>): () => void {
    return subscribe(this.byType, type, handler);
  }

  onNotification(handler: Handler<[Notification, DeliveryMeta]>): () => void {
    return subscribe(this.single, 'notification', handler as Handler<never[]>);
  }

  onSocket(event: SocketEventName, handler: Handler<[unknown]>): () => void {
    return subscribe(this.socket, event, handler);
  }

  onReset(handler: Handler<[TransportName]>): () => void {
    return subscribe(this.single, 'reset', handler as Handler<never[]>);
  }

  onStatus(handler: Handler<[ClientStatus]>): () => void {
    return subscribe(this.single, 'status', handler as Handler<never[]>);
  }

  notification(notification: Notification, meta: DeliveryMeta): void {
    for (const handler of this.byType.get(notification.type) ?? []) safely(() => handler(notification, meta));
    for (const handler of this.single.get('notification') ?? []) safely(() => (handler as Handler<[Notification, DeliveryMeta]>)(notification, meta));
  }

  socketEvent(name: SocketEventName, payload: unknown): void {
    for (const handler of this.socket.get(name) ?? []) safely(() => handler(payload));
  }

  reset(channel: TransportName): void {
    for (const handler of this.single.get('reset') ?? []) safely(() => (handler as Handler<[TransportName]>)(channel));
  }

  status(status: ClientStatus): void {
    for (const handler of this.single.get('status') ?? []) safely(() => (handler as Handler<[ClientStatus]>)(status));
  }
}

/** Runs a handler; if it throws, the error is reported as uncaught (like an EventTarget listener's), after the others ran. */
export function safely(run: () => void): void {
  try {
    run();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
