import calculateSlot from 'cluster-key-slot';
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { RedisClient } from './redis-deployment';
import { RedisUnavailableError } from './redis-unavailable';

/** How long a publish waits for its replicas before it answers 503. */
export const REPLICA_ACK_TIMEOUT_MS = 1_000;

/**
 * Waits until `replicas` replicas hold a write (Redis WAIT), so that a
 * notification answered 202 survives the primary's death. WAIT covers every
 * earlier write of the connection it is sent on, so the writes of one tick
 * share one WAIT, sent after all of them were answered. WAIT blocks its
 * connection, which is why writes that wait have a connection of their own
 * (see NotificationStore). On a cluster, the WAIT goes to the primary that
 * took the write, over the same connection the cluster client used for it.
 */
export class ReplicaAcks {
  private readonly batches = new Map<Redis, Promise<void>>();

  constructor(
    private readonly writer: RedisClient,
    private readonly replicas: number,
  ) {}

  /** Resolves once `replicas` replicas hold every write made so far on the writer to `key`'s primary; else throws RedisUnavailableError. */
  held(key: string): Promise<void> {
    const node = this.primaryOf(key);
    let batch = this.batches.get(node);
    if (batch === undefined) {
      batch = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.batches.delete(node);
        return this.wait(node);
      });
      this.batches.set(node, batch);
    }
    return batch;
  }

  private async wait(node: Redis): Promise<void> {
    const acked = Number(await node.call('WAIT', String(this.replicas), String(REPLICA_ACK_TIMEOUT_MS)));
    if (acked < this.replicas) {
      throw new RedisUnavailableError(`only ${acked} of ${this.replicas} replica(s) acknowledged the write within ${REPLICA_ACK_TIMEOUT_MS} ms`);
    }
  }

  private primaryOf(key: string): Redis {
    if (!('isCluster' in this.writer) || !this.writer.isCluster) return this.writer as Redis;
    // The cluster client's own connection to that primary: WAIT must follow the write on it.
    const cluster = this.writer as Cluster;
    const pool = (cluster as unknown as { connectionPool: { getInstanceByKey(nodeKey: string): Redis | undefined } }).connectionPool;
    const owner = cluster.slots[calculateSlot(key)]?.[0];
    const node = owner === undefined ? undefined : pool.getInstanceByKey(owner);
    if (node === undefined) throw new RedisUnavailableError('no primary holds the slot of the write right now');
    return node;
  }
}
