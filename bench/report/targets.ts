import type { CellResult } from '../fanout/fanout-cell';
import { SYSTEMS, type SystemId } from '../fanout/systems';
import type { MatchingResult } from '../matching';
import type { PublishingResult } from '../publishing';
import { STORM_PLANS, type StormResult } from '../storm/storm';

/** One target, checked against figures of the same run. */
export interface TargetResult {
  readonly target: string;
  /** Where it was checked, e.g. "SSE, N=1,000". */
  readonly scope: string;
  /** The measured ratio (or value); null when a figure is missing. */
  readonly measured: number | null;
  readonly required: string;
  readonly met: boolean | null;
}

const label = (id: SystemId) => SYSTEMS.find((system) => system.id === id)?.label ?? id;
const round2 = (value: number) => Math.round(value * 100) / 100;

function find(cells: readonly CellResult[], system: SystemId, n: number): CellResult | undefined {
  return cells.find((cell) => cell.system === system && cell.connections === n);
}

/** value / base, or null when either is missing or the base is not positive. */
export function ratio(value: number | undefined, base: number | undefined): number | null {
  if (value === undefined || base === undefined || !Number.isFinite(value) || !Number.isFinite(base) || base <= 0) return null;
  return value / base;
}

/** Per transport: fan-out deliveries/s and connect rate at least, p99 at the open-loop rate at most, each × bare. */
const TRANSPORT_TARGETS: Record<string, { fanout: number; connect: number; p99: number; p99EveryN: boolean }> = {
  SSE: { fanout: 1.8, connect: 0.9, p99: 1.5, p99EveryN: false },
  'Socket.IO': { fanout: 1.2, connect: 1.0, p99: 1.2, p99EveryN: true },
};
/** Idle RSS per connection at 10,000 connections, absolute, per transport. */
const RSS_AT_10K: Record<string, number> = { SSE: 8 * 1024, 'Socket.IO': 10 * 1024 };
const MAX_SSE_P99_MS_AT_LARGEST = 50;
const MIN_PUBLISHING_RATIO = 0.5;
const MAX_STORM_P99_RATIO = 3;

/**
 * Every target for every N measured. Ratios are to the bare baseline of the same transport, same run.
 * `quick`: the matching bursts are short (a second or less), so its ratio is marked indicative.
 */
export function evaluateTargets(
  { cells, matching, publishing, storm }: { cells: readonly CellResult[]; matching: MatchingResult | null; publishing: PublishingResult | null; storm: StormResult | null },
  quick = false,
): TargetResult[] {
  const results: TargetResult[] = [];
  const ns = [...new Set(cells.map((cell) => cell.connections))].sort((a, b) => a - b);
  const check = (target: string, scope: string, value: number | null, required: string, ok: (v: number) => boolean) =>
    results.push({ target, scope, measured: value === null ? null : round2(value), required, met: value === null ? null : ok(value) });
  // A topic's N followers are held to the targets of one user's N connections: the same broadcast, to N connections.
  const pairs: [SystemId, SystemId, string][] = [
    ['gateway-sse', 'bare-sse', 'SSE'],
    ['gateway-socketio', 'bare-socketio', 'Socket.IO'],
    ['gateway-sse-topic', 'bare-sse', 'SSE topic'],
    ['gateway-socketio-topic', 'bare-socketio', 'Socket.IO topic'],
  ];
  for (const n of ns) {
    const scope = (transport: string) => `${transport}, N=${n.toLocaleString('en-US')}`;
    for (const [gateway, bare, transport] of pairs) {
      const g = find(cells, gateway, n);
      const b = find(cells, bare, n);
      // Neither measured (a development run with --systems): nothing to say about this transport.
      if (!g && !b) continue;
      const kind = bare === 'bare-socketio' ? 'Socket.IO' : 'SSE';
      const wanted = TRANSPORT_TARGETS[kind];
      check(`fan-out deliveries/s vs ${label(bare)}`, scope(transport), ratio(g?.saturation.deliveriesPerSecond, b?.saturation.deliveriesPerSecond), `≥ ${wanted.fanout}×`, (v) => v >= wanted.fanout);
      if (gateway === 'gateway-sse') {
        const peer = find(cells, 'better-sse', n);
        check('fan-out deliveries/s vs better-sse', scope(transport), ratio(g?.saturation.deliveriesPerSecond, peer?.saturation.deliveriesPerSecond), '> 1× (ahead)', (v) => v > 1);
      }
      if (n === 1000 || wanted.p99EveryN) {
        check(`p99 latency at the open-loop rate vs ${label(bare)}`, scope(transport), ratio(g?.latency.p99Ms, b?.latency.p99Ms), `≤ ${wanted.p99}×`, (v) => v <= wanted.p99);
      }
      check(`idle RSS per connection vs ${label(bare)}`, scope(transport), ratio(g?.memory.rssPerConnectionBytes, b?.memory.rssPerConnectionBytes), '≤ 1.5×', (v) => v <= 1.5);
      const rssCap = RSS_AT_10K[kind];
      if (n === 10_000 && g) {
        check('idle RSS per connection, KiB', scope(transport), g.memory.rssPerConnectionBytes / 1024, `≤ ${rssCap / 1024} KiB`, (v) => v <= rssCap / 1024);
      }
      check(`connect rate vs ${label(bare)}`, scope(transport), ratio(g?.connect.perSecond, b?.connect.perSecond), `≥ ${wanted.connect}×`, (v) => v >= wanted.connect);
      if (g?.connectUsers || !transport.includes('topic')) {
        check(`connect rate, N distinct users, vs ${label(bare)}`, scope(transport), ratio(g?.connectUsers?.perSecond, b?.connectUsers?.perSecond), `≥ ${wanted.connect}×`, (v) => v >= wanted.connect);
      }
      if (g) {
        const faults =
          g.latency.losses + g.latency.duplicates + g.saturation.losses + g.saturation.duplicates + g.droppedConnections + g.latency.publishFailures + g.saturation.publishFailures;
        check('losses + duplicates + dropped connections + failed publishes', scope(transport), faults, '= 0', (v) => v === 0);
      }
    }
  }
  if (matching) {
    const [smallest] = matching.rows;
    const largest = matching.rows[matching.rows.length - 1];
    const size = (row: typeof smallest) => row.savedSearches.toLocaleString('en-US');
    const indicative = quick ? ' (quick run: indicative only, see the full run)' : '';
    for (const row of matching.rows.slice(1)) {
      check(
        'matching postings/s, more saved searches vs fewer',
        `${size(row)} vs ${size(smallest)} searches${indicative}`,
        ratio(row.postingsPerSecond, smallest.postingsPerSecond),
        '0.8× to 1.2×',
        (v) => v >= 0.8 && v <= 1.2,
      );
    }
    check(
      `enqueue → SSE p99 at ${matching.plan.pacedRate} postings/s, ms`,
      `${size(largest)} searches${indicative}`,
      largest.sseReceived === largest.ssePostings ? largest.sseP99Ms : null,
      `≤ ${MAX_SSE_P99_MS_AT_LARGEST} ms, every job-match received`,
      (v) => v <= MAX_SSE_P99_MS_AT_LARGEST,
    );
  }
  if (storm) {
    const scope = `${storm.streams.toLocaleString('en-US')} streams and ${storm.sockets.toLocaleString('en-US')} sockets${storm.plan.users < STORM_PLANS.full.users ? ' (quick run: fewer)' : ''}`;
    check('reconnect storm: publish → receipt p99 during the storm vs before it', scope, storm.p99Ratio, `≤ ${MAX_STORM_P99_RATIO}×`, (v) => v <= MAX_STORM_P99_RATIO);
    check('reconnect storm: lost + duplicated + not resumed', scope, storm.lost + storm.duplicated + storm.notResumed, '= 0', (v) => v === 0);
  }
  if (publishing) {
    for (const row of [publishing.worker, publishing.batch]) {
      check(`${row.label}: job-matches/s vs the append script pipelined`, `${publishing.plan.users.toLocaleString('en-US')} users`, row.ratio, `≥ ${MIN_PUBLISHING_RATIO}×`, (v) => v >= MIN_PUBLISHING_RATIO);
    }
  }
  return results;
}
