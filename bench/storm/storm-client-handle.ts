/*
 * The storm's handle on one storm client process (bench/storm/storm-client.ts),
 * forked with IPC: each request gets its reply by id.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { trackChild } from '../support';
import type { StormReply, StormRequest } from './storm-protocol';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class StormClient {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: StormReply) => void>();

  constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: StormReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    child.once('exit', (code) => {
      for (const waiter of this.pending.values()) waiter({ id: 0, ok: false, error: `storm client exited (${code})` });
      this.pending.clear();
    });
  }

  static start(): StormClient {
    const file = path.join(__dirname, 'storm-client.ts');
    return new StormClient(trackChild(fork(file, [], { execArgv: ['-r', 'ts-node/register/transpile-only'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })));
  }

  async ask(request: WithoutId<StormRequest>): Promise<Extract<StormReply, { ok: true }>> {
    const id = this.nextId++;
    const reply = await new Promise<StormReply>((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ ...request, id });
    });
    if (!reply.ok) throw new Error(reply.error);
    return reply;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}
