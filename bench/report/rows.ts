import type { CellResult } from '../fanout/fanout-cell';
import { baselineOf, SYSTEMS, TRANSPORT_LABELS } from '../fanout/systems';
import type { MatchingResult } from '../matching';
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
  const header = ['transport', 'N', 'system', 'connect/s', 'idle RSS/conn', 'heap/conn', 'deliveries/s', 'vs better-sse', 'p50 ms', 'p99 ms', 'p99 last rcv', 'lost/dup/drop/fail', 'CPU srv·cli'];
  const numeric = [false, true, false, true, true, true, true, true, true, true, true, true, true];
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
