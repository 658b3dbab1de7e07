import type { CellResult } from '../bench/fanout/fanout-cell';
import type { PublishingResult } from '../bench/publishing';
import { evaluateTargets, type TargetResult } from '../bench/report/targets';
import { STORM_PLANS, type StormResult } from '../bench/storm/storm';

/* The verdicts docs/benchmarks.md prints: each target against the figure it names, with its own threshold. */

type CellFigures = { connect: number; connectUsers?: number; rss: number; deliveries: number; p99: number };

function cell(system: CellResult['system'], n: number, figures: CellFigures): CellResult {
  const phase = { messages: 1, expected: 1, receipts: 1, losses: 0, duplicates: 0, strays: 0, publishFailures: 0, p50Ms: 1, p90Ms: 1, p99Ms: figures.p99, p999Ms: 1, maxMs: 1 };
  const connect = (perSecond: number) => ({ opened: n, failed: 0, seconds: n / perSecond, perSecond, firstErrors: [] });
  return {
    system,
    transport: system.includes('socketio') ? 'socketio' : 'sse',
    label: system,
    connections: n,
    connect: connect(figures.connect),
    ...(figures.connectUsers === undefined ? {} : { connectUsers: connect(figures.connectUsers) }),
    memory: { rssBeforeBytes: 0, rssAfterBytes: 0, rssPerConnectionBytes: figures.rss, heapPerConnectionBytes: 0, externalPerConnectionBytes: 0 },
    latency: { ...phase, rate: 1 },
    saturation: { ...phase, deliveriesPerSecond: figures.deliveries, roundsDeliveriesPerSecond: [figures.deliveries] },
    droppedConnections: 0,
    publishErrors: [],
    clientRssBytes: 0,
  } as unknown as CellResult;
}

const verdict = (results: TargetResult[], target: string, scope: string) => results.find((r) => r.target.startsWith(target) && r.scope === scope)?.met;

describe('bench targets', () => {
  const cells = [
    cell('bare-sse', 10_000, { connect: 1000, connectUsers: 1000, rss: 11 * 1024, deliveries: 50_000, p99: 100 }),
    cell('gateway-sse', 10_000, { connect: 900, connectUsers: 850, rss: 7.5 * 1024, deliveries: 95_000, p99: 90 }),
    cell('bare-socketio', 10_000, { connect: 1000, connectUsers: 1000, rss: 14 * 1024, deliveries: 40_000, p99: 100 }),
    cell('gateway-socketio', 10_000, { connect: 1000, connectUsers: 1100, rss: 11 * 1024, deliveries: 47_000, p99: 125 }),
  ];
  const results = evaluateTargets({ cells, matching: null, publishing: null, storm: null });

  it('holds SSE to 1.8× bare fan-out and 0.9× its connect rate, one user or N users', () => {
    expect(verdict(results, 'fan-out deliveries/s vs bare node:http', 'SSE, N=10,000')).toBe(true);
    expect(verdict(results, 'connect rate vs bare node:http', 'SSE, N=10,000')).toBe(true);
    expect(verdict(results, 'connect rate, N distinct users, vs bare node:http', 'SSE, N=10,000')).toBe(false);
    expect(verdict(results, 'idle RSS per connection, KiB', 'SSE, N=10,000')).toBe(true);
  });

  it('holds Socket.IO to 1.2× bare fan-out, 1.0× connect rate, 1.2× p99 at every N and 10 KiB per idle connection', () => {
    expect(verdict(results, 'fan-out deliveries/s vs bare socket.io', 'Socket.IO, N=10,000')).toBe(false);
    expect(verdict(results, 'connect rate vs bare socket.io', 'Socket.IO, N=10,000')).toBe(true);
    expect(verdict(results, 'connect rate, N distinct users, vs bare socket.io', 'Socket.IO, N=10,000')).toBe(true);
    expect(verdict(results, 'p99 latency at the open-loop rate vs bare socket.io', 'Socket.IO, N=10,000')).toBe(false);
    expect(verdict(results, 'idle RSS per connection, KiB', 'Socket.IO, N=10,000')).toBe(false);
  });

  it('holds publishing to half the pipelined append script, and the storm to 3× p99 with nothing lost', () => {
    const row = (label: string, perSecond: number, ratio: number | null) => ({ label, notifications: 1, seconds: 1, perSecond, ratio, detail: '' });
    const publishing: PublishingResult = {
      plan: { users: 1000, postings: 10 },
      baseline: row('baseline', 60_000, null),
      worker: row('one job-matcher process', 31_000, 0.52),
      batch: row('batch', 20_000, 0.33),
    };
    const storm = { plan: STORM_PLANS.quick, streams: 10, sockets: 2, p99Ratio: 2.5, lost: 0, duplicated: 1, notResumed: 0 } as StormResult;
    const more = evaluateTargets({ cells: [], matching: null, publishing, storm });
    // The storm's own size says whether it was the smaller one, whatever the run's mode.
    expect(more.find((r) => r.target.startsWith('reconnect storm: publish'))?.scope).toContain('quick run: fewer');
    const full = evaluateTargets({ cells: [], matching: null, publishing: null, storm: { ...storm, plan: STORM_PLANS.full } }, true);
    expect(full.find((r) => r.target.startsWith('reconnect storm: publish'))?.scope).not.toContain('fewer');
    expect(more.filter((r) => r.target.includes('vs the append script')).map((r) => r.met)).toEqual([true, false]);
    expect(more.find((r) => r.target.startsWith('reconnect storm: publish'))?.met).toBe(true);
    expect(more.find((r) => r.target.startsWith('reconnect storm: lost'))?.met).toBe(false);
  });
});
