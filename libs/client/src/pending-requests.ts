/**
 * A follower's requests to the leader tab, by id, until answered. One that gets no
 * answer (the leader closed while it was on the way) resolves as `timeout`.
 */
export class PendingRequests {
  private readonly pending = new Map<number, (answer: unknown) => void>();
  private nextId = 1;

  constructor(private readonly timeoutMs: number) {}

  /** Registers a request, hands its id to `send`, and resolves with the answer. */
  create(send: (requestId: number) => void): Promise<unknown> {
    const requestId = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        resolve({ ok: false, error: 'timeout' });
      }, this.timeoutMs);
      this.pending.set(requestId, (answer) => {
        clearTimeout(timer);
        this.pending.delete(requestId);
        resolve(answer);
      });
      send(requestId);
    });
  }

  answer(requestId: number, answer: unknown): void {
    this.pending.get(requestId)?.(answer);
  }

  /** Answers everything still waiting with `answer` (the client is closing). */
  settleAll(answer: unknown): void {
    for (const resolve of [...this.pending.values()]) resolve(answer);
  }
}
