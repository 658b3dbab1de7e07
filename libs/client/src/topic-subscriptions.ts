import type { TopicEvent } from '@app/notifications/client-events';
import { safely } from './client-listeners';
import type { DeliveryMeta } from './connection-hub';
import type { TopicError } from './topics';

type TopicHandler = (event: TopicEvent, meta: DeliveryMeta) => void;

interface Subscription {
  readonly handler: TopicHandler;
  readonly onError?: (error: TopicError) => void;
  /** Told of a refusal already: each subscription hears of one once. */
  told: boolean;
}

/**
 * This tab's `subscribe()` calls, by topic: who gets each event, who hears of
 * a refusal, and where the topic was asked to start. A throwing handler stops
 * neither the others nor the transport (its error is reported as uncaught).
 */
export class TopicSubscriptions {
  private readonly byTopic = new Map<string, Set<Subscription>>();
  /** The `lastEventId` the first subscription of each topic asked for (null: from now on). */
  private readonly starts = new Map<string, string | null>();

  /** Adds a subscription; `remove` takes it out again and says whether it was the tab's last of the topic. */
  add(topic: string, from: string | null, handler: TopicHandler, onError?: (error: TopicError) => void): { remove(): boolean } {
    let subscriptions = this.byTopic.get(topic);
    if (!subscriptions) {
      this.byTopic.set(topic, (subscriptions = new Set()));
      this.starts.set(topic, from);
    }
    const subscription: Subscription = { handler, onError, told: false };
    subscriptions.add(subscription);
    let removed = false;
    return {
      remove: () => {
        if (removed) return false;
        removed = true;
        subscriptions.delete(subscription);
        if (subscriptions.size > 0 || this.byTopic.get(topic) !== subscriptions) return false;
        this.byTopic.delete(topic);
        this.starts.delete(topic);
        return true;
      },
    };
  }

  /** The topics this tab follows. */
  topics(): string[] {
    return [...this.byTopic.keys()];
  }

  startOf(topic: string): string | null {
    return this.starts.get(topic) ?? null;
  }

  dispatch(event: TopicEvent, meta: DeliveryMeta): void {
    for (const { handler } of this.byTopic.get(event.topic) ?? []) safely(() => handler(event, meta));
  }

  /** The gateway refused the topic: each subscription's `onError` hears of it, once. */
  refused(topic: string, error: TopicError): void {
    for (const subscription of this.byTopic.get(topic) ?? []) {
      if (subscription.told) continue;
      subscription.told = true;
      const { onError } = subscription;
      if (onError) safely(() => onError(error));
    }
  }
}
