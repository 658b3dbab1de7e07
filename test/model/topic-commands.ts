import { type Model, Step } from './commands';
import type { ScheduleRun } from './schedule-run';

/*
 * Publishing to the schedule's topics, as internal services do: one event,
 * a concurrent burst over both gateways, or an idempotent publish repeated.
 * Topic #0 and #1 are public (`jobs.*`); #2 is followed only through a claim.
 */

export class TopicPublish extends Step {
  constructor(readonly topic: number, readonly gateway: number, readonly count: number) {
    super();
  }
  check = () => true;
  describe = () => (this.count > 1 ? `burst of ${this.count} concurrent publishes to topic #${this.topic}` : `publish to topic #${this.topic} @g${this.gateway}`);
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const topic = real.topics[this.topic % real.topics.length];
    const sent = await Promise.all(Array.from({ length: this.count }, (_, i) => real.publishRest(topic, (this.gateway + i) % 2, { via: this.count > 1 ? 'burst' : 'rest' })));
    const accepted = sent.filter((s) => s.outcome.kind === 'accepted').length;
    this.note(
      real,
      this.count > 1
        ? `burst seq=${sent[0].seq}..${sent[sent.length - 1].seq} to ${topic} over both gateways → ${accepted}/${sent.length} accepted`
        : `publish seq=${sent[0].seq} via rest to ${topic} @g${sent[0].route?.index ?? '?'} → ${JSON.stringify(sent[0].outcome)}`,
    );
  }
}

/** Publishes to a topic with an idempotency key, then the same request again (concurrently with the first, or after it). */
export class TopicRepublish extends Step {
  constructor(readonly topic: number, readonly concurrent: boolean) {
    super();
  }
  check = () => true;
  describe = () => `idempotent publish to topic #${this.topic} repeated ${this.concurrent ? 'concurrently' : 'afterwards'}`;
  async run(model: Model, real: ScheduleRun): Promise<void> {
    const topic = real.topics[this.topic % real.topics.length];
    const seq = real.nextSeq();
    const idempotencyKey = `model-key-${seq}`;
    const repeat = () => real.publishRest(topic, 1, { via: 'republish', seq, idempotencyKey, sameAs: seq });
    const first = this.concurrent ? real.publishRest(topic, 0, { seq, idempotencyKey }) : await real.publishRest(topic, 0, { seq, idempotencyKey });
    const [a, b] = await Promise.all([first, repeat()]);
    this.note(real, `idempotent seq=${seq} key=${idempotencyKey} to ${topic}${this.concurrent ? ' twice at once' : ', then again'} → ${JSON.stringify(a.outcome)} / ${JSON.stringify(b.outcome)}`);
  }
}
