import type { CellResult } from '../fanout/fanout-cell';
import { SYSTEMS, type SystemId } from '../fanout/systems';
import type { MatchingResult } from '../matching';

/** One target of issue 7, checked against figures of the same run. */
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

/**
 * Every target of the issue for every N measured. Ratios are to the bare baseline of the same transport, same run.
 * `quick`: the matching bursts are short (a second or less), so its ratio is marked indicative.
 */
export function evaluateTargets(cells: readonly CellResult[], matching: MatchingResult | null, quick = false): TargetResult[] {
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
      check(`fan-out deliveries/s vs ${label(bare)}`, scope(transport), ratio(g?.saturation.deliveriesPerSecond, b?.saturation.deliveriesPerSecond), '≥ 0.8×', (v) => v >= 0.8);
      if (gateway === 'gateway-sse') {
        const peer = find(cells, 'better-sse', n);
        check('fan-out deliveries/s vs better-sse', scope(transport), ratio(g?.saturation.deliveriesPerSecond, peer?.saturation.deliveriesPerSecond), '> 1× (ahead)', (v) => v > 1);
      }
      if (n === 1000) check(`p99 latency at 10/s vs ${label(bare)}`, scope(transport), ratio(g?.latency.p99Ms, b?.latency.p99Ms), '≤ 1.5×', (v) => v <= 1.5);
      check(`idle RSS per connection vs ${label(bare)}`, scope(transport), ratio(g?.memory.rssPerConnectionBytes, b?.memory.rssPerConnectionBytes), '≤ 1.5×', (v) => v <= 1.5);
      check(`connect rate vs ${label(bare)}`, scope(transport), ratio(g?.connect.perSecond, b?.connect.perSecond), '≥ 0.5×', (v) => v >= 0.5);
      if (g) {
        const faults =
          g.latency.losses + g.latency.duplicates + g.saturation.losses + g.saturation.duplicates + g.droppedConnections + g.latency.publishFailures + g.saturation.publishFailures;
        check('losses + duplicates + dropped connections + failed publishes', scope(transport), faults, '= 0', (v) => v === 0);
      }
    }
  }
  if (matching) {
    const [small, large] = matching.rows;
    check(
      'matching postings/s, larger vs smaller saved-search count',
      `${large.savedSearches.toLocaleString('en-US')} vs ${small.savedSearches.toLocaleString('en-US')} searches${quick ? ' (quick run: indicative only, see the full run)' : ''}`,
      matching.ratio,
      '0.8× to 1.2×',
      (v) => v >= 0.8 && v <= 1.2,
    );
  }
  return results;
}
