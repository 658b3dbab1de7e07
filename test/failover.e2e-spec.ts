import { runFailoverDrill } from './support/failover-drill';
import { uniquePrefix } from './support/prefix';

/*
 * Issue 14's failure tests: a publisher at 500/s with SSE and Socket.IO
 * readers on two gateways while the primary of a real deployment is
 * SIGKILLed. Each drill runs its own deployment on ports of its own (the
 * run's REDIS_TOPOLOGY is not touched), so it runs in every CI run.
 */
describe('failover with nothing accepted lost', () => {
  jest.setTimeout(180_000);

  const report = (name: string, figures: object) => process.stderr.write(`failover.e2e-spec: ${name}: ${JSON.stringify(figures)}\n`);

  it('Sentinel, REDIS_REPLICA_ACKS=1: every 202 is kept and reaches every reader once, in a few seconds', async () => {
    const figures = await runFailoverDrill({ kind: 'sentinel', basePort: 7300, prefix: uniquePrefix(), replicaAcks: 1 });
    report('sentinel acks=1', figures);
    expect(figures.accepted).toBeGreaterThan(1_000);
    expect(figures.refused503).toBeGreaterThan(0); // the outage was real, and answered 503
    expect(figures.otherFailures).toBe(0);
    expect(figures.lost).toBe(0);
    expect(figures.duplicated).toBe(0);
    expect(figures.missedByReaders).toBe(0);
    expect(figures.phantoms).toBe(0);
    expect(figures.publishRecoveryMs).not.toBeNull();
    // The worker kept consuming: every queued notify job published once.
    expect(figures.jobs).toMatchObject({ failed: 0, missing: 0, duplicated: 0 });
    expect(figures.jobs.completed).toBe(figures.jobs.queued);
  });

  it('Cluster, REDIS_REPLICA_ACKS=1: a primary fails over and nothing answered 202 is lost', async () => {
    const figures = await runFailoverDrill({ kind: 'cluster', basePort: 7400, prefix: uniquePrefix(), replicaAcks: 1 });
    report('cluster acks=1', figures);
    expect(figures.accepted).toBeGreaterThan(1_000);
    expect(figures.otherFailures).toBe(0);
    expect(figures.lost).toBe(0);
    expect(figures.duplicated).toBe(0);
    expect(figures.missedByReaders).toBe(0);
    expect(figures.phantoms).toBe(0);
    expect(figures.publishRecoveryMs).not.toBeNull();
    // Fan-out is sharded: every primary carried a share of the SPUBLISHes (users hash over the slots).
    for (const count of figures.spublishPerPrimary ?? []) expect(count).toBeGreaterThan(figures.accepted / 20);
    // A notify job for a user of the failed shard can use up its 5 attempts (15 s) while that
    // shard has no replica to acknowledge: it fails, though what it published is kept.
    expect(figures.jobs).toMatchObject({ missing: 0, duplicated: 0 });
  });

  it('Sentinel without REDIS_REPLICA_ACKS: what the asynchronous replication window costs', async () => {
    const figures = await runFailoverDrill({ kind: 'sentinel', basePort: 7300, prefix: uniquePrefix(), replicaAcks: 0 });
    report('sentinel acks=0', figures);
    // Without acks, a write the dead primary had answered but not yet sent to the replica is gone
    // (counted in `lost`, and in `phantoms` when it was delivered live first); nothing else may break.
    expect(figures.accepted).toBeGreaterThan(1_000);
    expect(figures.otherFailures).toBe(0);
    expect(figures.duplicated).toBe(0);
    expect(figures.missedByReaders).toBe(0);
    expect(figures.publishRecoveryMs).not.toBeNull();
  });
});
