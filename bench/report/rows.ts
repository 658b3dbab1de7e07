import type { CellResult } from '../fanout/fanout-cell';
import { baselineOf, SYSTEMS, TRANSPORT_LABELS } from '../fanout/systems';
import type { MatchingResult } from '../matching';
import type { PublishingResult } from '../publishing';
import type { StormResult } from '../storm/storm';
import { ratio } from './targets';

/** One table, as text cells: the terminal and the Markdown renderers share it. */
export interface TextTable {
  readonly header: string[];
  /** Right-aligned columns (numbers). */
  readonly numeric: boolean[];
  readonly rows: string[][];
}

export const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–');
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const times = (value: number | null) => (value === null ? '' : ` ${value.toFixed(2)}×`);

/**
 * The fan-out matrix: one row per system and N, each figure with its ratio to
 * the bare baseline of the same transport (the baseline's own rows show 1.00×).
 */
export function fanoutTable(cells: readonly CellResult[]): TextTable {
  const header = ['transport', 'N', 'system', 'connect/s', 'connect/s N users', 'idle RSS/conn', 'heap/conn', 'deliveries/s', 'vs better-sse', 'p50 ms', 'p99 ms', 'p99 last rcv', 'lost/dup/drop/fail', 'CPU srv·cli'];
  const numeric = [false, true, false, true, true, true, true, true, true, true, true, true, true, true];
  const rows: string[][] = [];
  const ns = [...new Set(cells.map((cell) => cell.connections))].sort((a, b) => a - b);
  for (const n of ns) {
    for (const system of SYSTEMS) {
      const cell = cells.find((c) => c.system === system.id && c.connections === n);
      if (!cell) continue;
      const base = cells.find((c) => c.system === baselineOf(system.transport).id && c.connections === n);
      const peer = cells.find((c) => c.system === 'better-sse' && c.connections === n);
      const faults = (key: 'losses' | 'duplicates' | 'publishFailures') => cell.latency[key] + cell.saturation[key];
      const cpu = cell.saturation;
      rows.push([
        TRANSPORT_LABELS[system.transport],
        int(n),
        system.label,
        `${int(cell.connect.perSecond)}${times(ratio(cell.connect.perSecond, base?.connect.perSecond))}`,
        cell.connectUsers ? `${int(cell.connectUsers.perSecond)}${times(ratio(cell.connectUsers.perSecond, base?.connectUsers?.perSecond))}` : '',
        `${fixed(cell.memory.rssPerConnectionBytes / 1024, 1)} KB${times(ratio(cell.memory.rssPerConnectionBytes, base?.memory.rssPerConnectionBytes))}`,
        `${fixed(cell.memory.heapPerConnectionBytes / 1024, 1)} KB`,
        `${int(cell.saturation.deliveriesPerSecond)}${times(ratio(cell.saturation.deliveriesPerSecond, base?.saturation.deliveriesPerSecond))}`,
        system.transport === 'sse' ? times(ratio(cell.saturation.deliveriesPerSecond, peer?.saturation.deliveriesPerSecond)).trim() : '',
        fixed(cell.latency.p50Ms, 1),
        `${fixed(cell.latency.p99Ms, 1)}${times(ratio(cell.latency.p99Ms, base?.latency.p99Ms))}`,
        fixed(cell.latency.lastReceiverP99Ms, 1),
        `${faults('losses')}/${faults('duplicates')}/${cell.droppedConnections}/${faults('publishFailures')}`,
        `${cpu.serverCpuPercent}%·${cpu.clientCpuPercent.map((c) => `${c}%`).join('+')}`,
      ]);
    }
  }
  return { header, numeric, rows };
}

export function matchingTable(matching: MatchingResult): TextTable {
  const [small] = matching.rows;
  return {
    header: ['saved searches', 'postings/s', 'ratio', 'SSE p50 ms', 'SSE p99 ms', 'SSE received', 'burst p50 ms', 'burst p99 ms', 'candidates/posting', 'job-matches/posting'],
    numeric: [true, true, true, true, true, true, true, true, true, true],
    rows: matching.rows.map((row) => [
      int(row.savedSearches),
      int(row.postingsPerSecond),
      `${(row.postingsPerSecond / small.postingsPerSecond).toFixed(2)}×`,
      fixed(row.sseP50Ms, 1),
      fixed(row.sseP99Ms, 1),
      `${row.sseReceived}/${row.ssePostings}`,
      int(row.burstP50Ms),
      int(row.burstP99Ms),
      int(row.candidatesPerPosting),
      fixed(row.notificationsPerPosting, 1),
    ]),
  };
}

export function publishingTable(publishing: PublishingResult): TextTable {
  return {
    header: ['publisher', 'job-matches', 'seconds', 'job-matches/s', 'vs baseline', 'how'],
    numeric: [false, true, true, true, true, false],
    rows: [publishing.baseline, publishing.worker, publishing.batch].map((row) => [
      row.label,
      int(row.notifications),
      fixed(row.seconds, 2),
      int(row.perSecond),
      row.ratio === null ? '1.00×' : `${row.ratio.toFixed(2)}×`,
      row.detail,
    ]),
  };
}

export function stormTable(storm: StormResult): TextTable {
  return {
    header: ['clients on A', 'published', 'retried publishes', 'last reopened', 'last resumed', 'A exited', 'lost/dup/not resumed (missed by them)', 'resets', 'failed reopens', 'accept-queue overflows', 'p50 ms before·during', 'p99 ms before·during', 'p99 ratio', 'caught up p50·p99 ms'],
    numeric: [false, true, false, true, true, true, true, true, true, true, true, true, true, true],
    rows: [
      [
        `${int(storm.streams)} SSE + ${int(storm.sockets)} Socket.IO`,
        `${int(storm.published)} at ${storm.plan.rate}/s`,
        Object.entries(storm.publishFailures ?? {}).map(([why, count]) => `${count}× ${why}`).join(', ') || '0',
        `${fixed(storm.lastReopenSeconds, 2)} s`,
        `${fixed(storm.lastResumedSeconds, 2)} s`,
        `${fixed(storm.gatewayExitSeconds, 2)} s`,
        `${storm.lost}/${storm.duplicated}/${storm.notResumed} (${storm.missedByNotResumed ?? 0})`,
        int(storm.resets),
        int(storm.failedReopens),
        // Results recorded before the column have no count.
        typeof storm.acceptQueueOverflows === 'number' ? int(storm.acceptQueueOverflows) : '–',
        `${fixed(storm.unloaded.p50Ms, 1)}·${fixed(storm.storm.p50Ms, 1)}`,
        `${fixed(storm.unloaded.p99Ms, 1)}·${fixed(storm.storm.p99Ms, 1)}`,
        `${storm.p99Ratio.toFixed(2)}×`,
        `${fixed(storm.caughtUp.p50Ms, 0)}·${fixed(storm.caughtUp.p99Ms, 0)} (${int(storm.caughtUp.receipts)})`,
      ],
    ],
  };
}

/** Plain-text rendering with aligned columns. */
export function renderText(table: TextTable): string {
  const widths = table.header.map((title, i) => Math.max(title.length, ...table.rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (table.numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(table.header), widths.map((w) => '─'.repeat(w)).join('  '), ...table.rows.map(line)].join('\n');
}

/** GitHub Markdown rendering. */
export function renderMarkdown(table: TextTable): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${table.header.map(escape).join(' | ')} |`,
    `|${table.numeric.map((right) => (right ? '---:' : ':---')).join('|')}|`,
    ...table.rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}
